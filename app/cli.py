"""The `spotify-auto-playlists` (short: `sap`) command line: a thin layer over the pipeline.

Every command builds `Settings` (env `SAP_*`, `.env`, and its own options), calls the same
functions the HTTP API calls, and prints either a table or, with `--json`, machine output.
Errors print one line (`error: …`) and exit 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from app import __version__
from app.core.config import Settings, is_loopback_host
from app.core.errors import AppError
from app.core.logging import configure_logging
from app.core.models import JobStatus, PipelineJob
from app.pipeline.context import Services
from app.pipeline.health import health_report
from app.pipeline.jobs_runner import JobManager
from app.pipeline.registry import default_registry

out = Console()
err = Console(stderr=True)


class _Group(TyperGroup):
    """Turns every expected error into one line on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # Any: typer's vendored click Context type is private
        try:
            return super().invoke(ctx)
        except AppError as exc:
            _fail(exc.detail)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = "SAP_" + "_".join(str(part) for part in first["loc"]).upper()
            _fail(f"invalid setting {name}: {first['msg']}")
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


app = typer.Typer(
    cls=_Group,
    name="spotify-auto-playlists",
    help="Keep your Spotify playlists organised by rules: fetch, enrich, preview, sync.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
jobs_app = typer.Typer(help="Inspect, cancel and re-run background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Data directory (default: $SAP_CACHE_DIR or the user data dir).",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def build_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command's explicit options on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _manager(cache_dir: Path | None) -> JobManager:
    settings = build_settings(cache_dir=cache_dir)
    return JobManager(Services.from_settings(settings), default_registry())


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --- serve / status / verify ------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8888].")] = None,
    cache_dir: CacheDir = None,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from app.api import create_app

    settings = build_settings(host=host, port=port, cache_dir=cache_dir)
    configure_logging(settings.log_level)
    if not is_loopback_host(settings.host):
        err.print(
            f"[yellow]warning:[/] binding {settings.host}: the API has no authentication; "
            "anyone who can reach this address can use it"
        )
    err.print(
        f"spotify-auto-playlists {__version__} on http://{settings.host}:{settings.port} "
        f"(data in {settings.cache_dir})",
        soft_wrap=True,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        server_header=False,
    )


@app.command()
def status(cache_dir: CacheDir = None, as_json: AsJson = False) -> None:
    """Show version, data directory, store files, quarantined files and job counts."""
    manager = _manager(cache_dir)
    report = health_report(
        manager.services.stores, jobs=manager.counts(), steps=manager.registry.names()
    )
    if as_json:
        _print_json(report.model_dump(mode="json"))
        return
    colour = "green" if report.status == "ok" else "yellow"
    out.print(f"spotify-auto-playlists {report.version}: [{colour}]{report.status}[/]")
    out.print(f"data directory: {escape(report.cache_dir)}")
    table = Table("store", "file", "size", "modified")
    for store in report.stores:
        size = f"{store.size_bytes:,} B" if store.exists else "—"
        modified = store.modified_at.strftime("%Y-%m-%d %H:%M") if store.modified_at else "—"
        table.add_row(store.name, Path(store.file).name, size, modified)
    out.print(table)
    for item in report.quarantined:
        out.print(
            f"[yellow]quarantined:[/] {escape(item.file)} (was {item.original_name}) — "
            "see docs/operations.md, 'Recovering a quarantined file'"
        )
    out.print("jobs: " + ", ".join(f"{name} {count}" for name, count in report.jobs.items()))


def _run_with_progress(manager: JobManager, step: str, metadata: dict[str, Any]) -> PipelineJob:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(step, total=None)

        def show(done: int, total: int | None, message: str | None) -> None:
            progress.update(
                task, completed=done, total=total, description=escape(message) if message else step
            )

        return manager.run_inline(step, metadata, on_progress=show)


def _report_job(job: PipelineJob, as_json: bool) -> None:
    if as_json:
        _print_json(job.model_dump(mode="json"))
    else:
        _print_job(job)
    if job.status is not JobStatus.DONE:
        raise typer.Exit(1)


@app.command()
def verify(cache_dir: CacheDir = None, as_json: AsJson = False) -> None:
    """Parse every store file; corrupt ones are moved aside and listed. Exit 1 if any problem."""
    job = _run_with_progress(_manager(cache_dir), "verify", {})
    _report_job(job, as_json)
    if isinstance(job.payload, dict) and not job.payload.get("ok", False):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


# --- jobs ---------------------------------------------------------------------------------


def _progress_text(job: PipelineJob) -> str:
    done, total = job.progress.done, job.progress.total
    if total:
        return f"{done}/{total} ({100 * (job.progress.fraction or 0):.0f}%)"
    return str(done) if done else ""


def _print_job(job: PipelineJob) -> None:
    table = Table(show_header=False, box=None)
    rows: list[tuple[str, Any]] = [
        ("id", job.id),
        ("step", job.step),
        ("status", job.status.value),
        ("message", job.message),
        ("progress", _progress_text(job)),
        ("created", job.created_at),
        ("started", job.started_at),
        ("finished", job.finished_at),
        ("metadata", json.dumps(job.metadata) if job.metadata else None),
        ("error", f"{job.error.code}: {job.error.message}" if job.error else None),
        ("payload", json.dumps(job.payload, default=str)[:2000] if job.payload else None),
    ]
    for name, value in rows:
        if value not in (None, ""):
            table.add_row(f"[bold]{name}[/]", escape(str(value)))
    out.print(table)


@jobs_app.command("list")
def jobs_list(
    step: Annotated[str | None, typer.Option(help="Only jobs of this step.")] = None,
    status_: Annotated[JobStatus | None, typer.Option("--status", help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    cache_dir: CacheDir = None,
    as_json: AsJson = False,
) -> None:
    """List jobs, newest first."""
    items, total = _manager(cache_dir).list(step=step, status=status_, limit=limit, offset=offset)
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
def jobs_show(job_id: str, cache_dir: CacheDir = None, as_json: AsJson = False) -> None:
    """Show one job."""
    job = _manager(cache_dir).get(job_id)
    if as_json:
        _print_json(job.model_dump(mode="json"))
    else:
        _print_job(job)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str, cache_dir: CacheDir = None) -> None:
    """Cancel a pending job, or ask a running one (even in the server) to stop."""
    job = _manager(cache_dir).cancel(job_id)
    out.print(f"{job.id}: {job.status.value} ({job.message})")


@jobs_app.command("rerun")
def jobs_rerun(job_id: str, cache_dir: CacheDir = None, as_json: AsJson = False) -> None:
    """Run a finished (e.g. interrupted) job's step again, here, with the same metadata."""
    manager = _manager(cache_dir)
    old = manager.get(job_id)
    if not old.status.finished:
        _fail(f"job {job_id} is still {old.status.value}; cancel it first")
    job = _run_with_progress(manager, old.step, {**old.metadata, "rerun_of": old.id})
    _report_job(job, as_json)


def main() -> None:
    """Console-script entry point."""
    app()
