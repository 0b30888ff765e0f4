"""A demo server's liked songs fetched, then given Deezer values by rule, for tests of the
library table and the rules workbench (charts, filters, rule-set previews)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.core.models import TrackEnrichment
from tests.helpers.spotify_env import DemoServer

AT = datetime(2026, 11, 30, tzinfo=UTC)


def liked_with_tempo_and_genres(server: DemoServer, tempo: Callable[[int], float]) -> list[str]:
    """Fetch the liked songs; the i-th stored track gets `tempo(i)` when i is even and a genre
    when i is a multiple of 3 (jazz, and soul too on multiples of 6). The track ids, in order."""
    [job] = server.fetch({"source_type": "liked"})
    assert job["status"] == "done", job
    stores = server.env.services.stores
    track_ids = list(stores.tracks.load_tracks())
    entries: dict[str, list[TrackEnrichment]] = {}
    for i, track_id in enumerate(track_ids):
        categories: dict[str, Any] = {}
        if i % 2 == 0:
            categories["tempo"] = tempo(i)
        if i % 3 == 0:
            categories["genres"] = ["jazz", "soul"] if i % 6 == 0 else ["jazz"]
        if categories:
            entries[track_id] = [
                TrackEnrichment(source="deezer", timestamp=AT, categories=categories)
            ]
    stores.enrichments.save_enrichments_cache(entries)
    return track_ids
