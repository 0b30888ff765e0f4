"""The stored library, built from the JSON stores as typed columns in one pass over each.

    library = load_library_views(stores, precedence=precedence)   # a `Library.of_table`

Streams tracks.json and enrichments.json a line at a time as plain JSON (no pydantic models:
for 100,000 tracks x 4 providers, whole-file models cost gigabytes) and keeps only the columns
(`table`): no view per track is ever held, so memory peaks near the size of the columns
themselves (see docs/performance.md). The same pass counts what the coverage report shows
(`counts`) and, when given a reader for it, what field discovery finds
(`fields.discovery.Discovery`), kept with the library and its snapshot. Data of an unexpected
shape falls back to the validating path (`views.build_library`), which reports bad files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from app.core.fs import paused_gc
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.enrichment_view import build_enrichment_view, shared_text
from app.pipeline.rules.library.table import ABSENT, encode
from app.pipeline.rules.library.views import (
    BUILTIN_KEYS,
    NO_MEMBERSHIP,
    Library,
    SharedRows,
    TrackMembership,
    build_library,
    builtin_values,
    index_membership,
)
from app.providers.registry import Precedence

if TYPE_CHECKING:
    from app.data import Stores

__all__ = ["StoreReader", "load_library_views"]


class StoreReader(Protocol):
    """What else reads the stores in the build's pass (field discovery: `fields.discovery`):
    the sources (keeping what it needs of them: the build lets them go), every track, then
    each track's entries, then its result."""

    def add_sources(self, sources: Mapping[str, Any]) -> None: ...

    def add_track(self, track: Mapping[str, Any]) -> None: ...

    def add_entries(self, track_id: str, raw_entries: Sequence[Mapping[str, Any]]) -> None: ...

    def registry(self) -> Any: ...


log = logging.getLogger(__name__)


def load_library_views(
    stores: Stores,
    *,
    precedence: Precedence | Sequence[str],
    discovery: StoreReader | None = None,
) -> Library:
    """The whole library from tracks.json, sources.json and enrichments.json (read once each),
    as typed columns; `discovery` reads the same pass and its result is the library's
    `discovered` registry. Data of an unexpected shape falls back to the validating path,
    which reports bad files (and keeps views, with nothing discovered)."""
    try:
        return _library_from_raw(stores, precedence, discovery)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("library files have an unexpected shape (%s); reading them strictly", exc)
    return build_library(
        stores.tracks.load_tracks().values(),
        stores.enrichments.load_enrichments_cache(),
        stores.sources.load(),
        precedence=precedence,
    )


def _library_from_raw(
    stores: Stores, precedence: Precedence | Sequence[str], discovery: StoreReader | None
) -> Library:
    """One pass over each store: the tracks (built-in fields, in library order), then the
    enrichments a line at a time (each track's entries merged, its values put in the
    enrichment columns at its position), the coverage counts and field discovery on the way.
    Only the columns are kept: no view per track is ever held (see docs/performance.md)."""
    if not isinstance(precedence, Precedence):
        precedence = Precedence(precedence)  # one rank table for every track
    with paused_gc():
        sources = stores.sources.load()
        membership = index_membership(sources)
        # What discovery needs of the sources, then the sources themselves let go: their
        # entries' models are the build's largest holding (~100 MB at 100,000 tracks).
        if discovery is not None:
            discovery.add_sources(sources)
        del sources
        counts = EnrichmentCounts(tracks=len(membership))
        rows: list[tuple[Any, ...]] = []
        index: dict[str, int] = {}
        for track_id, raw in stores.tracks.iter_raw():
            if discovery is not None:
                discovery.add_track(raw)
            member = membership.get(track_id)
            if (member is None and membership) or track_id in index:
                continue
            index[track_id] = len(index)
            rows.append(_raw_builtins(raw, member))
        size = len(index)
        transposed = zip(*rows, strict=True) if rows else ([] for _ in BUILTIN_KEYS)
        del rows
        table = {key: encode(values) for key, values in zip(BUILTIN_KEYS, transposed, strict=True)}
        del transposed  # an exhausted zip still holds every row: let them go before enrichments
        enriched: dict[str, list[Any]] = {}
        provenance_codes = np.zeros(size, dtype=np.int32)  # 0: the empty provenance
        shared_provenance: dict[tuple[tuple[str, str], ...], int] = {(): 0}
        distinct_provenance: list[Mapping[str, str]] = [{}]
        for track_id, entries in stores.enrichments.iter_raw():
            if discovery is not None:
                discovery.add_entries(track_id, entries)
            position = index.get(track_id)
            counted = bool(membership) and track_id in membership
            if not entries or (position is None and not counted):
                continue
            merged = build_enrichment_view(entries, precedence)
            if counted:  # coverage counts the tracks sources hold (none without)
                counts.add(entries, merged)
            if position is None:
                continue
            for key, value in merged.items():
                if key in table:
                    continue  # built-in fields win a name clash
                column = enriched.get(key)
                if column is None:
                    column = enriched[key] = [ABSENT] * size
                column[position] = value
            # Most tracks share one of a few provider combinations: keep one copy of each.
            origin = tuple(merged.provenance.items())
            code = shared_provenance.get(origin)
            if code is None:
                code = shared_provenance[origin] = len(distinct_provenance)
                distinct_provenance.append(merged.provenance)
            provenance_codes[position] = code
        columns = {key: encode(enriched.pop(key)) for key in list(enriched)}
        columns.update(table)
        return Library.of_table(
            columns,
            SharedRows(provenance_codes, distinct_provenance),
            counts=counts,
            discovered=None if discovery is None else discovery.registry(),
        )


def _raw_builtins(raw: Mapping[str, Any], membership: TrackMembership | None) -> tuple[Any, ...]:
    """The built-in fields of a track in its stored JSON form (see `load_library_views`)."""
    album = raw.get("album") or {}
    added = raw.get("added_at")
    return builtin_values(
        membership or NO_MEMBERSHIP,
        id=raw["id"],
        uri=raw["uri"],
        name=raw["name"],
        artists=[shared_text(artist["name"]) for artist in raw.get("artists", ())],
        album=album.get("name", ""),
        release_date=album.get("release_date"),
        added_at=datetime.fromisoformat(added) if added else None,
        duration_ms=int(raw.get("duration_ms", 0)),
        explicit=bool(raw.get("explicit", False)),
        isrc=raw.get("isrc"),
        is_local=bool(raw.get("is_local", False)),
    )
