"""The enrichment runner and framework with real providers against their emulators: caching,
versions, not-found retry, failed batches, pacing shared across threads, resumable jobs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.models import JobOwner, JobStatus, PipelineJob, utc_now
from app.net.pacing import HostPacer
from app.pipeline.enrichment.runner import SAVE_EVERY, ResultSaver
from app.pipeline.enrichment.service import RESUMABLE_STEPS
from app.pipeline.jobs.queries import wait_for
from app.pipeline.jobs.runner import JobManager
from app.pipeline.registry import default_registry
from app.providers.base import BatchOutcome
from app.providers.deezer import DeezerProvider
from app.providers.http import PACE_MARGIN
from app.providers.reccobeats import ReccoBeatsProvider
from tests.helpers.provider_env import ProviderEnv


@pytest.fixture
def env(tmp_path: Path) -> ProviderEnv:
    environment = ProviderEnv.create(tmp_path, tracks=60)
    environment.emulators.providers.deezer.config.rate_limit = None
    environment.unpaced(environment.settings.deezer_url, environment.settings.reccobeats_url)
    return environment


def test_outcome_keeps_each_track_in_one_state() -> None:
    outcome = BatchOutcome()
    outcome.fail("a", "HTTP 500")
    outcome.missing("a")  # a failure is not turned into a cached "not found"
    outcome.missing("b")
    assert (outcome.failed, outcome.not_found) == ({"a": "HTTP 500"}, {"b"})


def test_not_found_is_retried_after_the_configured_days(env: ProviderEnv) -> None:
    first = env.run(ReccoBeatsProvider(env.settings))
    missing = [s.track_id for s in env.library.liked if not env.truth(s.track_id).in_reccobeats]
    assert first.not_found == len(missing) > 0
    assert env.run(ReccoBeatsProvider(env.settings)).requests == 0
    # Age one not-found answer past SAP_ENRICH_NOT_FOUND_RETRY_DAYS (30): only it is asked again.
    with env.stores.enrichments.update() as cache:
        entry = cache[missing[0]][0]
        assert entry.not_found
        entry.timestamp = utc_now() - timedelta(days=31)
    again = env.run(ReccoBeatsProvider(env.settings))
    assert (again.total, again.not_found, again.requests) == (1, 1, 1)
    log = env.emulators.providers.reccobeats.requests[-1]
    assert log.query["ids"] == missing[0]


def test_a_new_provider_version_redoes_its_tracks(env: ProviderEnv) -> None:
    env.run(DeezerProvider(env.settings))

    class NextDeezer(DeezerProvider):
        version = "2"

    rerun = env.run(NextDeezer(env.settings))
    assert rerun.cached == 0 and rerun.total > 0
    versions = {e.version for entries in env.stores.enrichments.load().values() for e in entries}
    assert versions == {"2"}


def test_failed_batches_are_counted_not_cached_and_asked_again(env: ProviderEnv) -> None:
    recco = env.emulators.providers.reccobeats
    recco.config.fail_rate = 1.0  # every request answers 5xx: every batch fails after retries
    broken = env.run(ReccoBeatsProvider(env.settings))
    assert broken.matched == broken.not_found == 0
    assert broken.failed == broken.total == len(env.library.liked)
    assert broken.stopped is None  # two failed batches: not yet "three in a row"
    assert len(broken.errors) == 1 and "after 5 attempts" in broken.errors[0]
    assert env.stores.enrichments.load() == {}
    recco.config.fail_rate = 0.0
    healed = env.run(ReccoBeatsProvider(env.settings))
    assert healed.failed == 0 and healed.matched + healed.not_found == len(env.library.liked)


def test_a_service_pace_is_shared_by_jobs_in_different_threads() -> None:
    pacer = HostPacer.for_service("http://pacer.test/shared", rate=20.0, margin=PACE_MARGIN)
    starts: list[float] = []
    lock = threading.Lock()

    def job() -> None:
        async def go() -> None:
            for _ in range(5):
                delay = pacer.reserve()
                with lock:
                    starts.append(delay)
                await asyncio.sleep(0)

        asyncio.run(go())

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 15 reservations from 3 event loops: each slot is booked one interval after the previous.
    assert pacer.interval == pytest.approx(PACE_MARGIN / 20)
    assert sorted(round(delay / pacer.interval) for delay in starts) == list(range(15))


def test_interrupted_enrich_jobs_resume_where_they_stopped(env: ProviderEnv) -> None:
    env.run(
        ReccoBeatsProvider(env.settings), track_ids=[s.track_id for s in env.library.liked[:30]]
    )
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    owner = JobOwner(pid=int(dead.stdout), instance="gone")
    assert not Path(f"/proc/{owner.pid}").exists()
    env.stores.jobs.add(
        PipelineJob(
            id="cut-short",
            step="enrich",
            status=JobStatus.RUNNING,
            owner=owner,
            metadata={"provider": "reccobeats", "track_ids": None, "source": None},
        ),
        keep_finished=100,
    )
    jobs = JobManager(env.services, default_registry(), flush_interval=0.05)
    try:
        assert jobs.start(resume=RESUMABLE_STEPS) == ["cut-short"]
        old = jobs.get("cut-short")
        assert old.error is not None and old.error.code == "interrupted"
        resumed = jobs.get(old.metadata["resumed_as"])
        assert resumed.metadata["rerun_of"] == "cut-short"
        done = wait_for(jobs, resumed.id, timeout=30)
        assert done.status is JobStatus.DONE
        # The 30 tracks enriched before the "crash" were not asked again.
        assert done.payload["cached"] == 30
        assert done.payload["total"] == len(env.library.liked) - 30
    finally:
        jobs.shutdown()
    # A second start does not resume the same job twice.
    again = JobManager(env.services, default_registry())
    try:
        again.start(resume=RESUMABLE_STEPS)
        assert again.list(step="enrich")[1] == 2  # the interrupted job and its one resumption
    finally:
        again.shutdown()


def test_one_saver_writes_every_providers_results_together_when_due(env: ProviderEnv) -> None:
    """A job's providers share one `ResultSaver`: entries of two providers for one track are
    merged into one write, nothing is written before the interval (on an injected clock), a
    due write runs in the saver's thread and `flush` waits for it; `close` writes the rest."""
    now = [0.0]
    saver = ResultSaver(env.stores, clock=lambda: now[0])
    deezer, recco = DeezerProvider(env.settings), ReccoBeatsProvider(env.settings)
    first, second = (s.track_id for s in env.library.liked[:2])
    found = BatchOutcome()
    found.found(first, deezer.entry({"tempo": 120.0}, method="isrc"))
    saver.add(deezer, found)
    missing = BatchOutcome()
    missing.missing(first)
    saver.add(recco, missing)

    saver.maybe_flush()
    assert env.stores.enrichments.load() == {}  # not due yet
    now[0] = SAVE_EVERY
    saver.maybe_flush()
    asyncio.run(saver.flush())
    stored = env.stores.enrichments.load()
    assert {e.source: e.not_found for e in stored[first]} == {"deezer": False, "reccobeats": True}

    later = BatchOutcome()
    later.found(second, recco.entry({"energy": 0.5}, method="spotify_id"))
    saver.add(recco, later)
    saver.maybe_flush()  # the next write is not due: the clock did not move
    assert second not in env.stores.enrichments.load()
    saver.close()  # a stopping job: the rest is written without the event loop
    assert env.stores.enrichments.load()[second][0].categories == {"energy": 0.5}
