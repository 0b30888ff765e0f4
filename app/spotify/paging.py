"""Reading Spotify's paged endpoints: one page validated from the response bytes, or every
page of a collection.

    liked = await get_all_pages(client.get_bytes, "me/tracks", SAVED_PAGE, what="liked songs")

Functions over `fetch` (GET a path with a query, return the body: `SpotifyClient.get_bytes`),
so they know nothing of tokens, retries or pacing. A whole collection reads the first page,
learns `total`, then fetches every other page concurrently (the client bounds how many are in
flight). If `total` changes while reading (the user edited the playlist), the read starts over
(twice at most), so a result is never a mix of two versions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from app.core.errors import ConflictError, UpstreamError
from app.core.fs import paused_gc
from app.spotify.models import Page, PlaylistEntry, SavedTrack, SimplifiedPlaylist

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 50  # the documented maximum for every paged endpoint we use
ProgressFn = Callable[[int, int], None]  # (items fetched so far, total items)
FetchFn = Callable[[str, dict[str, Any]], Awaitable[bytes]]  # (path, query) -> response body

_TRACK_FIELDS = (
    "type,id,uri,name,duration_ms,explicit,is_local,external_ids(isrc),artists(id,name),"
    "album(id,name,release_date,release_date_precision)"
)
# Only what we keep: a page of playlist items shrinks to a fraction of its full size. Only the
# 2026 `item` is asked for, not its deprecated duplicate `track` (half the bytes to send and
# parse); an entry without `item` still reads from `track` (`PlaylistEntry`).
PLAYLIST_ITEM_FIELDS = (
    f"items(added_at,added_by(id),is_local,item({_TRACK_FIELDS})),total,limit,offset,next"
)

# Pages are validated straight from the response bytes (pydantic-core parses the JSON and
# skips what the models ignore), not decoded into dicts first.
ENTRY_PAGE = TypeAdapter(Page[PlaylistEntry])
SAVED_PAGE = TypeAdapter(Page[SavedTrack])
PLAYLIST_PAGE = TypeAdapter(Page[SimplifiedPlaylist])


class TotalChanged(Exception):
    pass


async def get_page(
    fetch: FetchFn, path: str, adapter: TypeAdapter[Page[T]], params: dict[str, Any]
) -> Page[T]:
    """One page of a paged endpoint, validated from the response bytes."""
    content = await fetch(path, params)
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


async def get_all_pages(
    fetch: FetchFn,
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
                return await _read_pages(fetch, path, adapter, params or {}, on_progress)
            except TotalChanged:
                log.info("%s changed while being read; reading it again", path)
    raise ConflictError(
        f"the {what} kept changing while it was being read; try again", code="source_changing"
    )


async def _read_pages(
    fetch: FetchFn,
    path: str,
    adapter: TypeAdapter[Page[T]],
    params: dict[str, Any],
    on_progress: ProgressFn | None,
) -> list[T]:
    first = await get_page(fetch, path, adapter, {**params, "limit": PAGE_SIZE, "offset": 0})
    total = first.total
    pages: dict[int, list[T]] = {0: first.items}
    fetched = len(first.items)
    if on_progress is not None:
        on_progress(fetched, total)

    async def read(offset: int) -> None:
        nonlocal fetched
        page = await get_page(
            fetch, path, adapter, {**params, "limit": PAGE_SIZE, "offset": offset}
        )
        if page.total != total:
            raise TotalChanged
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
        changed, rest = group.split(TotalChanged)
        if changed is not None:
            raise TotalChanged from None
        if rest is None:
            raise
        raise rest.exceptions[0] from None
    items = [item for offset in sorted(pages) for item in pages[offset]]
    if len(items) != total:
        raise TotalChanged
    return items
