"""What the enrichment coverage report counts, gathered while the library is built.

    counts = EnrichmentCounts(tracks=len(membership))
    counts.add(entries, merged_view)   # per library track, in the pass that merges its entries

`GET /data/enrichments/coverage` (`enrichment.service.coverage`) answers from the counts the
loaded library (and its snapshot) carries, instead of re-reading enrichments.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.pipeline.rules.library.enrichment_view import flatten_categories, is_missing

__all__ = ["EnrichmentCounts"]


@dataclass
class EnrichmentCounts:
    """Per field: library tracks whose merged view has it (`totals`) and, per provider, tracks
    it gave a value (`fields`); per provider, tracks matched and not found. `tracks` is the
    library size (track ids held by a source)."""

    tracks: int = 0
    totals: Counter[str] = field(default_factory=Counter)
    fields: dict[str, Counter[str]] = field(default_factory=dict)
    matched: Counter[str] = field(default_factory=Counter)
    not_found: Counter[str] = field(default_factory=Counter)

    def add(self, entries: Iterable[Mapping[str, Any]], merged: Iterable[str]) -> None:
        """Count one library track: its raw entries and the keys of its merged view."""
        fields = self.fields
        for entry in entries:
            source = entry["source"]
            (self.not_found if entry.get("not_found") else self.matched)[source] += 1
            for key, value in flatten_categories(entry.get("categories") or {}):
                if not is_missing(value):
                    found = fields.get(key)
                    if found is None:
                        found = fields[key] = Counter()
                    found[source] += 1
        self.totals.update(iter(merged))  # keys (a mapping would add its values)
