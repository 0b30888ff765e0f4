"""`MusicBrainzEmulator`: MusicBrainz WS/2 (JSON) over a generated library's truth.

    emulator = MusicBrainzEmulator(library, MusicBrainzConfig(enforce_rate_limit=False))
    client = httpx.AsyncClient(transport=emulator_transport(emulator.app, root_path="/ws/2"),
                               base_url="http://musicbrainz.test/ws/2",
                               headers={"User-Agent": "sap/1.0 ( me@example.org )"})
    await client.get("/recording", params={"query": "isrc:(A OR B)", "fmt": "json"})

Served (paths below the `/ws/2` mount): `GET /recording?query=&limit=&offset=` (search),
`GET /recording/{mbid}`, `GET /isrc/{isrc}`, `GET /release-group/{mbid}`, `GET /artist/{mbid}`,
each with `inc=` checked against what the real resource accepts.

Everything comes from the library: one recording per `TrackTruth.recording_mbid` (tracks that
share it - an album track and its compilation reissue - are one recording listing every ISRC
and release), `genres` = `truth.genres` and `tags` = those genres then the other `truth.tags`
(on MusicBrainz a genre is a tag too), with strictly decreasing counts
(sorting by count gives the truth's order), `first-release-date` from `first_release_year`
(the full date of a release of that year when there is one). About 40% of recordings
(`1 - config.recording_genre_share`, chosen by a hash of the MBID) carry no genres, as on the
real service; their release group (album genres) and artists (artist genres) still have them.
Tracks whose `recording_mbid` is None are unknown here.

Search speaks a Lucene subset: `field:term`, `field:"phrase"`, `field:(a OR b)`,
`field:[a TO b]`, `AND`/`OR`/`NOT`/`&&`/`||`, parentheses, backslash escapes; fields `isrc`,
`rid`, `arid`, `recording`/`recordingaccent` (the default field), `artist`/`artistname`,
`dur`/`qdur`, `reid`, `rgid`, `release`. Terms match folded word tokens (a phrase must appear
as consecutive words); `score` is 100 for the best hit and proportional below. An
unescaped special character is a 400, as is `limit` outside 1..100.

Policy, in the order the real service applies it: a missing or library-default `User-Agent`
is refused with 403; more than `rate_per_second` requests per client address within
`rate_limit_window` seconds of the emulator clock gives 503 (refused requests are not
counted); then random faults (`fail_rate`, `drop_rate`) and `latency_ms`. Every request is
logged in `requests` (`RequestRecord`, service "musicbrainz").
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.clock import Clock
from app.emulators.library import GENRE_FAMILY, fold
from app.emulators.library_model import Album, Artist, Library, Track
from app.emulators.provider_gate import SlidingWindow, check_fault_rates
from app.emulators.spotify.gateway import RequestRecord, relative_path
from app.emulators.transport import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    drop_connection,
    json_response,
)

HELP = "For usage, please see: https://musicbrainz.org/development/mmd"
RATE_LIMIT_MESSAGE = (
    "Your requests are exceeding the allowable rate limit. Please see "
    "https://musicbrainz.org/doc/MusicBrainz_API/Rate_Limiting for more information."
)
USER_AGENT_MESSAGE = (
    "Your requests are being blocked: send a meaningful User-Agent such as "
    "'MyApp/1.0 ( contact@example.org )'. Please see "
    "https://musicbrainz.org/doc/MusicBrainz_API/Rate_Limiting for more information."
)
# Library defaults that say nothing about the application (the real service blocks them).
_GENERIC_AGENT = re.compile(
    r"^\s*(?:python-httpx|python-requests|python-urllib\d*|python|aiohttp|curl|wget|"
    r"go-http-client|java|okhttp|axios|node-fetch|mozilla)(?:/[\w.\-]*)?\s*$",
    re.IGNORECASE,
)
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_WORD = re.compile(r"\w+")
_T = TypeVar("_T")

# Real MusicBrainz type ids, so clients that read them see familiar values.
_TYPE_IDS = {
    "Album": "f529b476-6e62-324f-b0aa-1f3e33d313fc",
    "Single": "d6038452-8ee0-3f68-affc-2de9a1ede0b9",
    "Compilation": "dd2a21e1-0c00-3729-a7a0-de60b84eb5d1",
}
_OFFICIAL = "4e304316-386d-3409-af2e-78857eec5cfe"

_RELS = {
    f"{kind}-rels"
    for kind in (
        "area", "artist", "event", "instrument", "label", "place", "recording", "release",
        "release-group", "series", "url", "work", "genre",
    )
}  # fmt: skip
_COMMON_INC = {"aliases", "annotation", "ratings", "user-ratings", "user-tags", "user-genres"}
INC_ALLOWED: dict[str, frozenset[str]] = {
    "recording": frozenset(
        {"artists", "artist-credits", "releases", "release-groups", "isrcs", "genres", "tags",
         "media", "discids", "work-level-rels", *_COMMON_INC, *_RELS}
    ),
    "release-group": frozenset(
        {"artists", "artist-credits", "releases", "media", "genres", "tags", *_COMMON_INC,
         *_RELS}
    ),
    "artist": frozenset(
        {"recordings", "releases", "release-groups", "works", "media", "genres", "tags",
         "various-artists", *_COMMON_INC, *_RELS}
    ),
    # No genres/tags/ratings on an ISRC lookup: the real service answers 400.
    "isrc": frozenset(
        {"artists", "artist-credits", "releases", "release-groups", "isrcs", "aliases",
         "annotation", "media", "discids", *_RELS}
    ),
}  # fmt: skip


@dataclass
class MusicBrainzConfig:
    """How the emulated MusicBrainz behaves. Mutable: tests change it live."""

    require_user_agent: bool = True  # missing or generic User-Agent -> 403
    enforce_rate_limit: bool = True
    rate_per_second: float = 1.0  # allowed requests per client address and second
    rate_limit_window: float = 1.0  # seconds of emulator clock the sliding window spans
    max_search_limit: int = 100
    default_search_limit: int = 25
    recording_genre_share: float = 0.6  # share of recordings that carry genres
    latency_ms: float = 0
    fail_rate: float = 0.0  # share of requests answered 500/502/503
    drop_rate: float = 0.0  # share of requests whose connection is dropped
    fault_seed: int = 0
    request_log_size: int = 100_000

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        check_fault_rates(self.fail_rate, self.drop_rate)
        if not 0.0 <= self.recording_genre_share <= 1.0:
            raise ValueError(
                f"recording_genre_share must be between 0 and 1, got {self.recording_genre_share}"
            )
        if self.rate_per_second <= 0 or self.rate_limit_window <= 0:
            raise ValueError("rate_per_second and rate_limit_window must be positive")


# -- HTTP plumbing shared with the ListenBrainz emulator ------------------------------------


@dataclass(frozen=True)
class Refusal:
    """An answer given instead of the service's own: an error body, or a dropped connection."""

    fault: str  # "user_agent", "rate_limit", "error", "drop"
    status: int = 0
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


class RandomFaults:
    """Seeded random faults: every request draws the same two numbers whatever the rates."""

    STATUSES = (500, 502, 503)

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - reproducible, not secret

    def draw(self, seed: int, fail_rate: float, drop_rate: float) -> str | int | None:
        """ "drop", an HTTP status, or None."""
        if seed != self.seed:
            self.seed = seed
            self._rng.seed(seed)
        value = self._rng.random()
        status = self.STATUSES[self._rng.randrange(len(self.STATUSES))]
        if value < drop_rate:
            return "drop"
        if value < drop_rate + fail_rate:
            return status
        return None


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class PolicyGateway:
    """Logs each request, waits `latency()`, then lets `check` refuse it or passes it on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        clock: Clock,
        log: list[RequestRecord],
        log_size: Callable[[], int],
        latency_ms: Callable[[], float],
        check: Callable[[Scope, Mapping[str, str]], Refusal | None],
    ) -> None:
        self.app = app
        self.service = service
        self.clock = clock
        self.log = log
        self.log_size = log_size
        self.latency_ms = latency_ms
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        record = RequestRecord(
            self.service, scope["method"], relative_path(scope), query, self.clock.now()
        )
        record.headers = headers
        keep = self.log_size()
        if len(self.log) >= 2 * keep:
            del self.log[: len(self.log) - keep]
        self.log.append(record)
        latency = self.latency_ms()
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        refusal = self.check(scope, headers)
        if refusal is not None:
            record.fault = refusal.fault
            if refusal.fault == "drop":
                await drop_connection(scope, send)
                return
            record.status = refusal.status
            await json_response(refusal.body, refusal.status, refusal.headers)(scope, receive, send)
            return

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app(scope, receive, logged_send)


# -- the data, derived from the library ------------------------------------------------------


def _stable_fraction(text: str) -> float:
    """A number in [0, 1) fixed by `text` (not `hash()`, which is salted per process)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def genre_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://musicbrainz.org/genre/{name}"))


def release_id(album: Album) -> str:
    """The MBID of the (single) release of a library album, whose release group is its mbid."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://musicbrainz.org/release/{album.mbid}"))


def sort_name(name: str) -> str:
    return f"{name[4:]}, The" if name.startswith("The ") and len(name) > 4 else name


def counted(names: Sequence[str]) -> list[dict[str, Any]]:
    """MusicBrainz `tags`: `{name, count}`, counts strictly decreasing in the given order."""
    return [{"name": name, "count": len(names) - i} for i, name in enumerate(names)]


def counted_genres(names: Sequence[str]) -> list[dict[str, Any]]:
    """MusicBrainz `genres`: `{id, name, disambiguation, count}`."""
    return [
        {"id": genre_id(name), "name": name, "disambiguation": "", "count": len(names) - i}
        for i, name in enumerate(names)
    ]


def is_genre(name: str) -> bool:
    return name in GENRE_FAMILY


@dataclass(frozen=True)
class Recording:
    """One MusicBrainz recording: the library tracks that share a `recording_mbid`."""

    mbid: str
    track: Track  # the first, in library order: title, length, artists, truth
    isrcs: tuple[str, ...]
    album_ids: tuple[str, ...]
    has_genres: bool
    first_release_date: str


class MusicBrainzData:
    """Recordings, release groups and artists of a library, with the search indexes."""

    def __init__(self, library: Library, genre_share: float = 0.6) -> None:
        self.library = library
        self.artists_by_mbid: dict[str, Artist] = {a.mbid: a for a in library.artists.values()}
        self.albums_by_mbid: dict[str, Album] = {a.mbid: a for a in library.albums.values()}
        groups: dict[str, list[Track]] = {}
        for track in library.tracks.values():
            if track.truth.recording_mbid is not None:
                groups.setdefault(track.truth.recording_mbid, []).append(track)
        self.recordings: dict[str, Recording] = {}
        self.by_isrc: dict[str, list[str]] = {}
        self.by_title_word: dict[str, set[str]] = {}
        self.by_artist_word: dict[str, set[str]] = {}
        self.by_artist_mbid: dict[str, list[str]] = {}
        self.by_release_group: dict[str, list[str]] = {}
        for mbid, tracks in groups.items():
            recording = self._recording(mbid, tracks, genre_share)
            self.recordings[mbid] = recording
            for isrc in recording.isrcs:
                self.by_isrc.setdefault(isrc, []).append(mbid)
            for word in words(recording.track.name):
                self.by_title_word.setdefault(word, set()).add(mbid)
            for artist in self.artists_of(recording):
                self.by_artist_mbid.setdefault(artist.mbid, []).append(mbid)
                for word in words(artist.name):
                    self.by_artist_word.setdefault(word, set()).add(mbid)
            for album_id in recording.album_ids:
                self.by_release_group.setdefault(library.albums[album_id].mbid, []).append(mbid)
        self.order = {mbid: i for i, mbid in enumerate(self.recordings)}

    def _recording(self, mbid: str, tracks: list[Track], genre_share: float) -> Recording:
        first = tracks[0]
        albums = tuple(dict.fromkeys(t.album_id for t in tracks))
        year = first.truth.first_release_year
        date = ""
        if year is not None:
            same_year = sorted(
                self.library.albums[a].release_date
                for a in albums
                if self.library.albums[a].release_date[:4] == f"{year:04d}"
            )
            date = same_year[0] if same_year else f"{year:04d}"
        return Recording(
            mbid=mbid,
            track=first,
            isrcs=tuple(sorted({t.isrc for t in tracks if t.isrc is not None})),
            album_ids=albums,
            has_genres=_stable_fraction(mbid) < genre_share,
            first_release_date=date,
        )

    def artists_of(self, recording: Recording) -> list[Artist]:
        return [self.library.artists[a] for a in recording.track.artist_ids]

    def credit_name(self, recording: Recording) -> str:
        return " & ".join(artist.name for artist in self.artists_of(recording))

    def recording_genres(self, recording: Recording) -> tuple[str, ...]:
        return recording.track.truth.genres if recording.has_genres else ()

    def recording_tags(self, recording: Recording) -> tuple[str, ...]:
        """Every tag of the recording, most voted first: its genres (genres are tags on
        MusicBrainz), then the truth's other tags."""
        genres = self.recording_genres(recording)
        return genres + tuple(tag for tag in recording.track.truth.tags if tag not in genres)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


# -- rendering ------------------------------------------------------------------------------


def artist_credit(artists: Iterable[Artist], *, search: bool = False) -> list[dict[str, Any]]:
    listed = list(artists)
    credit = []
    for i, artist in enumerate(listed):
        entry: dict[str, Any] = {
            "name": artist.name,
            "artist": {
                "id": artist.mbid,
                "name": artist.name,
                "sort-name": sort_name(artist.name),
            },
        }
        if not search:
            entry["artist"]["disambiguation"] = ""
        joinphrase = " & " if i < len(listed) - 1 else ""
        if joinphrase or not search:
            entry["joinphrase"] = joinphrase
        credit.append(entry)
    return credit


def release_group_stub(album: Album) -> dict[str, Any]:
    primary = "Single" if album.album_type == "single" else "Album"
    secondary = ["Compilation"] if album.album_type == "compilation" else []
    return {
        "id": album.mbid,
        "type-id": _TYPE_IDS[primary],
        "primary-type-id": _TYPE_IDS[primary],
        "title": album.name,
        "primary-type": primary,
        "secondary-types": secondary,
        "secondary-type-ids": [_TYPE_IDS[s] for s in secondary],
    }


class Renderer:
    """JSON bodies in MusicBrainz's shapes."""

    def __init__(self, data: MusicBrainzData) -> None:
        self.data = data
        self.library = data.library

    def release(self, album: Album, *, search: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": release_id(album),
            "title": album.name,
            "status": "Official",
            "status-id": _OFFICIAL,
            "date": album.release_date,
            "release-group": release_group_stub(album),
        }
        if search:
            body["artist-credit"] = artist_credit(
                (self.library.artists[a] for a in album.artist_ids), search=True
            )
            body["track-count"] = album.total_tracks
        else:
            body["disambiguation"] = ""
        return body

    def recording(self, recording: Recording, inc: frozenset[str] = frozenset()) -> dict[str, Any]:
        """A recording lookup (or an entry of an ISRC lookup) with what `inc` asks for."""
        track = recording.track
        body: dict[str, Any] = {
            "id": recording.mbid,
            "title": track.name,
            "length": track.duration_ms,
            "disambiguation": "",
            "video": False,
            "first-release-date": recording.first_release_date,
        }
        if "isrcs" in inc:
            body["isrcs"] = list(recording.isrcs)
        if inc & {"artist-credits", "artists"}:
            body["artist-credit"] = artist_credit(self.data.artists_of(recording))
        if "releases" in inc:
            body["releases"] = [self.release(self.library.albums[a]) for a in recording.album_ids]
        if "genres" in inc:
            body["genres"] = counted_genres(self.data.recording_genres(recording))
        if "tags" in inc:
            body["tags"] = counted(self.data.recording_tags(recording))
        return body

    def search_hit(self, recording: Recording, score: int) -> dict[str, Any]:
        """One entry of a recording search: the search server's shape (no disambiguation)."""
        return {
            "id": recording.mbid,
            "score": score,
            "title": recording.track.name,
            "length": recording.track.duration_ms,
            "video": None,
            "artist-credit": artist_credit(self.data.artists_of(recording), search=True),
            "first-release-date": recording.first_release_date,
            "releases": [
                self.release(self.library.albums[a], search=True) for a in recording.album_ids
            ],
            "isrcs": list(recording.isrcs),
        }

    def release_group(self, album: Album, inc: frozenset[str]) -> dict[str, Any]:
        body = release_group_stub(album)
        body["disambiguation"] = ""
        body["first-release-date"] = album.release_date
        if inc & {"artist-credits", "artists"}:
            body["artist-credit"] = artist_credit(self.library.artists[a] for a in album.artist_ids)
        if "releases" in inc:
            body["releases"] = [self.release(album)]
        if "genres" in inc:
            body["genres"] = counted_genres(album.genres)
        if "tags" in inc:
            body["tags"] = counted(album.genres)
        return body

    def artist(self, artist: Artist, inc: frozenset[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": artist.mbid,
            "name": artist.name,
            "sort-name": sort_name(artist.name),
            "disambiguation": "",
            "type": None,
            "type-id": None,
            "country": None,
        }
        if "genres" in inc:
            body["genres"] = counted_genres(artist.genres)
        if "tags" in inc:
            body["tags"] = counted(artist.genres)
        return body


# -- the search query language --------------------------------------------------------------


class QueryError(ValueError):
    pass


_FIELD_ALIASES = {
    "recordingaccent": "recording",
    "title": "recording",
    "artistname": "artist",
    "creditname": "artist",
    "qdur": "dur",
}
_KNOWN_FIELDS = {"recording", "artist", "isrc", "rid", "arid", "dur", "reid", "rgid", "release"}
_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


@dataclass(frozen=True)
class Leaf:
    field: str
    value: str  # a term or phrase, unescaped
    low: str | None = None  # ranges: [low TO high]
    high: str | None = None


@dataclass(frozen=True)
class Node:
    op: str  # "and", "or", "not"
    children: tuple[Query, ...]


Query = Leaf | Node


def _tokenize(text: str) -> list[tuple[str, str]]:
    """("op", "and"|"or"|"not"|"("|")"|":"), ("term", text), ("phrase", text), ("range", ...)."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(("op", char))
            i += 1
        elif char == ":":
            tokens.append(("op", ":"))
            i += 1
        elif text.startswith(("&&", "||"), i):
            tokens.append(("op", "and" if char == "&" else "or"))
            i += 2
        elif char in "+-!" and (not tokens or tokens[-1][0] == "op"):
            if char == "!" or char == "-":
                tokens.append(("op", "not"))
            i += 1
        elif char == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise QueryError("unterminated phrase")
            tokens.append(("phrase", "".join(chars)))
            i += 1
        elif char in "[{":
            end = text.find("]" if char == "[" else "}", i)
            if end < 0:
                raise QueryError("unterminated range")
            parts = text[i + 1 : end].split()
            if len(parts) != 3 or parts[1] != "TO":
                raise QueryError("a range reads [low TO high]")
            tokens.append(("range", f"{parts[0]} {parts[2]}"))
            i = end + 1
        else:
            chars = []
            while i < n and not text[i].isspace():
                current = text[i]
                if current == "\\" and i + 1 < n:
                    chars.append(text[i + 1])
                    i += 2
                    continue
                if current in "():" or (current == '"'):
                    break
                if current in _SPECIAL and current not in "-+":
                    raise QueryError(f"unescaped special character {current!r}")
                chars.append(current)
                i += 1
            word = "".join(chars)
            if word in ("AND", "OR", "NOT"):
                tokens.append(("op", word.lower()))
            else:
                tokens.append(("term", word))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryError("unexpected end of query")
        self.pos += 1
        return token

    def parse(self) -> Query:
        query = self.expression("recording")
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return query

    def expression(self, field_name: str) -> Query:
        """OR of ANDs; adjacent clauses without an operator are ANDed."""
        alternatives = [self.conjunction(field_name)]
        while self.peek() == ("op", "or"):
            self.take()
            alternatives.append(self.conjunction(field_name))
        return alternatives[0] if len(alternatives) == 1 else Node("or", tuple(alternatives))

    def conjunction(self, field_name: str) -> Query:
        parts = [self.unary(field_name)]
        while True:
            token = self.peek()
            if token is None or token in (("op", "or"), ("op", ")")):
                break
            if token == ("op", "and"):
                self.take()
            parts.append(self.unary(field_name))
        return parts[0] if len(parts) == 1 else Node("and", tuple(parts))

    def unary(self, field_name: str) -> Query:
        if self.peek() == ("op", "not"):
            self.take()
            return Node("not", (self.unary(field_name),))
        return self.clause(field_name)

    def clause(self, field_name: str) -> Query:
        kind, value = self.take()
        if kind == "term" and self.peek() == ("op", ":"):
            self.take()
            name = _FIELD_ALIASES.get(value.lower(), value.lower())
            if name not in _KNOWN_FIELDS:
                raise QueryError(f"unknown field {value!r}")
            return self.clause(name)
        if (kind, value) == ("op", "("):
            inner = self.expression(field_name)
            if self.take() != ("op", ")"):
                raise QueryError("missing ')'")
            return inner
        if kind in ("term", "phrase"):
            return Leaf(field_name, value)
        if kind == "range":
            low, high = value.split(" ")
            return Leaf(field_name, value, low, high)
        raise QueryError(f"unexpected {value!r}")


def parse_query(text: str) -> Query:
    if not text.strip():
        raise QueryError("empty query")
    return _Parser(_tokenize(text)).parse()


def _contains(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


class Searcher:
    """Evaluates a query over the recordings: candidates from the indexes, then a filter."""

    def __init__(self, data: MusicBrainzData) -> None:
        self.data = data

    def search(self, query: Query) -> list[tuple[Recording, int]]:
        candidates = self._candidates(query)
        pool: Iterable[str] = self.data.recordings if candidates is None else candidates
        scored: list[tuple[float, int, Recording]] = []
        for mbid in pool:
            recording = self.data.recordings[mbid]
            value = self._score(query, recording)
            if value is not None and value > 0:
                scored.append((value, self.data.order[mbid], recording))
        if not scored:
            return []
        scored.sort(key=lambda hit: (-hit[0], hit[1]))
        best = scored[0][0]
        return [(recording, max(1, round(100 * value / best))) for value, _, recording in scored]

    def _candidates(self, query: Query) -> set[str] | None:
        """Recordings that may match (None: any may)."""
        if isinstance(query, Leaf):
            return self._leaf_candidates(query)
        if query.op == "not":
            return None
        sets = [self._candidates(child) for child in query.children]
        if query.op == "or":
            if any(s is None for s in sets):
                return None
            return set().union(*(s for s in sets if s is not None))
        known = [s for s in sets if s is not None]
        return set.intersection(*known) if known else None

    def _leaf_candidates(self, leaf: Leaf) -> set[str] | None:
        data = self.data
        if leaf.low is not None:
            return None
        if leaf.field == "isrc":
            return set(data.by_isrc.get(leaf.value.upper(), ()))
        if leaf.field == "rid":
            return {leaf.value.lower()} & data.recordings.keys()
        if leaf.field == "arid":
            return set(data.by_artist_mbid.get(leaf.value.lower(), ()))
        if leaf.field == "rgid":
            return set(data.by_release_group.get(leaf.value.lower(), ()))
        index = {"recording": data.by_title_word, "artist": data.by_artist_word}.get(leaf.field)
        if index is None:
            return None
        found: set[str] | None = None
        for word in words(leaf.value):
            postings = index.get(word, set())
            found = set(postings) if found is None else found & postings
        return found if found is not None else set()

    def _score(self, query: Query, recording: Recording) -> float | None:
        """A positive number when `recording` matches, else None."""
        if isinstance(query, Leaf):
            return self._leaf_score(query, recording)
        if query.op == "not":
            return None if self._score(query.children[0], recording) is not None else 0.0
        scores = [self._score(child, recording) for child in query.children]
        if query.op == "and":
            return None if any(s is None for s in scores) else sum(s or 0.0 for s in scores)
        matched = [s for s in scores if s is not None]
        return sum(matched) if matched else None

    def _leaf_score(self, leaf: Leaf, recording: Recording) -> float | None:
        data = self.data
        track = recording.track
        name = leaf.field
        if name == "dur":
            length = track.duration_ms
            if leaf.low is not None and leaf.high is not None:
                low = 0 if leaf.low == "*" else _number(leaf.low)
                high = math.inf if leaf.high == "*" else _number(leaf.high)
                return 1.0 if low <= length <= high else None
            return 1.0 if length == _number(leaf.value) else None
        if name == "isrc":
            return 1.0 if leaf.value.upper() in recording.isrcs else None
        if name == "rid":
            return 1.0 if leaf.value.lower() == recording.mbid else None
        if name == "arid":
            return (
                1.0
                if any(a.mbid == leaf.value.lower() for a in data.artists_of(recording))
                else None
            )
        albums = [data.library.albums[a] for a in recording.album_ids]
        if name == "rgid":
            return 1.0 if any(a.mbid == leaf.value.lower() for a in albums) else None
        if name == "reid":
            return 1.0 if any(release_id(a) == leaf.value.lower() for a in albums) else None
        if name == "recording":
            return _text_score(words(leaf.value), [words(track.name)])
        if name == "artist":
            names = [words(a.name) for a in data.artists_of(recording)]
            return _text_score(words(leaf.value), [words(data.credit_name(recording)), *names])
        if name == "release":
            return _text_score(words(leaf.value), [words(a.name) for a in albums])
        return None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise QueryError(f"not a number: {text!r}") from exc


def _text_score(needle: list[str], fields: list[list[str]]) -> float | None:
    """The share of the best field's words that the phrase covers, if it occurs in one."""
    if not needle:
        return None
    best = None
    for haystack in fields:
        if haystack and _contains(haystack, needle):
            share = len(needle) / len(haystack)
            best = share if best is None else max(best, share)
    return best


# -- the emulator ---------------------------------------------------------------------------


class MusicBrainzError(Exception):
    def __init__(self, status: int, message: str, *, with_help: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.with_help = with_help

    def body(self) -> dict[str, str]:
        return {"error": self.message, "help": HELP} if self.with_help else {"error": self.message}


NOT_FOUND = MusicBrainzError(404, "Not Found", with_help=False)


class MusicBrainzEmulator:
    """MusicBrainz WS/2 over `library`; `app` is the ASGI app for the `/ws/2` mount."""

    service = "musicbrainz"

    def __init__(
        self,
        library: Library,
        config: MusicBrainzConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.library = library
        self.config = config or MusicBrainzConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.data = MusicBrainzData(library, self.config.recording_genre_share)
        self.render = Renderer(self.data)
        self.searcher = Searcher(self.data)
        self.window = SlidingWindow(self.clock)
        self.faults = RandomFaults(self.config.fault_seed)
        routes = [
            Route("/recording", self._search, methods=["GET"]),
            Route("/recording/", self._search, methods=["GET"]),
            Route("/recording/{mbid}", self._recording, methods=["GET"]),
            Route("/isrc/{isrc}", self._isrc, methods=["GET"]),
            Route("/release-group/{mbid}", self._release_group, methods=["GET"]),
            Route("/artist/{mbid}", self._artist, methods=["GET"]),
        ]
        inner = Starlette(
            routes=routes,
            exception_handlers={404: self._not_found, 405: self._not_found},
        )
        self.app: ASGIApp = PolicyGateway(
            inner,
            service=self.service,
            clock=self.clock,
            log=self.requests,
            log_size=lambda: self.config.request_log_size,
            latency_ms=lambda: self.config.latency_ms,
            check=self._check,
        )

    # -- what tests use ----------------------------------------------------------------------

    def reset_limits(self) -> None:
        """Forget counted requests; replay random faults from `config.fault_seed`."""
        self.window.reset()
        self.faults = RandomFaults(self.config.fault_seed)

    def recording_has_genres(self, recording_mbid: str) -> bool:
        """Whether the recording lists genres (else a client must fall back)."""
        return self.data.recordings[recording_mbid].has_genres

    # -- policy ------------------------------------------------------------------------------

    def _check(self, scope: Scope, headers: Mapping[str, str]) -> Refusal | None:
        config = self.config
        agent = headers.get("user-agent", "")
        if config.require_user_agent and (not agent.strip() or _GENERIC_AGENT.match(agent)):
            return Refusal("user_agent", 403, {"error": USER_AGENT_MESSAGE, "help": HELP})
        if config.enforce_rate_limit:
            limit = max(1, math.floor(config.rate_per_second * config.rate_limit_window))
            if self.window.hit(client_key(scope), limit, config.rate_limit_window) is not None:
                return Refusal(
                    "rate_limit", 503, {"error": RATE_LIMIT_MESSAGE, "help": HELP},
                    {"retry-after": str(max(1, math.ceil(config.rate_limit_window)))},
                )  # fmt: skip
        fault = self.faults.draw(config.fault_seed, config.fail_rate, config.drop_rate)
        if fault == "drop":
            return Refusal("drop")
        if isinstance(fault, int):
            return Refusal("error", fault, {"error": "Internal server error", "help": HELP})
        return None

    # -- routes ------------------------------------------------------------------------------

    async def _not_found(self, _request: Request, _exc: Exception) -> Response:
        return json_response(NOT_FOUND.body(), 404)

    def _answer(self, request: Request, build: Callable[[], Any]) -> Response:
        try:
            _check_format(request)
            return json_response(build())
        except MusicBrainzError as error:
            return json_response(error.body(), error.status)

    async def _search(self, request: Request) -> Response:
        return self._answer(request, lambda: self.search(request.query_params))

    def search(self, params: Mapping[str, str]) -> dict[str, Any]:
        """The body of `GET /recording?query=...` (raises `MusicBrainzError`)."""
        text = params.get("query")
        if text is None:
            raise MusicBrainzError(400, "You must specify a query (query=...).")
        limit = _int_param(params, "limit", self.config.default_search_limit)
        offset = _int_param(params, "offset", 0)
        if not 1 <= limit <= self.config.max_search_limit:
            raise MusicBrainzError(
                400, f"limit must be between 1 and {self.config.max_search_limit}."
            )
        if offset < 0:
            raise MusicBrainzError(400, "offset must not be negative.")
        try:
            hits = self.searcher.search(parse_query(text))
        except QueryError as exc:
            raise MusicBrainzError(400, f"Invalid search query: {exc}") from exc
        return {
            "created": self.clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "count": len(hits),
            "offset": offset,
            "recordings": [
                self.render.search_hit(recording, score)
                for recording, score in hits[offset : offset + limit]
            ],
        }

    async def _recording(self, request: Request) -> Response:
        def build() -> dict[str, Any]:
            inc = _inc(request, "recording")
            recording = _lookup(self.data.recordings, request.path_params["mbid"])
            return self.render.recording(recording, inc)

        return self._answer(request, build)

    async def _isrc(self, request: Request) -> Response:
        def build() -> dict[str, Any]:
            isrc = str(request.path_params["isrc"]).upper()
            if not _ISRC.match(isrc):
                raise MusicBrainzError(400, "Invalid isrc.")
            inc = _inc(request, "isrc")
            mbids = self.data.by_isrc.get(isrc)
            if not mbids:
                raise NOT_FOUND
            recordings = [self.render.recording(self.data.recordings[m], inc) for m in mbids]
            return {"isrc": isrc, "recordings": recordings}

        return self._answer(request, build)

    async def _release_group(self, request: Request) -> Response:
        def build() -> dict[str, Any]:
            inc = _inc(request, "release-group")
            album = _lookup(self.data.albums_by_mbid, request.path_params["mbid"])
            return self.render.release_group(album, inc)

        return self._answer(request, build)

    async def _artist(self, request: Request) -> Response:
        def build() -> dict[str, Any]:
            inc = _inc(request, "artist")
            artist = _lookup(self.data.artists_by_mbid, request.path_params["mbid"])
            return self.render.artist(artist, inc)

        return self._answer(request, build)


def _check_format(request: Request) -> None:
    fmt = request.query_params.get("fmt")
    if fmt is None:
        if "json" not in request.headers.get("accept", ""):
            raise MusicBrainzError(
                400, "This emulator answers JSON only: pass fmt=json or Accept: application/json."
            )
    elif fmt != "json":
        raise MusicBrainzError(400, f"Invalid format {fmt!r}: only fmt=json is served here.")


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise MusicBrainzError(400, f"Invalid {name} parameter: {raw!r}.") from exc


def _inc(request: Request, resource: str) -> frozenset[str]:
    raw = request.query_params.get("inc", "")
    wanted = frozenset(part for part in re.split(r"[\s+]+", raw) if part)
    for name in sorted(wanted):
        if name not in INC_ALLOWED[resource]:
            raise MusicBrainzError(
                400, f"{name} is not a valid inc parameter for the {resource} resource."
            )
    return wanted


def _lookup(table: Mapping[str, _T], raw: str) -> _T:
    """`table[mbid]`; 400 for text that is not an MBID, 404 for an unknown one."""
    value = raw.lower()
    found = table.get(value)
    if found is not None:
        return found
    if not _MBID.match(value):
        raise MusicBrainzError(400, "Invalid mbid.")
    raise NOT_FOUND
