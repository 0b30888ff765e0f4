"""enrichments.json: per track, one `TrackEnrichment` per provider (seed façade names kept).

One track per line (`LineStore`), so the big paths stream it: building the rules library,
planning an enrichment run (`entries_for`), merging a batch of results
(`save_enrichments_cache`), editing manual values (`edit`). Entries are stored without their
default fields (no `confidence`, `not_found`… unless set).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import TypeAdapter, ValidationError

from app.core.fs import paused_gc
from app.core.models import TrackEnrichment
from app.data.store import LineStore

EnrichmentMap = dict[str, list[TrackEnrichment]]
RawEntries = list[dict[str, Any]]

_entries = TypeAdapter(list[TrackEnrichment])


def entry_json(entry: TrackEnrichment) -> dict[str, Any]:
    """An entry in its stored form (fields at their default left out)."""
    return entry.model_dump(mode="json", exclude_defaults=True)


class EnrichmentStore(LineStore[list[TrackEnrichment]]):
    filename = "enrichments.json"
    schema_version = 1
    indent = False
    dump_exclude_defaults = True
    adapter: ClassVar = TypeAdapter(EnrichmentMap)

    def empty(self) -> EnrichmentMap:
        return {}

    # --- the seed's façade -------------------------------------------------------------

    def load_enrichments_cache(self) -> EnrichmentMap:
        """Every track's enrichment entries (whole file as models: small libraries, tests)."""
        return self.load()

    def save_enrichments_cache(self, entries: Mapping[str, Sequence[TrackEnrichment]]) -> None:
        """Merge entries in: an entry replaces the stored one from the same source."""
        new = {track_id: [entry_json(e) for e in items] for track_id, items in entries.items()}

        def merge(_track_id: str, stored: RawEntries | None, change: RawEntries) -> RawEntries:
            by_source = {entry["source"]: entry for entry in stored or ()}
            for entry in change:
                by_source[entry["source"]] = entry
            return list(by_source.values())

        self.edit(new, merge)

    # --- streaming ---------------------------------------------------------------------

    def entries_for(
        self, track_ids: Collection[str] | None = None, sources: Collection[str] | None = None
    ) -> EnrichmentMap:
        """Validated entries of some tracks (all when None), only from `sources` if given."""
        found: EnrichmentMap = {}
        with paused_gc():
            for track_id, raw in self.iter_raw():
                if track_ids is not None and track_id not in track_ids:
                    continue
                kept = raw if sources is None else [e for e in raw if e.get("source") in sources]
                if not kept:
                    continue
                try:
                    found[track_id] = _entries.validate_python(kept)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    self._corrupt(f"unexpected entries of {track_id}: {first['msg']}")
        return found

    def _item_json(self, value: list[TrackEnrichment]) -> RawEntries | None:
        return [entry_json(entry) for entry in value] or None
