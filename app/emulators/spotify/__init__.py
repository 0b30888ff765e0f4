"""An emulator of Spotify's accounts service and Web API, development-mode flavour.

Modules: `emulator` (the `SpotifyEmulator` facade), `config`, `accounts` + `oauth` (PKCE,
rotating refresh tokens), `api` + `playlists` (routes), `render` (JSON objects), `state`
(mutable account) + `persistence` (its state file, shared by processes), `fields` (the
`fields` filter), `faults` + `gateway` (latency, errors, drops, rate limits, request log),
`responses` and `context` (HTTP plumbing).
"""

from app.emulators.common.gateway import RequestRecord
from app.emulators.spotify.config import CLIENT_SCOPES, KNOWN_SCOPES, SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator
from app.emulators.spotify.oauth import pkce_challenge

__all__ = [
    "CLIENT_SCOPES",
    "KNOWN_SCOPES",
    "RequestRecord",
    "SpotifyEmulator",
    "SpotifyEmulatorConfig",
    "pkce_challenge",
]
