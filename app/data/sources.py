"""sources.json: what each track source (liked songs, a playlist, a CSV file) last held.

A record is written only after its source was read completely, so a failed fetch never leaves a
half-read source behind; `snapshot_id` lets an unchanged playlist be skipped on refresh.
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
