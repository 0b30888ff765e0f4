"""Saving complete source reads: their tracks into the library, then their source records.

A read reaches this module only once it is complete (a cancelled or failed read saves nothing);
any number of reads are saved together, one locked update per store. When the library changed,
the loaded library is warmed up again in the background, for the next preview (when the caller
asks: the server does, a CLI command, which ends right after, does not).

A track's own `added_at` is a function of sources.json alone (`added_dates`): when it was liked,
else the earliest dated sighting in any source, else null. It is worked out again for every
track of every source whenever a commit changes what a source holds, so the order in which
sources were read and saved never changes it (nor does a source saved twice, or a failed one).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from pydantic import TypeAdapter

from app.core.fs import paused_gc
from app.core.models import Track, TrackSourceType
from app.data import Stores
from app.data.sources import SourceMap, SourceRecord
from app.spotify.library import SourceRead

if TYPE_CHECKING:
    from app.pipeline.rules.library.cache import LibraryCache


def added_dates(sources: Mapping[str, SourceRecord]) -> dict[str, datetime | None]:
    """Per track of any source: its liked date, else its earliest dated sighting, else None.

    Only what the sources hold decides, never the order they are given in.
    """
    dates: dict[str, datetime | None] = {}
    liked = [r for r in sources.values() if r.source_type is TrackSourceType.LIKED]
    for record in liked:
        for entry in record.entries:
            at = entry.added_at
            if at is not None:
                known = dates.get(entry.track_id)
                if known is None or at < known:
                    dates[entry.track_id] = at
    dated = set(dates)  # liked, with a date: nothing else counts
    for record in sources.values():
        for entry in record.entries:
            track_id = entry.track_id
            if track_id in dated:
                continue
            at = entry.added_at
            seen = dates.get(track_id)
            if seen is None or (at is not None and at < seen):
                dates[track_id] = at
    return dates


def commit_reads(
    stores: Stores,
    reads: list[SourceRead],
    *,
    forget: Collection[str] = (),
    warm: LibraryCache | None = None,
) -> None:
    """Save complete reads (and drop the records of `forget`): their tracks first, then the
    source records that point at them; then warm `warm` (the stores' loaded library, when the
    caller keeps one) up again in the background if anything changed.

    One locked update per store whatever the number of reads, so saving 20 playlists costs
    what saving one does. The sources lock is held throughout (sources, then tracks: the only
    order any code takes them in), so two commits cannot interleave their dates. The collector
    is paused meanwhile: tens of thousands of new small objects and no cycles, while the whole
    fetched library is alive (collecting over and over doubled the time of this step; see
    docs/performance.md).
    """
    changed = bool(forget) or any(read.mode != "unchanged" for read in reads)
    if not reads and not forget:
        return
    with paused_gc(), stores.sources.draft() as draft:
        sources = draft.value
        if not changed and all(_same_but_the_time(sources, read.record) for read in reads):
            # Found as they were: only the time moved. sources.json keeps its stamp, and so
            # the library's snapshot and loaded views, keyed on it, stay current (rewriting it
            # would rebuild the whole library after every refresh that found nothing new).
            draft.discard()
            stores.source_checks.checked(
                {read.record.key: read.record.fetched_at for read in reads}
            )
            return
        for key in forget:
            sources.pop(key, None)
        for read in reads:
            sources[read.record.key] = read.record
        if changed:
            dates = added_dates(sources)
            changes: dict[str, _Change] = {
                track_id: _Change(None, at) for track_id, at in dates.items()
            }
            for read in reads:
                for track in read.tracks:
                    changes[track.id] = _Change(track, dates.get(track.id))
            stores.tracks.edit(changes, _merge_track)
        # sources.json is written on leaving the block: after the tracks it points at.
    if changed and warm is not None:
        # The next preview finds the new library loaded. Imported here: the rules service
        # (the engine, the rules language) is a tenth of a second that a command which does
        # not warm (`sap fetch`) would load for nothing.
        from app.pipeline.rules.service import warm_library_in_background

        warm_library_in_background(stores, warm)


def _same_but_the_time(sources: SourceMap, record: SourceRecord) -> bool:
    """Whether `record` is the stored one of its source, apart from when it was read."""
    stored = sources.get(record.key)
    return stored is not None and stored == record.model_copy(
        update={"fetched_at": stored.fetched_at}
    )


class _Change(NamedTuple):
    track: Track | None  # as just read (None: keep the stored track)
    added_at: datetime | None


_to_json = Track.__pydantic_serializer__.to_json
_date_json = TypeAdapter(datetime | None).dump_python


def _merge_track(
    _track_id: str, stored: dict[str, Any] | None, change: _Change
) -> dict[str, Any] | orjson.Fragment | None:
    track, added_at = change
    if track is not None:
        track.added_at = added_at  # the read is being saved and dropped: no copy needed
        # JSON from pydantic, spliced in as is: no intermediate dict per track.
        return orjson.Fragment(_to_json(track))
    if stored is None:
        return None  # a source names a track tracks.json lost: `gaps` reports it
    stored["added_at"] = _date_json(added_at, mode="json")
    return stored


def commit_read(stores: Stores, read: SourceRead, *, warm: LibraryCache | None = None) -> None:
    """Save one complete read (see `commit_reads`)."""
    commit_reads(stores, [read], warm=warm)
