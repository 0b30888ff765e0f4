"""A fetch whose sources fail says so, and a fetch under heavy faults converges.

A `fetch_sources` job with failed sources ends "partial" (what was read is saved) or "failed"
(nothing was), naming each failure; a track's `added_at` is a function of the sources alone
(the liked date, else the earliest dated sighting), so the order in which sources were read
and saved cannot change it; and a fetch at 70% injected failures followed by a clean one
leaves exactly the library a clean fetch gives.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.core.models import JobStatus, TrackSourceType
from app.data.sources import SourceEntry, SourceRecord
from app.demo import DemoEnvironment, demo_state_file
from app.pipeline.jobs.runner import JobManager
from app.pipeline.library_gaps import find_gaps
from app.pipeline.registry import default_registry
from app.pipeline.services import Services
from app.pipeline.sources.commit import added_dates
from app.pipeline.sources.planning import PlannedSource, SourceRequest, plan_fetch, plan_library
from app.pipeline.sources.service import (
    FetchSourcesReport,
    SourceFetchFailure,
    fetch_source,
)
from app.pipeline.sync.unattended import sync_library
from app.spotify.auth.login import headless_login
from tests.helpers.spotify_env import Playlists, demo_settings

LIKED = SourceRequest(source_type="liked")


def playlist(playlist_id: str) -> SourceRequest:
    return SourceRequest(source_type="playlist", source_id=playlist_id)


def run_fetch(services: Services, planned: list[PlannedSource]) -> Any:
    """The `fetch_sources` job as `sap fetch` runs it (recorded in jobs.json)."""
    manager = JobManager(services, default_registry())
    metadata = {"sources": [source.metadata() for source in planned]}
    return manager.run_inline("fetch_sources", metadata)


def library_data(env: DemoEnvironment) -> tuple[dict[str, Any], dict[str, Any]]:
    """tracks.json and sources.json as data (a record's `fetched_at` aside: it is a clock)."""
    directory = env.services.stores.directory
    tracks = orjson.loads((directory / "tracks.json").read_bytes())["data"]
    sources = orjson.loads((directory / "sources.json").read_bytes())["data"]
    for record in sources.values():
        record.pop("fetched_at")
    return tracks, sources


def new_env(
    directory: Path, *, account_of: DemoEnvironment | None = None, **settings: Any
) -> DemoEnvironment:
    """Another logged-in demo over the same generated account, in its own data directory;
    with `account_of`, as that demo's account stands now (its changes copied over)."""
    chosen = demo_settings(directory, **settings)
    if account_of is not None:
        state = demo_state_file(chosen)
        state.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_state_file(account_of.settings), state)
    env = DemoEnvironment.create(chosen)
    asyncio.run(headless_login(env.services.spotify))
    return env


def quick_retries(env: DemoEnvironment) -> Services:
    """The env's services with retries that do not wait (the backoff is not under test)."""
    spotify = dataclasses.replace(env.services.spotify, retry_wait=(0.0, 0.0))
    return dataclasses.replace(env.services, spotify=spotify)


def empty_csv(path: Path) -> Path:
    path.write_text("", encoding="utf-8")
    return path


# --- the job's status names what failed --------------------------------------------------------


def test_a_fetch_with_a_failed_source_is_partial_and_names_it(
    cli_env: DemoEnvironment, tmp_path: Path
) -> None:
    # The CLI's services: a CSV source may name any file (a bad one fails on its own).
    demo_env = cli_env
    owned = Playlists.of(demo_env.emulator).owned[0]
    requests = [
        LIKED,
        playlist(owned.id),
        SourceRequest(source_type="csv", source_id=str(empty_csv(tmp_path / "Broken.csv"))),
    ]
    planned = asyncio.run(plan_fetch(demo_env.services, requests))
    job = run_fetch(demo_env.services, planned)

    assert job.status is JobStatus.PARTIAL
    assert job.error is not None and job.error.code == "sources_failed"
    assert job.error.message.startswith("1 of 3 sources failed: Broken.csv (csv_empty: ")
    assert job.error.message.endswith(
        "; the other sources were saved: fetch again to retry the failed ones"
    )
    assert job.message == job.error.message
    report = FetchSourcesReport.model_validate(job.payload)
    assert report.failed == 1
    failure = report.sources[2]
    assert isinstance(failure, SourceFetchFailure)
    assert (failure.source.name, failure.error.code) == ("Broken.csv", "csv_empty")
    # What was read is saved; the failed source left no record.
    assert set(demo_env.services.stores.sources.load()) == {"liked", f"playlist:{owned.id}"}


def test_a_fetch_whose_every_source_failed_is_failed_with_its_report(
    demo_env: DemoEnvironment,
) -> None:
    owned = Playlists.of(demo_env.emulator).owned[0]
    planned = asyncio.run(plan_fetch(demo_env.services, [LIKED, playlist(owned.id)]))
    demo_env.emulator.config.fail_rate = 1.0
    job = run_fetch(quick_retries(demo_env), planned)

    assert job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "sources_failed"
    assert job.error.message.startswith("2 of 2 sources failed: Liked Songs (spotify_unavailable: ")
    assert f"playlist {owned.name!r} (spotify_unavailable: " in job.error.message
    assert job.error.message.endswith("; nothing was saved: fetch again to retry")
    report = FetchSourcesReport.model_validate(job.payload)
    assert [type(result) for result in report.sources] == [SourceFetchFailure] * 2
    assert demo_env.services.stores.sources.load() == {}


def test_a_fetch_without_failures_is_done(demo_env: DemoEnvironment) -> None:
    planned = asyncio.run(plan_fetch(demo_env.services, [LIKED]))
    job = run_fetch(demo_env.services, planned)
    assert (job.status, job.error, job.message) == (JobStatus.DONE, None, "done")


# --- added_at: a function of the sources, whatever order they were saved in --------------------


def test_added_at_is_the_liked_date_else_the_earliest_sighting_in_any_order(
    demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    emulator = demo_env.emulator
    first, second = Playlists.of(emulator).owned[:2]
    liked_at = {saved.track_id: saved.added_at for saved in emulator.state.liked}
    in_first = {e.track_id: e.added_at for e in first.entries if e.track_id}
    shared = next(t for t in in_first if t not in liked_at)
    # The track shows up in the second playlist too, on another date.
    emulator.edit_playlist_as_other_user(second.id, add=[f"spotify:track:{shared}"])
    seen = {
        first.id: in_first[shared],
        second.id: next(
            e.added_at for e in emulator.playlist(second.id).entries if e.track_id == shared
        ),
    }
    earliest, latest = sorted(seen, key=lambda playlist_id: seen[playlist_id])
    assert seen[earliest] < seen[latest]
    liked_and_listed = next(t for t in in_first if t in liked_at)

    # One library saved the playlist with the later date first, then the other, then the
    # liked songs; another read them all at once: the same dates.
    one = demo_env
    for request in (playlist(latest), playlist(earliest), LIKED):
        asyncio.run(fetch_source(one.services, request))
    other = new_env(tmp_path / "other", account_of=one)  # the same account, edit included
    planned = asyncio.run(plan_fetch(other.services, [LIKED, playlist(earliest), playlist(latest)]))
    assert run_fetch(other.services, planned).status is JobStatus.DONE
    assert library_data(one) == library_data(other)

    tracks = one.services.stores.tracks.load_tracks()
    assert tracks[shared].added_at == seen[earliest]  # the earliest sighting
    assert tracks[liked_and_listed].added_at == liked_at[liked_and_listed]  # the liked date

    # Unliked: its date falls back to the earliest sighting.
    emulator.remove_saved_tracks([liked_and_listed])
    asyncio.run(fetch_source(one.services, LIKED))
    first_seen = min(
        e.added_at
        for listed in (first.id, second.id)
        for e in emulator.playlist_entries(listed)
        if e.track_id == liked_and_listed and e.added_at
    )
    assert one.services.stores.tracks.load_tracks()[liked_and_listed].added_at == first_seen


AT = [datetime(2021, month, 1, tzinfo=UTC) for month in range(1, 5)]


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        ({"liked": [AT[2]], "playlist:a": [AT[0]]}, AT[2]),  # liked: its liked date
        ({"playlist:a": [AT[1], AT[3]], "playlist:b": [AT[0]]}, AT[0]),  # the earliest
        ({"playlist:a": [None], "playlist:b": [AT[1]]}, AT[1]),  # an undated entry: no date
        ({"playlist:a": [None]}, None),
        ({"liked": [None], "csv:x": [AT[3], AT[2]]}, AT[2]),  # liked without a date
    ],
)
def test_added_dates_follow_the_rule_whatever_the_order(
    held: dict[str, list[datetime | None]], expected: datetime | None
) -> None:
    def record(key: str, dates: list[datetime | None]) -> SourceRecord:
        kind = key.partition(":")[0]
        return SourceRecord(
            key=key,
            source_type=TrackSourceType(kind),
            entries=[SourceEntry(track_id="t", added_at=at) for at in dates],
        )

    records = [record(key, dates) for key, dates in held.items()]
    for order in (records, records[::-1]):
        assert added_dates({r.key: r for r in order}) == {"t": expected}


def test_the_unattended_sync_is_not_ok_when_a_source_failed(demo_env: DemoEnvironment) -> None:
    asyncio.run(fetch_source(demo_env.services, LIKED))
    demo_env.emulator.config.fail_rate = 1.0
    report = asyncio.run(sync_library(quick_retries(demo_env), fetch=True, enrich=False))
    assert report.fetched is not None and report.fetched.failed == 1
    assert report.ok is False


# --- the proof: 70% failures, then a clean fetch ------------------------------------------------


FAULT_TRIALS = (1, 2, 3)


@pytest.mark.slow
def test_a_fetch_at_70_percent_failures_then_a_clean_one_gives_the_clean_library(
    tmp_path: Path,
) -> None:
    """Each trial: a faulty fetch of the whole library (50% 5xx, 20% dropped connections,
    three attempts per request), then a clean one, against a clean fetch of the same account
    into another directory: tracks.json and sources.json are equal as data."""
    clean = new_env(tmp_path / "clean")
    assert run_fetch(clean.services, asyncio.run(plan_library(clean.services))).status is (
        JobStatus.DONE
    )
    expected = library_data(clean)
    outcomes: Counter[str] = Counter()
    failures = 0
    for trial in FAULT_TRIALS:
        env = new_env(tmp_path / f"faulty-{trial}", spotify_max_attempts=3)
        services = quick_retries(env)
        planned = asyncio.run(plan_library(services))
        env.emulator.requests.clear()
        env.emulator.config.fault_seed = trial
        env.emulator.reset_faults()
        env.emulator.config.fail_rate, env.emulator.config.drop_rate = 0.5, 0.2

        job = run_fetch(services, planned)
        report = FetchSourcesReport.model_validate(job.payload)
        faults = Counter(r.fault for r in env.emulator.api_requests() if r.fault)
        assert faults["error"] > 0 and faults["drop"] > 0
        failed = [r for r in report.sources if isinstance(r, SourceFetchFailure)]
        failures += len(failed)
        expected_status = (
            JobStatus.DONE
            if not failed
            else JobStatus.FAILED
            if len(failed) == len(planned)
            else JobStatus.PARTIAL
        )
        assert job.status is expected_status
        outcomes[job.status.value] += 1
        for failure in failed:
            assert failure.error.code == "spotify_unavailable"
            assert job.error is not None and failure.source.name is not None
            assert f"{failure.source.name}" in job.error.message
            assert failure.source.key not in env.services.stores.sources.load()
        # Whatever was saved is whole: no source points at a missing track.
        assert find_gaps(env.services.stores).complete is True

        env.emulator.config.fail_rate = env.emulator.config.drop_rate = 0.0
        again = run_fetch(services, asyncio.run(plan_library(services)))
        assert again.status is JobStatus.DONE
        assert library_data(env) == expected
    assert failures > 0  # the faults did make sources fail
    assert sum(outcomes.values()) == len(FAULT_TRIALS)
