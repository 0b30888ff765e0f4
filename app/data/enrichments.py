"""enrichments.json: per track, one `TrackEnrichment` per provider (seed façade names kept)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from pydantic import TypeAdapter

from app.core.models import TrackEnrichment
from app.data.store import JsonStore

EnrichmentMap = dict[str, list[TrackEnrichment]]


class EnrichmentStore(JsonStore[EnrichmentMap]):
    filename = "enrichments.json"
    schema_version = 1
    indent = False
    adapter: ClassVar = TypeAdapter(EnrichmentMap)

    def empty(self) -> EnrichmentMap:
        return {}

    def load_enrichments_cache(self) -> EnrichmentMap:
        """Every track's enrichment entries."""
        return self.load()

    def save_enrichments_cache(self, entries: Mapping[str, Sequence[TrackEnrichment]]) -> None:
        """Merge entries in: an entry replaces the stored one from the same source."""
        with self.update() as stored:
            for track_id, new_entries in entries.items():
                by_source = {entry.source: entry for entry in stored.get(track_id, [])}
                for entry in new_entries:
                    by_source[entry.source] = entry
                stored[track_id] = list(by_source.values())
