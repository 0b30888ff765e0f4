"""What the command modules share: consoles, settings, options, errors, JSON and job output.

The underscore names are private to the `app.cli` package, not to this module.

Importing this module stays cheap (typer and the standard library only): `sap --help` and
`sap version` build every command's options, so the settings, the pipeline, pydantic models
and rich's consoles load inside the functions that use them (docs/performance.md, "CLI
start-up").
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from app.core.config import Settings
    from app.core.models import PipelineJob
    from app.pipeline.jobs.runner import JobManager
    from app.pipeline.rules.previews import BrokenRuleSet
    from app.pipeline.services import Services


class _LazyConsole:
    """A rich `Console` made on first use, so that commands which print nothing with rich
    (`version`, `--help` before typer loads rich itself) do not pay for importing it."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.console.print(*objects, **kwargs)


out = _LazyConsole()
err = _LazyConsole(stderr=True)


def escape(text: str) -> str:
    """rich's markup escape, loaded on first use (see `_LazyConsole`)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _cache_dir_option(value: str) -> Path:
    """`--cache-dir` as typed (an empty one is not the current directory); one line when it
    cannot name a directory."""
    from app.core.config import data_directory

    try:
        return data_directory(value)
    except ValueError as exc:
        _fail(f"--cache-dir: {exc}")
        raise  # unreachable: _fail exits


CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Data directory (default: $SAP_CACHE_DIR or the user data dir).",
        show_default=False,
        parser=_cache_dir_option,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Demo = Annotated[
    bool,
    typer.Option("--demo", help="Use the built-in demo account (also when no client id is set)."),
]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _print_broken(broken: Sequence[BrokenRuleSet]) -> None:
    """One line on stderr per rule set skipped as broken: its id and its problems."""
    for item in broken:
        reasons = "; ".join(problem.message for problem in item.problems)
        err.print(
            f"[bold red]broken:[/] {escape(f'[{item.rule_id}] {reasons}')}",
            highlight=False,
            soft_wrap=True,
        )


def build_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command's explicit options on top."""
    from app.core.config import Settings

    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _services(cache_dir: Path | None, demo: bool = False, *, spotify: bool = False) -> Services:
    """Services for the CLI, on the demo's own data in demo mode.

    With `spotify`, demo mode also starts the in-process emulator the commands talk to. A
    command typed in the user's shell may read any CSV file the user names (`local_paths`);
    the process ends with the command, so nothing is warmed up behind it (`warm_up`).
    """
    from app.pipeline.services import Services

    settings = build_settings(cache_dir=cache_dir, demo=demo or None).effective()
    if spotify and settings.demo_mode:
        from app.demo import DemoEnvironment

        return DemoEnvironment.create(settings, local_paths=True, warm_up=False).services
    return Services.from_settings(settings, local_paths=True, warm_up=False)


def _manager(cache_dir: Path | None, demo: bool = False, *, spotify: bool = False) -> JobManager:
    from app.pipeline.jobs.runner import JobManager
    from app.pipeline.registry import default_registry

    services = _services(cache_dir, demo, spotify=spotify)
    return JobManager(services, default_registry(), refresh_library=lambda: refresh(services))


def refresh(services: Services) -> None:
    """After a command changed the library: its snapshot brought up to date as
    ``SAP_CLI_LIBRARY_REFRESH`` says, behind the command (`refresh_behind`) or now."""
    if services.settings.cli_library_refresh == "background":
        refresh_behind(services)
    else:
        services.library.refresh()


def refresh_behind(services: Services) -> subprocess.Popen[bytes] | None:
    """Bring the library's snapshot up to date in a process of its own, behind the command:
    `sap library refresh` on the same data directory, detached from this one (its own session,
    no terminal), which the shell does not wait for; None when the snapshot is current.

    Building the library of a changed data directory takes longer than a whole `sap fetch` of
    10,000 songs, and the command that changed it has nothing more to say: it gives the prompt
    back at once (as git leaves its own housekeeping to a detached `git gc --auto`). A preview
    started meanwhile waits for that build (`LibraryCache`'s file lock) and loads what it saved.
    A build that fails is left to the next preview to report, as before.
    """
    from app.pipeline.rules.library.stamp import snapshot_is_current

    if snapshot_is_current(services.stores, services.precedence):
        return None
    command = [
        sys.executable,
        "-m",
        "app",
        "library",
        "refresh",
        "--quiet",
        "--cache-dir",
        str(services.stores.directory),
    ]
    detached: dict[str, Any]
    if sys.platform == "win32":
        detached = {"creationflags": subprocess.DETACHED_PROCESS}
    else:
        detached = {"start_new_session": True}
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        **detached,
    )


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --- jobs: run one here with a progress bar, print one ----------------------------------------


def _run_with_progress(manager: JobManager, step: str, metadata: dict[str, Any]) -> PipelineJob:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.console,
        transient=True,
    ) as progress:
        task = progress.add_task(step, total=None)

        def show(done: int, total: int | None, message: str | None) -> None:
            progress.update(
                task, completed=done, total=total, description=escape(message) if message else step
            )

        return manager.run_inline(step, metadata, on_progress=show)


def _report_job(job: PipelineJob, as_json: bool) -> None:
    from app.core.models import JobStatus

    if as_json:
        _print_json(job.model_dump(mode="json"))
    else:
        _print_job(job)
    if job.status is not JobStatus.DONE:
        raise typer.Exit(1)


def _progress_text(job: PipelineJob) -> str:
    done, total = job.progress.done, job.progress.total
    if total:
        return f"{done}/{total} ({100 * (job.progress.fraction or 0):.0f}%)"
    return str(done) if done else ""


def _print_job(job: PipelineJob) -> None:
    from rich.table import Table

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
