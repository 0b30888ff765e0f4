"""The Spotify Web API client: async httpx, resilient, and fast on big libraries.

    async with SpotifyClient(settings, tokens) as spotify:
        me = await spotify.get_me()
        liked = await spotify.get_all_liked_tracks(on_progress=print)

Every request goes through one path (`request`):

- a client-side limiter (``SAP_SPOTIFY_RATE_LIMIT`` requests/s) and a concurrency bound
  (``SAP_SPOTIFY_CONCURRENCY``);
- retries with exponential backoff and jitter (stamina) on 5xx and network errors, bounded by
  ``SAP_SPOTIFY_MAX_ATTEMPTS``;
- 429: waits exactly what ``Retry-After`` asks (plus a little jitter) if that is at most
  ``SAP_SPOTIFY_MAX_RETRY_AFTER`` seconds, otherwise fails at once with `RateLimitedError` naming
  the wait — never a silent multi-hour sleep;
- 401: one token refresh, then one more try.

Paged endpoints read the first page, learn `total`, then fetch every other page concurrently.
If `total` changes while reading (the user edited the playlist), the read starts over (twice at
most), so a result is never a mix of two versions.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
import orjson
import stamina
from aiolimiter import AsyncLimiter
from pydantic import TypeAdapter

from app.core.config import Settings
from app.core.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    LoginRequiredError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
)
from app.core.fs import paused_gc
from app.spotify.auth import TokenManager
from app.spotify.models import PlaylistEntry, SavedTrack, SimplifiedPlaylist, SpotifyUser

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 50  # the documented maximum for every paged endpoint we use
ProgressFn = Callable[[int, int], None]  # (items fetched so far, total items)

_TRACK_FIELDS = (
    "type,id,uri,name,duration_ms,explicit,is_local,external_ids(isrc),artists(id,name),"
    "album(id,name,release_date,release_date_precision)"
)
# Only what we keep: a page of playlist items shrinks to a fraction of its full size. Both the
# 2026 `item` and the deprecated `track` are asked for, so either API generation works.
PLAYLIST_ITEM_FIELDS = (
    f"items(added_at,added_by(id),is_local,item({_TRACK_FIELDS}),track({_TRACK_FIELDS})),"
    "total,limit,offset,next"
)

_entries = TypeAdapter(list[PlaylistEntry])
_saved = TypeAdapter(list[SavedTrack])
_playlists = TypeAdapter(list[SimplifiedPlaylist])


class _RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"429, Retry-After {retry_after:g}s")
        self.retry_after = retry_after


class _ServerError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status


class _Unauthorized(Exception):
    pass


class _TotalChanged(Exception):
    pass


def retry_after_seconds(response: httpx.Response, default: float = 1.0) -> float:
    """The wait a 429 asks for: seconds or an HTTP date; `default` when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:  # an HTTP date is GMT even when it does not say so
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or response.reason_phrase)
    return str(error or response.reason_phrase)


class SpotifyClient:
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
        self._limiter: AsyncLimiter | None = None
        self.requests_made = 0

    async def __aenter__(self) -> SpotifyClient:
        self._http = httpx.AsyncClient(
            base_url=self.settings.spotify_api_url + "/",
            transport=self._transport,
            timeout=self.settings.spotify_timeout,
            limits=httpx.Limits(max_connections=self.settings.spotify_concurrency * 2),
            headers={"Accept": "application/json"},
        )
        self._slots = asyncio.Semaphore(self.settings.spotify_concurrency)
        rate = self.settings.spotify_rate_limit
        # A bucket must hold at least one request: below 1/s, one request per 1/rate seconds.
        self._limiter = None
        if rate > 0:
            self._limiter = AsyncLimiter(rate, 1.0) if rate >= 1 else AsyncLimiter(1, 1.0 / rate)
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

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        """Send one API request (path relative to the API base) and return its JSON body."""
        token = await self.tokens.access_token()
        try:
            response = await self._send(method, path, token, params, json)
        except _Unauthorized:
            token = await self.tokens.access_token(stale=token)
            try:
                response = await self._send(method, path, token, params, json)
            except _Unauthorized:
                raise LoginRequiredError(
                    "Spotify rejected the access token even after refreshing it; log in again"
                ) from None
        if not response.content:
            return None
        try:
            with paused_gc():  # a page is thousands of small objects and no cycles
                return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UpstreamError(
                f"Spotify sent a body that is not JSON for {method} {path}",
                code="spotify_bad_response",
            ) from None

    def _backoff(self, exc: Exception) -> bool | float:
        if isinstance(exc, _RateLimited):
            if exc.retry_after > self.settings.spotify_max_retry_after:
                return False
            return exc.retry_after + random.uniform(0.0, 0.25)  # noqa: S311 - jitter only
        return isinstance(exc, httpx.TransportError | _ServerError)

    async def _send(
        self, method: str, path: str, token: str, params: dict[str, Any] | None, json: Any
    ) -> httpx.Response:
        assert self._http is not None and self._slots is not None, "use `async with`"
        attempts = self.settings.spotify_max_attempts
        try:
            async for attempt in stamina.retry_context(
                on=self._backoff,
                attempts=attempts,
                timeout=None,
                wait_initial=self._wait_initial,
                wait_max=self._wait_max,
            ):
                with attempt:
                    async with self._slots:
                        if self._limiter is not None:
                            await self._limiter.acquire()
                        self.requests_made += 1
                        response = await self._http.request(
                            method,
                            path.lstrip("/"),
                            params=params,
                            json=json,
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    if response.status_code == 429:
                        raise _RateLimited(retry_after_seconds(response))
                    if response.status_code >= 500:
                        raise _ServerError(response.status_code, _error_message(response))
        except _RateLimited as exc:
            cap = self.settings.spotify_max_retry_after
            if exc.retry_after > cap:
                raise RateLimitedError(
                    f"Spotify is rate limiting this app and asked to wait {exc.retry_after:.0f}s, "
                    f"more than the {cap:.0f}s we wait (SAP_SPOTIFY_MAX_RETRY_AFTER); "
                    "try again later",
                    extra={"retry_after": exc.retry_after},
                ) from None
            raise RateLimitedError(
                f"Spotify kept rate limiting {method} {path} after {attempts} attempts; "
                "try again later",
                extra={"retry_after": exc.retry_after},
            ) from None
        except _ServerError as exc:
            raise UpstreamError(
                f"Spotify failed {method} {path} with {exc} after {attempts} attempts",
                code="spotify_unavailable",
            ) from None
        except httpx.TransportError as exc:
            raise UpstreamError(
                f"cannot reach Spotify for {method} {path} after {attempts} attempts "
                f"({type(exc).__name__}: {exc})",
                code="spotify_unavailable",
            ) from None
        return self._check(response, method, path)

    def _check(self, response: httpx.Response, method: str, path: str) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        message = _error_message(response)
        if status == 401:
            raise _Unauthorized(message)
        if status == 403:
            raise ForbiddenError(
                f"Spotify refused {method} {path}: {message}", code="spotify_forbidden"
            )
        if status == 404:
            raise NotFoundError(f"Spotify has no {path} ({message})", code="spotify_not_found")
        if status == 400:
            raise BadRequestError(
                f"Spotify rejected {method} {path}: {message}", code="spotify_bad_request"
            )
        raise UpstreamError(f"Spotify answered {status} to {method} {path}: {message}")

    # --- paging --------------------------------------------------------------------------

    async def get_all_pages(
        self,
        path: str,
        parse: Callable[[list[Any]], list[T]],
        *,
        params: dict[str, Any] | None = None,
        on_progress: ProgressFn | None = None,
        what: str = "collection",
    ) -> list[T]:
        """Every item of a paged endpoint, in order, read concurrently after the first page.

        The garbage collector is paused meanwhile: a big collection is hundreds of thousands of
        small objects without cycles, and collecting again and again while they pile up cost
        more CPU than everything else here (see docs/performance.md).
        """
        with paused_gc():
            for _round in range(3):
                try:
                    return await self._read_pages(path, parse, params or {}, on_progress)
                except _TotalChanged:
                    log.info("%s changed while being read; reading it again", path)
        raise ConflictError(
            f"the {what} kept changing while it was being read; try again", code="source_changing"
        )

    async def _read_pages(
        self,
        path: str,
        parse: Callable[[list[Any]], list[T]],
        params: dict[str, Any],
        on_progress: ProgressFn | None,
    ) -> list[T]:
        first = await self.request("GET", path, params={**params, "limit": PAGE_SIZE, "offset": 0})
        total = int(first.get("total", 0))
        pages: dict[int, list[T]] = {0: parse(first.get("items", []))}
        fetched = len(first.get("items", []))
        if on_progress is not None:
            on_progress(fetched, total)

        async def read(offset: int) -> None:
            nonlocal fetched
            page = await self.request(
                "GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset}
            )
            if int(page.get("total", 0)) != total:
                raise _TotalChanged
            pages[offset] = parse(page.get("items", []))
            fetched += len(page.get("items", []))
            if on_progress is not None:
                on_progress(fetched, total)

        try:
            async with asyncio.TaskGroup() as group:
                for offset in range(PAGE_SIZE, total, PAGE_SIZE):
                    group.create_task(read(offset))
        except ExceptionGroup as group:
            # Surface one meaningful error rather than a group (the others were cancelled).
            changed, rest = group.split(_TotalChanged)
            if changed is not None:
                raise _TotalChanged from None
            if rest is None:
                raise
            raise rest.exceptions[0] from None
        items = [item for offset in sorted(pages) for item in pages[offset]]
        if len(items) != total:
            raise _TotalChanged
        return items

    # --- endpoints (seed names) ----------------------------------------------------------

    async def get_me(self) -> SpotifyUser:
        return SpotifyUser.model_validate(await self.request("GET", "me"))

    async def get_liked_page(
        self, offset: int = 0, limit: int = PAGE_SIZE
    ) -> tuple[list[SavedTrack], int]:
        """One page of liked songs (newest first) and the total count."""
        page = await self.request("GET", "me/tracks", params={"limit": limit, "offset": offset})
        return _saved.validate_python(page.get("items", [])), int(page.get("total", 0))

    async def get_all_liked_tracks(self, on_progress: ProgressFn | None = None) -> list[SavedTrack]:
        """Every liked song, newest first."""
        return await self.get_all_pages(
            "me/tracks", _saved.validate_python, on_progress=on_progress, what="liked songs list"
        )

    async def list_user_playlists(self) -> list[SimplifiedPlaylist]:
        """Every playlist in the user's library (owned, collaborative and followed)."""
        return await self.get_all_pages(
            "me/playlists", _playlists.validate_python, what="playlist list"
        )

    async def get_playlist(self, playlist_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", f"playlists/{playlist_id}")
        return result

    async def get_playlist_tracks(
        self, playlist_id: str, on_progress: ProgressFn | None = None
    ) -> list[PlaylistEntry]:
        """Every entry of a playlist the user owns or collaborates on, in playlist order."""
        return await self.get_all_pages(
            f"playlists/{playlist_id}/items",
            _entries.validate_python,
            params={"additional_types": "track,episode", "fields": PLAYLIST_ITEM_FIELDS},
            on_progress=on_progress,
            what="playlist",
        )
