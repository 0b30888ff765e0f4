"""The job event stream (`GET /pipeline/jobs/events`): server-sent events of job changes.

    retry: 3000

    id: 1
    event: snapshot
    data: {"items": [...], "total": 12, "limit": 50, "offset": 0}

    id: 2
    event: job
    data: {"id": "3f2a…", "step": "enrich", "status": "running", "progress": {…}, …}

    : keep-alive

On connect the stream sends one `snapshot` (the jobs, newest first, exactly as
`GET /pipeline/jobs` answers them), then one `job` event (one job, as `GET /pipeline/jobs/{id}`
answers it) each time a job is created or changes, pushed by the `JobManager` (its
`events`), and a `: keep-alive` comment when nothing happened for `SAP_EVENTS_KEEPALIVE`
seconds. A reader that falls behind gets each changed job's latest state once; one that falls
far behind gets a new `snapshot` instead (`app.pipeline.jobs.events`). When the jobs cannot be
read (jobs.json from a newer release: `store_too_new`), an `error` event (`ErrorBody`) says so
and the stream ends. Every event has an
`id:`, increasing; a client reconnecting with `Last-Event-ID` (browsers do it by themselves)
gets a fresh snapshot and ids that go on from it. The stream ends when the server stops.

Reads of jobs.json run in the thread pool: the event loop only waits and writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from app.api.schemas import ErrorBody, JobPage
from app.core.errors import AppError, NotFoundError
from app.core.models import PipelineJob
from app.pipeline.jobs.runner import JobManager

EVENT_STREAM = "text/event-stream"
RETRY_MS = 3000  # how soon a browser reconnects after losing the stream
EVENT_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _frame(event_id: int, event: str, data: str) -> bytes:
    return f"id: {event_id}\nevent: {event}\ndata: {data}\n\n".encode()


def _error_json(exc: AppError) -> str:
    return ErrorBody(error=exc.code, detail=exc.detail).model_dump_json(exclude_none=True)


def first_id(last_event_id: str | None) -> int:
    """The id of the first event of a (re)connection: after the client's last one."""
    text = (last_event_id or "").strip()
    return int(text) + 1 if text.isdigit() and len(text) < 18 else 1


async def job_events_stream(
    jobs: JobManager, *, limit: int, keepalive: float, start: int = 1
) -> AsyncIterator[bytes]:
    """The stream's bytes, event by event (see the module docstring)."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()

    # Subscribed before the snapshot is read: no change falls between the two (one that
    # happens meanwhile is sent again after it, which costs nothing).
    def wake() -> None:  # called from the job's worker thread
        loop.call_soon_threadsafe(ready.set)

    subscription = jobs.events.subscribe(wake)
    next_id = start

    async def snapshot() -> bytes:
        nonlocal next_id
        listing = await run_in_threadpool(jobs.list, limit=limit)
        page = JobPage(items=listing.items, total=listing.total, limit=limit, offset=0)
        next_id += 1
        return _frame(next_id - 1, "snapshot", page.model_dump_json())

    async def job(job_id: str) -> bytes | None:
        nonlocal next_id
        try:
            found: PipelineJob = await run_in_threadpool(jobs.get, job_id)
        except NotFoundError:
            return None  # pruned from the history meanwhile
        next_id += 1
        return _frame(next_id - 1, "job", found.model_dump_json())

    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        try:
            yield await snapshot()
        except AppError as exc:  # jobs.json cannot be read: say so, and end the stream
            yield _frame(next_id, "error", _error_json(exc))
            return
        while True:
            try:
                await asyncio.wait_for(ready.wait(), keepalive)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            ready.clear()
            news = subscription.take()
            try:
                if news.snapshot:
                    yield await snapshot()
                for job_id in news.job_ids:
                    frame = await job(job_id)
                    if frame is not None:
                        yield frame
            except AppError as exc:
                yield _frame(next_id, "error", _error_json(exc))
                return
            if news.closed:
                return
    finally:
        subscription.close()


def _event(name: str, title: str, data: type[Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": title,
        "required": ["id", "event", "data"],
        "properties": {
            "id": {"type": "integer", "description": "Increasing; send it back as Last-Event-ID."},
            "event": {"type": "string", "const": name},
            "data": {"$ref": f"#/components/schemas/{data.__name__}"},
        },
    }


def stream_responses() -> dict[int | str, dict[str, Any]]:
    """The stream as OpenAPI documents it: its media type, and each event's shape (`id:`,
    `event:` and the JSON of `data:`)."""
    return {
        200: {
            "description": (
                "A `text/event-stream` that does not end while the server runs: first a "
                "`snapshot` event (data: the jobs as `GET /pipeline/jobs` answers them), then "
                "a `job` event (data: one job as `GET /pipeline/jobs/{id}` answers it) each "
                "time a job is created or changes, and `: keep-alive` comments when quiet. "
                "Each event has an increasing `id:`; reconnecting with `Last-Event-ID` starts "
                "with a fresh snapshot. When the jobs cannot be read (a jobs.json from a newer "
                "release), an `error` event says why and the stream ends. The schema is that "
                "of one event."
            ),
            "content": {
                EVENT_STREAM: {
                    "schema": {
                        "oneOf": [
                            _event("snapshot", "JobSnapshotEvent", JobPage),
                            _event("job", "JobChangeEvent", PipelineJob),
                            _event("error", "JobStreamError", ErrorBody),
                        ]
                    }
                }
            },
        }
    }
