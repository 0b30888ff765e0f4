"""The stored Spotify token's life cycle: code exchange, refresh, login-required state.

    verifier, challenge = new_pkce_pair()                              # see app.spotify.pkce
    url = authorize_url(settings, state=..., challenge=challenge)   # the browser goes there
    token = await tokens.exchange_code(code, verifier)                # on /auth/callback
    access = await tokens.access_token()                              # refreshed when needed

Access tokens last an hour and are refreshed a minute before they expire (and once more on a
401). Refresh tokens rotate: each refresh returns a new one and the old one dies, so two
processes (server and CLI) refreshing at once can race; the loser finds the winner's token in the
store and uses it. A refresh token dies six months after the user authorised; Spotify then answers
`invalid_grant`, the token is marked "login required" and every Spotify call raises
`LoginRequiredError` (HTTP 401 with `auth_url`) until the user logs in again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from app.core.config import Settings
from app.core.errors import BadRequestError, LoginRequiredError, UpstreamError
from app.core.models import utc_now
from app.data.tokens import TokenStore
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import RetryPolicy
from app.spotify.models import TokenResponse

# The names callers import from here, wherever they now live.
__all__ = ["AuthStatus", "StoredToken", "TokenManager", "auth_status"]

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(seconds=60)
REFRESH_TOKEN_LIFETIME = timedelta(days=183)  # "six months after the user authorised"
# After `invalid_grant`, how long to watch tokens.json for the token of a process that used the
# same refresh token first (its answer may reach it after our refusal reaches us), and how often.
REFRESH_RACE_GRACE = 1.0
REFRESH_RACE_POLL = 0.05
TOKEN_CALL_ATTEMPTS = 4  # per token call, on 5xx and network errors (and on 429s)
TOKEN_CALL_BACKOFF = (0.2, 3.0)


class StoredToken(BaseModel):
    """What tokens.json holds (mode 0600)."""

    client_id: str
    access_token: str
    refresh_token: str | None = None
    scope: str = ""
    expires_at: datetime
    authorized_at: datetime
    user_id: str | None = None
    user_name: str | None = None
    login_required: bool = False
    login_required_reason: str | None = None

    @property
    def refresh_expires_at(self) -> datetime:
        return self.authorized_at + REFRESH_TOKEN_LIFETIME


class TokenManager:
    """Loads, refreshes and saves the token; one per process (loops may differ per job)."""

    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        *,
        client_id: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client_id = client_id
        self._transport = transport
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._locks_guard = threading.Lock()
        self._cached: tuple[tuple[int, int, int] | None, StoredToken | None] = (None, None)

    # --- stored state --------------------------------------------------------------------

    def load(self) -> StoredToken | None:
        """The stored token of this app, or None.

        Every request asks, so the parsed token is reused while the file is unchanged (same
        inode, size and modification time: a save always makes a new inode).
        """
        try:
            info = self.store.path.stat()
        except FileNotFoundError:
            return None
        signature = (info.st_ino, info.st_size, info.st_mtime_ns)
        if signature == self._cached[0]:
            return self._cached[1]
        token = self._parse(self.store.load_token())
        self._cached = (signature, token)
        return token

    def _parse(self, raw: dict[str, Any] | None) -> StoredToken | None:
        if raw is None:
            return None
        try:
            token = StoredToken.model_validate(raw)
        except ValidationError:
            log.warning("tokens.json does not hold a token we understand; login required")
            return None
        if token.client_id != self.client_id:
            return None  # a token of another app (or of demo mode) is not ours to use
        return token

    def save(self, token: StoredToken) -> None:
        self.store.save_token(token.model_dump(mode="json"))
        # Remember what we wrote: the stat signature alone could miss two saves in one
        # timestamp tick that happen to reuse an inode.
        info = self.store.path.stat()
        self._cached = ((info.st_ino, info.st_size, info.st_mtime_ns), token)

    def logout(self) -> None:
        self.store.save_token(None)

    def record_user(self, user_id: str, user_name: str | None) -> None:
        token = self.load()
        if token is not None:
            self.save(token.model_copy(update={"user_id": user_id, "user_name": user_name}))

    # --- token endpoint ------------------------------------------------------------------

    def accounts(self) -> ServiceClient:
        """A client of Spotify's accounts service (the token calls; headless login).

        Both token calls are POSTs and still replayed after a 5xx or a lost answer, like
        reads: a code works once and a refresh token may rotate, so when Spotify did act on
        the first try, its answer (the new tokens) is lost whatever we do next, and a replay
        meets `invalid_grant`, which ends where failing at once would (log in again, or use
        the token another process saved meanwhile). When the first try never arrived, the
        replay succeeds.
        """
        settings = self.settings
        policy = RetryPolicy(
            service="Spotify's accounts service",
            code="spotify_unavailable",
            attempts=TOKEN_CALL_ATTEMPTS,
            throttled_attempts=TOKEN_CALL_ATTEMPTS,
            max_wait=settings.spotify_max_retry_after,
            max_wait_setting="SAP_SPOTIFY_MAX_RETRY_AFTER",
            backoff=TOKEN_CALL_BACKOFF,
        )
        url = settings.spotify_accounts_url
        return ServiceClient(
            url,
            policy,
            pacer=HostPacer.for_service(url, None),
            transport=self._transport,
            timeout=settings.spotify_timeout,
        )

    async def _post_token(self, form: dict[str, str]) -> dict[str, Any]:
        async with self.accounts() as accounts:
            response = await accounts.request("POST", "api/token", data=form)
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            error = str(body.get("error", f"http_{response.status_code}"))
            description = str(body.get("error_description", response.reason_phrase))
            raise _TokenRefused(error, description)
        return body

    async def exchange_code(self, code: str, verifier: str) -> StoredToken:
        """Trade the callback's `code` for tokens and store them."""
        try:
            body = await self._post_token(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.settings.spotify_redirect_uri,
                    "client_id": self.client_id,
                    "code_verifier": verifier,
                }
            )
        except _TokenRefused as exc:
            raise BadRequestError(
                f"Spotify refused the login ({exc.error}: {exc.description}); try again",
                code="login_failed",
            ) from None
        now = utc_now()
        token = self._from_response(TokenResponse.model_validate(body), now, authorized_at=now)
        self.save(token)
        return token

    def _from_response(
        self,
        response: TokenResponse,
        now: datetime,
        *,
        authorized_at: datetime,
        previous: StoredToken | None = None,
    ) -> StoredToken:
        return StoredToken(
            client_id=self.client_id,
            access_token=response.access_token,
            # Spotify may or may not rotate: keep the old refresh token unless a new one came.
            refresh_token=response.refresh_token or (previous.refresh_token if previous else None),
            scope=response.scope or (previous.scope if previous else ""),
            expires_at=now + timedelta(seconds=response.expires_in),
            authorized_at=authorized_at,
            user_id=previous.user_id if previous else None,
            user_name=previous.user_name if previous else None,
        )

    # --- access tokens -------------------------------------------------------------------

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._locks_guard:
            lock = self._locks.get(loop)
            if lock is None:
                lock = self._locks[loop] = asyncio.Lock()
            return lock

    def _usable(self) -> StoredToken:
        token = self.load()
        if token is None:
            raise LoginRequiredError("not connected to Spotify: log in first")
        if token.login_required:
            raise LoginRequiredError(
                f"Spotify login expired ({token.login_required_reason}); log in again"
            )
        return token

    async def access_token(self, *, stale: str | None = None) -> str:
        """A valid access token; `stale` is one Spotify just rejected (forces a refresh)."""
        token = self._usable()
        if stale is None and token.expires_at - REFRESH_MARGIN > utc_now():
            return token.access_token
        async with self._lock():
            token = self._usable()  # another task (or process) may have refreshed meanwhile
            fresh = token.expires_at - REFRESH_MARGIN > utc_now()
            if fresh and (stale is None or token.access_token != stale):
                return token.access_token
            return (await self._refresh(token)).access_token

    async def _refresh(self, token: StoredToken) -> StoredToken:
        if not token.refresh_token:
            self._require_login(token, "no refresh token")
        try:
            body = await self._post_token(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": token.refresh_token or "",
                    "client_id": self.client_id,
                }
            )
        except _TokenRefused as exc:
            rotated = await self._rotated_elsewhere(token, wait=exc.error == "invalid_grant")
            if rotated is not None:
                return rotated  # someone else rotated it first: theirs is the live one
            if exc.error == "invalid_grant":
                self._require_login(token, f"refresh refused: {exc.description}")
            raise UpstreamError(
                f"Spotify refused to refresh the token ({exc.error}: {exc.description})",
                code="spotify_auth_error",
            ) from None
        now = utc_now()
        new = self._from_response(
            TokenResponse.model_validate(body),
            now,
            authorized_at=token.authorized_at,
            previous=token,
        )
        self.save(new)
        log.info("refreshed the Spotify access token (valid until %s)", new.expires_at)
        return new

    async def _rotated_elsewhere(self, token: StoredToken, *, wait: bool) -> StoredToken | None:
        """The token another process saved after using `token`'s refresh token, if any.

        The other process's new token can land in tokens.json a moment after our refusal
        arrives, so with `wait` keep looking for `REFRESH_RACE_GRACE` seconds.
        """
        deadline = time.monotonic() + (REFRESH_RACE_GRACE if wait else 0.0)
        while True:
            current = self.load()
            if (
                current is not None
                and not current.login_required
                and current.refresh_token != token.refresh_token
            ):
                return current
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(REFRESH_RACE_POLL)

    def _require_login(self, token: StoredToken, reason: str) -> None:
        self.save(
            token.model_copy(update={"login_required": True, "login_required_reason": reason})
        )
        raise LoginRequiredError(f"Spotify login expired ({reason}); log in again")


class _TokenRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class AuthStatus(BaseModel):
    """Whether we can talk to Spotify, as who, and until when."""

    connected: bool
    login_required: bool
    demo_mode: bool
    reason: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    auth_url: str | None = None


def auth_status(tokens: TokenManager, *, demo: bool, login_url: str) -> AuthStatus:
    """The current login state; `auth_url` is set whenever the user must log in."""
    token = tokens.load()
    if token is None:
        return AuthStatus(
            connected=False,
            login_required=True,
            demo_mode=demo,
            reason="not connected yet",
            auth_url=login_url,
        )
    if token.login_required:
        return AuthStatus(
            connected=False,
            login_required=True,
            demo_mode=demo,
            reason=token.login_required_reason,
            user_id=token.user_id,
            user_name=token.user_name,
            auth_url=login_url,
        )
    return AuthStatus(
        connected=True,
        login_required=False,
        demo_mode=demo,
        user_id=token.user_id,
        user_name=token.user_name,
        access_expires_at=token.expires_at,
        refresh_expires_at=token.refresh_expires_at,
    )
