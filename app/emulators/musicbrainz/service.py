"""`MusicBrainzEmulator`: the WS/2 routes, their parameter checks and errors, and the policy
(User-Agent, rate limit, random faults) applied before them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.clock import Clock
from app.emulators.common.gate import RandomFaults, SlidingWindow, check_fault_rates
from app.emulators.common.gateway import Gateway, Refusal, RequestRecord, client_key
from app.emulators.common.transport import ASGIApp, Scope, json_response
from app.emulators.library.model import GeneratedLibrary
from app.emulators.musicbrainz.data import MusicBrainzData
from app.emulators.musicbrainz.query import QueryError, parse_query
from app.emulators.musicbrainz.render import MusicBrainzRenderer
from app.emulators.musicbrainz.search import Searcher

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
# GeneratedLibrary defaults that say nothing about the application (the real service blocks them).
_GENERIC_AGENT = re.compile(
    r"^\s*(?:python-httpx|python-requests|python-urllib\d*|python|aiohttp|curl|wget|"
    r"go-http-client|java|okhttp|axios|node-fetch|mozilla)(?:/[\w.\-]*)?\s*$",
    re.IGNORECASE,
)
URI_TOO_LONG_PAGE = (
    b"<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>414 Request-URI Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_T = TypeVar("_T")

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
    max_request_line: int = 8192  # nginx's default buffer: a longer request line is a 414
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
        library: GeneratedLibrary,
        config: MusicBrainzConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.library = library
        self.config = config or MusicBrainzConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.data = MusicBrainzData(library, self.config.recording_genre_share)
        self.render = MusicBrainzRenderer(self.data)
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
        self.app: ASGIApp = Gateway(
            inner,
            service=self.service,
            clock=self.clock,
            log=self.requests,
            log_size=lambda: self.config.request_log_size,
            latency_ms=lambda: self.config.latency_ms,
            refuse=self._check,
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
        if _request_line_length(scope) > config.max_request_line:
            # The web server in front refuses it before the service sees it (an OR of many
            # titles in one search gets there): nginx's HTML page, not a JSON error.
            return Refusal("uri_too_long", 414, URI_TOO_LONG_PAGE, content_type="text/html")
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


def _request_line_length(scope: Scope) -> int:
    """Bytes of ``GET /ws/2/recording?query=… HTTP/1.1`` as the client sent it."""
    # raw_path: uvicorn's holds the path only, httpx's ASGI transport adds the query.
    path = (scope.get("raw_path") or scope.get("path", "").encode()).split(b"?")[0]
    query = scope.get("query_string", b"")
    return len(scope["method"]) + 1 + len(path) + (1 + len(query) if query else 0) + 9


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
