"""The library aggregate: every fetched track once, with the sources it came from, plus
per-source counts (`GET /pipeline/tracks/aggregate`, `sap tracks`)."""

from __future__ import annotations

from typing import Any

from app.core.errors import NotFoundError
from app.core.models import Track, utc_now
from app.data import Stores


def _matches(track: Track, needle: str) -> bool:
    haystack = " ".join([track.name, track.album.name, *(a.name for a in track.artists)])
    return needle in haystack.casefold()


def aggregate(
    stores: Stores,
    *,
    limit: int = 100,
    offset: int = 0,
    source: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    """Every fetched track once, with the sources it came from, plus per-source counts."""
    tracks = stores.tracks.load_tracks()
    sources = stores.sources.load()
    membership: dict[str, list[dict[str, Any]]] = {}
    for record in sources.values():
        seen: set[str] = set()
        for entry in record.entries:
            if entry.track_id in seen:
                continue
            seen.add(entry.track_id)
            membership.setdefault(entry.track_id, []).append(
                {
                    "source_type": record.source_type.value,
                    "source_id": record.source_id,
                    "key": record.key,
                    "added_at": entry.added_at,
                }
            )
    if source is not None and source not in sources:
        raise NotFoundError(
            f"no fetched source {source!r}; known: {', '.join(sorted(sources))}",
            code="source_not_found",
        )
    selected = [tid for tid in tracks if tid in membership]
    if source is not None:
        selected = [
            tid for tid in selected if any(member["key"] == source for member in membership[tid])
        ]
    if q:
        needle = q.casefold()
        selected = [tid for tid in selected if _matches(tracks[tid], needle)]
    page = selected[offset : offset + limit]
    return {
        "total": len(selected),
        "limit": limit,
        "offset": offset,
        "tracks": [
            {**tracks[tid].model_dump(mode="json"), "sources": membership[tid]} for tid in page
        ],
        "sources": [
            {
                "key": record.key,
                "source_type": record.source_type.value,
                "source_id": record.source_id,
                "label": record.label,
                "name": record.name,
                "entries": len(record.entries),
                "tracks": len({entry.track_id for entry in record.entries}),
                "skipped": record.skipped,
                "snapshot_id": record.snapshot_id,
                "fetched_at": record.fetched_at,
            }
            for record in sources.values()
        ],
        "generated_at": utc_now(),
    }
