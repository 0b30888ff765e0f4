"""`LastfmEmulator`: Last.fm's top-tag methods over a `GeneratedLibrary`, served under `/lastfm/2.0`
(like `https://ws.audioscrobbler.com/2.0/`).

    lastfm = LastfmEmulator(generate_library(seed=1), LastfmConfig(api_keys=("k",)))
    client = httpx.AsyncClient(transport=emulator_transport(lastfm.app, root_path="/2.0"),
                               base_url="http://emulators.test/2.0")
    await client.get("/", params={"method": "track.getTopTags", "artist": "…", "track": "…",
                                  "autocorrect": "1", "api_key": "k", "format": "json"})

Methods (`method` is case-insensitive, as on Last.fm):

- `track.getTopTags` → `{"toptags": {"tag": [{"name", "count", "url"}, …],
  "@attr": {"artist", "track"}}}`: the track's `truth.tags` in order, counts 100, 75, 56 …
  (descending, 0-100 like Last.fm's relative counts). Matching is by folded artist + title;
  with `autocorrect=1` also on the base title ("Song - Remastered 2011" → "Song") and `@attr`
  carries the library's (corrected) names. Tracks with `in_lastfm` False are unknown.
- `artist.getTopTags` → `{"toptags": {"tag": […], "@attr": {"artist"}}}`: the artist's genres
  first, then the tags of its Last.fm-known tracks by how many of them carry each.

Errors use Last.fm's JSON body `{"error": N, "message": "…"}` (plus `"links": []`). HTTP status
(chosen; the real service has varied over the years, so clients must read the body):
- 6 "Track not found" / "The artist you supplied could not be found" → **HTTP 200** (what the
  JSON API was observed to answer); 6 for missing `artist`/`track` parameters → 400;
- 3 unknown method → 400; 10 missing or unknown `api_key` (`config.api_keys`, `None`: any
  non-empty key) → 403; 26 key in `config.suspended_keys` → 403;
- 29 over `config.rate_limit` requests per `config.rate_window` s per key (5 / s by default,
  Last.fm's "5 requests per second averaged over 5 minutes", kept simple) → 429.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.clock import Clock
from app.emulators.common.gate import ProviderConfig, ProviderFaults, SlidingWindow
from app.emulators.common.gateway import RequestRecord, mark_fault
from app.emulators.common.transport import ASGIApp, json_response
from app.emulators.library.index import LibraryIndex, fold
from app.emulators.library.model import Artist, GeneratedLibrary, GeneratedTrack

INVALID_METHOD = 3
INVALID_PARAMETERS = 6
INVALID_API_KEY = 10
SUSPENDED_KEY = 26
RATE_LIMITED = 29
MESSAGES = {
    INVALID_METHOD: "Invalid Method - No method with that name in this package",
    INVALID_API_KEY: "Invalid API key - You must be granted a valid key by last.fm",
    SUSPENDED_KEY: "Suspended API key - Access for your account has been suspended, "
    "please contact Last.fm",
    RATE_LIMITED: "Rate Limit Exceeded - Your IP has made too many requests in a short period",
}
MAX_TAGS = 50


@dataclass
class LastfmConfig(ProviderConfig):
    """`api_keys`: accepted keys (`None`: any non-empty one); `suspended_keys` answer 26."""

    api_keys: tuple[str, ...] | None = None
    suspended_keys: tuple[str, ...] = ()
    rate_limit: int | None = 5
    rate_window: float = 1.0


class LastfmError(Exception):
    def __init__(self, code: int, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def tag_count(rank: int) -> int:
    """Relative count of the tag at `rank` (0 = top): 100, 75, 56, 42 … never below 1."""
    return max(1, round(100 * 0.75**rank))


def render_tags(names: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "count": tag_count(rank),
            "url": f"https://www.last.fm/tag/{quote_plus(name)}",
        }
        for rank, name in enumerate(names[:MAX_TAGS])
    ]


class LastfmEmulator:
    """An in-memory Last.fm over `library`; `app` is the ASGI app, `requests` its log."""

    def __init__(
        self,
        library: GeneratedLibrary,
        config: LastfmConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.library = library
        self.config = config or LastfmConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.index = LibraryIndex.of(library)
        self.limiter = SlidingWindow(self.clock)
        self._artists: dict[str, Artist] = {}
        for artist in library.artists.values():
            self._artists.setdefault(fold(artist.name), artist)
        self._artist_tracks: dict[str, list[GeneratedTrack]] = {}
        for track in library.tracks.values():
            if track.truth.in_lastfm:
                for artist_id in track.artist_ids:
                    self._artist_tracks.setdefault(artist_id, []).append(track)
        routes = [Route("/", self._root, methods=["GET", "POST"])]
        self._faults = ProviderFaults(self.config)
        self.app: ASGIApp = self._faults.gateway(
            Starlette(routes=routes), service="lastfm", clock=self.clock, log=self.requests
        )

    def reset_faults(self) -> None:
        """Replay random faults from `config.fault_seed`; empty the rate-limit windows."""
        self._faults.reset()
        self.limiter.reset()

    async def _root(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        try:
            return json_response(self._dispatch(request, params))
        except LastfmError as error:
            body = {"error": error.code, "message": error.message, "links": []}
            return json_response(body, error.status)

    def _dispatch(self, request: Request, params: dict[str, str]) -> dict[str, Any]:
        key = params.get("api_key", "").strip()
        allowed = self.config.api_keys
        if not key or (allowed is not None and key not in allowed):
            raise LastfmError(INVALID_API_KEY, MESSAGES[INVALID_API_KEY], 403)
        if key in self.config.suspended_keys:
            raise LastfmError(SUSPENDED_KEY, MESSAGES[SUSPENDED_KEY], 403)
        if self.limiter.hit(key, self.config.rate_limit, self.config.rate_window) is not None:
            mark_fault(request, "rate_limit")
            raise LastfmError(RATE_LIMITED, MESSAGES[RATE_LIMITED], 429)
        method = params.get("method", "").lower()
        autocorrect = params.get("autocorrect", "0") == "1"
        if method == "track.gettoptags":
            return self.track_top_tags(
                params.get("artist", ""), params.get("track", ""), autocorrect
            )
        if method == "artist.gettoptags":
            return self.artist_top_tags(params.get("artist", ""))
        raise LastfmError(INVALID_METHOD, MESSAGES[INVALID_METHOD], 400)

    # -- methods -----------------------------------------------------------------------------

    def find_track(self, artist: str, title: str, autocorrect: bool) -> GeneratedTrack | None:
        """The first Last.fm-known library track matching `artist` + `title`."""
        ids = self.index.find(artist, title)
        for track_id in ids:
            track = self.library.tracks[track_id]
            if track.truth.in_lastfm and (autocorrect or fold(track.name) == fold(title)):
                return track
        return None

    def track_top_tags(self, artist: str, title: str, autocorrect: bool) -> dict[str, Any]:
        if not artist.strip() or not title.strip():
            raise LastfmError(
                INVALID_PARAMETERS,
                "Invalid parameters - You must supply either a track & artist name "
                "or a track mbid.",
                400,
            )
        track = self.find_track(artist, title, autocorrect)
        if track is None:
            raise LastfmError(INVALID_PARAMETERS, "Track not found", 200)
        if autocorrect:
            credited = [self.library.artists[aid] for aid in track.artist_ids]
            match = next((a for a in credited if fold(a.name) == fold(artist)), credited[0])
            artist, title = match.name, track.name
        return {
            "toptags": {
                "tag": render_tags(list(track.truth.tags)),
                "@attr": {"artist": artist, "track": title},
            }
        }

    def artist_tags(self, artist: Artist) -> list[str]:
        """The artist's genres, then its tracks' tags by how many tracks carry them."""
        counts: Counter[str] = Counter()
        for track in self._artist_tracks.get(artist.id, []):
            counts.update(track.truth.tags)
        ordered = list(artist.genres)
        ordered += [tag for tag, _ in counts.most_common() if tag not in artist.genres]
        return ordered

    def artist_top_tags(self, name: str) -> dict[str, Any]:
        if not name.strip():
            raise LastfmError(
                INVALID_PARAMETERS,
                "Invalid parameters - You must supply either an artist name or an artist mbid.",
                400,
            )
        artist = self._artists.get(fold(name))
        if artist is None:
            raise LastfmError(INVALID_PARAMETERS, "The artist you supplied could not be found", 200)
        return {
            "toptags": {
                "tag": render_tags(self.artist_tags(artist)),
                "@attr": {"artist": artist.name},
            }
        }
