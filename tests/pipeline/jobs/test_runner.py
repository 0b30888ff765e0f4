"""The job runner: background execution, live progress, cancellation, failures, restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest
from pydantic import BaseModel

from app.core.errors import ConflictError, NotFoundError, UnknownStepError
from app.core.models import JobOwner, JobStatus, PipelineJob
from app.pipeline.jobs.queries import wait_for
from app.pipeline.jobs.runner import JobManager
from app.pipeline.jobs.steps import StepContext, StepRegistry
from app.pipeline.services import Services
from tests.helpers.paths import REPO
from tests.helpers.steps import Gate


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def registry(gate: Gate) -> StepRegistry:
    registry = StepRegistry()
    registry.register("gated", gate, "waits for the test")

    @registry.step("explode")
    def explode(ctx: StepContext) -> None:
        raise ValueError(f"boom {ctx.metadata.get('n')}")

    @registry.step("refuse")
    def refuse(ctx: StepContext) -> None:
        raise ConflictError("playlist changed since the plan", code="replan_needed")

    @registry.step("sleepy")
    async def sleepy(ctx: StepContext) -> str:
        ctx.progress(0, 10, "sleeping")
        gate.started.set()
        await asyncio.sleep(60)
        return "woke up"

    return registry


@pytest.fixture
def manager(services: Services, registry: StepRegistry, gate: Gate) -> Iterator[JobManager]:
    jobs = JobManager(services, registry, workers=2, flush_interval=0.05)
    jobs.start()
    yield jobs
    gate.open.set()
    jobs.shutdown()


def test_step_runs_in_the_background_with_live_progress(manager: JobManager, gate: Gate) -> None:
    job = manager.submit("gated", {"total": 4})
    assert job.status is JobStatus.PENDING
    assert gate.started.wait(5)
    running = manager.get(job.id)
    assert running.status is JobStatus.RUNNING
    assert (running.progress.done, running.progress.total) == (1, 4)
    assert running.progress.fraction == pytest.approx(0.25)
    assert running.message == "first unit"
    gate.open.set()
    done = wait_for(manager, job.id)
    assert done.status is JobStatus.DONE
    assert done.payload == {"units": 4}
    assert (done.progress.done, done.progress.total) == (4, 4)
    stored = manager.store.get(job.id)
    assert stored.status is JobStatus.DONE and stored.payload == {"units": 4}
    assert stored.started_at is not None and stored.finished_at is not None
    assert stored.created_at <= stored.started_at <= stored.finished_at


def test_progress_reaches_the_store_while_running(manager: JobManager, gate: Gate) -> None:
    job = manager.submit("gated", {"total": 7})
    assert gate.started.wait(5)
    stored = wait_for(
        manager, job.id, until=lambda _job: manager.store.get(job.id).progress.done == 1
    )
    assert manager.store.get(stored.id).progress.total == 7
    assert manager.store.get(stored.id).status is JobStatus.RUNNING


def test_cancel_a_running_job(manager: JobManager, gate: Gate) -> None:
    job = manager.submit("gated")
    assert gate.started.wait(5)
    asked = manager.cancel(job.id)
    assert asked.message in {"cancellation requested", "cancelled"}
    final = wait_for(manager, job.id)
    assert final.status is JobStatus.CANCELLED
    assert final.payload is None and final.error is None
    with pytest.raises(ConflictError, match="already finished"):
        manager.cancel(job.id)


@pytest.fixture
def one_worker(services: Services, registry: StepRegistry, gate: Gate) -> Iterator[JobManager]:
    """A runner with one worker: a second job waits in the queue while the first runs."""
    jobs = JobManager(services, registry, workers=1, flush_interval=0.05)
    jobs.start()
    yield jobs
    gate.open.set()
    jobs.shutdown()


def test_cancel_a_pending_job_before_it_runs(one_worker: JobManager, gate: Gate) -> None:
    jobs = one_worker
    first = jobs.submit("gated")
    assert gate.started.wait(5)
    second = jobs.submit("gated")
    assert jobs.get(second.id).status is JobStatus.PENDING
    assert jobs.cancel(second.id).status is JobStatus.CANCELLED
    gate.open.set()
    assert wait_for(jobs, first.id).status is JobStatus.DONE
    jobs.shutdown()
    assert gate.runs == 1
    assert jobs.store.get(second.id).status is JobStatus.CANCELLED


def test_async_steps_are_cancelled_at_their_next_await(manager: JobManager, gate: Gate) -> None:
    job = manager.submit("sleepy")
    assert gate.started.wait(5)
    manager.cancel(job.id)
    final = wait_for(manager, job.id, timeout=10)
    assert final.status is JobStatus.CANCELLED


def test_concurrency_is_bounded_by_the_worker_count(manager: JobManager, gate: Gate) -> None:
    ids = [manager.submit("gated").id for _ in range(4)]
    wait_for(manager, ids[1], until=lambda _job: gate.running == 2)
    statuses = sorted(manager.get(job_id).status.value for job_id in ids)
    assert statuses == ["pending", "pending", "running", "running"]
    gate.open.set()
    assert all(wait_for(manager, job_id).status is JobStatus.DONE for job_id in ids)
    assert gate.max_running == 2
    assert gate.runs == 4


def test_a_crashing_step_fails_the_job_with_its_error(manager: JobManager) -> None:
    final = wait_for(manager, manager.submit("explode", {"n": 7}).id)
    assert final.status is JobStatus.FAILED
    assert final.error is not None
    assert (final.error.code, final.error.message) == ("internal_error", "ValueError: boom 7")


def test_a_domain_error_keeps_its_code(manager: JobManager) -> None:
    final = wait_for(manager, manager.submit("refuse").id)
    assert final.error is not None
    assert final.error.code == "replan_needed"
    assert final.error.message == "playlist changed since the plan"


def test_unknown_step_is_rejected_and_nothing_is_stored(manager: JobManager) -> None:
    with pytest.raises(UnknownStepError, match="known steps: explode, gated, refuse, sleepy"):
        manager.submit("fetch_everything")
    assert manager.store.load_jobs() == []


def test_list_is_newest_first_filtered_and_paginated(manager: JobManager, gate: Gate) -> None:
    gate.open.set()
    ids = [manager.submit("gated").id for _ in range(3)]
    failed = manager.submit("explode").id
    for job_id in [*ids, failed]:
        wait_for(manager, job_id)
    page, total = manager.list(limit=2)
    assert total == 4
    assert [job.id for job in page] == [failed, ids[2]]
    page, total = manager.list(step="gated", offset=1, limit=5)
    assert (total, [job.id for job in page]) == (3, [ids[1], ids[0]])
    page, total = manager.list(status=JobStatus.FAILED)
    assert (total, [job.id for job in page]) == (1, [failed])


def test_cancellation_requested_by_another_process_reaches_the_runner(
    manager: JobManager, services: Services, registry: StepRegistry, gate: Gate
) -> None:
    job = manager.submit("gated")
    assert gate.started.wait(5)
    # A second manager on the same files, as the CLI would build it; it runs nothing itself.
    other = JobManager(services, registry)
    assert other.cancel(job.id).message == "cancellation requested"
    assert wait_for(manager, job.id, timeout=10).status is JobStatus.CANCELLED


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_start_marks_jobs_of_dead_processes_interrupted_and_rerun_works(
    services: Services, registry: StepRegistry, gate: Gate
) -> None:
    owner = JobOwner(pid=_dead_pid(), instance="gone")
    for job_id, status in [
        ("was-running", JobStatus.RUNNING),
        ("was-pending", JobStatus.PENDING),
        ("was-done", JobStatus.DONE),
    ]:
        services.stores.jobs.add(
            PipelineJob(id=job_id, step="gated", status=status, owner=owner, metadata={"total": 2}),
            keep_finished=100,
        )
    jobs = JobManager(services, registry, flush_interval=0.05)
    try:
        assert sorted(jobs.start()) == ["was-pending", "was-running"]
        interrupted = jobs.get("was-running")
        assert interrupted.status is JobStatus.FAILED
        assert interrupted.error is not None and interrupted.error.code == "interrupted"
        assert jobs.get("was-done").status is JobStatus.DONE
        gate.open.set()
        again = jobs.rerun("was-running")
        assert again.id != "was-running"
        assert again.metadata == {"total": 2, "rerun_of": "was-running"}
        assert wait_for(jobs, again.id).payload == {"units": 2}
    finally:
        jobs.shutdown()


def test_jobs_of_a_live_sibling_manager_are_not_interrupted(
    manager: JobManager, services: Services, registry: StepRegistry, gate: Gate
) -> None:
    job = manager.submit("gated")
    assert gate.started.wait(5)
    assert JobManager(services, registry).recover() == []
    assert manager.get(job.id).status is JobStatus.RUNNING


def test_rerun_refuses_unfinished_jobs_and_unknown_ids(manager: JobManager, gate: Gate) -> None:
    job = manager.submit("gated")
    assert gate.started.wait(5)
    with pytest.raises(ConflictError, match="still running"):
        manager.rerun(job.id)
    with pytest.raises(NotFoundError):
        manager.rerun("missing")


def test_run_inline_reports_progress_and_records_the_job(
    services: Services, registry: StepRegistry, gate: Gate
) -> None:
    gate.open.set()
    seen: list[tuple[int, int | None, str | None]] = []
    job = JobManager(services, registry).run_inline(
        "gated", {"total": 2}, on_progress=lambda *event: seen.append(event)
    )
    assert seen == [(1, 2, "first unit"), (2, 2, "all units")]
    assert job.status is JobStatus.DONE
    assert services.stores.jobs.get(job.id).payload == {"units": 2}


class Counted(BaseModel):
    counted: int
    at: datetime
    note: str | None = None


def test_a_step_returning_a_model_stores_the_models_json(services: Services) -> None:
    registry = StepRegistry()

    @registry.step("typed")
    def typed(ctx: StepContext) -> Counted:
        return Counted(counted=3, at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))

    job = JobManager(services, registry).run_inline("typed")
    expected = {"counted": 3, "at": "2026-01-02T03:04:05Z", "note": None}
    assert job.payload == expected
    stored = orjson.loads((services.settings.cache_dir / "jobs.json").read_bytes())
    assert stored["data"][-1]["payload"] == expected  # plain JSON on disk, read back as such


CHILD = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from app.core.config import Settings
    from app.pipeline.services import Services
    from app.pipeline.jobs.runner import JobManager
    from app.pipeline.jobs.steps import StepRegistry

    registry = StepRegistry()

    def forever(ctx):
        ctx.progress(1, 100, "working")
        print("STARTED", flush=True)
        threading.Event().wait()

    registry.register("forever", forever)
    jobs = JobManager(Services.from_settings(Settings(cache_dir=Path(sys.argv[1]))), registry)
    jobs.start()
    print(jobs.submit("forever").id, flush=True)
    threading.Event().wait()
    """
)


@pytest.mark.slow
def test_a_killed_server_leaves_an_interrupted_job(
    services: Services, registry: StepRegistry
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(services.settings.cache_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        job_id = child.stdout.readline().strip()
        assert child.stdout.readline().strip() == "STARTED"
        other = JobManager(services, registry)
        wait_for(other, job_id, timeout=10, until=lambda job: job.status is JobStatus.RUNNING)
        assert other.recover() == []  # its owner is alive: leave it alone
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    jobs = JobManager(services, registry)
    try:
        assert jobs.start() == [job_id]
        job = jobs.get(job_id)
        assert job.status is JobStatus.FAILED
        assert job.error is not None and job.error.code == "interrupted"
    finally:
        jobs.shutdown()


def test_a_job_that_starts_once_the_server_is_stopping_is_stopped_at_once(
    one_worker: JobManager, gate: Gate
) -> None:
    # The second job starts only when the first is done, after the server began to stop
    # (a worker taking a job from the queue then). Asking the running jobs to stop must reach
    # it too, not only those running when the signal came.
    jobs = one_worker
    first = jobs.submit("gated")
    second = jobs.submit("gated")
    assert gate.started.wait(5)
    jobs.begin_shutdown()
    gate.open.set()  # the first ignores the request and finishes its work
    assert wait_for(jobs, first.id).status is JobStatus.DONE
    stopped = wait_for(jobs, second.id)
    assert stopped.status is JobStatus.FAILED, stopped
    assert stopped.error is not None and stopped.error.code == "interrupted"
    assert gate.runs == 1  # its step never ran
