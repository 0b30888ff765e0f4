"""MusicBrainz: finding each track's recording (the matching half of `MusicBrainzProvider`).

MusicBrainz allows one request per second, so requests are the cost:

- **Tracks with an ISRC**: one search per batch,
  `GET /recording?query=isrc:(A OR B …)&limit=100&fmt=json`. Every hit lists its `isrcs`, so
  hits map back to tracks; more pages (`offset`) only when `count` says the first one missed
  some. With `SAP_MUSICBRAINZ_BATCH_SIZE=50` that is ~20 requests per 1,000 tracks. When
  MusicBrainz lists an ISRC on several recordings, the one whose title and length fit the track
  wins, then the best score, the most releases, the smallest id; confidence 0.9 when exactly
  one fits, else 0.7 (1.0 for an ISRC on a single recording).
- **Tracks without an ISRC**: searched by normalised title and first artist (`normalise_title`:
  "feat." credits, " - Remastered 2011" and "(Live)"-style decorations, accents, case and
  punctuation dropped), several tracks per search the way ISRCs are (`match_names`): one query
  ORs each track's clause, `(recording:"title" AND artist:"artist") OR (…)`, up to
  `SAP_MUSICBRAINZ_NAME_BATCH_SIZE` clauses (and `MAX_QUERY_BYTES` of query), `limit=100`.
  Every hit is given to every track of the search, and the same rules as a search of its own
  decide (`pick_by_name`): a hit counts only when its normalised title is the track's, it
  credits the track's first artist and it lasts within ±3 s of the track; `match_method`
  "artist_title", confidence at most 0.9 (lower for a worse score, a longer distance, an
  unknown length or another version: live, remix, acoustic…). A search's scores are relative
  to its best hit, whichever track that hit was for; each track's hits are scored again
  relative to the best hit of its own clause (`clause_of`), which is what a search of its own
  would have said. No duration range is put in the query: MusicBrainz would leave out the
  recordings of unknown length, which a search of its own accepts (at a lower confidence).
  Two clauses that share a hit ("Kingdom" and "Secret Kingdom" by one artist: that hit's
  score adds up both) are searched again one by one (`match_name`, the old way). When the
  answer was cut short (`count` above what came back) and some tracks found nothing, those are
  searched again together — while each round finds some; after a round that finds none, one by
  one. With 5% of the tracks without an ISRC that is ~3 searches per 1,000 tracks instead of
  ~50.
- A track whose ISRC MusicBrainz does not list is *not found*: no title search for it, since
  at one request per second those would cost more than all the ISRC searches together.

Each hit (`Hit`) also carries what the search answer says about the recording: its release
group (of the earliest official non-compilation release) and first release year.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from app.core.errors import UpstreamError
from app.core.models import Track
from app.net.client import ServiceClient
from app.providers.base import EnrichItem, MatchMethod
from app.providers.http import get_json

SEARCH_LIMIT = 100  # the most hits MusicBrainz returns per search page
MAX_SEARCH_PAGES = 5  # a batch of ISRCs never needs more; stops a runaway `count`
NAME_SEARCH_LIMIT = 25
MAX_QUERY_BYTES = 6_000
"""Most bytes of URL-encoded query in one search: web servers refuse request lines longer than
8 KiB (nginx's default, and the emulator's) with 414, and an OR of many titles grows fast."""
DURATION_TOLERANCE_MS = 3_000
BEST_NAME_CONFIDENCE = 0.9

_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
_WORD = re.compile(r"\w+")
_LATIN_END = "\u0250"  # letters below it are Latin (with extensions)
# Words that mark another version of a song (not a remaster, which is the same recording).
_VERSION_WORDS = frozenset(
    {"live", "remix", "mix", "acoustic", "demo", "instrumental", "edit", "dub", "unplugged"}
)
_DECORATION_WORDS = (
    r"remaster(?:ed)?|live|version|edit|mix|remix|mono|stereo|demo|acoustic|deluxe|bonus|"
    r"instrumental|single|dub|unplugged|recorded|session|take"
)
_FEATURING = re.compile(r"\s*[(\[](?:feat\.?|ft\.?|featuring|with)\s[^)\]]*[)\]]", re.IGNORECASE)
_FEATURING_TAIL = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s.*$", re.IGNORECASE)
_DECORATION_PARENS = re.compile(
    rf"\s*[(\[][^)\]]*\b(?:{_DECORATION_WORDS})\b[^)\]]*[)\]]", re.IGNORECASE
)
_DECORATION_DASH = re.compile(
    rf"\s+[-\u2013\u2014]\s+[^-\u2013\u2014]*\b(?:{_DECORATION_WORDS})\b[^-\u2013\u2014]*$",
    re.IGNORECASE,
)


# -- matching helpers -------------------------------------------------------------------------


def clean_isrc(raw: str | None) -> str | None:
    """The ISRC in canonical form ("gb-aaa-26-00001" -> "GBAAA2600001"), None if not one."""
    if not raw:
        return None
    code = re.sub(r"[\s-]", "", raw).upper()
    return code if _ISRC.match(code) else None


def lucene_escape(text: str) -> str:
    """`text` as one Lucene term: every special character backslash-escaped."""
    return _LUCENE_SPECIAL.sub(r"\\\1", text)


def lucene_phrase(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fold(text: str) -> str:
    """Lower case, accents dropped from Latin letters ("Beyoncé" -> "beyonce"; kana keep
    their voicing marks, which change the word)."""
    if text.isascii():
        return text.casefold()
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char) and kept and kept[-1] < _LATIN_END:
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).casefold()


def words(text: str) -> list[str]:
    """The searchable words of `text` (punctuation, "&" included, dropped like an index does)."""
    return _WORD.findall(fold(text))


def _key(text: str) -> str:
    """A comparison key: words, with "&" read as "and"."""
    return " ".join(words(text.replace("&", " and ")))


def base_title(title: str) -> str:
    """The title without credits and version decorations:
    "Hold On (feat. X) - Remastered 2011" -> "Hold On"; "Hold On (Live)" -> "Hold On"."""
    stripped = _FEATURING.sub("", title)
    previous = None
    while previous != stripped:  # "Song (Live) - 2011 Remaster": one decoration at a time
        previous = stripped
        stripped = _DECORATION_DASH.sub("", stripped)
        stripped = _DECORATION_PARENS.sub("", stripped)
    stripped = _FEATURING_TAIL.sub("", stripped).strip()
    return stripped or title.strip()


def normalise_title(title: str) -> str:
    """What two titles of the same song have in common: "Héllo & Bye (Live)" -> "hello and bye"."""
    return _key(base_title(title))


def normalise_artist(name: str) -> str:
    return _key(name)


def version_words(title: str, disambiguation: str = "") -> frozenset[str]:
    """Which kind of version a title (and MusicBrainz disambiguation) names: live, remix…"""
    uncredited = _FEATURING.sub("", title)
    base = base_title(uncredited)
    decoration = uncredited[len(base) :] if uncredited.startswith(base) else uncredited
    return frozenset(words(f"{decoration} {disambiguation}")) & _VERSION_WORDS


def searchable_by_name(track: Track) -> bool:
    return bool(track.artists and normalise_title(track.name) and track.artists[0].name.strip())


def first_year(date: Any) -> int | None:
    """1999 from "1999", "1999-05" or "1999-05-17"; None when absent."""
    if not isinstance(date, str) or len(date) < 4 or not date[:4].isdigit():
        return None
    year = int(date[:4])
    return year or None


def json_object(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one (lenient parsing)."""
    return value if isinstance(value, Mapping) else {}


# -- what MusicBrainz answers ---------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One recording of a search answer, reduced to what matching and entries need."""

    mbid: str
    score: int
    title: str
    disambiguation: str
    length: int | None
    artist_ids: tuple[str, ...]
    artist_names: tuple[str, ...]  # normalised
    isrcs: frozenset[str]
    release_group: str | None
    first_release_year: int | None
    releases: int
    artist_words: tuple[tuple[str, ...], ...] = ()  # the whole credit's, each credited name's…

    @classmethod
    def parse(cls, raw: Any) -> Hit | None:
        """Lenient: anything without an id is skipped, missing fields are empty."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            return None
        credit = [c for c in raw.get("artist-credit") or () if isinstance(c, Mapping)]
        artists = [json_object(c.get("artist")) for c in credit]
        releases = [r for r in raw.get("releases") or () if isinstance(r, Mapping)]
        length = raw.get("length")
        score = raw.get("score")
        names = [
            name
            for c, a in zip(credit, artists, strict=True)
            for name in (c.get("name"), a.get("name"))
            if isinstance(name, str)
        ]
        credited = "".join(f"{c.get('name') or ''}{c.get('joinphrase') or ' '}" for c in credit)
        return cls(
            mbid=raw["id"],
            score=score if isinstance(score, int) else 0,
            title=str(raw.get("title") or ""),
            disambiguation=str(raw.get("disambiguation") or ""),
            length=length if isinstance(length, int) and length > 0 else None,
            artist_ids=tuple(str(a["id"]) for a in artists if isinstance(a.get("id"), str)),
            artist_names=tuple(dict.fromkeys(normalise_artist(name) for name in names)),
            artist_words=tuple(dict.fromkeys(tuple(words(n)) for n in (credited, *names))),
            isrcs=frozenset(i for i in (clean_isrc(x) for x in raw.get("isrcs") or ()) if i),
            release_group=first_release_group(releases),
            first_release_year=first_year(raw.get("first-release-date")),
            releases=len(releases),
        )

    def fits(self, track: Track) -> bool:
        """Same normalised title, credits the track's first artist, length within ±3 s."""
        return (
            normalise_title(self.title) == normalise_title(track.name)
            and self.credits(track)
            and self.length_gap(track) is not None
        )

    def credits(self, track: Track) -> bool:
        if not track.artists:
            return False
        wanted = normalise_artist(track.artists[0].name)
        credit = " ".join(self.artist_names)
        return wanted in self.artist_names or f" {wanted} " in f" {credit} "

    def rescored(self, best: int) -> Hit:
        """This hit scored against `best` (the score of the best hit of its own search) as
        100, as MusicBrainz scores a search: a search of several clauses scores every hit
        against the best of all of them."""
        score = max(1, min(100, round(100 * self.score / best))) if best > 0 else self.score
        return self if score == self.score else replace(self, score=score)

    def length_gap(self, track: Track) -> int | None:
        """Milliseconds between the two lengths (0 when either is unknown); None: too far."""
        if self.length is None or track.duration_ms <= 0:
            return 0
        gap = abs(self.length - track.duration_ms)
        return gap if gap <= DURATION_TOLERANCE_MS else None


def first_release_group(releases: Sequence[Mapping[str, Any]]) -> str | None:
    """The release group of the earliest official, non-compilation release (else any)."""

    def rank(item: tuple[int, Mapping[str, Any]]) -> tuple[bool, bool, bool, str, int]:
        index, release = item
        secondary = json_object(release.get("release-group")).get("secondary-types") or ()
        date = release.get("date")
        status = release.get("status")
        return (
            status not in (None, "Official"),
            "Compilation" in secondary,
            not date,
            str(date or ""),
            index,
        )

    for _, release in sorted(enumerate(releases), key=rank):
        group_id = json_object(release.get("release-group")).get("id")
        if isinstance(group_id, str):
            return group_id
    return None


@dataclass(frozen=True)
class Match:
    hit: Hit
    method: MatchMethod
    confidence: float


def pick_for_isrc(candidates: Sequence[Hit], track: Track) -> Match:
    """One recording for an ISRC (see the module docstring for the order)."""
    if len(candidates) == 1:
        return Match(candidates[0], "isrc", 1.0)
    fitting = [hit for hit in candidates if hit.fits(track)]
    best = min(candidates, key=lambda h: (h not in fitting, -h.score, -h.releases, h.mbid))
    return Match(best, "isrc", 0.9 if len(fitting) == 1 else 0.7)


def name_confidence(hit: Hit, track: Track) -> float | None:
    """How well a title search hit fits `track` (at most 0.9), None when it does not."""
    if normalise_title(hit.title) != normalise_title(track.name) or not hit.credits(track):
        return None
    gap = hit.length_gap(track)
    if gap is None:
        return None
    unknown = hit.length is None or track.duration_ms <= 0
    length_fit = 0.8 if unknown else 1.0 - 0.1 * gap / DURATION_TOLERANCE_MS
    same_version = version_words(hit.title, hit.disambiguation) == version_words(track.name)
    score = max(0, min(hit.score, 100)) / 100
    value = BEST_NAME_CONFIDENCE * score * length_fit * (1.0 if same_version else 0.8)
    return round(max(value, 0.01), 3)


def pick_by_name(hits: Iterable[Hit], track: Track) -> Match | None:
    scored = [(c, hit) for hit in hits if (c := name_confidence(hit, track)) is not None]
    if not scored:
        return None
    confidence, best = min(scored, key=lambda s: (-s[0], -s[1].releases, s[1].mbid))
    return Match(best, "artist_title", confidence)


# -- searching ----------------------------------------------------------------------------------


async def match_isrcs(musicbrainz: ServiceClient, items: Sequence[EnrichItem]) -> dict[str, Match]:
    """One OR search for the batch's ISRCs; track id -> match."""
    if not items:
        return {}
    isrcs = list(dict.fromkeys(clean_isrc(item.track.isrc) or "" for item in items))
    query = "isrc:(" + " OR ".join(lucene_escape(isrc) for isrc in isrcs) + ")"
    by_isrc: dict[str, list[Hit]] = {}
    for hit in await search_recordings(musicbrainz, query, SEARCH_LIMIT, MAX_SEARCH_PAGES):
        for isrc in hit.isrcs:
            by_isrc.setdefault(isrc, []).append(hit)
    matches: dict[str, Match] = {}
    for item in items:
        candidates = by_isrc.get(clean_isrc(item.track.isrc) or "")
        if candidates:
            matches[item.id] = pick_for_isrc(candidates, item.track)
    return matches


@dataclass(frozen=True)
class NameClause:
    """What a track is searched by when it has no ISRC: its base title's and its first
    artist's words (the same clause serves two tracks of the same song and artist)."""

    title: tuple[str, ...]
    artist: tuple[str, ...]

    @classmethod
    def of(cls, track: Track) -> NameClause | None:
        if not track.artists:
            return None
        clause = cls(tuple(words(base_title(track.name))), tuple(words(track.artists[0].name)))
        return clause if clause.title and clause.artist else None

    def query(self) -> str:
        return (
            f"recording:{lucene_phrase(' '.join(self.title))} "
            f"AND artist:{lucene_phrase(' '.join(self.artist))}"
        )

    def matches(self, hit: Hit) -> bool:
        """Whether the search would have given `hit` for this clause: both phrases occur
        (as consecutive words) in its title and in one of its artist names."""
        return _contains(words(hit.title), self.title) and any(
            _contains(list(name), self.artist) for name in hit.artist_words
        )


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    size = len(needle)
    return any(
        tuple(haystack[start : start + size]) == tuple(needle)
        for start in range(len(haystack) - size + 1)
    )


def clause_of(hits: Sequence[Hit], clause: NameClause) -> list[Hit]:
    """The hits a search of `clause` alone would have given, scored as it would have (against
    the best of them): an OR search scores every hit against the best of all its clauses'."""
    own = [hit for hit in hits if clause.matches(hit)]
    best = max((hit.score for hit in own), default=0)
    return [hit.rescored(best) for hit in own]


async def match_name(musicbrainz: ServiceClient, track: Track) -> Match | None:
    """One search by normalised title and first artist; the best fitting hit."""
    clause = NameClause.of(track)
    if clause is None:
        return None
    return pick_by_name(
        await search_recordings(musicbrainz, clause.query(), NAME_SEARCH_LIMIT, 1), track
    )


def _first_group(clauses: Sequence[NameClause], size: int) -> int:
    """How many of `clauses` (at least one) the next search takes: at most `size`, in at most
    `MAX_QUERY_BYTES` bytes of URL-encoded query."""
    taken = length = 0
    for clause in clauses[:size]:
        length += len(quote(f"({clause.query()}) OR ", safe=""))
        if taken and length > MAX_QUERY_BYTES:
            break
        taken += 1
    return taken


async def match_names(
    musicbrainz: ServiceClient,
    tracks: Sequence[Track],
    clauses_per_search: int,
    page_size: int = SEARCH_LIMIT,
) -> dict[str, Match]:
    """Tracks without an ISRC, several per search (see the module docstring); track id ->
    match for those found. `page_size` hits are read per search (MusicBrainz's most)."""
    by_clause: dict[NameClause, list[Track]] = {}
    for track in tracks:
        clause = NameClause.of(track)
        if clause is not None:
            by_clause.setdefault(clause, []).append(track)
    matches: dict[str, Match] = {}
    waiting = list(by_clause)
    while waiting:
        taken = _first_group(waiting, clauses_per_search)
        group, waiting = waiting[:taken], waiting[taken:]
        query = " OR ".join(f"({clause.query()})" for clause in group)
        hits, complete = await _search_page(musicbrainz, query, page_size)
        alone = _entangled(hits, group)
        unanswered: list[NameClause] = []
        for clause in group:
            if clause in alone:
                continue
            candidates = clause_of(hits, clause)
            for track in by_clause[clause]:
                match = pick_by_name(candidates, track)
                if match is not None:
                    matches[track.id] = match
                elif clause not in unanswered:
                    unanswered.append(clause)
        if unanswered and not complete:
            if len(unanswered) + len(alone) < len(group):
                waiting = unanswered + waiting  # a crowded answer: ask again without the found
            else:
                alone += unanswered  # a crowded answer that found none: one search each
        for clause in alone:
            for track in by_clause[clause]:
                match = await match_name(musicbrainz, track)
                if match is not None:
                    matches[track.id] = match
    return matches


def _entangled(hits: Sequence[Hit], group: Sequence[NameClause]) -> list[NameClause]:
    """The clauses of `group` that share a hit with another ("Kingdom" and "Secret Kingdom"
    by one artist): that hit's score adds up both clauses', so neither clause's scores say
    what a search of its own would; they are searched one by one."""
    shared: dict[NameClause, None] = {}
    for hit in hits:
        answered = [clause for clause in group if clause.matches(hit)]
        if len(answered) > 1:
            shared.update(dict.fromkeys(answered))
    return list(shared)


async def _search_page(
    musicbrainz: ServiceClient, query: str, limit: int
) -> tuple[list[Hit], bool]:
    """The first page of a recording search, and whether it holds every hit."""
    body = await get_json(
        musicbrainz,
        "/recording",
        params={"query": query, "limit": limit, "offset": 0, "fmt": "json"},
    )
    page = _recordings(musicbrainz, body)
    count = body.get("count")
    return [hit for hit in map(Hit.parse, page) if hit is not None], not (
        isinstance(count, int) and count > len(page)
    )


def _recordings(musicbrainz: ServiceClient, body: Any) -> list[Any]:
    page = body.get("recordings") if isinstance(body, Mapping) else None
    if not isinstance(page, list):
        raise UpstreamError(
            f"{musicbrainz.service} sent a search answer without recordings",
            code="provider_bad_response",
        )
    return page


async def search_recordings(
    musicbrainz: ServiceClient, query: str, limit: int, max_pages: int
) -> list[Hit]:
    """The hits of a recording search, page after page while `count` says some are missing."""
    hits: list[Hit] = []
    offset = 0
    for _ in range(max_pages):
        body = await get_json(
            musicbrainz,
            "/recording",
            params={"query": query, "limit": limit, "offset": offset, "fmt": "json"},
        )
        page = _recordings(musicbrainz, body)
        hits += [hit for hit in map(Hit.parse, page) if hit is not None]
        offset += len(page)
        count = body.get("count")
        if not page or not isinstance(count, int) or offset >= count:
            break
    return hits
