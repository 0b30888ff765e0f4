"""Saving complete source reads: their tracks into the library, then their source records.

A read reaches this module only once it is complete (a cancelled or failed read saves nothing);
any number of reads are saved together, one locked update per store. When the library changed,
the loaded library is warmed up again in the background, for the next preview.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.core.fs import paused_gc
from app.core.models import Track, TrackSourceType
from app.data import Stores
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.service import warm_library_in_background
from app.spotify.library import SourceRead


def commit_reads(stores: Stores, reads: list[SourceRead], library: LibraryCache) -> None:
    """Save complete reads: their tracks first, then the source records that point at them;
    then warm `library` (the stores' loaded library) up again if anything changed.

    One locked update per store whatever the number of reads, so saving 20 playlists costs
    what saving one does. The collector is paused meanwhile: tens of thousands of new small
    objects and no cycles, while the whole fetched library is alive (collecting over and
    over doubled the time of this step; see docs/performance.md).
    """
    if not reads:
        return
    with paused_gc():
        if any(read.tracks for read in reads):
            # track id -> (track, whether a liked read brought it): streamed into the store.
            changes: dict[str, _Change] = {}
            for read in reads:
                liked = read.record.source_type is TrackSourceType.LIKED
                for track in read.tracks:
                    seen = changes.get(track.id)
                    if seen is not None and not liked and seen[0].added_at is not None:
                        continue  # its added_at is when it was liked, else first seen
                    flag = liked or (seen is not None and seen[1])
                    changes[track.id] = (track, flag)
            stores.tracks.edit(changes, _merge_track)
        with stores.sources.update() as sources:
            for read in reads:
                sources[read.record.key] = read.record
    if any(read.mode != "unchanged" for read in reads):
        # The next preview finds the new library loaded.
        warm_library_in_background(stores, library)


_Change = tuple[Track, bool]
_to_json = Track.__pydantic_serializer__.to_json


def _merge_track(
    _track_id: str, stored: dict[str, Any] | None, change: _Change
) -> dict[str, Any] | orjson.Fragment:
    track, liked = change
    if stored is not None and not liked and stored.get("added_at"):
        # A track's own added_at is when it was liked (else its first sighting).
        data = track.model_dump(mode="json")
        data["added_at"] = stored["added_at"]
        return data
    # JSON from pydantic, spliced in as is: no intermediate dict per track.
    return orjson.Fragment(_to_json(track))


def commit_read(stores: Stores, read: SourceRead, library: LibraryCache) -> None:
    """Save one complete read (see `commit_reads`)."""
    commit_reads(stores, [read], library)
