"""The library is loaded ahead of the first preview: at server start and after a fetch."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.config import Settings
from app.core.models import Track, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.pipeline.rules.library.cache import is_warm, warm_library
from app.pipeline.sources.commit import commit_reads
from app.spotify.library import SourceRead


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _library(stores: Stores, count: int = 30) -> None:
    tracks = [
        Track(
            id=f"t{i:03d}", uri=f"spotify:track:t{i:03d}", name=f"Song {i}", duration_ms=180_000 + i
        )
        for i in range(count)
    ]
    stores.tracks.upsert(tracks)
    stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=count,
            entries=[SourceEntry(track_id=t.id) for t in tracks],
        )
    )


def test_nothing_to_warm_without_a_library(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    assert warm_library(stores) is False
    assert not is_warm(stores)


def test_warm_then_stale_after_the_library_changes(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    assert warm_library(stores) is True
    assert is_warm(stores)
    stores.tracks.upsert([Track(id="new", uri="spotify:track:new", name="New")])
    assert not is_warm(stores)


def test_the_server_loads_the_library_when_it_starts(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    assert not is_warm(stores)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8888"):
        assert _eventually(lambda: is_warm(stores))


def test_a_saved_fetch_loads_the_new_library(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    warm_library(stores)
    track = Track(id="fresh", uri="spotify:track:fresh", name="Fresh")
    record = SourceRecord(
        key="csv:x",
        source_type=TrackSourceType.CSV,
        source_id="x",
        total=1,
        entries=[SourceEntry(track_id="fresh")],
    )
    commit_reads(stores, [SourceRead(record=record, tracks=[track])])
    assert _eventually(lambda: is_warm(stores))
