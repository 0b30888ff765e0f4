"""Job changes pushed to watchers: what the job runner publishes, how a subscription coalesces
and bounds what it holds, how the server's stop ends every stream, and the throttling note a
running job carries while a service makes it wait."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from app.core.models import JobStatus, PipelineJob
from app.emulators.common.transport import emulator_transport
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import RetryPolicy
from app.pipeline.jobs.events import JobEvents, News
from app.pipeline.jobs.others import OtherJobs
from app.pipeline.jobs.queries import wait_for
from app.pipeline.jobs.runner import JobManager
from app.pipeline.jobs.steps import StepContext, StepRegistry
from app.pipeline.services import Services
from tests.helpers.steps import Gate
from tests.net.test_client import OK, Clock, ScriptedService, answer


class Woken:
    """A `wake` callback counting its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_a_subscription_holds_each_changed_job_once_in_first_change_order() -> None:
    events = JobEvents()
    woken = Woken()
    subscription = events.subscribe(woken)
    for job_id in ["a", "b", "a", "c", "b", "a"]:
        events.publish(job_id)
    assert woken.count == 1  # woken once per batch, not per change
    assert subscription.take() == News(["a", "b", "c"], snapshot=False, closed=False)
    assert subscription.take() == News([], snapshot=False, closed=False)
    events.publish("c")
    assert woken.count == 2
    assert subscription.take().job_ids == ["c"]


def test_a_reader_too_far_behind_gets_a_snapshot_instead_of_a_growing_queue() -> None:
    events = JobEvents(max_pending=3)
    subscription = events.subscribe(Woken())
    for job_id in ["a", "b", "c", "a", "d", "e", "f"]:
        events.publish(job_id)
    assert subscription.take() == News([], snapshot=True, closed=False)
    events.publish("g")
    assert subscription.take() == News(["g"], snapshot=False, closed=False)


def test_closing_ends_every_subscription_now_and_later() -> None:
    events = JobEvents()
    woken = Woken()
    first = events.subscribe(woken)
    events.close_all()
    assert woken.count == 1 and first.take().closed
    late = Woken()
    assert events.subscribe(late).take().closed and late.count == 1
    assert events.watching() == 0


def test_a_reader_that_left_stops_receiving() -> None:
    events = JobEvents()
    subscription = events.subscribe(Woken())
    subscription.close()
    events.publish("a")
    assert events.watching() == 0 and subscription.take().job_ids == []


def test_a_wake_into_a_closed_event_loop_drops_the_subscription() -> None:
    events = JobEvents()
    loop = asyncio.new_event_loop()
    loop.close()
    events.subscribe(lambda: loop.call_soon_threadsafe(lambda: None))
    events.publish("a")  # RuntimeError inside: the reader is gone
    assert events.watching() == 0


# --- what the runner publishes -------------------------------------------------------------------


@pytest.fixture
def gate() -> Gate:
    return Gate()


def throttled_step(ctx: StepContext) -> str:
    """One request to a service that first answers 429 (Retry-After 7), on a test clock."""
    clock = Clock()
    service = ScriptedService([answer(429, retry_after="7"), OK], clock)
    policy = RetryPolicy(
        service="api.deezer.com",
        label="Deezer",
        code="provider_unavailable",
        attempts=2,
        throttled_attempts=3,
        max_wait=60,
        max_wait_setting="SAP_PROVIDER_MAX_RETRY_AFTER",
    )

    async def call() -> None:
        async with ServiceClient(
            "http://deezer.test",
            policy,
            pacer=HostPacer(0.0, clock=clock),
            transport=emulator_transport(service),
            sleep=clock.sleep,
        ) as http:
            await http.request("GET", "/track/1")

    ctx.progress(1, 2, "asking Deezer")
    asyncio.run(call())
    return "ok"


@pytest.fixture
def manager(services: Services, gate: Gate) -> Iterator[JobManager]:
    registry = StepRegistry()
    registry.register("gated", gate, "waits for the test")
    registry.register("throttled", throttled_step, "meets a 429")
    jobs = JobManager(services, registry, workers=2, flush_interval=0.05)
    jobs.start()
    yield jobs
    gate.open.set()
    jobs.shutdown()


def test_every_change_of_a_job_is_published(manager: JobManager, gate: Gate) -> None:
    changed = threading.Event()
    subscription = manager.events.subscribe(changed.set)
    job = manager.submit("gated", {"total": 2})
    assert gate.started.wait(5)
    seen = subscription.take().job_ids
    assert seen == [job.id]  # created, started and its first progress: one news
    assert manager.get(job.id).progress.done == 1
    changed.clear()
    gate.open.set()
    wait_for(manager, job.id)
    assert changed.wait(5) and subscription.take().job_ids == [job.id]
    # Cancelling a finished job changes nothing, and publishes nothing.
    other = manager.submit("gated")
    assert subscription.take().job_ids == [other.id]
    manager.cancel(other.id)
    assert subscription.take().job_ids == [other.id]
    assert wait_for(manager, other.id).status in {JobStatus.CANCELLED, JobStatus.DONE}


def test_stopping_the_runner_ends_the_streams(manager: JobManager) -> None:
    subscription = manager.events.subscribe(Woken())
    manager.begin_shutdown()
    assert subscription.take().closed


def test_a_running_job_notes_that_a_service_asked_it_to_slow_down(
    manager: JobManager,
) -> None:
    states: list[PipelineJob] = []  # the job as a reader sees it at each change

    def read() -> None:
        states.extend(manager.get(job_id) for job_id in subscription.take().job_ids)

    subscription = manager.events.subscribe(read)
    heard: list[str | None] = []
    job = manager.run_inline("throttled", on_progress=lambda _d, _t, message: heard.append(message))
    noted = [state for state in states if state.progress.note is not None]
    assert noted, states
    note, running = noted[0].progress.note, noted[0]
    assert note is not None and running.status is JobStatus.RUNNING
    assert (note.kind, note.service, note.seconds) == ("throttled", "Deezer", 7.0)
    assert note.text == "Deezer asked us to slow down; resuming in 7 s"
    assert (note.until - running.updated_at).total_seconds() == pytest.approx(7.0, abs=0.01)
    assert heard == ["asking Deezer", note.text]  # the CLI's progress bar shows it
    assert job.status is JobStatus.DONE and job.progress.note is None  # gone once finished
    assert states[-1].status is JobStatus.DONE and states[-1].progress.note is None


def test_a_job_another_process_runs_is_published_as_it_changes(
    manager: JobManager, services: Services
) -> None:
    # A `sap` command beside the server: its own manager (another owner) over the same
    # jobs.json. The server's watcher reads the file when it changes and publishes the job.
    manager.others.interval = 0.05
    assert manager.others.ready.wait(5)  # the jobs as they were when the server started
    news = threading.Event()
    subscription = manager.events.subscribe(news.set)
    seen_running = threading.Event()

    def slow(ctx: StepContext) -> str:
        ctx.progress(1, 2, "half way")
        assert seen_running.wait(10), "the server never published the running job"
        return "done"

    registry = StepRegistry()
    registry.register("slow", slow, "waits until the server saw it run")
    command = JobManager(Services.from_settings(services.settings), registry, flush_interval=0.0)
    finished: list[PipelineJob] = []
    runner = threading.Thread(target=lambda: finished.append(command.run_inline("slow")))
    runner.start()
    published: set[str] = set()
    deadline = time.monotonic() + 10
    while not published or manager.get(min(published)).progress.done != 1:
        # Created, started, half way: news as the watcher reads them.
        assert news.wait(max(0.0, deadline - time.monotonic())), published
        news.clear()
        published.update(subscription.take().job_ids)
    [job_id] = published
    assert manager.get(job_id).status is JobStatus.RUNNING
    seen_running.set()
    runner.join(10)
    assert finished and finished[0].status is JobStatus.DONE
    # It finished after the last news taken above: that change is published too.
    deadline = time.monotonic() + 10
    while job_id not in subscription.take().job_ids:
        assert news.wait(max(0.0, deadline - time.monotonic())), "the end was not published"
        news.clear()
    assert manager.get(job_id).status is JobStatus.DONE
    time.sleep(0.3)  # several looks after the job's last change: nothing more to publish
    assert subscription.take().job_ids == []


def test_jobs_changed_while_nobody_watched_are_published_at_the_first_watched_look(
    services: Services,
) -> None:
    events = JobEvents()
    watcher = OtherJobs(services.stores.jobs, "the-server", events)
    assert watcher.look(baseline=True) == []
    registry = StepRegistry()
    registry.register("quick", lambda ctx: "ok", "returns at once")
    command = JobManager(Services.from_settings(services.settings), registry)
    job = command.run_inline("quick")
    assert watcher.look() == []  # nobody watches: the file is not even read
    subscription = events.subscribe(Woken())
    assert watcher.look() == [job.id]  # changed since the last read
    assert subscription.take().job_ids == [job.id]
    assert watcher.look() == []  # the file did not move
