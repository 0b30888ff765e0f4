"""The loaded library: owned by `Services`, built once at a time, rebuilt when its files change,
loaded ahead of the first preview (at server start and after a fetch); the warm-up skips a
broken rule set and still runs the others."""

from __future__ import annotations

import ast
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from app.api.app import create_app
from app.core.config import Settings
from app.core.models import Track, TrackEnrichment, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.data.store import LOCK_DIR_NAME
from app.pipeline.rules.library import cache as cache_module
from app.pipeline.rules.library import snapshot as snapshot_module
from app.pipeline.rules.library.build import load_library_views
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.snapshot import save_snapshot
from app.pipeline.rules.library.stamp import SNAPSHOT_NAME, SnapshotKey, store_signature
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.service import warm_library
from app.pipeline.services import Services
from app.pipeline.sources.commit import commit_reads
from app.providers.registry import PROVIDERS, Precedence
from app.spotify.library import SourceRead
from tests.helpers.api import api_client

ROOT = Path(__file__).resolve().parents[3]


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


def _cache(stores: Stores) -> LibraryCache:
    return LibraryCache(stores, PROVIDERS.precedence())


def test_nothing_to_warm_without_a_library(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    library = _cache(stores)
    assert warm_library(stores, library).loaded is False
    assert not library.is_warm()


def test_warm_then_stale_after_the_library_changes(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    library = _cache(stores)
    assert warm_library(stores, library).loaded is True
    assert library.is_warm()
    stores.tracks.upsert([Track(id="new", uri="spotify:track:new", name="New")])
    assert not library.is_warm()


def test_views_are_reused_until_the_enrichments_change(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    library = _cache(stores)
    first = library.views()
    assert library.views() is first
    stores.enrichments.save_enrichments_cache(
        {"t001": [TrackEnrichment(source="deezer", categories={"tempo": 120.0})]}
    )
    rebuilt = library.views()
    assert rebuilt is not first
    assert rebuilt.view("t001") is not None
    assert rebuilt.view("t001")["tempo"] == 120.0  # type: ignore[index]


def test_the_server_loads_the_library_when_it_starts(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    app = create_app(settings)
    library: LibraryCache = app.state.services.library
    assert not library.is_warm()
    with api_client(app):
        assert _eventually(library.is_warm)


def test_a_saved_fetch_loads_the_new_library(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    library = _cache(stores)
    warm_library(stores, library)
    track = Track(id="fresh", uri="spotify:track:fresh", name="Fresh")
    record = SourceRecord(
        key="csv:x",
        source_type=TrackSourceType.CSV,
        source_id="x",
        total=1,
        entries=[SourceEntry(track_id="fresh")],
    )
    commit_reads(stores, [SourceRead(record=record, tracks=[track])], warm=library)
    assert _eventually(library.is_warm)
    assert library.views().view("fresh") is not None


# --- owned, not global ----------------------------------------------------------------------


def test_each_services_has_its_own_library_and_precedence(cache_dir: Path) -> None:
    """Two services on one directory, merging by different precedences, do not share (or
    overwrite) each other's library, as a cache keyed by directory did."""
    stores = Stores.open(cache_dir)
    _library(stores)
    stores.enrichments.save_enrichments_cache(
        {
            "t001": [
                TrackEnrichment(source="deezer", categories={"tempo": 121.0}),
                TrackEnrichment(source="lastfm", categories={"tempo": 99.0}),
            ]
        }
    )
    default = Services.from_settings(Settings(cache_dir=cache_dir, spotify_client_id="x"))
    assert default.library.views().view("t001")["tempo"] == 121.0  # type: ignore[index]
    lastfm_first = Services.from_settings(
        Settings(cache_dir=cache_dir, spotify_client_id="x", enrichment_precedence=["lastfm"])
    )
    assert lastfm_first.library.views().view("t001")["tempo"] == 99.0  # type: ignore[index]
    assert default.library.views().view("t001")["tempo"] == 121.0  # type: ignore[index]
    assert default.library.precedence != lastfm_first.library.precedence


def test_a_preview_during_the_build_waits_for_it(settings: Settings) -> None:
    """One build at a time: a second caller (a preview during the background warm-up) gets
    the views the first one built instead of building a copy."""
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    building = threading.Event()
    release = threading.Event()
    builds: list[Library] = []

    def load(stores: Stores, precedence: Precedence) -> Library:
        building.set()
        release.wait(timeout=30)
        views = load_library_views(stores, precedence=precedence)
        builds.append(views)
        return views

    library = LibraryCache(stores, PROVIDERS.precedence(), load=load)
    got: dict[str, Library] = {}
    warm = threading.Thread(target=lambda: got.setdefault("warm-up", library.views()))
    warm.start()
    assert building.wait(timeout=30)  # the warm-up is inside its build
    asking = threading.Event()

    def preview() -> None:
        asking.set()
        got["preview"] = library.views()

    second = threading.Thread(target=preview)
    second.start()
    assert asking.wait(timeout=30)
    release.set()
    warm.join(timeout=30)
    second.join(timeout=30)
    assert len(builds) == 1
    assert got["preview"] is got["warm-up"] is builds[0]


def test_the_cache_holds_no_module_state_and_imports_no_engine() -> None:
    """The library cache is an object `Services` owns, below the engine; nothing is imported
    lazily to dodge a cycle (tests/test_layers.py counts function-level imports in its search
    for cycles). `Services` imports the library's modules when it first needs them, so that a
    command which never reads the library (`sap fetch`) starts without the engine and numpy."""
    state = [
        name
        for name, value in vars(cache_module).items()
        if not name.startswith("__")
        and isinstance(value, dict | list | set | type(threading.Lock()))
    ]
    assert state == []

    def imports(relative: str) -> tuple[set[str], set[str]]:
        tree = ast.parse((ROOT / relative).read_text(encoding="utf-8"))
        top = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
        lazy = {
            node.module
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function)
            if isinstance(node, ast.ImportFrom)
        }
        return {name for name in top if name}, {name for name in lazy if name}

    top, lazy = imports("app/pipeline/rules/library/cache.py")
    assert not {name for name in top if name.startswith("app.pipeline.rules.engine")}
    assert lazy == set()
    top, lazy = imports("app/pipeline/services.py")
    assert not {
        name for name in top if name.startswith(("app.pipeline.rules", "app.pipeline.query"))
    }
    assert lazy == {
        "app.pipeline.query.state",
        "app.pipeline.rules.fields.stored",
        "app.pipeline.rules.library.cache",
    }


def test_a_build_in_another_process_is_waited_for_and_loaded(settings: Settings) -> None:
    """A preview that finds the snapshot stale while another process builds the library (the
    file lock held, as `sap library refresh` behind a fetch holds it) waits, then loads what
    that process saved instead of building a second copy."""
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    _cache(stores).views()  # a snapshot of the library as it was
    stores.tracks.upsert([Track(id="late", uri="spotify:track:late", name="Late")])
    stores.sources.put(
        SourceRecord(
            key="csv:late",
            source_type=TrackSourceType.CSV,
            source_id="late",
            total=1,
            entries=[SourceEntry(track_id="late")],
        )
    )
    builds: list[Library] = []

    def load(stores: Stores, precedence: Precedence) -> Library:
        views = load_library_views(stores, precedence=precedence)
        builds.append(views)
        return views

    stale = threading.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "is stale" in record.getMessage():
                stale.set()

    seen = Seen()
    snapshot_log = logging.getLogger(snapshot_module.__name__)
    snapshot_log.addHandler(seen)
    previous_level = snapshot_log.level
    snapshot_log.setLevel(logging.INFO)
    other_process = FileLock(settings.cache_dir / LOCK_DIR_NAME / f"{SNAPSHOT_NAME}.lock")
    got: list[Library] = []
    try:
        with other_process:
            library = LibraryCache(stores, PROVIDERS.precedence(), load=load)
            preview = threading.Thread(target=lambda: got.append(library.views()))
            preview.start()
            assert stale.wait(timeout=30)  # it saw the stale snapshot and went for the lock
            # The other process's build, saved while the preview waits.
            built = load_library_views(stores, precedence=PROVIDERS.precedence())
            key = SnapshotKey(store_signature(stores), PROVIDERS.precedence().names)
            save_snapshot(stores.directory / SNAPSHOT_NAME, key, built)
        preview.join(timeout=30)
    finally:
        snapshot_log.removeHandler(seen)
        snapshot_log.setLevel(previous_level)
    assert builds == []
    assert len(got) == 1 and got[0].view("late") is not None


# --- the warm-up and broken rule sets ---------------------------------------------------------


def _store_rules(stores: Stores, documents: list[dict[str, object]]) -> None:
    """Written straight through the store, as a rules.json from before validation got
    stricter (the API refuses a regex RE2 cannot compile)."""
    with stores.rules.update() as stored:
        stored[:] = documents


BAD_REGEX = {
    "id": "bad",
    "name": "Bad regex",
    "rules": {"conditions": [{"field": "name", "operator": "regex", "value": "(?<=So)ng"}]},
}
GOOD = {
    "id": "good",
    "name": "Good",
    "rules": {"conditions": [{"field": "name", "operator": "contains", "value": "Song 1"}]},
}


def test_the_warm_up_runs_the_other_rule_sets_when_one_is_broken(settings: Settings) -> None:
    stores = Stores.open(settings.cache_dir)
    _library(stores)
    _store_rules(stores, [BAD_REGEX, GOOD])
    library = _cache(stores)
    warm = warm_library(stores, library)
    assert warm.loaded is True
    assert warm.evaluated == ["good"]
    assert [failure.rule_id for failure in warm.broken] == ["bad"]
    assert "invalid pattern" in warm.broken[0].problems[0].message
    assert library.is_warm()
