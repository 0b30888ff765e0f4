"""The library snapshot: a cache file of the loaded library (its typed columns, provenance,
coverage counts and discovered fields) that the next process loads instead of building,
rebuilt when the stores or the precedence change, ignored and replaced when unreadable; the
coverage report and field discovery answer from it."""

from __future__ import annotations

import io
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.core.models import (
    AlbumRef,
    ArtistRef,
    JobStatus,
    Track,
    TrackEnrichment,
    TrackSourceType,
)
from app.core.rules import PlaylistRuleSet, SortKey
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.demo import DemoEnvironment
from app.pipeline.enrichment.service import coverage
from app.pipeline.jobs.runner import JobManager
from app.pipeline.registry import default_registry
from app.pipeline.rules.engine.stages import order_positions
from app.pipeline.rules.fields.stored import load_stored_library, prepare_library
from app.pipeline.rules.library.build import load_library_views
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.order import first_artists, repeated, seconds
from app.pipeline.rules.library.snapshot import STALE_NAMES
from app.pipeline.rules.library.stamp import FORMAT_VERSION, SNAPSHOT_NAME
from app.pipeline.rules.library.views import Library, build_library
from app.pipeline.rules.rule_sets import field_registry, save_rule_set, validation_report
from app.pipeline.rules.service import preview_library
from app.providers.registry import PROVIDERS, Precedence

COUNT = 60


def _library(stores: Stores) -> None:
    """60 tracks (the last two held by no source), four providers with nested categories,
    not-found entries, a manual value, liked songs and a playlist."""
    tracks = [
        Track(
            id=f"t{i:03d}",
            uri=f"spotify:track:t{i:03d}",
            name=f"Song {i}",
            artists=[ArtistRef(id=f"a{i % 7}", name=f"Artist {i % 7}")],
            album=AlbumRef(id=f"al{i % 9}", name=f"Album {i % 9}", release_date=f"{1990 + i}"),
            duration_ms=180_000 + 1000 * i,
            explicit=i % 5 == 0,
            isrc=f"ISRC{i:05d}" if i % 4 else None,
            added_at=datetime(2024, 1, 1 + i % 28, tzinfo=UTC),
        )
        for i in range(COUNT)
    ]
    stores.tracks.upsert(tracks)
    enrichments: dict[str, list[TrackEnrichment]] = {}
    for i, track in enumerate(tracks):
        entries = [TrackEnrichment(source="musicbrainz", categories={"genres": [f"g{i % 3}"]})]
        if i % 2:
            entries.append(
                TrackEnrichment(source="deezer", categories={"tempo": 100.0 + i, "rank": i})
            )
        else:
            entries.append(TrackEnrichment(source="deezer", not_found=True))
        if i % 3 == 0:
            entries.append(
                TrackEnrichment(
                    source="reccobeats",
                    categories={"tempo": 90.0 + i, "audio": {"energy": i / COUNT}},
                )
            )
        if i % 10 == 0:
            entries.append(TrackEnrichment(source="lastfm", categories={"tags": ["x", "y"]}))
        if i == 7:
            entries.append(TrackEnrichment(source="manual", categories={"mood": "calm"}))
        enrichments[track.id] = entries
    stores.enrichments.save_enrichments_cache(enrichments)
    held = tracks[: COUNT - 2]
    stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(held),
            entries=[SourceEntry(track_id=t.id, added_at=t.added_at) for t in held],
        )
    )
    stores.sources.put(
        SourceRecord(
            key="playlist:p1",
            source_type=TrackSourceType.PLAYLIST,
            source_id="p1",
            name="Evening",
            total=10,
            entries=[SourceEntry(track_id=t.id) for t in held[:10]],
        )
    )


class Counting:
    """The loader `Services` gives (the build with field discovery), counting its builds."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, stores: Stores, precedence: Precedence) -> Library:
        self.builds += 1
        return load_stored_library(stores, precedence)


def _cache(stores: Stores, precedence: Precedence | None = None) -> tuple[LibraryCache, Counting]:
    """A library cache as `Services` builds it (the loader counted)."""
    loader = Counting()
    cache = LibraryCache(
        stores, precedence or PROVIDERS.precedence(), load=loader, prepare=prepare_library
    )
    return cache, loader


def _same(got: Library, expected: Library) -> None:
    assert got.ids == expected.ids
    assert got.views == expected.views
    assert [dict(origin) for origin in got.provenance] == [
        dict(origin) for origin in expected.provenance
    ]
    assert got.index == expected.index
    assert got.counts == expected.counts


@pytest.fixture
def stores(cache_dir: Path) -> Stores:
    stores = Stores.open(cache_dir)
    _library(stores)
    return stores


def test_the_next_process_loads_the_snapshot_equal_to_a_fresh_build(stores: Stores) -> None:
    first, built = _cache(stores)
    first.views()
    assert built.builds == 1
    snapshot = stores.directory / SNAPSHOT_NAME
    assert snapshot.exists()
    assert snapshot.stat().st_mode & 0o777 == 0o600

    second, loader = _cache(stores)
    loaded = second.views()
    assert loader.builds == 0  # from the snapshot
    fresh = load_library_views(stores, precedence=PROVIDERS.precedence())
    _same(loaded, fresh)
    assert len(loaded) == COUNT - 2
    assert loaded.view("t007")["mood"] == "calm"  # type: ignore[index]
    assert loaded.provenance[loaded.index["t003"]]["tempo"] == "deezer"
    assert second.is_warm()


def _change_tracks(stores: Stores) -> None:
    stores.tracks.upsert([Track(id="t001", uri="spotify:track:t001", name="Renamed")])


def _change_sources(stores: Stores) -> None:
    stores.sources.put(
        SourceRecord(
            key="playlist:p2",
            source_type=TrackSourceType.PLAYLIST,
            source_id="p2",
            name="Late",
            total=1,
            entries=[SourceEntry(track_id=f"t{COUNT - 1:03d}")],
        )
    )


def _change_enrichments(stores: Stores) -> None:
    stores.enrichments.save_enrichments_cache(
        {"t001": [TrackEnrichment(source="manual", categories={"tempo": 1.0})]}
    )


@pytest.mark.parametrize("change", [_change_tracks, _change_sources, _change_enrichments])
def test_a_change_to_any_store_rebuilds_the_snapshot(stores: Stores, change: object) -> None:
    _cache(stores)[0].views()
    change(stores)  # type: ignore[operator]
    cache, loader = _cache(stores)
    rebuilt = cache.views()
    assert loader.builds == 1
    _same(rebuilt, load_library_views(stores, precedence=PROVIDERS.precedence()))
    again, reloaded = _cache(stores)
    _same(again.views(), rebuilt)
    assert reloaded.builds == 0  # the new snapshot replaced the stale one


def _header_of(data: bytes) -> bytes:
    """The snapshot's first pickle (its header), read by a real unpickler: its end is not the
    first ``.`` byte, which may well sit inside the stat signature."""
    handle = io.BytesIO(data)
    pickle.load(handle)  # noqa: S301 — our own test file
    return data[: handle.tell()]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated (a crash while copying, a full disk)
        lambda data: b"",
        lambda data: b"not a pickle at all" * 10,
        lambda data: data[:40] + bytes(200) + data[240:],  # corrupt in the middle
        lambda data: _header_of(data) + pickle.dumps(("views", "of", "another", "shape")),
    ],
)
def test_an_unreadable_snapshot_is_ignored_and_replaced(stores: Stores, damage: object) -> None:
    _cache(stores)[0].views()
    path = stores.directory / SNAPSHOT_NAME
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    cache, loader = _cache(stores)
    _same(cache.views(), load_library_views(stores, precedence=PROVIDERS.precedence()))
    assert loader.builds == 1
    again, reloaded = _cache(stores)
    again.views()
    assert reloaded.builds == 0  # replaced by a good one


def test_a_snapshot_of_another_precedence_is_not_used(stores: Stores) -> None:
    _cache(stores)[0].views()
    reccobeats_first = Precedence(["reccobeats", "deezer", "musicbrainz", "lastfm"])
    cache, loader = _cache(stores, reccobeats_first)
    views = cache.views()
    assert loader.builds == 1
    assert views.view("t003")["tempo"] == 93.0  # type: ignore[index]
    assert views.provenance[views.index["t003"]]["tempo"] == "reccobeats"
    _same(views, load_library_views(stores, precedence=reccobeats_first))


def test_a_snapshot_of_another_format_version_is_not_used(stores: Stores) -> None:
    cache, _ = _cache(stores)
    cache.views()
    path = stores.directory / SNAPSHOT_NAME
    with path.open("rb") as handle:
        magic, version, signature, precedence = pickle.load(handle)  # noqa: S301
    assert version == FORMAT_VERSION
    other = Library([{"id": "stale", "name": "From another version"}], [{}])
    with path.open("wb") as handle:
        pickle.dump((magic, FORMAT_VERSION + 1, signature, precedence), handle)
        pickle.dump((other.views, other.provenance, None), handle)
    fresh, loader = _cache(stores)
    assert fresh.views().view("stale") is None
    assert loader.builds == 1


def test_the_next_process_previews_from_the_snapshot_alone(stores: Stores) -> None:
    stores.rules.save_rules(
        [
            PlaylistRuleSet.model_validate(raw).model_dump(mode="json")
            for raw in (
                {
                    "id": "fast",
                    "name": "Fast",
                    "rules": {"conditions": [{"field": "tempo", "operator": "gt", "value": 120}]},
                    "sort": [{"field": "tempo", "order": "desc"}],
                },
                {
                    "id": "g1",
                    "name": "Genre 1",
                    "rules": {
                        "conditions": [{"field": "genres", "operator": "has_any", "value": ["g1"]}]
                    },
                },
            )
        ]
    )
    stale = stores.directory / STALE_NAMES[0]
    stale.write_bytes(b"the engine's indexes, as format 1 kept them beside the snapshot")
    cache, _ = _cache(stores)
    first = preview_library(stores, cache)
    assert not stale.exists()  # the columns are the indexes now: nothing else is written

    second, loader = _cache(stores)
    library = second.views()
    assert loader.builds == 0
    assert library.table is not None and "tempo" in library.table  # the field's column
    assert "masks" not in library.columns  # nothing derived is kept in the file
    again = preview_library(stores, second)
    assert again.model_dump() == first.model_dump()
    assert ("rank", "tempo", "number", True) in library.columns  # derived from the column
    fresh = load_library_views(stores, precedence=PROVIDERS.precedence()).views
    fast = sum(1 for view in fresh if (view.get("tempo") or 0) > 120)
    in_g1 = sum(1 for view in fresh if "g1" in view["genres"])
    assert [p.track_count for p in again.playlists] == [fast, in_g1] == [23, 19]


def test_the_columns_hold_exactly_the_views_built_from_models(stores: Stores) -> None:
    """The stored library read as columns gives back, track by track, the views (and
    provenance) that building it from validated models gives."""
    from_columns = load_library_views(stores, precedence=PROVIDERS.precedence())
    from_models = build_library(
        stores.tracks.load_tracks().values(),
        stores.enrichments.load_enrichments_cache(),
        stores.sources.load(),
        precedence=PROVIDERS.precedence(),
    )
    assert from_columns.table is not None and from_models.table is None
    assert from_columns.ids == from_models.ids
    for got, expected in zip(from_columns.views, from_models.views, strict=True):
        assert got == expected
        assert {key: type(value) for key, value in got.items()} == {
            key: type(value) for key, value in expected.items()
        }
    assert [dict(p) for p in from_columns.provenance] == [dict(p) for p in from_models.provenance]
    assert from_columns.view("t007") == from_models.view("t007")
    assert from_columns.views[3:5] == from_models.views[3:5]


def test_coverage_counts_the_library_and_follows_a_change(stores: Stores) -> None:
    cache, _ = _cache(stores)
    report = coverage(cache)
    assert report.tracks == COUNT - 2
    fields = {row.field: row for row in report.fields}
    # Tracks held by a source only (t058 and t059 are not): 29 odd ones from Deezer, 20 of
    # every third from ReccoBeats; a track with both counts once in the merged view.
    assert (fields["tempo"].tracks, fields["tempo"].providers) == (
        39,
        {"deezer": 29, "reccobeats": 20},
    )
    assert fields["tempo"].share == round(39 / 58, 4)
    assert fields["genres"].tracks == 58
    assert fields["audio.energy"].providers == {"reccobeats": 20}
    assert fields["mood"].providers == {"manual": 1}
    assert report.providers["deezer"].model_dump() == {"matched": 29, "not_found": 29}
    assert report.providers["lastfm"].model_dump() == {"matched": 6, "not_found": 0}
    assert [row.field for row in report.fields][:2] == ["genres", "tempo"]

    # The next process answers the same from the snapshot.
    again, loader = _cache(stores)
    assert coverage(again) == report
    assert loader.builds == 0

    stores.enrichments.save_enrichments_cache(
        {"t004": [TrackEnrichment(source="lastfm", categories={"tempo": 1.0})]}
    )
    changed = coverage(again)
    tempo = next(row for row in changed.fields if row.field == "tempo")
    assert (tempo.tracks, tempo.providers) == (40, {"deezer": 29, "reccobeats": 20, "lastfm": 1})


def test_discovered_fields_are_kept_with_the_library_and_follow_a_change(stores: Stores) -> None:
    streamed = field_registry(stores).describe()
    cache, _ = _cache(stores)
    assert field_registry(stores, cache).describe() == streamed

    # The next process finds them with the snapshot, no pass over the stores needed.
    second, loader = _cache(stores)
    assert second.views().discovered is not None
    assert loader.builds == 0
    assert field_registry(stores, second).describe() == streamed

    stores.enrichments.save_enrichments_cache(
        {"t004": [TrackEnrichment(source="lastfm", categories={"danceability": 0.5})]}
    )
    fields = {row.name: row for row in field_registry(stores, second).describe()}
    assert fields["danceability"].coverage == round(1 / COUNT, 4)  # of tracks.json
    assert fields["danceability"].providers == ["lastfm"]
    assert field_registry(stores, second).describe() == field_registry(stores).describe()


def test_a_job_that_changes_the_stores_leaves_the_snapshot_current(
    demo_env: DemoEnvironment,
) -> None:
    """The first preview after a fetch or an enrichment is not the one paying for the build:
    the job builds and saves the library once its writes are committed."""
    services = demo_env.services
    manager = JobManager(services, default_registry())
    manager.run_inline("fetch_tracks", {"source_type": "liked"})
    classified = manager.run_inline("classify")  # writes each track's mood into enrichments
    assert classified.status is JobStatus.DONE, classified
    cache, loader = _cache(services.stores, services.library.precedence)
    library = cache.views()
    assert loader.builds == 0  # the snapshot the job left is current
    assert library.has_values("mood_v1.year")  # the classification is in it
    _same(library, load_library_views(services.stores, precedence=services.library.precedence))


def test_a_job_ending_while_the_server_stops_leaves_the_build_to_the_next_start(
    demo_env: DemoEnvironment,
) -> None:
    """SIGTERM must stop the server within its bound: a job that ends after the stop began
    does not build the library on its way out (the worker thread that would do it is joined
    when the process exits); the next start or preview builds it."""
    services = demo_env.services
    manager = JobManager(services, default_registry())
    manager.run_inline("fetch_tracks", {"source_type": "liked"})
    registry = default_registry()
    inner = JobManager(services, registry)

    def classify_then_stop(ctx: Any) -> Any:
        result = registry.get("classify").func(ctx)  # writes each track's mood into enrichments
        inner.begin_shutdown()  # SIGTERM arrives as the step returns
        return result

    registry.register("classify_then_stop", classify_then_stop)
    inner.run_inline("classify_then_stop")
    cache, loader = _cache(services.stores, services.library.precedence)
    library = cache.views()
    assert loader.builds == 1  # nothing was built on the way out: this preview builds it
    assert library.has_values("mood_v1.year")


@pytest.mark.parametrize("ftype", [None, "text", "number", "date", "bool"])
def test_columns_sort_and_dedupe_as_views_do(stores: Stores, ftype: str | None) -> None:
    """Sort ranks, dedupe markers, artists and lengths computed from the typed columns (and
    prepared with the snapshot) order and drop the same tracks as from a list of views."""
    columns = _cache(stores)[0].views()
    _cache(stores)[0].views()  # the next process: prepared ranks and markers come from the file
    loaded = _cache(stores)[0].views()
    views = Library.from_views(list(columns.views), list(columns.provenance))
    everything = list(range(len(views)))
    for name in [*columns.field_names(), "absent"]:
        for order in ("asc", "desc"):
            key = [SortKey(field=name, order=order)]

            def type_of(field: str) -> tuple[str, str | None]:
                return field, ftype

            expected = order_positions(everything, key, views, type_of)  # type: ignore[arg-type]
            for library in (columns, loaded):
                got = order_positions(everything, key, library, type_of)  # type: ignore[arg-type]
                assert got == expected, (name, order)
    for mode in ("isrc", "recording", "id"):
        assert repeated(loaded, mode) == repeated(views, mode)
    assert first_artists(loaded) == first_artists(views)
    assert list(seconds(loaded)) == list(seconds(views))


def test_validating_reads_the_fields_of_the_loaded_library_not_the_stores(
    stores: Stores,
) -> None:
    """Field discovery comes with the loaded library (found in the pass that built it): with
    the library loaded, validating and saving never read the big files again."""
    streamed = field_registry(stores).describe()
    cache, _ = _cache(stores)
    cache.views()
    path = stores.enrichments.path
    before = path.stat()
    path.write_bytes(b"\n" * before.st_size)  # unreadable now, with the same signature
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert cache.is_warm()
    assert field_registry(stores, cache).describe() == streamed
    rule_set = {"id": "fast", "name": "Fast", "text": "tempo > 120 and rank > 3"}
    report = validation_report(stores, rule_set, library=cache)
    assert report.valid and report.warnings == []
    assert save_rule_set(stores, rule_set, cache).id == "fast"
