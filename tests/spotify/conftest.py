"""Fixtures of the Spotify client tests: our real client, token manager and login flow, talking
in process to the real Spotify emulator (mounted the way `app.demo` mounts it), over a seeded
generated library. No network, no fakes of our own code: tests steer the emulator instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from app.core.config import Settings
from app.data.tokens import TokenStore
from app.emulators.common.gateway import RequestRecord
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator
from app.spotify.access import SpotifyAccess
from app.spotify.auth.login import headless_login
from app.spotify.client import SpotifyClient
from app.spotify.models import SpotifyUser

CLIENT_ID = "test-client"
REDIRECT = "http://127.0.0.1:8888/auth/callback"
PREFIX = "/emulated/spotify"
BASE = f"http://127.0.0.1:8888{PREFIX}"
RETRY_WAIT = (0.001, 0.01)  # backoff on 5xx and dropped connections: never a long sleep


def whole_seconds(moment: datetime) -> datetime:
    """Spotify (and the emulator) serve timestamps to the second."""
    return moment.replace(microsecond=0)


@dataclass
class SpotifyWorld:
    """One emulated Spotify account and our app's view of it."""

    emulator: SpotifyEmulator
    transport: httpx.AsyncBaseTransport
    settings: Settings
    store: TokenStore

    def access(
        self, *, api_transport: httpx.AsyncBaseTransport | None = None, **overrides: Any
    ) -> SpotifyAccess:
        """Our real `SpotifyAccess` (sharing tokens.json), with some settings changed."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        return SpotifyAccess.create(
            settings,
            self.store,
            api_transport=api_transport or self.transport,
            accounts_transport=self.transport,
            retry_wait=RETRY_WAIT,
        )

    def client(
        self, *, api_transport: httpx.AsyncBaseTransport | None = None, **overrides: Any
    ) -> SpotifyClient:
        return self.access(api_transport=api_transport, **overrides).client()

    def api_log(self, path: str | None = None) -> list[RequestRecord]:
        return self.emulator.api_requests(path)

    def token_requests(self) -> list[RequestRecord]:
        return [
            r for r in self.emulator.requests if r.service == "accounts" and r.path == "/api/token"
        ]

    def forget_requests(self) -> None:
        self.emulator.requests.clear()

    @property
    def library(self) -> GeneratedLibrary:
        return self.emulator.library


class InFlightTransport(httpx.AsyncBaseTransport):
    """Passes requests on to a real transport and records how many were in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


def build_world(library: GeneratedLibrary, cache_dir: Path) -> SpotifyWorld:
    """The emulator over `library`, mounted like `app.demo` does, and settings pointing at it."""
    config = SpotifyEmulatorConfig(client_id=CLIENT_ID, redirect_uris=(REDIRECT,))
    emulator = SpotifyEmulator(library, config)
    asgi = Starlette(
        routes=[Mount("/v1", app=emulator.api_app), Mount("/accounts", app=emulator.accounts_app)]
    )
    settings = Settings(
        cache_dir=cache_dir,
        spotify_client_id=CLIENT_ID,
        spotify_api_url=f"{BASE}/v1",
        spotify_accounts_url=f"{BASE}/accounts",
        spotify_redirect_uri=REDIRECT,
        spotify_rate_limit=0,
    )
    store = TokenStore(settings.cache_dir)
    return SpotifyWorld(emulator, emulator_transport(asgi, root_path=PREFIX), settings, store)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def library() -> GeneratedLibrary:
    """260 liked songs (6 pages) and 8 playlists: owned ones with duplicates, local files,
    episodes and unavailable items, a collaborative one, and followed ones of other users."""
    return generate_library(seed=5, tracks=260, playlists=8)


@pytest.fixture
def world(library: GeneratedLibrary, tmp_path: Path) -> SpotifyWorld:
    return build_world(library, tmp_path / "cache")


@pytest.fixture
def emulator(world: SpotifyWorld) -> SpotifyEmulator:
    return world.emulator


@pytest.fixture
async def me(world: SpotifyWorld) -> SpotifyUser:
    """Log in for real (PKCE against the emulator, which consents by itself)."""
    user = await headless_login(world.access())
    world.forget_requests()
    return user


@pytest.fixture
async def client(world: SpotifyWorld, me: SpotifyUser) -> AsyncIterator[SpotifyClient]:
    async with world.client() as spotify:
        yield spotify
