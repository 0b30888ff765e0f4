"""What every Web API route needs: the caller's token, the account, and object renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request

from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.oauth import AccessToken, OAuthError, TokenServer
from app.emulators.spotify.render import SpotifyRenderer
from app.emulators.spotify.responses import SpotifyError, base_url
from app.emulators.spotify.state import AccountState, PlaylistState


def _unauthorized(message: str) -> SpotifyError:
    challenge = f'Bearer realm="spotify", error="invalid_token", error_description="{message}"'
    return SpotifyError(401, message, {"WWW-Authenticate": challenge})


@dataclass
class ApiContext:
    """Shared by the route modules; one per emulator."""

    state: AccountState
    tokens: TokenServer
    config: SpotifyEmulatorConfig
    renderers: dict[str, SpotifyRenderer] = field(default_factory=dict)

    def authenticate(self, request: Request) -> AccessToken:
        """The caller's live access token, else 401 as Spotify words it."""
        header = request.headers.get("authorization")
        if not header:
            raise _unauthorized("No token provided")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Only valid bearer authentication supported")
        try:
            return self.tokens.check_access_token(token.strip())
        except OAuthError as error:
            raise _unauthorized(error.description) from None

    @staticmethod
    def require_scope(token: AccessToken, *any_of: str) -> None:
        """403 unless the token was granted at least one of `any_of`."""
        if not set(any_of) & set(token.grant.scopes):
            raise SpotifyError(403, "Insufficient client scope")

    def renderer(self, request: Request) -> SpotifyRenderer:
        """Object renderer whose links point at the API as this request reached it."""
        base = base_url(request)
        renderer = self.renderers.get(base)
        if renderer is None:
            renderer = self.renderers[base] = SpotifyRenderer(self.state.library, base)
        return renderer

    def playlist(self, playlist_id: str) -> PlaylistState:
        """The playlist, or 400 for a malformed id / 404 for an unknown one."""
        check_id(playlist_id)
        playlist = self.state.playlists.get(playlist_id)
        if playlist is None:
            raise SpotifyError(404, "Resource not found")
        return playlist

    @staticmethod
    async def json_body(request: Request) -> dict[str, Any]:
        """The JSON object in the body (`{}` when empty), else 400."""
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise SpotifyError(400, "Error parsing JSON.") from None
        if not isinstance(body, dict):
            raise SpotifyError(400, "Error parsing JSON.")
        return body


def check_id(item_id: str) -> None:
    """400 "Invalid base62 id" unless `item_id` could be a Spotify id."""
    if not item_id.isascii() or not item_id.isalnum():
        raise SpotifyError(400, "Invalid base62 id")
