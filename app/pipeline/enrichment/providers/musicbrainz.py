"""MusicBrainz: each track's recording MBID, release group, first release year, genres and tags.

Finding the recording (MusicBrainz allows one request per second, so requests are the cost):

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

Genres and tags of the recordings found:

- **ListenBrainz** (`SAP_LISTENBRAINZ_URL`, a separate service with its own pace):
  `GET /metadata/recording/?recording_mbids=a,b…&inc=artist tag release`, up to 20 MBIDs per
  request. `genres` are the recording's tags that are genres (they carry a `genre_mbid`), else
  the release group's, else the credited artists' (first artist first); `genres_from` says
  which. `tags` are all of the recording's tags, most voted first.
- **Without ListenBrainz** (`SAP_LISTENBRAINZ_URL=""`): `GET /recording/{mbid}?inc=genres+tags`
  per recording, then `GET /release-group/{id}?inc=genres` and `GET /artist/{id}?inc=genres`
  when the level above has none (remembered for the run). That is at least one more
  MusicBrainz request per track at one per second: ~17 minutes per 1,000 tracks instead of ~20 s.

Categories: `recording_mbid`, `release_group_mbid` (of the recording's earliest official
non-compilation release), `first_release_year`, `genres`, `genres_from`, `tags`.
Without `SAP_CONTACT` the provider is disabled: MusicBrainz refuses clients that do not say
who they are.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.core.config import Settings
from app.core.errors import UpstreamError
from app.core.models import Track, TrackEnrichment
from app.pipeline.enrichment.base import (
    BatchOutcome,
    EnrichItem,
    FeatureProvider,
    FieldSpec,
    MatchMethod,
)
from app.pipeline.enrichment.http import ProviderHttp, ProviderNet

SEARCH_LIMIT = 100  # the most hits MusicBrainz returns per search page
MAX_SEARCH_PAGES = 5  # a batch of ISRCs never needs more; stops a runaway `count`
NAME_SEARCH_LIMIT = 25
LISTENBRAINZ_BATCH = 20
LISTENBRAINZ_RATE = 5.0  # requests/s; ListenBrainz publishes no number, be polite
DURATION_TOLERANCE_MS = 3_000
BEST_NAME_CONFIDENCE = 0.9

GenreLevel = Literal["recording", "release-group", "artist"]

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


def first_year(date: Any) -> int | None:
    """1999 from "1999", "1999-05" or "1999-05-17"; None when absent."""
    if not isinstance(date, str) or len(date) < 4 or not date[:4].isdigit():
        return None
    year = int(date[:4])
    return year or None


def _object(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one (lenient parsing)."""
    return value if isinstance(value, Mapping) else {}


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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
        artists = [_object(c.get("artist")) for c in credit]
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
        secondary = _object(release.get("release-group")).get("secondary-types") or ()
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
        group_id = _object(release.get("release-group")).get("id")
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


# -- genres and tags --------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """Genres (and the level they come from), tags and release group of one recording."""

    genres: tuple[str, ...] = ()
    genres_from: GenreLevel | None = None
    tags: tuple[str, ...] = ()
    release_group: str | None = None


def ranked(entries: Any, *, name_key: str, genres_only: bool = False) -> list[str]:
    """Names of MusicBrainz/ListenBrainz `{name|tag, count, genre_mbid?}` entries, most voted
    first (a stable sort keeps the service's order among equals); down-voted ones dropped."""
    kept: list[tuple[int, str]] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping):
            continue
        name, count = entry.get(name_key), entry.get("count", 1)
        if not isinstance(name, str) or not name.strip():
            continue
        if not isinstance(count, int | float) or count <= 0:
            continue
        if genres_only and not entry.get("genre_mbid"):
            continue
        kept.append((-int(count), name.strip()))
    kept.sort(key=lambda pair: pair[0])
    return list(dict.fromkeys(name for _, name in kept))


def labels_from_listenbrainz(entry: Mapping[str, Any]) -> Labels:
    """`Labels` from one recording of ListenBrainz's `/metadata/recording/` answer."""
    tag = _object(entry.get("tag"))
    group = _object(entry.get("release")).get("release_group_mbid")
    recording = tag.get("recording")
    levels: list[tuple[GenreLevel, list[str]]] = [
        ("recording", ranked(recording, name_key="tag", genres_only=True)),
        ("release-group", ranked(tag.get("release_group"), name_key="tag", genres_only=True)),
        ("artist", _artist_genres(entry, tag.get("artist"))),
    ]
    genres, level = next(((g, lvl) for lvl, g in levels if g), ([], None))
    return Labels(
        genres=tuple(genres),
        genres_from=level,
        tags=tuple(ranked(recording, name_key="tag")),
        release_group=group if isinstance(group, str) else None,
    )


def _artist_genres(entry: Mapping[str, Any], artist_tags: Any) -> list[str]:
    """Genres of the credited artists, the first artist's first."""
    credited = _object(entry.get("artist")).get("artists") or ()
    order = [a.get("artist_mbid") for a in credited if isinstance(a, Mapping)]
    by_artist: dict[Any, list[Any]] = {}
    for tag in artist_tags if isinstance(artist_tags, list) else ():
        if isinstance(tag, Mapping):
            by_artist.setdefault(tag.get("artist_mbid"), []).append(tag)
    keys = [key for key in order if key in by_artist] + [k for k in by_artist if k not in order]
    names = [
        name for key in keys for name in ranked(by_artist[key], name_key="tag", genres_only=True)
    ]
    return list(dict.fromkeys(names))


@dataclass
class _RunLookups:
    """Genres of release groups and artists already looked up in this run (no-ListenBrainz)."""

    release_groups: dict[str, list[str]] = field(default_factory=dict)
    artists: dict[str, list[str]] = field(default_factory=dict)


# -- the provider -----------------------------------------------------------------------------


class MusicBrainzProvider(FeatureProvider):
    """Recording MBIDs by ISRC (batched) or artist + title; genres and tags via ListenBrainz."""

    id = "musicbrainz"
    type = "external"
    version = "1"
    description = (
        "MusicBrainz recording, first release year, genres and tags (ISRC search in batches, "
        "artist + title when there is no ISRC; genres via ListenBrainz)."
    )
    fields = (
        FieldSpec("recording_mbid", "text", "MusicBrainz recording id"),
        FieldSpec("release_group_mbid", "text", "Release group of the first release"),
        FieldSpec("first_release_year", "integer", "Year of the recording's first release"),
        FieldSpec("genres", "list", "Genres, most voted first (lower case)"),
        FieldSpec("genres_from", "text", "Where genres come from: recording/release-group/artist"),
        FieldSpec("tags", "list", "The recording's folksonomy tags, most voted first"),
    )
    match_methods = ("isrc", "artist_title")
    rate_limit = 1.0
    settings_used = ("contact", "musicbrainz_url", "musicbrainz_batch_size", "listenbrainz_url")

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # Release-group and artist genres looked up during one run (one `ProviderNet`).
        self._lookups: weakref.WeakKeyDictionary[ProviderNet, _RunLookups] = (
            weakref.WeakKeyDictionary()
        )

    def disabled_reason(self) -> str | None:
        if not self.settings.contact:
            return (
                "MusicBrainz requires an identifiable User-Agent: set SAP_CONTACT to your "
                "e-mail address or a URL"
            )
        return None

    def batch_limit(self) -> int:
        return self.settings.musicbrainz_batch_size

    def applicable(self, item: EnrichItem) -> str | None:
        track = item.track
        if track.is_local:
            return "local file"
        if clean_isrc(track.isrc) is None and not _searchable_by_name(track):
            return "no ISRC and no artist/title"
        return None

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        musicbrainz = net.client(self.settings.musicbrainz_url, rate=self.rate_limit)
        outcome = BatchOutcome()
        with_isrc = [item for item in items if clean_isrc(item.track.isrc)]
        matches = await self._match_isrcs(musicbrainz, with_isrc)
        searched = {item.id for item in with_isrc}
        for item in items:
            if item.id in searched:
                continue
            try:
                match = await self._match_name(musicbrainz, item.track)
            except UpstreamError as exc:
                outcome.fail(item, exc.detail)
                continue
            if match is not None:
                matches[item.id] = match
        hits = {match.hit.mbid: match.hit for match in matches.values()}
        labels = await self._labels(net, musicbrainz, hits)
        for item in items:
            if item.id in outcome.failed:
                continue
            found = matches.get(item.id)
            if found is None:
                outcome.missing(item)
            else:
                outcome.found(item, self._entry(found, labels.get(found.hit.mbid, Labels())))
        return outcome

    def _entry(self, match: Match, labels: Labels) -> TrackEnrichment:
        hit = match.hit
        return self.entry(
            {
                "recording_mbid": hit.mbid,
                "release_group_mbid": hit.release_group or labels.release_group,
                "first_release_year": hit.first_release_year,
                "genres": list(labels.genres),
                "genres_from": labels.genres_from if labels.genres else None,
                "tags": list(labels.tags),
            },
            method=match.method,
            confidence=match.confidence,
        )

    # -- finding recordings -------------------------------------------------------------------

    async def _match_isrcs(
        self, musicbrainz: ProviderHttp, items: Sequence[EnrichItem]
    ) -> dict[str, Match]:
        """One OR search for the batch's ISRCs; track id -> match."""
        if not items:
            return {}
        isrcs = list(dict.fromkeys(clean_isrc(item.track.isrc) or "" for item in items))
        query = "isrc:(" + " OR ".join(lucene_escape(isrc) for isrc in isrcs) + ")"
        by_isrc: dict[str, list[Hit]] = {}
        for hit in await self._search(musicbrainz, query, SEARCH_LIMIT, MAX_SEARCH_PAGES):
            for isrc in hit.isrcs:
                by_isrc.setdefault(isrc, []).append(hit)
        matches: dict[str, Match] = {}
        for item in items:
            candidates = by_isrc.get(clean_isrc(item.track.isrc) or "")
            if candidates:
                matches[item.id] = pick_for_isrc(candidates, item.track)
        return matches

    async def _match_name(self, musicbrainz: ProviderHttp, track: Track) -> Match | None:
        """One search by normalised title and first artist; the best fitting hit."""
        title = " ".join(words(base_title(track.name)))
        artist = " ".join(words(track.artists[0].name))
        if not title or not artist:
            return None
        query = f"recording:{lucene_phrase(title)} AND artist:{lucene_phrase(artist)}"
        return pick_by_name(await self._search(musicbrainz, query, NAME_SEARCH_LIMIT, 1), track)

    async def _search(
        self, musicbrainz: ProviderHttp, query: str, limit: int, max_pages: int
    ) -> list[Hit]:
        hits: list[Hit] = []
        offset = 0
        for _ in range(max_pages):
            body = await musicbrainz.get_json(
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

    # -- genres and tags ----------------------------------------------------------------------

    async def _labels(
        self, net: ProviderNet, musicbrainz: ProviderHttp, hits: Mapping[str, Hit]
    ) -> dict[str, Labels]:
        if not hits:
            return {}
        if self.settings.listenbrainz_url:
            listenbrainz = net.client(self.settings.listenbrainz_url, rate=LISTENBRAINZ_RATE)
            return await self._listenbrainz_labels(listenbrainz, list(hits))
        lookups = self._lookups.setdefault(net, _RunLookups())
        return {
            mbid: await self._musicbrainz_labels(musicbrainz, hit, lookups)
            for mbid, hit in hits.items()
        }

    async def _listenbrainz_labels(
        self, listenbrainz: ProviderHttp, mbids: Sequence[str]
    ) -> dict[str, Labels]:
        labels: dict[str, Labels] = {}
        for chunk in _chunks(mbids, LISTENBRAINZ_BATCH):
            body = await listenbrainz.get_json(
                "/metadata/recording/",
                params={"recording_mbids": ",".join(chunk), "inc": "artist tag release"},
            )
            if not isinstance(body, Mapping):
                raise UpstreamError(
                    f"{listenbrainz.service} sent metadata that is not an object",
                    code="provider_bad_response",
                )
            for mbid in chunk:
                entry = body.get(mbid)
                if isinstance(entry, Mapping):
                    labels[mbid] = labels_from_listenbrainz(entry)
        return labels

    async def _musicbrainz_labels(
        self, musicbrainz: ProviderHttp, hit: Hit, lookups: _RunLookups
    ) -> Labels:
        """Recording genres, else its release group's, else its artists' (one request each)."""
        body = await _lookup(musicbrainz, f"/recording/{hit.mbid}", "genres+tags") or {}
        tags = ranked(body.get("tags"), name_key="name")
        genres = ranked(body.get("genres"), name_key="name")
        if genres:
            return Labels(tuple(genres), "recording", tuple(tags))
        if hit.release_group:
            genres = await _genres_of(
                musicbrainz, "release-group", hit.release_group, lookups.release_groups
            )
            if genres:
                return Labels(tuple(genres), "release-group", tuple(tags))
        artist_genres: list[str] = []
        for artist_id in hit.artist_ids:
            artist_genres += await _genres_of(musicbrainz, "artist", artist_id, lookups.artists)
        genres = list(dict.fromkeys(artist_genres))
        return Labels(tuple(genres), "artist" if genres else None, tuple(tags))


def _searchable_by_name(track: Track) -> bool:
    return bool(track.artists and normalise_title(track.name) and track.artists[0].name.strip())


async def _lookup(musicbrainz: ProviderHttp, path: str, inc: str) -> Mapping[str, Any] | None:
    """A MusicBrainz lookup; None when the entity is gone (404: merged or deleted)."""
    response = await musicbrainz.request("GET", path, params={"inc": inc, "fmt": "json"})
    if response.status_code == 404:
        return None
    body = musicbrainz.parse(response, f"GET {path}")
    return body if isinstance(body, Mapping) else None


async def _genres_of(
    musicbrainz: ProviderHttp, kind: str, mbid: str, cache: dict[str, list[str]]
) -> list[str]:
    if mbid not in cache:
        body = await _lookup(musicbrainz, f"/{kind}/{mbid}", "genres") or {}
        cache[mbid] = ranked(body.get("genres"), name_key="name")
    return cache[mbid]
