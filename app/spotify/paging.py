"""Reading Spotify's paged endpoints: one page validated from the response bytes, or every
page of a collection.

Paged endpoints read the first page, learn `total`, then fetch every other page concurrently.
If `total` changes while reading (the user edited the playlist), the read starts over (twice at
most), so a result is never a mix of two versions.

`PagedReads` is a mixin of `SpotifyClient`, which supplies `request_bytes`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from app.core.errors import ConflictError, UpstreamError
from app.core.fs import paused_gc
from app.spotify.models import Page, PlaylistEntry, SavedTrack, SimplifiedPlaylist
from app.spotify.requesting import Requesting

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 50  # the documented maximum for every paged endpoint we use
ProgressFn = Callable[[int, int], None]  # (items fetched so far, total items)

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


class PagedReads(Requesting):
    """`get_page` and `get_all_pages`, over the client's `request_bytes`."""

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
                except TotalChanged:
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
