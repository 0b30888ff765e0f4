"""A library that lost tracks is rebuilt by the next fetch, and nothing plans from it meanwhile.

However tracks.json lost them — moved aside as corrupt, deleted, or edited so that some of a
source's tracks are gone — the sources that fed them no longer count as read: the next fetch
reads them in full (an unchanged snapshot or an incremental read of liked songs would find
"nothing new" and leave the library empty), health, `status` and `verify` name them and say
what to run, and sync planning refuses instead of planning to empty the user's playlists.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.core.errors import AppError
from app.core.fs import list_quarantined
from app.data.sources import SourceEntry, SourceRecord
from app.demo import DemoEnvironment
from app.pipeline.library_gaps import find_gaps
from app.pipeline.sources.planning import plan_library
from app.pipeline.sources.service import FetchSourcesReport, SourceFetchReport, fetch_many
from app.pipeline.sync.applying import apply_plan
from app.pipeline.sync.service import plan_rule_sets
from app.pipeline.sync.unattended import sync_library
from tests.helpers.spotify_env import Playlists


def fetch_library(env: DemoEnvironment) -> FetchSourcesReport:
    """What `sap fetch` (and POST /pipeline/tracks/fetch-library) does: plan, then read all."""
    planned = asyncio.run(plan_library(env.services))
    return asyncio.run(fetch_many(env.services, planned))


def library_data(env: DemoEnvironment) -> tuple[dict[str, Any], dict[str, Any]]:
    """tracks.json and sources.json as data (a record's `fetched_at` aside: it is a clock)."""
    directory = env.services.stores.directory
    tracks = orjson.loads((directory / "tracks.json").read_bytes())["data"]
    sources = orjson.loads((directory / "sources.json").read_bytes())["data"]
    for record in sources.values():
        record.pop("fetched_at")
    return tracks, sources


def modes(report: FetchSourcesReport) -> dict[str, str]:
    return {
        result.source.key: result.mode
        for result in report.sources
        if isinstance(result, SourceFetchReport)
    }


def lose_tracks(env: DemoEnvironment, how: str) -> set[str]:
    """Take tracks away from tracks.json; returns the keys of the sources that lost some."""
    stores = env.services.stores
    path = stores.tracks.path
    if how == "quarantined":
        path.write_bytes(path.read_bytes()[:-200])  # a cut-off file, as a failing disk leaves
        assert stores.tracks.load() == {}  # read once: moved aside
        assert [item.original_name for item in list_quarantined(path.parent)] == ["tracks.json"]
        return set(stores.sources.load())
    if how == "deleted":
        path.unlink()
        return set(stores.sources.load())
    # Edited: two tracks of one playlist that nothing else holds are gone.
    sources = stores.sources.load()
    owned = Playlists.of(env.emulator).owned[0]
    others = {
        entry.track_id
        for key, record in sources.items()
        if key != f"playlist:{owned.id}"
        for entry in record.entries
    }
    own = [e.track_id for e in sources[f"playlist:{owned.id}"].entries if e.track_id not in others]
    gone = set(own[:2])
    assert len(gone) == 2
    stores.tracks.edit(dict.fromkeys(gone), lambda _key, _stored, _change: None)
    assert not gone & set(stores.tracks.load())
    return {f"playlist:{owned.id}"}


@pytest.mark.parametrize("how", ["quarantined", "deleted", "edited"])
def test_the_next_fetch_reads_in_full_the_sources_that_lost_tracks(
    demo_env: DemoEnvironment, how: str
) -> None:
    fetch_library(demo_env)
    before = library_data(demo_env)
    lost = lose_tracks(demo_env, how)

    gaps = find_gaps(demo_env.services.stores)
    assert {source.key for source in gaps.sources} == lost
    assert gaps.complete is False and gaps.missing_tracks > 0
    assert "run `sap fetch`" in (gaps.advice or "")

    report = fetch_library(demo_env)
    assert report.failed == 0
    assert {key for key, mode in modes(report).items() if mode == "full"} == lost
    assert library_data(demo_env) == before  # rebuilt exactly
    assert find_gaps(demo_env.services.stores).complete is True
    # Once rebuilt, a refresh is back to "unchanged".
    assert set(modes(fetch_library(demo_env)).values()) == {"unchanged"}


def test_a_lost_source_that_cannot_be_read_again_is_forgotten_by_the_next_fetch(
    demo_env: DemoEnvironment,
) -> None:
    """A playlist fetched once and deleted since cannot be rebuilt: once its tracks are lost,
    keeping its record would block planning for ever."""
    fetch_library(demo_env)
    stores = demo_env.services.stores
    liked = stores.sources.load()["liked"]
    gone = SourceRecord(
        key="playlist:" + "9" * 22,
        source_type="playlist",
        source_id="9" * 22,
        name="Deleted since",
        snapshot_id="old",
        entries=[SourceEntry(track_id=entry.track_id) for entry in liked.entries[:3]],
    )
    stores.sources.put(gone)
    assert find_gaps(stores).complete is True  # its tracks are still there
    stores.tracks.path.unlink()
    assert {source.key for source in find_gaps(stores).sources} >= {gone.key, "liked"}

    report = fetch_library(demo_env)
    assert [ref.key for ref in report.forgotten] == [gone.key]
    assert gone.key not in stores.sources.load()
    assert find_gaps(stores).complete is True


def test_planning_refuses_an_incomplete_library_then_plans_nothing_to_remove_once_fetched(
    demo_env: DemoEnvironment,
) -> None:
    """End to end: a managed playlist mirrors the liked songs; tracks.json is moved aside;
    planning refuses (it would otherwise remove every track); a fetch rebuilds the library;
    planning then finds nothing to change."""
    services = demo_env.services
    fetch_library(demo_env)
    with services.stores.rules.update() as documents:
        documents[:] = [
            {
                "id": "mirror",
                "name": "Mirror",
                "rules": {"conditions": [{"field": "liked", "operator": "eq", "value": True}]},
                "sync_mode": "replace",
                "target_playlist_name": "Liked mirror",
            }
        ]
    [first] = asyncio.run(plan_rule_sets(services)).plans
    asyncio.run(apply_plan(services, first.id))
    lose_tracks(demo_env, "quarantined")

    with pytest.raises(AppError) as caught:
        asyncio.run(plan_rule_sets(services))
    assert (caught.value.status_code, caught.value.code) == (409, "library_incomplete")
    assert "run `sap fetch`" in caught.value.detail
    assert "Liked Songs" in caught.value.detail
    assert [plan["id"] for plan in services.stores.plans.load().values()] == [first.id]

    fetch_library(demo_env)
    [again] = asyncio.run(plan_rule_sets(services)).plans
    assert (again.summary.adds, again.summary.removes, again.summary.writes) == (0, 0, 0)
    assert again.guards == []


def test_a_csv_source_that_lost_tracks_says_to_fetch_that_file(
    cli_env: DemoEnvironment, tmp_path: Path
) -> None:
    demo_env = cli_env  # the CLI's services: a CSV source may name any file
    from app.pipeline.sources.planning import SourceRequest, plan_fetch
    from tests.helpers.spotify_env import write_exportify_csv

    track_id = demo_env.emulator.saved_track_ids()[0]
    csv = write_exportify_csv(
        tmp_path / "Mix.csv",
        [[track_id, "Known", "A" * 22, "Artist", "Album", "2018-06-01T12:00:00Z"]],
    )
    planned = asyncio.run(
        plan_fetch(demo_env.services, [SourceRequest(source_type="csv", source_id=str(csv))])
    )
    asyncio.run(fetch_many(demo_env.services, planned))
    demo_env.services.stores.tracks.path.unlink()
    gaps = find_gaps(demo_env.services.stores)
    [source] = gaps.sources
    command = f"sap fetch --csv {shlex.quote(str(csv.resolve()))}"
    assert (source.key, source.name, source.fetch) == (f"csv:{csv.resolve()}", "Mix.csv", command)
    assert f"`{command}`" in (gaps.advice or "")


def test_the_unattended_sync_rebuilds_a_library_that_lost_its_tracks(
    demo_env: DemoEnvironment,
) -> None:
    """`sap sync` (cron) fetches the sources fetched before: the lost ones are read in full."""
    fetch_library(demo_env)
    before = library_data(demo_env)
    lose_tracks(demo_env, "quarantined")
    report = asyncio.run(sync_library(demo_env.services, enrich=False))
    assert report.ok is True and report.fetched is not None
    assert set(modes(report.fetched).values()) == {"full"}
    assert library_data(demo_env) == before


def test_the_gaps_are_read_again_only_when_a_file_changed(demo_env: DemoEnvironment) -> None:
    services = demo_env.services
    fetch_library(demo_env)
    first = services.gaps.current()
    assert first.complete is True
    assert services.gaps.current() is first  # nothing changed: the same answer, not re-read
    services.stores.tracks.path.unlink()
    lost = services.gaps.current()
    assert lost is not first and lost.complete is False


def test_a_sources_file_of_an_unexpected_shape_is_moved_aside_not_a_crash(
    demo_env: DemoEnvironment,
) -> None:
    stores = demo_env.services.stores
    fetch_library(demo_env)
    stores.sources.path.write_bytes(b'{"schema_version": 1, "data": {"liked": {"entries": [1]}}}')
    gaps = find_gaps(stores)
    assert (gaps.complete, gaps.sources) == (True, [])
    assert [item.original_name for item in list_quarantined(stores.directory)] == ["sources.json"]


def test_the_unattended_sync_leaves_out_a_playlist_that_is_gone(
    demo_env: DemoEnvironment,
) -> None:
    """A playlist fetched once and deleted since no longer stops `sap sync`; once its tracks
    are lost too, the sync forgets it and rebuilds the rest."""
    fetch_library(demo_env)
    stores = demo_env.services.stores
    liked = stores.sources.load()["liked"]
    gone = SourceRecord(
        key="playlist:" + "9" * 22,
        source_type="playlist",
        source_id="9" * 22,
        name="Deleted since",
        snapshot_id="old",
        entries=[SourceEntry(track_id=entry.track_id) for entry in liked.entries[:3]],
    )
    stores.sources.put(gone)
    report = asyncio.run(sync_library(demo_env.services, enrich=False))
    assert report.ok is True and report.fetched is not None
    assert gone.key not in modes(report.fetched)
    assert gone.key in stores.sources.load()  # whole: kept, as any fetched source

    stores.tracks.path.unlink()
    report = asyncio.run(sync_library(demo_env.services, enrich=False))
    assert report.ok is True and report.fetched is not None
    assert [ref.key for ref in report.fetched.forgotten] == [gone.key]
    assert find_gaps(stores).complete is True
