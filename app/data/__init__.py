"""Stores: one per collection, the only code that reads or writes files."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from app.data.backups import BackupStore
from app.data.classifications import ClassificationStore
from app.data.enrichments import EnrichmentStore
from app.data.jobs import JobStore
from app.data.plans import PlanStore
from app.data.playlists import PlaylistStore
from app.data.rules import RuleStore
from app.data.sources import SourceCheckStore, SourceStore
from app.data.store import JsonStore, StoreStatus
from app.data.tokens import TokenStore
from app.data.tracks import TrackStore
from app.data.undo import UndoStore


@dataclass(frozen=True)
class Stores:
    """Every store of one cache directory."""

    directory: Path
    tracks: TrackStore
    enrichments: EnrichmentStore
    rules: RuleStore
    jobs: JobStore
    classifications: ClassificationStore
    playlists: PlaylistStore
    tokens: TokenStore
    sources: SourceStore
    source_checks: SourceCheckStore
    plans: PlanStore
    backups: BackupStore
    undo: UndoStore

    @classmethod
    def open(cls, directory: Path) -> Stores:
        """Stores rooted at `directory` (created on first write, mode 0700)."""
        return cls(
            directory=directory,
            tracks=TrackStore(directory),
            enrichments=EnrichmentStore(directory),
            rules=RuleStore(directory),
            jobs=JobStore(directory),
            classifications=ClassificationStore(directory),
            playlists=PlaylistStore(directory),
            tokens=TokenStore(directory),
            sources=SourceStore(directory),
            source_checks=SourceCheckStore(directory),
            plans=PlanStore(directory),
            backups=BackupStore(directory),
            undo=UndoStore(directory),
        )

    def all(self) -> list[JsonStore[Any]]:
        return [getattr(self, field.name) for field in fields(self) if field.name != "directory"]

    def statuses(self) -> list[StoreStatus]:
        return [store.status() for store in self.all()]


__all__ = [
    "BackupStore",
    "ClassificationStore",
    "EnrichmentStore",
    "JobStore",
    "JsonStore",
    "PlanStore",
    "PlaylistStore",
    "RuleStore",
    "SourceCheckStore",
    "SourceStore",
    "StoreStatus",
    "Stores",
    "TokenStore",
    "TrackStore",
    "UndoStore",
]
