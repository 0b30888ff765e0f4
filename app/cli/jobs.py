"""`jobs list|show|watch|cancel|rerun`: background jobs, whoever runs them."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import (
    AsJson,
    CacheDir,
    Demo,
    _fail,
    _manager,
    _print_job,
    _print_json,
    _progress_text,
    _report_job,
    _run_with_progress,
    escape,
    out,
)
from app.core.job_status import JobStatus

jobs_app = typer.Typer(help="Inspect, cancel and re-run background jobs.", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list(
    step: Annotated[str | None, typer.Option(help="Only jobs of this step.")] = None,
    status_: Annotated[JobStatus | None, typer.Option("--status", help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """List jobs, newest first."""
    from rich.table import Table

    items, total = _manager(cache_dir, demo).list(
        step=step, status=status_, limit=limit, offset=offset
    )
    if as_json:
        _print_json(
            {
                "items": [job.model_dump(mode="json") for job in items],
                "total": total,
                "limit": limit,
                "offset": offset,
            }
        )
        return
    table = Table(
        "id",
        "step",
        "status",
        "progress",
        "created",
        "message",
        caption=f"{len(items)} of {total} job(s)",
    )
    for job in items:
        table.add_row(
            job.id,
            job.step,
            job.status.value,
            _progress_text(job),
            job.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(job.message or ""),
        )
    out.print(table)


@jobs_app.command("show")
def jobs_show(
    job_id: str, cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False
) -> None:
    """Show one job."""
    job = _manager(cache_dir, demo).get(job_id)
    if as_json:
        _print_json(job.model_dump(mode="json"))
    else:
        _print_job(job)


WATCH_INTERVAL = 0.5
"""Seconds between two reads of jobs.json by `jobs watch` (the server writes a running job's
progress there at most this often)."""


@jobs_app.command("watch")
def jobs_watch(
    limit: Annotated[int, typer.Option(min=1, max=100, help="Jobs shown (newest first).")] = 10,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep watching after every job has finished.")
    ] = False,
    cache_dir: CacheDir = None,
    demo: Demo = False,
) -> None:
    """Watch jobs live (the server's and other commands'), until none is running; Ctrl-C stops."""
    import time

    from rich.live import Live
    from rich.table import Table

    from app.core.models import utc_now

    manager = _manager(cache_dir, demo)

    def table() -> tuple[Table, bool]:
        items, total = manager.list(limit=limit)
        now = utc_now()
        view = Table("id", "step", "status", "progress", "message", caption=f"{total} job(s)")
        busy = False
        for job in items:
            busy = busy or not job.status.finished
            note = job.progress.note
            message = job.message or ""
            if note is not None and note.until > now and not job.status.finished:
                left = max(1, round((note.until - now).total_seconds()))
                message = f"{note.service} asked us to slow down; resuming in {left} s"
            view.add_row(job.id, job.step, job.status.value, _progress_text(job), escape(message))
        return view, busy

    view, busy = table()
    try:
        with Live(view, console=out.console, auto_refresh=False) as live:
            while busy or follow:
                time.sleep(WATCH_INTERVAL)
                view, busy = table()
                live.update(view, refresh=True)
    except KeyboardInterrupt:
        return


@jobs_app.command("cancel")
def jobs_cancel(job_id: str, cache_dir: CacheDir = None, demo: Demo = False) -> None:
    """Cancel a pending job, or ask a running one (even in the server) to stop."""
    job = _manager(cache_dir, demo).cancel(job_id)
    out.print(f"{job.id}: {job.status.value} ({job.message})")


@jobs_app.command("rerun")
def jobs_rerun(
    job_id: str, cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False
) -> None:
    """Run a finished (e.g. interrupted) job's step again, here, with the same metadata."""
    # Any step may talk to Spotify (fetch, diff, apply, sync): in demo mode the re-run gets
    # the demo's built-in emulator, as the command that first ran the step did.
    manager = _manager(cache_dir, demo, spotify=True)
    old = manager.get(job_id)
    if not old.status.finished:
        _fail(f"job {job_id} is still {old.status.value}; cancel it first")
    job = _run_with_progress(manager, old.step, {**old.metadata, "rerun_of": old.id})
    _report_job(job, as_json)
