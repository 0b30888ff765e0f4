"""MusicBrainz: finding each track's recording (the matching half of `MusicBrainzProvider`).

MusicBrainz allows one request per second, so requests are the cost:

- **Tracks with an ISRC**: one search per batch,
  `GET /recording?query=isrc:(A OR B …)&limit=100&fmt=json`. Every hit lists its `isrcs`, so
  hits map back to tracks; more pages (`offset`) only when `count` says the first one missed
  some. With `SAP_MUSICBRAINZ_BATCH_SIZE=50` that is ~20 requests per 1,000 tracks. When
  MusicBrainz lists an ISRC on several recordings, the one whose title and length fit the track
  wins, then the best score, the most releases, the smallest id; confidence 0.9 when exactly
  one fits, else 0.7 (1.0 for an ISRC on a single recording).
- **Tracks without an ISRC**: one search per track, `recording:"title" AND artist:"artist"`,
  both normalised (`normalise_title`: "feat." credits, " - Remastered 2011" and "(Live)"-style
  decorations, accents, case and punctuation dropped). A hit counts only when its normalised
  title is the track's, it credits the track's first artist and it lasts within ±3 s of the
  track; `match_method` "artist_title", confidence at most 0.9 (lower for a worse score, a
  longer distance, an unknown length or another version: live, remix, acoustic…).
- A track whose ISRC MusicBrainz does not list is *not found*: no title search for it, since
  at one request per second those would cost more than all the ISRC searches together.

Each hit (`Hit`) also carries what the search answer says about the recording: its release
group (of the earliest official non-compilation release) and first release year.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import UpstreamError
from app.core.models import Track
from app.net.client import ServiceClient
from app.providers.base import EnrichItem, MatchMethod
from app.providers.http import get_json

SEARCH_LIMIT = 100  # the most hits MusicBrainz returns per search page
MAX_SEARCH_PAGES = 5  # a batch of ISRCs never needs more; stops a runaway `count`
NAME_SEARCH_LIMIT = 25
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
        return cls(
            mbid=raw["id"],
            score=score if isinstance(score, int) else 0,
            title=str(raw.get("title") or ""),
            disambiguation=str(raw.get("disambiguation") or ""),
            length=length if isinstance(length, int) and length > 0 else None,
            artist_ids=tuple(str(a["id"]) for a in artists if isinstance(a.get("id"), str)),
            artist_names=tuple(
                dict.fromkeys(
                    normalise_artist(name)
                    for c, a in zip(credit, artists, strict=True)
                    for name in (c.get("name"), a.get("name"))
                    if isinstance(name, str)
                )
            ),
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


async def match_name(musicbrainz: ServiceClient, track: Track) -> Match | None:
    """One search by normalised title and first artist; the best fitting hit."""
    title = " ".join(words(base_title(track.name)))
    artist = " ".join(words(track.artists[0].name))
    if not title or not artist:
        return None
    query = f"recording:{lucene_phrase(title)} AND artist:{lucene_phrase(artist)}"
    return pick_by_name(await search_recordings(musicbrainz, query, NAME_SEARCH_LIMIT, 1), track)


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
        page = body.get("recordings") if isinstance(body, Mapping) else None
        if not isinstance(page, list):
            raise UpstreamError(
                f"{musicbrainz.service} sent a search answer without recordings",
                code="provider_bad_response",
            )
        hits += [hit for hit in map(Hit.parse, page) if hit is not None]
        offset += len(page)
        count = body.get("count")
        if not page or not isinstance(count, int) or offset >= count:
            break
    return hits
