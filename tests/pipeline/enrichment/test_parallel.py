"""One enrich job, its providers at the same time: each at its own service's pace, progress per
provider in the job, a failing provider that does not stop the others, one cancel that stops
them all, AcousticBrainz after the MusicBrainz ids it reads, and resumption after a crash.

Real providers against their emulators; a provider is held still at the network (`env.hold`)
while the test watches the others, so "at the same time" is shown by what happens, not by a
clock: run one after the other, the job could never finish the second provider while the
first one's request is held."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import JobOwner, JobPart, JobPartState, JobStatus, PipelineJob
from app.pipeline.enrichment.service import RESUMABLE_STEPS
from app.pipeline.jobs.queries import wait_for
from app.pipeline.jobs.runner import JobManager
from app.pipeline.registry import default_registry
from app.providers.reccobeats import ReccoBeatsProvider
from tests.helpers.provider_env import BASE, LASTFM_KEY, ProviderEnv


@pytest.fixture
def env(tmp_path: Path) -> ProviderEnv:
    environment = ProviderEnv.create(
        tmp_path, tracks=60, acousticbrainz_url=f"{BASE}/acousticbrainz"
    )
    emulators = environment.emulators.providers
    emulators.musicbrainz.config.enforce_rate_limit = False
    emulators.deezer.config.rate_limit = None
    emulators.lastfm.config.rate_limit = None
    settings = environment.settings
    environment.unpaced(
        settings.musicbrainz_url,
        settings.listenbrainz_url,
        settings.deezer_url,
        settings.reccobeats_url,
        settings.lastfm_url,
        f"{BASE}/acousticbrainz",
    )
    return environment


@pytest.fixture
def jobs(env: ProviderEnv) -> Iterator[JobManager]:
    manager = JobManager(env.services, default_registry(), flush_interval=0.01)
    manager.start()
    try:
        yield manager
    finally:
        manager.shutdown()


def parts_of(job: PipelineJob) -> dict[str, JobPart]:
    return {part.id: part for part in job.progress.parts}


def state(job: PipelineJob, provider: str) -> JobPartState | None:
    part = parts_of(job).get(provider)
    return None if part is None else part.state


def liked(env: ProviderEnv) -> list[str]:
    return [saved.track_id for saved in env.library.liked]


def test_providers_of_different_services_run_at_the_same_time(
    env: ProviderEnv, jobs: JobManager
) -> None:
    deezer = env.hold(env.settings.deezer_url)
    job = jobs.submit("enrich", {"providers": ["reccobeats", "deezer"]})
    assert job.metadata == {"providers": ["reccobeats", "deezer"]}
    assert deezer.arrived.wait(30)

    # Deezer's first request is held at the network; ReccoBeats goes on to its end meanwhile.
    watched = wait_for(jobs, job.id, until=lambda j: state(j, "reccobeats") is JobPartState.DONE)
    parts = parts_of(watched)
    assert list(parts) == ["deezer", "reccobeats"]  # run order, whatever the order asked
    recco = parts["reccobeats"]
    assert recco.total == len(liked(env)) and recco.done == recco.total
    assert recco.message is not None and "matched" in recco.message
    assert parts["deezer"].state is JobPartState.RUNNING and parts["deezer"].done == 0
    with_isrc = sum(1 for t in liked(env) if env.library.tracks[t].isrc)
    assert parts["deezer"].total == with_isrc
    assert watched.status is JobStatus.RUNNING
    assert (watched.progress.done, watched.progress.total) == (recco.total, recco.total + with_isrc)
    assert env.emulators.providers.deezer.requests == []

    deezer.release()
    done = wait_for(jobs, job.id)
    assert done.status is JobStatus.DONE, done.error
    assert {part.state for part in done.progress.parts} == {JobPartState.DONE}
    reports = {report["provider"]: report for report in done.payload["providers"]}
    assert list(reports) == ["deezer", "reccobeats"]
    in_deezer = [t for t in liked(env) if env.truth(t).in_deezer and env.library.tracks[t].isrc]
    assert reports["deezer"]["matched"] == len(in_deezer)
    assert reports["deezer"]["state"] == "done" and reports["deezer"]["error"] is None
    assert reports["deezer"]["seconds"] > 0
    # The job's counts add up its providers'; the store has both providers' entries.
    assert (
        done.payload["matched"] == reports["deezer"]["matched"] + reports["reccobeats"]["matched"]
    )
    assert done.payload["selected"] == len(liked(env))
    assert done.progress.done == done.progress.total == with_isrc + len(liked(env))
    sources = {e.source for entries in env.stores.enrichments.load().values() for e in entries}
    assert sources == {"deezer", "reccobeats"}


def test_a_failing_provider_does_not_stop_the_others(env: ProviderEnv, jobs: JobManager) -> None:
    env.emulators.providers.lastfm.config.suspended_keys = (LASTFM_KEY,)
    job = jobs.submit("enrich", {"providers": ["lastfm", "reccobeats"]})
    done = wait_for(jobs, job.id)

    assert done.status is JobStatus.PARTIAL
    assert done.error is not None and done.error.code == "provider_key_rejected"
    assert done.error.message.startswith("lastfm: ") and "suspended" in done.error.message
    parts = parts_of(done)
    assert parts["lastfm"].state is JobPartState.FAILED
    assert parts["lastfm"].error == done.error.model_copy(
        update={"message": done.error.message.removeprefix("lastfm: ")}
    )
    assert parts["reccobeats"].state is JobPartState.DONE
    reports = {report["provider"]: report for report in done.payload["providers"]}
    assert reports["reccobeats"]["matched"] == sum(
        1 for t in liked(env) if env.truth(t).in_reccobeats
    )
    assert reports["lastfm"]["state"] == "failed"
    assert reports["lastfm"]["error"]["code"] == "provider_key_rejected"

    # Every provider failing: the job failed, each named.
    env.emulators.providers.reccobeats.config.fail_rate = 1.0
    metadata = {"providers": ["lastfm", "reccobeats"], "refresh": True}
    again = wait_for(jobs, jobs.submit("enrich", metadata).id)
    assert again.status is JobStatus.FAILED
    assert again.error is not None and again.error.code == "providers_failed"
    assert "lastfm: " in again.error.message and "reccobeats: " in again.error.message


def test_cancel_stops_every_provider(env: ProviderEnv, jobs: JobManager) -> None:
    holds = [env.hold(env.settings.deezer_url), env.hold(env.settings.reccobeats_url)]
    job = jobs.submit("enrich", {"providers": ["deezer", "reccobeats"]})
    try:
        assert all(hold.arrived.wait(30) for hold in holds)
        jobs.cancel(job.id)
        done = wait_for(jobs, job.id)
    finally:
        for hold in holds:
            hold.release()

    assert done.status is JobStatus.CANCELLED
    assert {part.id: part.state for part in done.progress.parts} == {
        "deezer": JobPartState.CANCELLED,
        "reccobeats": JobPartState.CANCELLED,
    }
    # The held requests never reached the services, and nothing was sent after the cancel.
    providers = env.emulators.providers
    assert providers.deezer.requests == [] and providers.reccobeats.requests == []


def test_acousticbrainz_waits_for_the_musicbrainz_ids_it_reads(
    env: ProviderEnv, jobs: JobManager
) -> None:
    seen: list[dict[str, JobPartState]] = []

    def watch(parts: list[JobPart]) -> None:
        seen.append({part.id: part.state for part in parts})

    done = jobs.run_inline(
        "enrich", {"providers": ["acousticbrainz", "musicbrainz", "reccobeats"]}, on_parts=watch
    )

    assert done.status is JobStatus.DONE, done.error
    assert [p["provider"] for p in done.payload["providers"]] == [
        "musicbrainz",
        "reccobeats",
        "acousticbrainz",
    ]
    # Waiting, it says for what; it starts only once MusicBrainz is done (ReccoBeats at once).
    assert seen[0]["acousticbrainz"] is JobPartState.PENDING
    assert seen[0]["musicbrainz"] is JobPartState.PENDING
    first_run = next(i for i, s in enumerate(seen) if s["acousticbrainz"] is JobPartState.RUNNING)
    assert seen[first_run]["musicbrainz"] is JobPartState.DONE
    assert any(
        s["reccobeats"] is JobPartState.RUNNING and s["musicbrainz"] is JobPartState.RUNNING
        for s in seen
    )
    # It found the recordings MusicBrainz matched in this very job.
    reports = {report["provider"]: report for report in done.payload["providers"]}
    assert reports["acousticbrainz"]["matched"] > 0
    matched_mb = reports["musicbrainz"]["matched"]
    ab = reports["acousticbrainz"]
    assert ab["not_applicable"] == len(liked(env)) - matched_mb
    assert ab["matched"] + ab["not_found"] == matched_mb


def test_a_job_waiting_for_a_provider_says_so(env: ProviderEnv, jobs: JobManager) -> None:
    musicbrainz = env.hold(env.settings.musicbrainz_url)
    job = jobs.submit("enrich", {"providers": ["musicbrainz", "acousticbrainz"]})
    try:
        assert musicbrainz.arrived.wait(30)
        waiting = wait_for(
            jobs, job.id, until=lambda j: state(j, "musicbrainz") is JobPartState.RUNNING
        )
        part = parts_of(waiting)["acousticbrainz"]
        assert (part.state, part.total, part.message) == (
            JobPartState.PENDING,
            None,
            "waiting for musicbrainz",
        )
    finally:
        musicbrainz.release()
    assert wait_for(jobs, job.id).status is JobStatus.DONE


def test_an_interrupted_job_of_several_providers_resumes_where_it_stopped(
    env: ProviderEnv,
) -> None:
    env.run(ReccoBeatsProvider(env.settings), track_ids=liked(env)[:30])
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    owner = JobOwner(pid=int(dead.stdout), instance="gone")
    env.stores.jobs.add(
        PipelineJob(
            id="cut-short",
            step="enrich",
            status=JobStatus.RUNNING,
            owner=owner,
            metadata={"providers": ["deezer", "reccobeats"], "track_ids": None, "source": None},
        ),
        keep_finished=100,
    )
    jobs = JobManager(env.services, default_registry(), flush_interval=0.05)
    try:
        assert jobs.start(resume=RESUMABLE_STEPS) == ["cut-short"]
        resumed = jobs.get(jobs.get("cut-short").metadata["resumed_as"])
        done = wait_for(jobs, resumed.id, timeout=30)
    finally:
        jobs.shutdown()
    assert done.status is JobStatus.DONE
    reports = {report["provider"]: report for report in done.payload["providers"]}
    assert (reports["reccobeats"]["cached"], reports["reccobeats"]["total"]) == (30, 30)
    assert reports["deezer"]["cached"] == 0
