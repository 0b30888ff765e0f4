"""sources.json: what each track source (liked songs, a playlist, a CSV file) last held;
source-checks.json: when each was last found unchanged.

A record is written only after its source was read completely, so a failed fetch never leaves a
half-read source behind; `snapshot_id` lets an unchanged playlist be skipped on refresh. A
refresh that finds a source unchanged does not rewrite sources.json (the library and its
snapshot are keyed on that file's stamp: rewriting it for a time alone would make them rebuild
the whole library); it records the time in source-checks.json instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field, TypeAdapter

from app.core.models import TrackSourceType, utc_now
from app.data.store import JsonStore


class SourceEntry(BaseModel):
    """One position in a source: which track, and when it was added there."""

    track_id: str
    added_at: datetime | None = None


class SourceRecord(BaseModel):
    key: str  # "liked", "playlist:<id>", "csv:<name>"
    source_type: TrackSourceType
    source_id: str | None = None
    label: str | None = None  # what the user called it when asking for the fetch
    name: str | None = None  # the playlist's or file's own name
    snapshot_id: str | None = None
    total: int = 0  # entries the source reported, readable or not
    fetched_at: datetime = Field(default_factory=utc_now)
    entries: list[SourceEntry] = Field(default_factory=list)  # in source order, duplicates kept
    skipped: dict[str, int] = Field(default_factory=dict)  # local, episode, unavailable, …


SourceMap = dict[str, SourceRecord]


class SourceStore(JsonStore[SourceMap]):
    filename = "sources.json"
    schema_version = 1
    indent = False
    adapter: ClassVar = TypeAdapter(SourceMap)

    def empty(self) -> SourceMap:
        return {}

    def get(self, key: str) -> SourceRecord | None:
        return self.load().get(key)

    def put(self, record: SourceRecord) -> None:
        with self.update() as sources:
            sources[record.key] = record


SourceChecks = dict[str, datetime]


class SourceCheckStore(JsonStore[SourceChecks]):
    """When each source (by key) was last read and found unchanged."""

    filename = "source-checks.json"
    schema_version = 1
    indent = False
    adapter: ClassVar = TypeAdapter(SourceChecks)

    def empty(self) -> SourceChecks:
        return {}

    def checked(self, times: dict[str, datetime]) -> None:
        """Record that these sources were found unchanged at these times."""
        with self.update() as checks:
            checks.update(times)


def last_read(record: SourceRecord, checks: SourceChecks) -> datetime:
    """When `record`'s source was last read: fetched, or checked and found unchanged."""
    checked = checks.get(record.key)
    return max(record.fetched_at, checked) if checked is not None else record.fetched_at
