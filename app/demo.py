"""Demo mode: a generated Spotify account served by the in-process emulator.

Used by the server and the CLI when no Spotify client id is configured (or with `--demo`).
The emulator is mounted in the API server under `/emulator/spotify` so the browser can walk
through the real login flow; our own client reaches the same emulator in process, with no
network. Demo data lives in `<cache dir>/demo` (see `Settings.effective`).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from app.core.config import DEMO_EMULATOR_PREFIX, Settings
from app.data import Stores
from app.emulators.library import generate_library
from app.emulators.spotify import SpotifyEmulator, SpotifyEmulatorConfig
from app.emulators.transport import ASGIApp, emulator_transport
from app.pipeline.context import Services
from app.spotify.access import DEMO_CLIENT_ID, SpotifyAccess


@dataclass(frozen=True)
class DemoEnvironment:
    settings: Settings
    emulator: SpotifyEmulator
    asgi: ASGIApp  # mount at DEMO_EMULATOR_PREFIX
    services: Services

    @classmethod
    def create(
        cls, settings: Settings, *, config: SpotifyEmulatorConfig | None = None
    ) -> DemoEnvironment:
        settings = settings.effective()
        library = generate_library(
            seed=settings.demo_seed, tracks=settings.demo_tracks, playlists=settings.demo_playlists
        )
        emulator = SpotifyEmulator(
            library,
            config
            or SpotifyEmulatorConfig(
                client_id=DEMO_CLIENT_ID,
                redirect_uris=(settings.spotify_redirect_uri,),
                # Every process (each CLI command, each server start) has its own emulator;
                # signed tokens let a login made in one be honoured by the others, as Spotify
                # would. The seed is part of the secret: another demo account, another login.
                token_secret=f"spotify-auto-playlists-demo-{settings.demo_seed}",
            ),
        )
        asgi = Starlette(
            routes=[
                Mount("/v1", app=emulator.api_app),
                Mount("/accounts", app=emulator.accounts_app),
            ]
        )
        transport = emulator_transport(asgi, root_path=DEMO_EMULATOR_PREFIX)
        stores = Stores.open(settings.cache_dir)
        access = SpotifyAccess.create(
            settings, stores.tokens, api_transport=transport, accounts_transport=transport
        )
        services = Services(settings=settings, stores=stores, spotify=access)
        return cls(settings, emulator, asgi, services)
