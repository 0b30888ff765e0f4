"""The preview's partition (where the library's tracks land) agrees with its own playlists:
counted over arrays of positions, it must say what reading every playlist's ids says — with
more rule sets than one 64-bit word holds, pins of tracks outside the library, and pins of
library tracks the rules did not choose."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import pytest

from app.data import Stores
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.service import preview_library
from app.pipeline.services import Services

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TRACKS = 1500  # above COLUMNS_FROM: the set-wise engine


def library() -> Library:
    return Library.from_views(
        {"id": f"t{n:04d}", "name": f"Song {n}", "n": n, "duration_ms": 1000 * (n % 300)}
        for n in range(TRACKS)
    )


def rule_set(k: int) -> dict[str, Any]:
    """The k-th rule set: multiples of k + 2 below 600 (so many tracks land nowhere), some
    capped, some pinning a track outside the library and one the rules did not choose."""
    document: dict[str, Any] = {
        "id": f"r{k:02d}",
        "name": f"Every {k + 2}",
        "rules": {
            "conditions": [
                {"field": "n", "operator": "lt", "value": 600},
                {"field": "n", "operator": "regex", "value": "."},
            ]
        },
        "include": [],
    }
    multiples = [n for n in range(600) if n % (k + 2) == 0]
    document["rules"]["conditions"].append({"field": "n", "operator": "in", "value": multiples})
    if k % 3 == 0:
        document["limit"] = {"value": 5, "unit": "tracks"}
    if k % 4 == 0:
        document["include"] = [f"ghost-{k % 8}", f"t{1000 + k:04d}"]
    return document


@pytest.mark.parametrize("count", [3, 64, 70, 130])
def test_the_partition_says_what_the_playlists_say(services: Services, count: int) -> None:
    stores: Stores = services.stores
    views = library()
    preview = preview_library(
        stores, views, rules=[rule_set(k) for k in range(count)], now=NOW, detail=True
    )
    assert len(preview.playlists) == count
    lands: dict[str, list[str]] = {}
    for playlist in preview.playlists:
        for track_id in playlist.track_ids:
            lands.setdefault(track_id, []).append(playlist.rule_id)
    pairs: Counter[tuple[str, str]] = Counter()
    for rule_ids in lands.values():
        pairs.update(combinations(sorted(rule_ids), 2))
    in_library = [track_id for track_id in lands if track_id in views.index]
    partition = preview.partition
    assert partition.tracks == TRACKS
    assert partition.placed == len(lands)  # ghosts (pins outside the library) included
    assert len(lands) > len(in_library)  # there are ghosts to count
    assert partition.nowhere.count == TRACKS - len(in_library)
    assert partition.nowhere.track_ids == [t for t in views.ids if t not in lands][:200]
    got = {tuple(o.rule_ids): o.tracks for o in partition.overlaps}
    assert got == dict(pairs)
    # Most shared first; ties in the order of the pair's rule ids.
    keys = [(-o.tracks, o.rule_ids) for o in partition.overlaps]
    assert keys == sorted(keys)
    assert partition.track_rules == lands
