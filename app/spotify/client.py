"""The Spotify Web API client: async, resilient, and fast on big libraries.

    async with SpotifyClient(settings, tokens) as spotify:
        me = await spotify.get_me()
        liked = await spotify.get_all_liked_tracks(on_progress=print)

One class whose parts are composed, not inherited:

- every request goes through an `app.net.client.ServiceClient` under the Spotify policy
  (`api_policy`): the process-wide pace of the API (``SAP_SPOTIFY_RATE_LIMIT`` requests/s for
  every client together, and a 429 we wait out holds back every client), at most
  ``SAP_SPOTIFY_CONCURRENCY`` requests in flight per client, 429s waited out as
  ``Retry-After`` asks (up to ``SAP_SPOTIFY_MAX_RETRY_AFTER``, otherwise failing at once with
  the wait named), and 5xx and network errors retried with backoff, each on its own budget
  (``SAP_SPOTIFY_MAX_THROTTLED_ATTEMPTS``, ``SAP_SPOTIFY_MAX_ATTEMPTS``);
- `auth.bearer.BearerAuth` puts the access token on each request: a 401 gets one refresh and
  one more try;
- `errors.check_status` turns the other 4xx into the application's errors;
- `paging` reads paged endpoints (functions over `get_bytes`) and `writes` checks and shapes
  the playlist writes; the endpoint methods below put the pieces together.

Writes that must not happen twice (adding or moving playlist items, creating a playlist) are
sent with `replay_safe=False`: replayed only after failures proving Spotify did not act (429,
no connection made); after a 5xx or a lost answer they fail at once, and the caller re-reads
the playlist.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from app.core.config import Settings
from app.core.errors import UpstreamError
from app.core.fs import paused_gc
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import RetryPolicy
from app.spotify import writes
from app.spotify.auth.bearer import BearerAuth
from app.spotify.auth.tokens import TokenManager
from app.spotify.errors import check_status
from app.spotify.ids import checked_id
from app.spotify.models import (
    CatalogTrack,
    PlaylistEntry,
    PlaylistObject,
    SavedTrack,
    SimplifiedPlaylist,
    SpotifyUser,
)
from app.spotify.paging import (
    ENTRY_PAGE,
    PAGE_SIZE,
    PLAYLIST_ITEM_FIELDS,
    PLAYLIST_PAGE,
    SAVED_PAGE,
    ProgressFn,
    get_all_pages,
    get_page,
)

M = TypeVar("M", bound=BaseModel)


def api_policy(settings: Settings, backoff: tuple[float, float]) -> RetryPolicy:
    """How requests to the Web API are retried (see the module docstring)."""
    return RetryPolicy(
        service="Spotify",
        code="spotify_unavailable",
        attempts=settings.spotify_max_attempts,
        throttled_attempts=settings.spotify_max_throttled_attempts or settings.spotify_max_attempts,
        max_wait=settings.spotify_max_retry_after,
        max_wait_setting="SAP_SPOTIFY_MAX_RETRY_AFTER",
        backoff=backoff,
    )


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
        self._retry_wait = retry_wait
        self._http: ServiceClient | None = None

    async def __aenter__(self) -> SpotifyClient:
        settings = self.settings
        # One pace for every client of the process (jobs run in threads with their own event
        # loops): SAP_SPOTIFY_RATE_LIMIT requests/s with bursts of one second's worth.
        rate = settings.spotify_rate_limit
        pacer = HostPacer.for_service(
            settings.spotify_api_url, rate or None, burst=max(1, int(rate))
        )
        self._http = ServiceClient(
            settings.spotify_api_url,
            api_policy(settings, self._retry_wait),
            pacer=pacer,
            transport=self._transport,
            timeout=settings.spotify_timeout,
            headers={"Accept": "application/json"},
            auth=BearerAuth(self.tokens),
            concurrency=settings.spotify_concurrency,
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

    @property
    def requests_made(self) -> int:
        """Requests sent to the Web API by this client, retries included."""
        return self._http.requests if self._http is not None else 0

    # --- the request path ----------------------------------------------------------------

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> bytes:
        """The raw body of one API request (`path` relative to the API base)."""
        assert self._http is not None, "use `async with`"
        response = await self._http.request(
            method, path, params=params, json=json, replay_safe=replay_safe
        )
        return check_status(response, method, path).content

    async def get_bytes(self, path: str, params: dict[str, Any]) -> bytes:
        """`GET path?params`, the raw body (what `paging` reads pages with)."""
        return await self.request_bytes("GET", path, params=params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> Any:
        """Send one API request (`path` relative to the API base) and return its JSON body.

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

    # --- reads (seed names) --------------------------------------------------------------

    async def get_me(self) -> SpotifyUser:
        return _read(SpotifyUser, await self.request_bytes("GET", "me"), "GET me")

    async def get_liked_page(
        self, offset: int = 0, limit: int = PAGE_SIZE
    ) -> tuple[list[SavedTrack], int]:
        """One page of liked songs (newest first) and the total count."""
        params = {"limit": limit, "offset": offset}
        page = await get_page(self.get_bytes, "me/tracks", SAVED_PAGE, params)
        return page.items, page.total

    async def get_all_liked_tracks(self, on_progress: ProgressFn | None = None) -> list[SavedTrack]:
        """Every liked song, newest first."""
        return await get_all_pages(
            self.get_bytes,
            "me/tracks",
            SAVED_PAGE,
            on_progress=on_progress,
            what="liked songs list",
        )

    async def list_user_playlists(self) -> list[SimplifiedPlaylist]:
        """Every playlist in the user's library (owned, collaborative and followed)."""
        return await get_all_pages(
            self.get_bytes, "me/playlists", PLAYLIST_PAGE, what="playlist list"
        )

    async def get_playlist(self, playlist_id: str) -> PlaylistObject:
        """A playlist's name, owner, snapshot id and size (its entries: `get_playlist_tracks`)."""
        path = playlist_path(playlist_id)
        return _read(PlaylistObject, await self.request_bytes("GET", path), f"GET {path}")

    async def get_playlist_tracks(
        self, playlist_id: str, on_progress: ProgressFn | None = None
    ) -> list[PlaylistEntry]:
        """Every entry of a playlist the user owns or collaborates on, in playlist order."""
        return await get_all_pages(
            self.get_bytes,
            playlist_path(playlist_id, "items"),
            ENTRY_PAGE,
            params={"additional_types": "track,episode", "fields": PLAYLIST_ITEM_FIELDS},
            on_progress=on_progress,
            what="playlist",
        )

    async def get_track(self, track_id: str) -> CatalogTrack:
        """One catalogue track as the user's market sees it (`market=from_token`): whether
        it is playable. Single ids only: development mode refuses `GET /tracks?ids=`."""
        path = f"tracks/{checked_id(track_id, 'track id')}"
        content = await self.request_bytes("GET", path, params={"market": "from_token"})
        return _read(CatalogTrack, content, f"GET {path}")

    # --- playlist writes (bodies checked and shaped by `writes`) -------------------------

    async def add_items(
        self, playlist_id: str, uris: Sequence[str], position: int | None = None
    ) -> str:
        """Insert `uris` (tracks or episodes) at `position`, or append them when it is None;
        the playlist's new snapshot id."""
        body = writes.add_body(uris, position)
        return await self._write_items("POST", playlist_id, body, replay_safe=False)

    async def remove_items(self, playlist_id: str, uris: Sequence[str], snapshot_id: str) -> str:
        """Remove every occurrence of each of `uris`; the new snapshot id."""
        return await self._write_items("DELETE", playlist_id, writes.remove_body(uris, snapshot_id))

    async def replace_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        """Make the playlist exactly `uris` (≤ 100; an empty list clears it)."""
        return await self._write_items("PUT", playlist_id, writes.replace_body(uris))

    async def reorder_items(
        self,
        playlist_id: str,
        range_start: int,
        insert_before: int,
        range_length: int,
        snapshot_id: str,
    ) -> str:
        """Move `range_length` entries from `range_start` to just before the entry now at
        `insert_before` (both positions counted before the move); the new snapshot id."""
        body = writes.reorder_body(range_start, insert_before, range_length, snapshot_id)
        return await self._write_items("PUT", playlist_id, body, replay_safe=False)

    async def create_playlist(
        self, name: str, description: str, public: bool = False
    ) -> PlaylistObject:
        """Create a playlist owned by the user (`POST /me/playlists`); the new playlist."""
        body = writes.create_body(name, description, public)
        content = await self.request_bytes("POST", "me/playlists", json=body, replay_safe=False)
        return _read(PlaylistObject, content, "POST me/playlists")

    async def _write_items(
        self, method: str, playlist_id: str, body: dict[str, Any], *, replay_safe: bool = True
    ) -> str:
        path = playlist_path(playlist_id, "items")
        answer = await self.request(method, path, json=body, replay_safe=replay_safe)
        return writes.snapshot_of(answer, method, path)


def playlist_path(playlist_id: str, *rest: str) -> str:
    """``playlists/{id}[/rest…]``, once the id is checked: only a Spotify id goes into a path
    (`..` or `abc?x=1` would lead elsewhere; see `app.spotify.ids`)."""
    return "/".join(("playlists", checked_id(playlist_id, "playlist id"), *rest))


def _read(model: type[M], content: bytes, what: str) -> M:
    """`content` validated as `model`; a body that does not fit is Spotify's error."""
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise UpstreamError(
            f"Spotify sent an unexpected answer to {what} ({where}: {first['msg']})",
            code="spotify_bad_response",
        ) from None
