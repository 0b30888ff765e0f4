"""The library aggregate: every fetched track once, with the sources it came from, plus
per-source counts (`GET /pipeline/tracks/aggregate`, `sap tracks`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.errors import NotFoundError
from app.core.models import Track, TrackSourceType, utc_now
from app.data import Stores
from app.data.sources import last_read


class SourceMembership(BaseModel):
    """A source a track came from, and when it was added there."""

    source_type: TrackSourceType
    source_id: str | None
    key: str
    added_at: datetime | None


class LibraryTrack(Track):
    """A fetched track with the sources it came from (each once, in source order)."""

    sources: list[SourceMembership]


class SourceSummary(BaseModel):
    """A fetched source and its counts."""

    key: str
    source_type: TrackSourceType
    source_id: str | None
    label: str | None
    name: str | None
    entries: int = Field(description="Entries, in source order, duplicates included.")
    tracks: int = Field(description="Distinct tracks among them.")
    skipped: dict[str, int] = Field(description="Entries left out, by kind (local, episode…).")
    snapshot_id: str | None
    fetched_at: datetime = Field(
        description="When the source was last read: fetched, or checked and found unchanged."
    )


class TrackPage(BaseModel):
    """One page of fetched tracks."""

    total: int = Field(description="Tracks matching the filters, over all pages.")
    limit: int
    offset: int
    tracks: list[LibraryTrack]


class LibraryView(TrackPage):
    """A page of the library aggregate, with every fetched source's counts."""

    sources: list[SourceSummary]
    generated_at: datetime


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
) -> LibraryView:
    """Every fetched track once, with the sources it came from, plus per-source counts."""
    tracks = stores.tracks.load_tracks()
    sources = stores.sources.load()
    checks = stores.source_checks.load()
    membership: dict[str, list[SourceMembership]] = {}
    for record in sources.values():
        seen: set[str] = set()
        for entry in record.entries:
            if entry.track_id in seen:
                continue
            seen.add(entry.track_id)
            membership.setdefault(entry.track_id, []).append(
                SourceMembership(
                    source_type=record.source_type,
                    source_id=record.source_id,
                    key=record.key,
                    added_at=entry.added_at,
                )
            )
    if source is not None and source not in sources:
        raise NotFoundError(
            f"no fetched source {source!r}; known: {', '.join(sorted(sources))}",
            code="source_not_found",
        )
    selected = [tid for tid in tracks if tid in membership]
    if source is not None:
        selected = [
            tid for tid in selected if any(member.key == source for member in membership[tid])
        ]
    if q:
        needle = q.casefold()
        selected = [tid for tid in selected if _matches(tracks[tid], needle)]
    page = selected[offset : offset + limit]
    return LibraryView(
        total=len(selected),
        limit=limit,
        offset=offset,
        tracks=[LibraryTrack(**dict(tracks[tid]), sources=membership[tid]) for tid in page],
        sources=[
            SourceSummary(
                key=record.key,
                source_type=record.source_type,
                source_id=record.source_id,
                label=record.label,
                name=record.name,
                entries=len(record.entries),
                tracks=len({entry.track_id for entry in record.entries}),
                skipped=record.skipped,
                snapshot_id=record.snapshot_id,
                fetched_at=last_read(record, checks),
            )
            for record in sources.values()
        ],
        generated_at=utc_now(),
    )
