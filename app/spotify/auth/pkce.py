"""Starting a Spotify login: Authorization Code with PKCE.

    state, challenge = sessions.start()                               # verifier kept here
    url = authorize_url(settings, client_id=..., state=state, challenge=challenge)
    verifier = sessions.finish(state)                                 # on /auth/callback

The verifier never leaves the server; the token exchange itself is `TokenManager.exchange_code`
in `tokens`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from app.core.config import Settings
from app.core.errors import BadRequestError

SCOPE_REASONS = {
    "user-library-read": "read your liked songs, the first source of your library",
    "playlist-read-private": "read your private playlists, as sources and before a sync "
    "changes one",
    "playlist-read-collaborative": "read the collaborative playlists you are part of",
    "playlist-modify-public": "create and change the public playlists your rules manage, "
    "only when you apply a change you have previewed",
    "playlist-modify-private": "the same for private playlists",
    "user-read-private": "read your account's id and name, to tell the playlists you own "
    "from the ones you follow",
}
"""Every scope the login asks for, and why (the setup guide shows these words)."""
SCOPES = tuple(SCOPE_REASONS)
LOGIN_SESSION_TTL = 600.0  # seconds a started login may take


def new_pkce_pair() -> tuple[str, str]:
    """A random code verifier (86 chars of [A-Za-z0-9-_]) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def authorize_url(settings: Settings, *, client_id: str, state: str, challenge: str) -> str:
    """Where to send the browser to ask the user for consent."""
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": settings.spotify_redirect_uri,
            "code_challenge_method": "S256",
            "code_challenge": challenge,
            "scope": " ".join(SCOPES),
            "state": state,
        }
    )
    return f"{settings.spotify_accounts_url}/authorize?{query}"


@dataclass(frozen=True)
class PendingLogin:
    verifier: str
    started: float


class LoginSessions:
    """Logins started but not yet called back: `state` -> PKCE verifier, kept server-side."""

    def __init__(
        self,
        ttl: float = LOGIN_SESSION_TTL,
        limit: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pending: dict[str, PendingLogin] = {}
        self._ttl = ttl
        self._limit = limit
        self._clock = clock  # seconds, only ever compared: tests pass their own
        self._lock = threading.Lock()

    def start(self) -> tuple[str, str]:
        """A new (state, challenge) pair; the verifier stays here."""
        verifier, challenge = new_pkce_pair()
        state = secrets.token_urlsafe(24)
        with self._lock:
            self._expire()
            while len(self._pending) >= self._limit:
                self._pending.pop(next(iter(self._pending)))
            self._pending[state] = PendingLogin(verifier, self._clock())
        return state, challenge

    def finish(self, state: str) -> str:
        """The verifier of `state`, once; unknown or expired states are refused."""
        with self._lock:
            self._expire()
            pending = self._pending.pop(state, None)
        if pending is None:
            raise BadRequestError(
                "this login link is unknown or expired (state mismatch); start again at "
                "/auth/login",
                code="invalid_state",
            )
        return pending.verifier

    def _expire(self) -> None:
        now = self._clock()
        for state in [s for s, p in self._pending.items() if now - p.started > self._ttl]:
            del self._pending[state]
