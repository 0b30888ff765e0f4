"""Background jobs: a bounded worker pool that runs registered steps and records them.

Lifecycle of a job::

    submit() ──> pending ──worker picks it up──> running ──> done | partial | failed | cancelled
                    └──────────── cancel() ───────────────────────────────────────┘

"partial" is a step that did part of what it was asked and kept it (a fetch whose other sources
failed): its payload says what was done, its error what was not (see `steps.Shortfall`).

jobs.json is the source of truth, so the CLI and the server see the same jobs. While a job runs,
its live state (progress, message) is kept in memory and written to the store at most every
`flush_interval` seconds; `get()` returns the live state, so polling never waits on the disk and
never runs the step. Each flush also picks up a cancellation requested by another process
(`spotify-auto-playlists jobs cancel` while the server runs the job).

On start, jobs left `pending` or `running` by a process that no longer exists become `failed`
with code ``interrupted``; `rerun()` starts them again with the same step and metadata.

Every creation and change of a job is published to `events` (the job event stream's
subscriptions, `events.py`), and a service that asks a running step to slow down
(`app.net.throttling`) becomes the job's `progress.note` until the wait is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from pydantic import BaseModel

from app.core.errors import AppError, BusyError, ConflictError, StoreError
from app.core.models import (
    JobError,
    JobNote,
    JobOwner,
    JobPart,
    JobProgress,
    JobStatus,
    PipelineJob,
    utc_now,
)
from app.core.redact import redact
from app.data.jobs import JobStore
from app.net.throttling import Throttling, listening
from app.pipeline.jobs.events import JobEvents
from app.pipeline.jobs.others import OtherJobs
from app.pipeline.jobs.queries import JobListing, count_by_status, page_jobs
from app.pipeline.jobs.recovery import (
    mark_interrupted,
    mark_resumed,
    register_instance,
    request_cancel,
    resumable,
    unregister_instance,
)
from app.pipeline.jobs.steps import (
    JobCancelled,
    MayFallShort,
    PartsCallback,
    ProgressCallback,
    StepContext,
    StepRegistry,
    run_step_for_job,
)
from app.pipeline.services import Services

log = logging.getLogger(__name__)

__all__ = ["JOB_STOP_BUDGET", "SHUTDOWN_TIMEOUT", "JobManager", "new_job_id", "payload_json"]

SHUTDOWN_TIMEOUT = 10.0
"""Seconds from SIGTERM to the process's exit (docs/operations.md promises it)."""

EXIT_RESERVE = 2.0
"""Of those, what is kept for leaving the process once the jobs are done or given up on
(uvicorn closing, the lifespan's end, the interpreter's exit): without it a job that ignores
the request to stop held the process to the very last moment and it exited past the bound."""

JOB_STOP_BUDGET = SHUTDOWN_TIMEOUT - EXIT_RESERVE
"""Seconds a stopping server gives its running jobs, counted from the signal."""


def payload_json(payload: Any) -> Any:
    """What a job stores of a step's return value: a model as its JSON form (jobs.json holds
    plain JSON, whoever reads it back), anything else as it is."""
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json")
    return payload


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class _Live:
    job: PipelineJob
    context: StepContext
    last_flush: float = 0.0
    stopping: bool = False  # the server is shutting down: record "interrupted", not "cancelled"


class JobManager:
    """Creates, runs, cancels and lists jobs; one per server or CLI process."""

    def __init__(
        self,
        services: Services,
        registry: StepRegistry,
        *,
        workers: int | None = None,
        history_limit: int | None = None,
        queue_limit: int | None = None,
        flush_interval: float = 0.5,
        refresh_library: Callable[[], object] | None = None,
    ) -> None:
        self.services = services
        self._refresh_after = refresh_library
        self.registry = registry
        self.store: JobStore = services.stores.jobs
        self.workers = workers or services.settings.job_workers
        self.history_limit = history_limit or services.settings.job_history_limit
        self.queue_limit = queue_limit or services.settings.job_queue_limit
        self._waiting = 0  # submitted here, not started yet (the queue the limit bounds)
        self._stop_by: float | None = None  # set when the server began to stop
        self.flush_interval = flush_interval
        self.instance = uuid.uuid4().hex
        self._owner = JobOwner(pid=os.getpid(), instance=self.instance)
        self._executor: ThreadPoolExecutor | None = None
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()
        self._futures: dict[str, Future[AppError | None]] = {}
        self.events = JobEvents()  # who watches job changes (`GET /pipeline/jobs/events`)
        # The jobs `sap` commands run beside the server, on the same stream (`others`).
        self.others = OtherJobs(self.store, self.instance, self.events)

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, *, resume: Collection[str] = ()) -> list[str]:
        """Start the worker pool; returns the ids of jobs marked interrupted.

        Interrupted jobs (a crash, or a server stopped mid-job) whose step is in `resume` are
        started again once (steps that save their work as they go, like ``enrich``, then
        continue where they stopped); the old job records ``resumed_as``.
        """
        register_instance(self.instance)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sap-job")
        try:
            interrupted = self.recover()
            self.others.start()  # publishes other processes' jobs as they change
            if resume:
                for job in resumable(self.store.load_jobs(), resume):
                    new = self.submit(job.step, {**job.metadata, "rerun_of": job.id})
                    self.store.modify(job.id, partial(mark_resumed, new_id=new.id))
                    self.events.publish(job.id)
                    log.info("resuming interrupted job %s (%s) as %s", job.id, job.step, new.id)
        except StoreError as exc:
            # jobs.json cannot be used (e.g. a newer release wrote it): everything else still
            # works; health names the file, and each job request answers with this error.
            log.error("jobs are unavailable: %s", exc.detail)
            return []
        return interrupted

    def begin_shutdown(self, *, timeout: float = JOB_STOP_BUDGET) -> None:
        """The server was asked to stop (SIGTERM, Ctrl-C): refuse new jobs and ask running
        ones to stop now, so requests waiting on them can answer before the server closes.
        `shutdown` then waits for them until `timeout` seconds after this call at most."""
        with self._lock:
            if self._stop_by is None:
                self._stop_by = time.monotonic() + timeout
            live = list(self._live.values())
        self.events.close_all()  # event streams end now, so connections can close
        self.others.stop()
        for item in live:
            item.stopping = True
            item.context.request_cancel()

    def shutdown(self, *, timeout: float = JOB_STOP_BUDGET) -> None:
        """Ask running jobs to stop, drop queued ones, wait up to `timeout` seconds (counted
        from `begin_shutdown` when that came first)."""
        self.begin_shutdown(timeout=timeout)  # a job starting later stops itself (`_run`)
        executor, self._executor = self._executor, None
        with self._lock:
            deadline = self._stop_by
        assert deadline is not None  # set by begin_shutdown
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
            for future in list(self._futures.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # Failures are already recorded on the job; only the waiting matters here.
                with contextlib.suppress(Exception):
                    future.result(timeout=remaining)
        unregister_instance(self.instance)

    def still_running(self) -> list[str]:
        """Ids of the jobs whose step has not returned (after `shutdown`: it ignored the
        request to stop; the next start marks them interrupted)."""
        with self._lock:
            return list(self._live)

    def recover(self) -> list[str]:
        """Mark jobs whose owning process is gone as failed/interrupted."""
        interrupted = mark_interrupted(self.store)
        if interrupted:
            log.warning(
                "marked %d interrupted job(s) as failed: %s",
                len(interrupted),
                ", ".join(interrupted),
            )
        return interrupted

    # --- submitting ---------------------------------------------------------------------

    def _new_job(self, step: str, metadata: dict[str, Any]) -> PipelineJob:
        # Unknown step (404) or bad metadata (422) before anything is stored.
        checked = self.registry.check_input(step, metadata)
        job = PipelineJob(
            id=new_job_id(), step=step, metadata=checked, owner=self._owner, message="queued"
        )
        self.store.add(job, keep_finished=self.history_limit)
        self.events.publish(job.id)
        return job

    def submit(self, step: str, metadata: dict[str, Any] | None = None) -> PipelineJob:
        """Queue `step` to run in the background and return the pending job at once."""
        return self.submit_many(step, [metadata or {}])[0]

    async def run_waiting(
        self, step: str, metadata: dict[str, Any], *, wait: float
    ) -> tuple[PipelineJob, bool]:
        """Run `step` as a background job and wait for it up to `wait` seconds: the job, and
        whether it finished. A domain error that failed it is raised (its status for the API).
        The job goes on in the background when the wait ends first, and a stopping server
        stops it like any job (v1 ``POST /pipeline/{step}``)."""
        [job] = self.submit_many(step, [metadata])
        with self._lock:
            future = self._futures.get(job.id)
        if future is None:  # already finished and forgotten
            return self.get(job.id), True
        try:
            error = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), wait)
        except TimeoutError:
            return self.get(job.id), False
        except asyncio.CancelledError:
            if not future.cancelled():
                raise  # this request was cancelled, not the job
            return self.get(job.id), True  # dropped from the queue by a stopping server
        if error is not None:
            raise error
        return self.get(job.id), True

    def submit_many(self, step: str, metadata: list[dict[str, Any]]) -> list[PipelineJob]:
        """Queue one job of `step` per metadata: every one is checked first, and either all
        fit in the queue (`SAP_JOB_QUEUE_LIMIT`) or none is queued (503 ``job_queue_full``)."""
        if self._stop_by is not None:
            raise BusyError("the server is stopping; no new job starts", code="shutting_down")
        if self._executor is None:
            raise AppError("the job runner is not running", code="jobs_unavailable")
        for item in metadata:
            self.registry.check_input(step, item)
        with self._lock:
            if self._waiting + len(metadata) > self.queue_limit:
                raise BusyError(
                    f"{self._waiting} jobs are waiting for a worker, and the queue holds at most "
                    f"{self.queue_limit} (SAP_JOB_QUEUE_LIMIT); try again when some have run",
                    code="job_queue_full",
                )
            self._waiting += len(metadata)
        jobs: list[PipelineJob] = []
        try:
            for item in metadata:
                jobs.append(self._queue(self._new_job(step, item)))
        finally:
            with self._lock:
                self._waiting -= len(metadata) - len(jobs)  # places not taken after all
        return jobs

    def _queue(self, job: PipelineJob) -> PipelineJob:
        assert self._executor is not None
        future = self._executor.submit(self._run, job.id, None, True)
        with self._lock:
            self._futures[job.id] = future
        job_id = job.id
        future.add_done_callback(lambda _future: self._forget_future(job_id))
        return job

    def run_inline(
        self,
        step: str,
        metadata: dict[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
        *,
        on_parts: PartsCallback | None = None,
        raise_errors: bool = False,
    ) -> PipelineJob:
        """Run `step` in this thread (CLI, synchronous v1 endpoints), recorded like any job;
        `on_progress` and `on_parts` see its progress as it goes.

        With `raise_errors`, a domain error that failed the job is raised again after it was
        recorded, so the caller can answer with its status code.
        """
        job = self._new_job(step, metadata or {})
        register_instance(self.instance)
        try:
            error = self._run(job.id, on_progress, on_parts=on_parts)
        finally:
            if self._executor is None:
                unregister_instance(self.instance)
        if raise_errors and error is not None:
            raise error
        return self.store.get(job.id)

    def rerun(self, job_id: str) -> PipelineJob:
        """Start a new job with the step and metadata of a finished one."""
        old = self.get(job_id)
        if not old.status.finished:
            raise ConflictError(
                f"job {job_id} is still {old.status.value}; cancel it first",
                code="job_not_finished",
            )
        return self.submit(old.step, {**old.metadata, "rerun_of": old.id})

    def _forget_future(self, job_id: str) -> None:
        with self._lock:
            future = self._futures.pop(job_id, None)
            if future is not None and future.cancelled():
                self._waiting -= 1  # dropped from the queue at shutdown, never started

    # --- running ------------------------------------------------------------------------

    def _run(
        self,
        job_id: str,
        on_progress: ProgressCallback | None = None,
        queued: bool = False,
        *,
        on_parts: PartsCallback | None = None,
    ) -> AppError | None:
        """Run one job to its end; returns the domain error that failed it, if any."""
        if queued:
            with self._lock:
                self._waiting -= 1
        started = self._mark_started(job_id)
        if started is None:
            return None  # cancelled while queued
        context = StepContext(
            job_id=job_id,
            step=started.step,
            metadata=dict(started.metadata),
            services=self.services,
        )
        live = _Live(job=started, context=context, last_flush=time.monotonic())
        context.on_progress = lambda done, total, message: self._progress(
            live, done, total, message, on_progress
        )
        context.on_parts = lambda parts: self._parts(live, parts, on_parts)
        context.poll_cancel = lambda: self._poll_cancel(live)
        with self._lock:
            self._live[job_id] = live
            stopping = self._stop_by is not None
        if stopping:
            # The server began to stop while this job was starting (a worker took it from the
            # queue, or the signal came between the store saying "running" and the line above):
            # `begin_shutdown` could not reach it, so it stops here, before its step runs.
            live.stopping = True
            context.request_cancel()
        self.events.publish(job_id)
        try:
            with listening(lambda throttling: self._note(live, throttling, on_progress)):
                payload = run_step_for_job(
                    started.step, started.metadata, registry=self.registry, context=context
                )
        except JobCancelled:
            if live.stopping:
                message = "interrupted: the server stopped while this job ran"
                self._finish(
                    live,
                    JobStatus.FAILED,
                    message=message,
                    error=JobError(code="interrupted", message=message),
                )
            else:
                self._finish(live, JobStatus.CANCELLED, message="cancelled")
        except AppError as exc:
            self._finish(
                live,
                JobStatus.FAILED,
                message=exc.detail,
                error=JobError(code=exc.code, message=exc.detail),
            )
            return exc
        except Exception as exc:  # recorded on the job and logged with its traceback
            log.exception("job %s (%s) crashed", job_id, started.step)
            text = redact(f"{type(exc).__name__}: {exc}")  # an exception may quote a URL
            self._finish(
                live,
                JobStatus.FAILED,
                message=text,
                error=JobError(code="internal_error", message=text),
            )
        else:
            shortfall = payload.shortfall() if isinstance(payload, MayFallShort) else None
            if shortfall is not None:
                self._finish(
                    live,
                    JobStatus.PARTIAL if shortfall.partial else JobStatus.FAILED,
                    payload=payload,
                    message=shortfall.error.message,
                    error=shortfall.error,
                )
            elif context.cancel_event.is_set():
                # The step finished its work anyway; keep the result, say so.
                self._finish(
                    live,
                    JobStatus.DONE,
                    payload=payload,
                    message="finished before the cancellation took effect",
                )
            else:
                self._finish(live, JobStatus.DONE, payload=payload, message="done")
        finally:
            with self._lock:
                self._live.pop(job_id, None)
                stopping = self._stop_by is not None
            if not stopping:
                # Not while the server stops: the build would hold the process past its
                # bound (its worker thread is joined at exit); the next start builds it.
                self._refresh_library(started.step)
        return None

    def _refresh_library(self, step: str) -> None:
        """A job that changed the stores (a fetch, an enrichment, a classification) brings the
        library's snapshot up to date before it ends, once its writes are committed: the next
        preview, in this process or another, loads it instead of building it (a no-op when
        nothing changed). A library that cannot be built is left to the preview to report.
        `refresh_library` (given at construction) replaces that: the CLI starts it in a process
        of its own, behind the command, instead of waiting for it."""
        try:
            if self._refresh_after is not None:
                self._refresh_after()
            else:
                self.services.library.refresh()
        except AppError as exc:
            log.info("library not rebuilt after %s: %s", step, exc.detail)
        except Exception:  # logged with its traceback; the job's own result stands
            log.exception("library not rebuilt after %s", step)

    def _mark_started(self, job_id: str) -> PipelineJob | None:
        result: list[PipelineJob] = []

        def start(job: PipelineJob) -> None:
            if job.status is not JobStatus.PENDING or job.cancel_requested:
                if not job.status.finished:
                    job.status = JobStatus.CANCELLED
                    job.finished_at = job.updated_at = utc_now()
                    job.message = "cancelled before it started"
                return
            now = utc_now()
            job.status = JobStatus.RUNNING
            job.started_at = job.updated_at = now
            job.message = "running"
            job.owner = self._owner
            result.append(job.model_copy(deep=True))

        self.store.modify(job_id, start)
        if not result:
            self.events.publish(job_id)  # cancelled before it started
        return result[0] if result else None

    def _progress(
        self,
        live: _Live,
        done: int,
        total: int | None,
        message: str | None,
        forward: ProgressCallback | None,
    ) -> None:
        with self._lock:
            now = utc_now()
            note = live.job.progress.note
            if note is not None and note.until <= now:
                note = None  # the wait it spoke of is over
            live.job.progress = JobProgress(
                done=max(0, done), total=total, parts=live.job.progress.parts, note=note
            )
            if message is not None:
                live.job.message = message
            live.job.updated_at = now
        self.events.publish(live.job.id)
        if forward is not None:
            forward(done, total, message)
        if time.monotonic() - live.last_flush >= self.flush_interval:
            self._flush(live)

    def _parts(self, live: _Live, parts: list[JobPart], forward: PartsCallback | None) -> None:
        """A step's parts, as it reported them (stored with the next progress flush)."""
        copied = [part.model_copy() for part in parts]
        with self._lock:
            live.job.progress = live.job.progress.model_copy(update={"parts": copied})
            live.job.updated_at = utc_now()
        self.events.publish(live.job.id)  # the event stream shows each provider's progress
        if forward is not None:
            forward(copied)

    def _note(self, live: _Live, throttling: Throttling, forward: ProgressCallback | None) -> None:
        """A service asked the running step to slow down: say so beside the job's progress
        (`JobProgress.note`) until the wait is over (the CLI's bar shows it as its message)."""
        now = utc_now()
        note = JobNote(
            service=throttling.service,
            text=throttling.text(),
            seconds=round(throttling.seconds, 3),
            until=now + timedelta(seconds=throttling.seconds),
        )
        with self._lock:
            current = live.job.progress.note
            if current is not None and current.until > note.until:
                return  # a longer wait is already noted
            live.job.progress = live.job.progress.model_copy(update={"note": note})
            live.job.updated_at = now
            done, total = live.job.progress.done, live.job.progress.total
        self.events.publish(live.job.id)
        if forward is not None:
            forward(done, total, note.text)
        if time.monotonic() - live.last_flush >= self.flush_interval:
            self._flush(live)

    def _flush(self, live: _Live) -> None:
        """Persist live progress and learn about cancellations requested elsewhere."""
        live.last_flush = time.monotonic()
        with self._lock:
            progress, message, updated = live.job.progress, live.job.message, live.job.updated_at

        def apply(job: PipelineJob) -> None:
            job.progress, job.message, job.updated_at = progress, message, updated
            if job.cancel_requested:
                live.context.cancel_event.set()

        self.store.modify(live.job.id, apply)

    def _poll_cancel(self, live: _Live) -> bool:
        if time.monotonic() - live.last_flush >= self.flush_interval:
            self._flush(live)
        return live.context.cancel_event.is_set()

    def _finish(
        self,
        live: _Live,
        status: JobStatus,
        *,
        message: str,
        payload: Any = None,
        error: JobError | None = None,
    ) -> None:
        stored = payload_json(payload)

        def apply(job: PipelineJob) -> None:
            now = utc_now()
            job.status = status
            job.message = message
            job.error = error
            job.payload = stored
            job.progress = live.job.progress.model_copy(update={"note": None})
            if status is JobStatus.DONE and job.progress.total is not None:
                job.progress = job.progress.model_copy(update={"done": job.progress.total})
            job.updated_at = job.finished_at = now

        self.store.modify(live.job.id, apply)
        with self._lock:
            self._live.pop(live.job.id, None)  # readers see the finished job from now on
        self.events.publish(live.job.id)

    # --- reading and cancelling ---------------------------------------------------------

    def get(self, job_id: str) -> PipelineJob:
        """The freshest state of a job: live progress if it runs here, else the stored one."""
        with self._lock:
            live = self._live.get(job_id)
            if live is not None:
                return live.job.model_copy(deep=True)
        return self.store.get(job_id)

    def list(
        self,
        *,
        step: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> JobListing:
        """Jobs newest first, filtered, one page at a time, with the total matching."""
        jobs = list(reversed(self.store.load_jobs()))
        with self._lock:
            live = {job_id: item.job.model_copy(deep=True) for job_id, item in self._live.items()}
        jobs = [live.get(job.id, job) for job in jobs]
        return page_jobs(jobs, step=step, status=status, limit=limit, offset=offset)

    def cancel(self, job_id: str) -> PipelineJob:
        """Cancel a pending job at once, or ask a running one to stop."""
        # Record the request first, then interrupt: a step that stops at once must find its
        # job still unfinished, or this call would report a conflict with its own effect.
        job = self.store.modify(job_id, request_cancel)
        with self._lock:
            live = self._live.get(job_id)
            if live is not None:
                live.job.message = job.message
        if live is not None:
            live.context.request_cancel()
        self.events.publish(job_id)
        return self.get(job_id)

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status (none known while jobs.json cannot be read: the
        health report names the file)."""
        try:
            return count_by_status(self.store.load_jobs())
        except StoreError:
            return {}
