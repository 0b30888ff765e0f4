"""Commands about this installation: `status`, `verify` and `version`."""

from __future__ import annotations

from pathlib import Path

import typer

from app.cli.common import (
    AsJson,
    CacheDir,
    Demo,
    _manager,
    _print_json,
    _report_job,
    _run_with_progress,
    err,
    escape,
    out,
)


def status(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """Show login, version, data directory, store files, quarantined files and job counts."""
    from rich.table import Table

    from app.pipeline.health import health_report
    from app.spotify.auth.tokens import auth_status

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
        why = "--demo / SAP_DEMO" if manager.services.settings.demo else "no SAP_SPOTIFY_CLIENT_ID"
        out.print(f"[cyan]demo mode[/] ({why}): using the built-in emulated Spotify account")
    colour = "green" if report.status == "ok" else "yellow"
    out.print(f"spotify-auto-playlists {report.version}: [{colour}]{report.status}[/]")
    out.print(f"data directory: {escape(report.cache_dir)}")
    table = Table("store", "file", "size", "modified")
    for store in report.stores:
        size = f"{store.size_bytes:,} B" if store.exists else "—"
        modified = store.modified_at.strftime("%Y-%m-%d %H:%M") if store.modified_at else "—"
        table.add_row(store.name, Path(store.file).name, size, modified)
    out.print(table)
    for store in report.stores:
        if store.problem:
            out.print(f"[yellow]{escape(store.name)}:[/] {escape(store.problem)}", soft_wrap=True)
    for item in report.quarantined:
        out.print(
            f"[yellow]quarantined:[/] {escape(item.file)} (was {item.original_name}) — "
            "see docs/operations.md, 'Recovering a quarantined file'"
        )
    if report.library is not None and report.library.advice:
        out.print(f"[yellow]library incomplete:[/] {escape(report.library.advice)}")
    counts = ", ".join(f"{name} {count}" for name, count in report.jobs.items())
    out.print(f"jobs: {counts or 'unknown (jobs.json cannot be read)'}")


def verify(cache_dir: CacheDir = None, as_json: AsJson = False) -> None:
    """Parse every store file; corrupt ones are moved aside and listed. Exit 1 if any problem."""
    from app.pipeline.health import VerifyReport

    job = _run_with_progress(_manager(cache_dir), "verify", {})
    _report_job(job, as_json)
    report = VerifyReport.model_validate(job.payload)
    if report.library is not None and report.library.advice and not as_json:
        err.print(
            f"[yellow]library incomplete:[/] {escape(report.library.advice)}",
            highlight=False,
            soft_wrap=True,
        )
    if not report.ok:
        raise typer.Exit(1)


def version() -> None:
    """Print the version."""
    from app import __version__

    typer.echo(__version__)  # not rich: `version` loads nothing it does not need
