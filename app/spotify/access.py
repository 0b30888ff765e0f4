"""Everything needed to talk to Spotify as the configured app: client id, tokens, transport."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from app.core.config import Settings
from app.data.tokens import TokenStore
from app.spotify.auth.tokens import TokenManager
from app.spotify.client import SpotifyClient

DEMO_CLIENT_ID = "spotify-auto-playlists-demo"


@dataclass(frozen=True)
class SpotifyAccess:
    """Builds clients; in demo mode the transports lead to the in-process emulator."""

    settings: Settings
    client_id: str
    tokens: TokenManager
    api_transport: httpx.AsyncBaseTransport | None = None
    accounts_transport: httpx.AsyncBaseTransport | None = None
    demo: bool = False
    retry_wait: tuple[float, float] = (0.25, 8.0)

    @classmethod
    def create(
        cls,
        settings: Settings,
        store: TokenStore,
        *,
        api_transport: httpx.AsyncBaseTransport | None = None,
        accounts_transport: httpx.AsyncBaseTransport | None = None,
        retry_wait: tuple[float, float] = (0.25, 8.0),
    ) -> SpotifyAccess:
        demo = settings.demo_mode
        client_id = DEMO_CLIENT_ID if demo else (settings.spotify_client_id or "")
        tokens = TokenManager(settings, store, client_id=client_id, transport=accounts_transport)
        return cls(settings, client_id, tokens, api_transport, accounts_transport, demo, retry_wait)

    def client(self) -> SpotifyClient:
        return SpotifyClient(
            self.settings, self.tokens, transport=self.api_transport, retry_wait=self.retry_wait
        )
