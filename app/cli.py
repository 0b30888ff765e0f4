"""The `spotify-auto-playlists` (short: `sap`) command line: a thin layer over the pipeline.

Every command builds `Settings` (env `SAP_*`, `.env`, and its own options), calls the same
functions the HTTP API calls, and prints either a table or, with `--json`, machine output.
Errors print one line (`error: …`) and exit 1.
"""

from __future__ import annotations

import asyncio
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
Demo = Annotated[
    bool,
    typer.Option("--demo", help="Use the built-in demo account (also when no client id is set)."),
]


def build_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command's explicit options on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _services(cache_dir: Path | None, demo: bool = False, *, spotify: bool = False) -> Services:
    """Services for the CLI, on the demo's own data in demo mode.

    With `spotify`, demo mode also starts the in-process emulator the commands talk to.
    """
    settings = build_settings(cache_dir=cache_dir, demo=demo or None).effective()
    if spotify and settings.demo_mode:
        from app.demo import DemoEnvironment

        return DemoEnvironment.create(settings).services
    return Services.from_settings(settings)


def _manager(cache_dir: Path | None, demo: bool = False, *, spotify: bool = False) -> JobManager:
    return JobManager(_services(cache_dir, demo, spotify=spotify), default_registry())


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
def status(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """Show login, version, data directory, store files, quarantined files and job counts."""
    from app.spotify.auth import auth_status

    manager = _manager(cache_dir, demo)
    report = health_report(
        manager.services.stores, jobs=manager.counts(), steps=manager.registry.names()
    )
    access = manager.services.spotify
    login = auth_status(access.tokens, demo=access.demo, login_url="spotify-auto-playlists login")
    if as_json:
        _print_json({**report.model_dump(mode="json"), "auth": login.model_dump(mode="json")})
        return
    if login.connected:
        until = login.refresh_expires_at.strftime("%Y-%m-%d") if login.refresh_expires_at else "?"
        out.print(
            f"Spotify: connected as {escape(login.user_name or login.user_id or '?')} "
            f"(login valid until about {until})"
        )
    else:
        out.print(
            f"Spotify: [yellow]not connected[/] ({escape(login.reason or '')}); "
            "run `spotify-auto-playlists login`"
        )
    if access.demo:
        out.print(
            "[cyan]demo mode[/]: no SAP_SPOTIFY_CLIENT_ID set; using the built-in emulated account"
        )
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


# --- Spotify: login, playlists, fetch, tracks ------------------------------------------------


@app.command()
def login(
    cache_dir: CacheDir = None,
    demo: Demo = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL instead of opening a browser.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the callback.")] = 300,
) -> None:
    """Connect your Spotify account (PKCE; opens the browser and waits for the callback)."""
    from app.spotify.login import headless_login, interactive_login

    services = _services(cache_dir, demo, spotify=True)
    access = services.spotify
    if access.demo:
        user = asyncio.run(headless_login(access))
    else:
        err.print("Opening Spotify's consent page; if no browser opens, visit:")
        user = interactive_login(
            access,
            timeout=timeout,
            open_browser=not no_browser,
            show=lambda url: err.print(url, soft_wrap=True),
        )
    demo_note = " (demo account)" if access.demo else ""
    out.print(f"Connected as {escape(user.display_name or user.id)}{demo_note}.")


@app.command()
def logout(cache_dir: CacheDir = None, demo: Demo = False) -> None:
    """Forget the stored Spotify token."""
    _services(cache_dir, demo).spotify.tokens.logout()
    out.print("Logged out.")


@app.command()
def playlists(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """List the playlists in your library and whether they can be read."""
    from app.pipeline.sources_manager import list_playlists

    user_id, listing = asyncio.run(list_playlists(_services(cache_dir, demo, spotify=True)))
    rows: list[dict[str, Any]] = [
        {
            "id": info.id,
            "name": info.name,
            "owner": info.owner_name or info.owner_id,
            "tracks": info.total,
            "collaborative": info.collaborative,
            "readable": info.readable_by(user_id),
            "reason": info.unreadable_reason(user_id),
        }
        for info in listing
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "name", "owner", "tracks", "readable", caption=f"{len(rows)} playlists")
    for row in rows:
        readable = "yes" if row["readable"] else "[yellow]no: followed[/]"
        table.add_row(
            row["id"], escape(row["name"]), escape(str(row["owner"])), str(row["tracks"]), readable
        )
    out.print(table)


@app.command()
def fetch(
    liked: Annotated[bool, typer.Option("--liked", help="Fetch your liked songs.")] = False,
    playlist: Annotated[
        list[str] | None, typer.Option("--playlist", help="A playlist id (repeatable).")
    ] = None,
    csv: Annotated[
        list[Path] | None, typer.Option("--csv", help="An Exportify CSV file (repeatable).")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Fetch track sources into the library (unchanged playlists are skipped)."""
    from app.pipeline.sources_manager import SourceRequest, plan_fetch

    requests = [SourceRequest(source_type="liked")] if liked else []
    requests += [SourceRequest(source_type="playlist", source_id=pid) for pid in playlist or []]
    requests += [SourceRequest(source_type="csv", source_id=str(path)) for path in csv or []]
    if not requests:
        _fail("nothing to fetch: give --liked, --playlist ID or --csv FILE")
    manager = _manager(cache_dir, demo, spotify=any(r.source_type != "csv" for r in requests))
    planned = asyncio.run(plan_fetch(manager.services, requests))
    job = _run_with_progress(manager, "fetch_sources", {"sources": planned})
    payload = job.payload if isinstance(job.payload, dict) else {}
    results: list[dict[str, Any]] = payload.get("sources", [])
    if as_json:
        _print_json(job.model_dump(mode="json"))
    else:
        table = Table(
            "source",
            "result",
            "tracks",
            "skipped",
            caption=f"{payload.get('requests', 0)} Spotify request(s)",
        )
        for result in results:
            source = result.get("source", {})
            name = source.get("name") or source.get("label") or source.get("key", "?")
            error = result.get("error")
            outcome = f"[red]failed[/]: {escape(error['message'])}" if error else result["mode"]
            skipped = ", ".join(f"{k} {v}" for k, v in result.get("skipped", {}).items())
            table.add_row(escape(str(name)), outcome, str(result.get("tracks", "")), skipped)
        out.print(table)
    if job.status is not JobStatus.DONE or payload.get("failed"):
        if job.error is not None and not as_json:
            _fail(job.error.message)
        raise typer.Exit(1)


@app.command()
def tracks(
    q: Annotated[str | None, typer.Option("--q", help="Text in title, artist or album.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source, e.g. liked.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 25,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Show fetched tracks with the sources they came from."""
    from app.pipeline.sources_manager import aggregate

    view = aggregate(
        _services(cache_dir, demo).stores, limit=limit, offset=offset, source=source, q=q
    )
    if as_json:
        _print_json(view)
        return
    table = Table(
        "title",
        "artists",
        "album",
        "sources",
        caption=f"{len(view['tracks'])} of {view['total']} track(s)",
    )
    for track in view["tracks"]:
        table.add_row(
            escape(track["name"]),
            escape(", ".join(artist["name"] for artist in track["artists"])),
            escape(track["album"]["name"]),
            ", ".join(member["key"] for member in track["sources"]),
        )
    out.print(table)


@app.command()
def emulate(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8899,
    seed: Annotated[int, typer.Option(help="Seed of the generated library.")] = 0,
    tracks_: Annotated[int, typer.Option("--tracks", help="Liked songs.")] = 2000,
    playlists_: Annotated[int, typer.Option("--playlists", help="Playlists.")] = 20,
    playlist_size: Annotated[
        int | None, typer.Option(help="Entries in every playlist (default: varied sizes).")
    ] = None,
    latency_ms: Annotated[float, typer.Option(help="Delay added to every request.")] = 0,
    fail_rate: Annotated[float, typer.Option(help="Share of requests failing 5xx.")] = 0.0,
    rate_limit: Annotated[
        int | None, typer.Option(help="Max requests per rolling 30 s (429 beyond).")
    ] = None,
) -> None:
    """Serve every emulated service (Spotify today) on one local port, for tests and trials."""
    import uvicorn

    from app.emulators.server import create_emulator_server
    from app.emulators.spotify.config import SpotifyEmulatorConfig

    config = SpotifyEmulatorConfig(
        latency_ms=latency_ms, fail_rate=fail_rate, rate_limit=rate_limit
    )
    from app.emulators.library import generate_library

    library = generate_library(
        seed=seed, tracks=tracks_, playlists=playlists_, playlist_size=playlist_size
    )
    server = create_emulator_server(library=library, config=config)
    base = f"http://{host}:{port}"
    err.print(
        f"emulating on {base}: SAP_SPOTIFY_API_URL={base}/spotify/v1 "
        f"SAP_SPOTIFY_ACCOUNTS_URL={base}/spotify/accounts",
        soft_wrap=True,
    )
    uvicorn.run(server, host=host, port=port, log_level="warning", server_header=False)


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
