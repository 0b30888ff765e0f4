"""Every emulated service behind one ASGI app, for `sap emulate` and end-to-end tests.

    server = create_emulator_server(seed=1, tracks=500, latency_ms=20)
    uvicorn.run(server, host="127.0.0.1", port=8899)

`GET /` lists where each service lives, built from the URL the request came in on (and
`GET /_stats` counts the requests each service answered, for benchmarks and tests that run the
server in another process):

    {"services": {"spotify_api": "http://127.0.0.1:8899/spotify/v1",
                  "spotify_accounts": "http://127.0.0.1:8899/spotify/accounts"}}

Adding a service (MusicBrainz, Deezer, …) is one more `EmulatedService` in `_services`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from app.emulators.acousticbrainz import AcousticBrainzEmulator
from app.emulators.common.clock import Clock
from app.emulators.common.transport import ASGIApp, Receive, Scope, Send, ServeDroppedConnections
from app.emulators.deezer import DeezerEmulator
from app.emulators.lastfm import LastfmEmulator
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary
from app.emulators.listenbrainz import ListenBrainzEmulator
from app.emulators.llm.emulator import LlmEmulator
from app.emulators.musicbrainz.service import MusicBrainzEmulator
from app.emulators.reccobeats import ReccoBeatsEmulator
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator


@dataclass(frozen=True)
class EmulatedService:
    """One service of the index: its key, where it is mounted, and its ASGI app."""

    key: str
    path: str
    app: ASGIApp


@dataclass(frozen=True)
class ProviderEmulators:
    """The enrichment providers' emulators, all serving the same library's truth."""

    musicbrainz: MusicBrainzEmulator
    listenbrainz: ListenBrainzEmulator
    deezer: DeezerEmulator
    reccobeats: ReccoBeatsEmulator
    lastfm: LastfmEmulator
    llm: LlmEmulator
    acousticbrainz: AcousticBrainzEmulator

    @classmethod
    def create(
        cls, library: GeneratedLibrary, clock: Clock | None = None, *, rate_limits: bool = True
    ) -> ProviderEmulators:
        """The emulators over `library`, with the real services' rate limits unless
        `rate_limits` is False (demo mode: see `lift_rate_limits`)."""
        musicbrainz = MusicBrainzEmulator(library, clock=clock)
        emulators = cls(
            musicbrainz=musicbrainz,
            listenbrainz=ListenBrainzEmulator(library, clock=clock, data=musicbrainz.data),
            deezer=DeezerEmulator(library, clock=clock),
            reccobeats=ReccoBeatsEmulator(library, clock=clock),
            lastfm=LastfmEmulator(library, clock=clock),
            llm=LlmEmulator(library, clock=clock),
            acousticbrainz=AcousticBrainzEmulator(library, clock=clock),
        )
        if not rate_limits:
            emulators.lift_rate_limits()
        return emulators

    def lift_rate_limits(self) -> None:
        """Answer as fast as asked: what demo mode wants, where the emulators stand for the
        services on the user's own machine (`sap emulate` and the tests keep the limits)."""
        self.musicbrainz.config.enforce_rate_limit = False
        self.listenbrainz.config.rate_limit = None
        for emulator in (self.deezer, self.reccobeats, self.lastfm, self.llm, self.acousticbrainz):
            emulator.config.rate_limit = None

    def all(self) -> list[Any]:
        return [
            self.musicbrainz,
            self.listenbrainz,
            self.deezer,
            self.reccobeats,
            self.lastfm,
            self.llm,
            self.acousticbrainz,
        ]


def _services(spotify: SpotifyEmulator, providers: ProviderEmulators) -> list[EmulatedService]:
    return [
        EmulatedService("spotify_api", "/spotify/v1", spotify.api_app),
        EmulatedService("spotify_accounts", "/spotify/accounts", spotify.accounts_app),
        EmulatedService("musicbrainz", "/musicbrainz/ws/2", providers.musicbrainz.app),
        EmulatedService("listenbrainz", "/listenbrainz/1", providers.listenbrainz.app),
        EmulatedService("deezer", "/deezer", providers.deezer.app),
        EmulatedService("reccobeats", "/reccobeats/v1", providers.reccobeats.app),
        EmulatedService("lastfm", "/lastfm/2.0", providers.lastfm.app),
        EmulatedService("llm", "/llm/v1", providers.llm.app),
        EmulatedService("acousticbrainz", "/acousticbrainz", providers.acousticbrainz.app),
    ]


class EmulatorServer:
    """The combined ASGI app; each emulator stays reachable (`spotify`, `providers`) for tests."""

    def __init__(
        self,
        spotify: SpotifyEmulator,
        *,
        providers: ProviderEmulators | None = None,
        base_url: str | None = None,
    ) -> None:
        self.spotify = spotify
        self.library = spotify.library
        self.providers = providers or ProviderEmulators.create(spotify.library, spotify.clock)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.services = _services(spotify, self.providers)
        routes: list[BaseRoute] = [
            Route("/", self._index, methods=["GET"]),
            Route("/_stats", self._stats, methods=["GET"]),
        ]
        routes += [Mount(service.path, app=service.app) for service in self.services]
        self._app = ServeDroppedConnections(Starlette(routes=routes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    def service_urls(self, base_url: str) -> dict[str, str]:
        """Each service's root URL when the server is reached at `base_url`."""
        base = base_url.rstrip("/")
        return {service.key: f"{base}{service.path}" for service in self.services}

    async def _index(self, request: Request) -> JSONResponse:
        base = self.base_url or str(request.base_url)
        return JSONResponse({"services": self.service_urls(base)})

    async def _stats(self, _request: Request) -> JSONResponse:
        """Request counts per service, for benchmarks and tests that run the server apart."""
        counts: dict[str, int] = {}
        for record in self.spotify.requests:
            key = f"spotify_{record.service}"
            counts[key] = counts.get(key, 0) + 1
        for emulator in self.providers.all():
            for record in emulator.requests:
                counts[record.service] = counts.get(record.service, 0) + 1
        return JSONResponse({"requests": counts})


def create_emulator_server(
    *,
    seed: int = 0,
    tracks: int = 2000,
    playlists: int = 20,
    config: SpotifyEmulatorConfig | None = None,
    latency_ms: float | None = None,
    fail_rate: float | None = None,
    rate_limit: int | None = None,
    base_url: str | None = None,
    clock: Clock | None = None,
    library: GeneratedLibrary | None = None,
) -> EmulatorServer:
    """A server over a generated library (or `library`); keyword faults override `config`."""
    if library is None:
        library = generate_library(seed=seed, tracks=tracks, playlists=playlists)
    settings = replace(config) if config is not None else SpotifyEmulatorConfig()
    if latency_ms is not None:
        settings.latency_ms = latency_ms
    if fail_rate is not None:
        settings.fail_rate = fail_rate
    if rate_limit is not None:
        settings.rate_limit = rate_limit
    settings.validate()
    return EmulatorServer(SpotifyEmulator(library, settings, clock), base_url=base_url)
