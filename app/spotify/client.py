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
- 401: one token refresh, then one more try;
- writes that must not happen twice (adding or moving playlist items, creating a playlist) are
  replayed only after failures proving Spotify did not act (429, no connection made): after a
  5xx or a lost response they fail at once, and the caller re-reads the playlist.

Paged endpoints read the first page, learn `total`, then fetch every other page concurrently.
If `total` changes while reading (the user edited the playlist), the read starts over (twice at
most), so a result is never a mix of two versions.

Playlist writes (`add_items`, `remove_items`, `replace_items`, `reorder_items`) are one call
each, checked against Spotify's limits before sending (at most 100 URIs), and return the new
snapshot id to chain into the next write.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
import orjson
import stamina
from pydantic import TypeAdapter, ValidationError

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
from app.core.pacing import HostPacer
from app.spotify.auth import TokenManager
from app.spotify.models import (
    Page,
    PlaylistEntry,
    SavedTrack,
    SimplifiedPlaylist,
    SpotifyUser,
)
from app.spotify.tls import tls_context

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 50  # the documented maximum for every paged endpoint we use
ProgressFn = Callable[[int, int], None]  # (items fetched so far, total items)
MAX_WRITE_URIS = 100  # URIs (or items) in one add, replace or remove call
ADDABLE = ("spotify:track:", "spotify:episode:")  # local files cannot be added by the API
REMOVABLE = (*ADDABLE, "spotify:local:")

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

# Pages are validated straight from the response bytes (pydantic-core parses the JSON and
# skips what the models ignore), not decoded into dicts first.
_entries = TypeAdapter(Page[PlaylistEntry])
_saved = TypeAdapter(Page[SavedTrack])
_playlists = TypeAdapter(Page[SimplifiedPlaylist])


# Transport errors raised before a request left this machine: replaying it cannot double it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


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

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> Any:
        """Send one API request (path relative to the API base) and return its JSON body.

        `replay_safe=False` is for writes that must not happen twice (adding items, moving
        them, creating a playlist): they are retried only when Spotify certainly did not act
        on them (429, or no connection made); a 5xx or a connection lost mid-request fails at
        once, since the write may have been applied.
        """
        content = await self.request_bytes(
            method, path, params=params, json=json, replay_safe=replay_safe
        )
        if not content:
            return None
        try:
            with paused_gc():  # a page is thousands of small objects and no cycles
                return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise UpstreamError(
                f"Spotify sent a body that is not JSON for {method} {path}",
                code="spotify_bad_response",
            ) from None

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
        except _Unauthorized:
            token = await self.tokens.access_token(stale=token)
            try:
                response = await self._send(method, path, token, params, json, replay_safe)
            except _Unauthorized:
                raise LoginRequiredError(
                    "Spotify rejected the access token even after refreshing it; log in again"
                ) from None
        return response.content

    async def get_page(
        self, path: str, adapter: TypeAdapter[Page[T]], params: dict[str, Any]
    ) -> Page[T]:
        """One page of a paged endpoint, validated from the response bytes."""
        content = await self.request_bytes("GET", path, params=params)
        try:
            with paused_gc():
                return adapter.validate_json(content)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the body"
            raise UpstreamError(
                f"Spotify sent an unexpected page for GET {path} ({where}: {first['msg']})",
                code="spotify_bad_response",
            ) from None

    def _backoff(self, exc: Exception) -> bool | float:
        if isinstance(exc, _RateLimited):
            if exc.retry_after > self.settings.spotify_max_retry_after:
                return False
            return exc.retry_after + random.uniform(0.0, 0.25)  # noqa: S311 - jitter only
        return isinstance(exc, httpx.TransportError | _ServerError)

    def _backoff_unapplied(self, exc: Exception) -> bool | float:
        """`_backoff` for writes that must not be replayed: only failures proving that the
        request was never acted on (429, or a connection that could not be made)."""
        if isinstance(exc, _RateLimited):
            return self._backoff(exc)
        return isinstance(exc, _NOT_SENT)

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
                        raise _RateLimited(retry_after)
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
                f"Spotify kept rate limiting {method} {path} after {_attempts(tried)}; "
                "try again later",
                extra={"retry_after": exc.retry_after},
            ) from None
        except _ServerError as exc:
            raise UpstreamError(
                f"Spotify failed {method} {path} with {exc} after {_attempts(tried)}",
                code="spotify_unavailable",
            ) from None
        except httpx.TransportError as exc:
            raise UpstreamError(
                f"cannot reach Spotify for {method} {path} after {_attempts(tried)} "
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
        adapter: TypeAdapter[Page[T]],
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
                    return await self._read_pages(path, adapter, params or {}, on_progress)
                except _TotalChanged:
                    log.info("%s changed while being read; reading it again", path)
        raise ConflictError(
            f"the {what} kept changing while it was being read; try again", code="source_changing"
        )

    async def _read_pages(
        self,
        path: str,
        adapter: TypeAdapter[Page[T]],
        params: dict[str, Any],
        on_progress: ProgressFn | None,
    ) -> list[T]:
        first = await self.get_page(path, adapter, {**params, "limit": PAGE_SIZE, "offset": 0})
        total = first.total
        pages: dict[int, list[T]] = {0: first.items}
        fetched = len(first.items)
        if on_progress is not None:
            on_progress(fetched, total)

        async def read(offset: int) -> None:
            nonlocal fetched
            page = await self.get_page(
                path, adapter, {**params, "limit": PAGE_SIZE, "offset": offset}
            )
            if page.total != total:
                raise _TotalChanged
            pages[offset] = page.items
            fetched += len(page.items)
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
        page = await self.get_page("me/tracks", _saved, {"limit": limit, "offset": offset})
        return page.items, page.total

    async def get_all_liked_tracks(self, on_progress: ProgressFn | None = None) -> list[SavedTrack]:
        """Every liked song, newest first."""
        return await self.get_all_pages(
            "me/tracks", _saved, on_progress=on_progress, what="liked songs list"
        )

    async def list_user_playlists(self) -> list[SimplifiedPlaylist]:
        """Every playlist in the user's library (owned, collaborative and followed)."""
        return await self.get_all_pages("me/playlists", _playlists, what="playlist list")

    async def get_playlist(self, playlist_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", f"playlists/{playlist_id}")
        return result

    async def get_playlist_tracks(
        self, playlist_id: str, on_progress: ProgressFn | None = None
    ) -> list[PlaylistEntry]:
        """Every entry of a playlist the user owns or collaborates on, in playlist order."""
        return await self.get_all_pages(
            f"playlists/{playlist_id}/items",
            _entries,
            params={"additional_types": "track,episode", "fields": PLAYLIST_ITEM_FIELDS},
            on_progress=on_progress,
            what="playlist",
        )

    # --- playlist writes -----------------------------------------------------------------
    # One call each, checked before sending (Spotify's limits: ≤ 100 URIs a call). Each
    # returns the playlist's new snapshot id; pass it to the next write. Adding, moving and
    # creating are never replayed after an ambiguous failure (see `request`): a retry could
    # add the items twice or move them again. Removing and replacing are idempotent.

    async def add_items(
        self, playlist_id: str, uris: Sequence[str], position: int | None = None
    ) -> str:
        """Insert `uris` (tracks or episodes) at `position`, or append them when it is None."""
        _check_uris(uris, ADDABLE, "add")
        body: dict[str, Any] = {"uris": list(uris)}
        if position is not None:
            if position < 0:
                raise ValueError(f"position must be 0 or more, got {position}")
            body["position"] = position
        return await self._playlist_write("POST", playlist_id, body, replay_safe=False)

    async def remove_items(self, playlist_id: str, uris: Sequence[str], snapshot_id: str) -> str:
        """Remove every occurrence of each of `uris` (Spotify ignores positions)."""
        _check_uris(uris, REMOVABLE, "remove")
        body = {"items": [{"uri": uri} for uri in uris], "snapshot_id": snapshot_id}
        return await self._playlist_write("DELETE", playlist_id, body)

    async def replace_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        """Make the playlist exactly `uris` (≤ 100; an empty list clears it)."""
        _check_uris(uris, ADDABLE, "replace", allow_empty=True)
        return await self._playlist_write("PUT", playlist_id, {"uris": list(uris)})

    async def reorder_items(
        self,
        playlist_id: str,
        range_start: int,
        insert_before: int,
        range_length: int,
        snapshot_id: str,
    ) -> str:
        """Move `range_length` entries from `range_start` to just before the entry now at
        `insert_before` (both positions counted before the move)."""
        if range_start < 0 or insert_before < 0 or range_length < 1:
            raise ValueError(
                "a reorder needs range_start >= 0, insert_before >= 0 and range_length >= 1, "
                f"got {range_start}, {insert_before}, {range_length}"
            )
        body = {
            "range_start": range_start,
            "insert_before": insert_before,
            "range_length": range_length,
            "snapshot_id": snapshot_id,
        }
        return await self._playlist_write("PUT", playlist_id, body, replay_safe=False)

    async def create_playlist(
        self, name: str, description: str, public: bool = False
    ) -> dict[str, Any]:
        """Create a playlist owned by the user (`POST /me/playlists`); the new playlist object."""
        if not name.strip():
            raise ValueError("a playlist needs a name")
        body = {"name": name, "public": public, "collaborative": False, "description": description}
        created = await self.request("POST", "me/playlists", json=body, replay_safe=False)
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise UpstreamError(
                "Spotify created a playlist but sent no id back", code="spotify_bad_response"
            )
        return created

    async def _playlist_write(
        self, method: str, playlist_id: str, body: dict[str, Any], *, replay_safe: bool = True
    ) -> str:
        path = f"playlists/{playlist_id}/items"
        answer = await self.request(method, path, json=body, replay_safe=replay_safe)
        snapshot = answer.get("snapshot_id") if isinstance(answer, dict) else None
        if not isinstance(snapshot, str) or not snapshot:
            raise UpstreamError(
                f"Spotify sent no snapshot_id for {method} {path}", code="spotify_bad_response"
            )
        return snapshot


def _check_uris(
    uris: Sequence[str], prefixes: tuple[str, ...], action: str, *, allow_empty: bool = False
) -> None:
    """Refuse, before sending, what Spotify would refuse: too many, none, or a wrong kind."""
    if isinstance(uris, str):
        raise TypeError(f"uris to {action} must be a sequence of URIs, not one string")
    if len(uris) > MAX_WRITE_URIS:
        raise ValueError(
            f"Spotify takes at most {MAX_WRITE_URIS} URIs a call; {len(uris)} given to {action}"
        )
    if not uris and not allow_empty:
        raise ValueError(f"no URIs given to {action}")
    for uri in uris:
        if not isinstance(uri, str) or not uri.startswith(prefixes) or uri in prefixes:
            raise ValueError(f"cannot {action} {uri!r}: expected a URI starting {prefixes}")
