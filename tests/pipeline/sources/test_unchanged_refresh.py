"""A refresh that finds every source as it was leaves sources.json as it was.

The library and its snapshot are keyed on the stamps of tracks.json, sources.json and
enrichments.json: rewriting sources.json for a new fetch time alone made every such refresh
rebuild the whole library (seconds of CPU at 100,000 tracks, after each scheduled fetch). The
time goes to source-checks.json; the Sources screen's "last read" reads both.
"""

from __future__ import annotations

from datetime import datetime

from app.core.models import TrackSourceType, utc_now
from app.data.sources import SourceEntry, SourceRecord
from app.data.store import signature_of
from app.demo import DemoEnvironment
from app.pipeline.rules.library.stamp import snapshot_is_current
from app.pipeline.sources.aggregate import aggregate
from app.pipeline.sources.commit import commit_reads
from app.spotify.library import SourceRead
from tests.pipeline.sources.test_lost_tracks import fetch_library, modes


def test_a_refresh_that_finds_nothing_new_keeps_sources_json_and_the_library(
    demo_env: DemoEnvironment,
) -> None:
    services = demo_env.services
    stores = services.stores
    fetch_library(demo_env)
    services.library.refresh()  # what the fetch job does once it has committed
    assert snapshot_is_current(stores, services.precedence)
    loaded = services.library.views()
    stamp, contents = signature_of(stores.sources), stores.sources.path.read_bytes()
    before: datetime = utc_now()

    report = fetch_library(demo_env)

    assert set(modes(report).values()) == {"unchanged"}
    assert signature_of(stores.sources) == stamp
    assert stores.sources.path.read_bytes() == contents
    assert snapshot_is_current(stores, services.precedence)  # nothing to build
    assert services.library.is_warm() and services.library.views() is loaded
    checks = stores.source_checks.load()
    assert set(checks) == set(stores.sources.load())
    shown = aggregate(stores, limit=1).sources
    assert {source.key for source in shown} == set(checks)
    assert all(source.fetched_at >= before for source in shown)  # when it was last read


def test_a_source_found_unchanged_but_renamed_is_saved(demo_env: DemoEnvironment) -> None:
    stores = demo_env.services.stores
    record = SourceRecord(
        key="playlist:abc",
        source_type=TrackSourceType.PLAYLIST,
        source_id="abc",
        name="Old name",
        snapshot_id="s1",
        total=1,
        entries=[SourceEntry(track_id="t1")],
    )
    stores.sources.put(record)
    renamed = record.model_copy(update={"name": "New name", "fetched_at": utc_now()})

    commit_reads(stores, [SourceRead(record=renamed, tracks=[], mode="unchanged")])

    assert stores.sources.get("playlist:abc") == renamed
    assert stores.source_checks.load() == {}


def test_an_unchanged_read_moves_only_the_check_time(demo_env: DemoEnvironment) -> None:
    stores = demo_env.services.stores
    record = SourceRecord(key="liked", source_type=TrackSourceType.LIKED, total=0)
    stores.sources.put(record)
    stamp = signature_of(stores.sources)
    later = record.model_copy(update={"fetched_at": utc_now()})

    commit_reads(stores, [SourceRead(record=later, tracks=[], mode="unchanged")])

    assert signature_of(stores.sources) == stamp
    assert stores.sources.get("liked") == record
    assert stores.source_checks.load() == {"liked": later.fetched_at}
