"""The Spotify Web API client: async httpx, resilient, and fast on big libraries.

    async with SpotifyClient(settings, tokens) as spotify:
        me = await spotify.get_me()
        liked = await spotify.get_all_liked_tracks(on_progress=print)

Every request goes through one path (`request`):

- the process-wide pacer of the API (``SAP_SPOTIFY_RATE_LIMIT`` requests/s for every client
  together, `app.core.pacing`) and a concurrency bound per client (``SAP_SPOTIFY_CONCURRENCY``);
- retries with exponential backoff and jitter (stamina) on 5xx and network errors, bounded by
  ``SAP_SPOTIFY_MAX_ATTEMPTS``;
- 429: waits exactly what ``Retry-After`` asks (plus a little jitter) if that is at most
  ``SAP_SPOTIFY_MAX_RETRY_AFTER`` seconds — and so does every other client of the process —,
  otherwise fails at once with `RateLimitedError` naming the wait (no silent multi-hour sleep);
- 401: one token refresh, then one more try;
- writes that must not happen twice (adding or moving playlist items, creating a playlist) are
  replayed only after failures proving Spotify did not act (429, no connection made): after a
  5xx or a lost response they fail at once, and the caller re-reads the playlist.

The client is one class built from its roles: this module holds the request path and the read
endpoints; `http_errors` maps Spotify's answers to errors, `paging` reads paged endpoints
(`PagedReads`: `get_page`, `get_all_pages`) and `writes` holds the playlist writes
(`PlaylistWrites`: `add_items`, `remove_items`, `replace_items`, `reorder_items`,
`create_playlist`); both build on `requesting.Requesting`, whose `request` decodes the JSON of
this module's `request_bytes`.
"""

from __future__ import annotations

import asyncio
import random
from types import TracebackType
from typing import Any

import httpx
import stamina

from app.core.config import Settings
from app.core.errors import LoginRequiredError, RateLimitedError, UpstreamError
from app.net.pacing import HostPacer
from app.net.tls import tls_context
from app.spotify.auth.tokens import TokenManager
from app.spotify.errors import (
    NOT_SENT,
    RateLimited,
    ServerError,
    Unauthorized,
    attempts_text,
    check_status,
    error_message,
    retry_after_seconds,
)
from app.spotify.models import PlaylistEntry, SavedTrack, SimplifiedPlaylist, SpotifyUser
from app.spotify.paging import (
    ENTRY_PAGE,
    PAGE_SIZE,
    PLAYLIST_ITEM_FIELDS,
    PLAYLIST_PAGE,
    SAVED_PAGE,
    PagedReads,
    ProgressFn,
)
from app.spotify.writes import PlaylistWrites

# The names callers import from here, wherever they now live.
__all__ = ["SpotifyClient"]


class SpotifyClient(PagedReads, PlaylistWrites):
    """One client per job or request; reuses its connections while open."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenManager,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_wait: tuple[float, float] = (0.25, 8.0),
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self._transport = transport
        self._wait_initial, self._wait_max = retry_wait
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._pacer: HostPacer | None = None
        self.requests_made = 0

    async def __aenter__(self) -> SpotifyClient:
        self._http = httpx.AsyncClient(
            base_url=self.settings.spotify_api_url + "/",
            transport=self._transport,
            verify=tls_context(),
            timeout=self.settings.spotify_timeout,
            limits=httpx.Limits(max_connections=self.settings.spotify_concurrency * 2),
            headers={"Accept": "application/json"},
        )
        self._slots = asyncio.Semaphore(self.settings.spotify_concurrency)
        # One pace for every client of the process (jobs run in threads with their own event
        # loops): SAP_SPOTIFY_RATE_LIMIT requests/s with bursts of one second's worth, and a
        # 429 holds every client back, not only the one refused.
        rate = self.settings.spotify_rate_limit
        self._pacer = HostPacer.for_service(
            self.settings.spotify_api_url, rate or None, burst=max(1, int(rate))
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._http = None

    # --- the one request path ------------------------------------------------------------

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> bytes:
        """`request`, returning the raw response body."""
        token = await self.tokens.access_token()
        try:
            response = await self._send(method, path, token, params, json, replay_safe)
        except Unauthorized:
            token = await self.tokens.access_token(stale=token)
            try:
                response = await self._send(method, path, token, params, json, replay_safe)
            except Unauthorized:
                raise LoginRequiredError(
                    "Spotify rejected the access token even after refreshing it; log in again"
                ) from None
        return response.content

    def _backoff(self, exc: Exception) -> bool | float:
        if isinstance(exc, RateLimited):
            if exc.retry_after > self.settings.spotify_max_retry_after:
                return False
            return exc.retry_after + random.uniform(0.0, 0.25)  # noqa: S311 - jitter only
        return isinstance(exc, httpx.TransportError | ServerError)

    def _backoff_unapplied(self, exc: Exception) -> bool | float:
        """`_backoff` for writes that must not be replayed: only failures proving that the
        request was never acted on (429, or a connection that could not be made)."""
        if isinstance(exc, RateLimited):
            return self._backoff(exc)
        return isinstance(exc, NOT_SENT)

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: dict[str, Any] | None,
        json: Any,
        replay_safe: bool = True,
    ) -> httpx.Response:
        assert self._http is not None and self._slots is not None, "use `async with`"
        assert self._pacer is not None
        attempts = self.settings.spotify_max_attempts
        tried = 0
        try:
            async for attempt in stamina.retry_context(
                on=self._backoff if replay_safe else self._backoff_unapplied,
                attempts=attempts,
                timeout=None,
                wait_initial=self._wait_initial,
                wait_max=self._wait_max,
            ):
                with attempt:
                    tried = attempt.num
                    async with self._slots:
                        await self._pacer.wait()
                        self.requests_made += 1
                        response = await self._http.request(
                            method,
                            path.lstrip("/"),
                            params=params,
                            json=json,
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    if response.status_code == 429:
                        retry_after = retry_after_seconds(response)
                        if retry_after <= self.settings.spotify_max_retry_after:
                            self._pacer.pause(retry_after)  # we will wait: so does everyone
                        raise RateLimited(retry_after)
                    if response.status_code >= 500:
                        raise ServerError(response.status_code, error_message(response))
        except RateLimited as exc:
            cap = self.settings.spotify_max_retry_after
            if exc.retry_after > cap:
                raise RateLimitedError(
                    f"Spotify is rate limiting this app and asked to wait {exc.retry_after:.0f}s, "
                    f"more than the {cap:.0f}s we wait (SAP_SPOTIFY_MAX_RETRY_AFTER); "
                    "try again later",
                    extra={"retry_after": exc.retry_after},
                ) from None
            raise RateLimitedError(
                f"Spotify kept rate limiting {method} {path} after {attempts_text(tried)}; "
                "try again later",
                extra={"retry_after": exc.retry_after},
            ) from None
        except ServerError as exc:
            raise UpstreamError(
                f"Spotify failed {method} {path} with {exc} after {attempts_text(tried)}",
                code="spotify_unavailable",
            ) from None
        except httpx.TransportError as exc:
            raise UpstreamError(
                f"cannot reach Spotify for {method} {path} after {attempts_text(tried)} "
                f"({type(exc).__name__}: {exc})",
                code="spotify_unavailable",
            ) from None
        return check_status(response, method, path)

    # --- endpoints (seed names) ----------------------------------------------------------

    async def get_me(self) -> SpotifyUser:
        return SpotifyUser.model_validate(await self.request("GET", "me"))

    async def get_liked_page(
        self, offset: int = 0, limit: int = PAGE_SIZE
    ) -> tuple[list[SavedTrack], int]:
        """One page of liked songs (newest first) and the total count."""
        page = await self.get_page("me/tracks", SAVED_PAGE, {"limit": limit, "offset": offset})
        return page.items, page.total

    async def get_all_liked_tracks(self, on_progress: ProgressFn | None = None) -> list[SavedTrack]:
        """Every liked song, newest first."""
        return await self.get_all_pages(
            "me/tracks", SAVED_PAGE, on_progress=on_progress, what="liked songs list"
        )

    async def list_user_playlists(self) -> list[SimplifiedPlaylist]:
        """Every playlist in the user's library (owned, collaborative and followed)."""
        return await self.get_all_pages("me/playlists", PLAYLIST_PAGE, what="playlist list")

    async def get_playlist(self, playlist_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", f"playlists/{playlist_id}")
        return result

    async def get_playlist_tracks(
        self, playlist_id: str, on_progress: ProgressFn | None = None
    ) -> list[PlaylistEntry]:
        """Every entry of a playlist the user owns or collaborates on, in playlist order."""
        return await self.get_all_pages(
            f"playlists/{playlist_id}/items",
            ENTRY_PAGE,
            params={"additional_types": "track,episode", "fields": PLAYLIST_ITEM_FIELDS},
            on_progress=on_progress,
            what="playlist",
        )
