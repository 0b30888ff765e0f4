"""Your Spotify account and what was fetched from it: `setup`, `login`, `logout`, `playlists`,
`fetch`, `tracks`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import (
    AsJson,
    CacheDir,
    Demo,
    _fail,
    _manager,
    _print_json,
    _run_with_progress,
    _services,
    err,
    escape,
    out,
)


def setup(
    port: Annotated[
        int | None, typer.Option(help="The port the server will run on (default 8888, SAP_PORT).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """How to connect your own Spotify account: redirect URI, scopes, the command to start with."""
    from app.cli.common import build_settings
    from app.spotify.auth.setup import setup_guide

    guide = setup_guide(build_settings(port=port))
    if as_json:
        _print_json(guide.model_dump(mode="json"))
        return
    if guide.demo_mode:
        out.print(f"Demo mode now: {escape(guide.demo_reason or '')}.")
    else:
        out.print("Your client id is set (SAP_SPOTIFY_CLIENT_ID); its app must have:")
    out.print(f"1. Create an app at {guide.dashboard_url} (Web API; development mode is fine).")
    out.print(f"2. Register this redirect URI, exactly: {guide.redirect_uri}")
    out.print("3. It asks for these permissions:")
    for scope in guide.scopes:
        out.print(f"   {scope.scope}: {escape(scope.why)}")
    out.print(
        f"4. Put in .env (replace {guide.client_id_placeholder}): " + "  ".join(guide.env_lines)
    )
    out.print(f"   or start once with: {guide.command}")
    out.print(
        f"Then log in (the web app's Account screen, or `sap login`). Spotify ends every login "
        f"{guide.login_lifetime_days} days after you agree; log in again then."
    )


def login(
    cache_dir: CacheDir = None,
    demo: Demo = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL instead of opening a browser.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the callback.")] = 300,
) -> None:
    """Connect your Spotify account (PKCE; opens the browser and waits for the callback)."""
    import asyncio

    from app.spotify.auth.login import headless_login, interactive_login

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


def logout(cache_dir: CacheDir = None, demo: Demo = False) -> None:
    """Forget the stored Spotify token."""
    _services(cache_dir, demo).spotify.tokens.logout()
    out.print("Logged out.")


def playlists(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """List the playlists in your library and whether they can be read."""
    import asyncio

    from rich.table import Table

    from app.pipeline.sources.planning import list_playlists

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
    """Fetch track sources into the library (unchanged playlists are skipped); with no
    option, the whole library: liked songs and every playlist you can read."""
    import asyncio

    from rich.table import Table

    from app.core.models import JobStatus
    from app.pipeline.sources.planning import SourceRequest, plan_fetch, plan_library
    from app.pipeline.sources.service import FetchSourcesReport, SourceFetchFailure

    requests = [SourceRequest(source_type="liked")] if liked else []
    requests += [SourceRequest(source_type="playlist", source_id=pid) for pid in playlist or []]
    requests += [SourceRequest(source_type="csv", source_id=str(path)) for path in csv or []]
    needs_spotify = not requests or any(r.source_type != "csv" for r in requests)
    manager = _manager(cache_dir, demo, spotify=needs_spotify)
    if requests:
        planned = asyncio.run(plan_fetch(manager.services, requests))
    else:
        planned = asyncio.run(plan_library(manager.services))
    metadata = {"sources": [source.metadata() for source in planned]}
    job = _run_with_progress(manager, "fetch_sources", metadata)
    # A failed job keeps its report when it is the sources that failed (`sources_failed`).
    report = FetchSourcesReport.model_validate(job.payload) if job.payload else None
    if as_json:
        _print_json(job.model_dump(mode="json"))
    elif report is not None:
        table = Table(
            "source", "result", "tracks", "skipped", caption=f"{report.requests} Spotify request(s)"
        )
        for result in report.sources:
            source = result.source
            name = source.name or source.label or source.key
            if isinstance(result, SourceFetchFailure):
                failure = f"[red]failed[/]: {escape(result.error.message)}"
                table.add_row(escape(name), failure, "", "")
                continue
            skipped = ", ".join(f"{k} {v}" for k, v in result.skipped.items())
            table.add_row(escape(name), result.mode, str(result.tracks), skipped)
        for forgotten in report.forgotten:
            why = "[yellow]forgotten[/]: its tracks were lost and it can no longer be read"
            table.add_row(escape(forgotten.name or forgotten.key), why, "", "")
        out.print(table)
    if job.status is not JobStatus.DONE:
        if job.error is not None and not as_json:
            prefix = "partial: " if job.status is JobStatus.PARTIAL else ""
            _fail(prefix + job.error.message)
        raise typer.Exit(1)


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
    from rich.table import Table

    from app.pipeline.sources.aggregate import aggregate

    view = aggregate(
        _services(cache_dir, demo).stores, limit=limit, offset=offset, source=source, q=q
    )
    if as_json:
        _print_json(view.model_dump(mode="json"))
        return
    table = Table(
        "title",
        "artists",
        "album",
        "sources",
        caption=f"{len(view.tracks)} of {view.total} track(s)",
    )
    for track in view.tracks:
        table.add_row(
            escape(track.name),
            escape(", ".join(artist.name for artist in track.artists)),
            escape(track.album.name),
            ", ".join(member.key for member in track.sources),
        )
    out.print(table)
