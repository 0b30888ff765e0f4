"""`plan`, `apply`, `backups`, `restore`: sync playlists from the shell (see docs/sync.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.common import (
    AsJson,
    CacheDir,
    Demo,
    _fail,
    _manager,
    _print_broken,
    _print_json,
    _run_with_progress,
    _services,
    err,
    escape,
    out,
)

if TYPE_CHECKING:
    from app.core.models import PipelineJob
    from app.data import Stores
    from app.pipeline.sync.plans import StoredPlan


def _track_names(stores: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for track in stores.tracks.load_tracks().values():
        artists = ", ".join(artist.name for artist in track.artists)
        names[track.uri] = f"{track.name} — {artists}" if artists else track.name
    return names


def plan(
    rules: Annotated[list[str] | None, typer.Argument(help="Rule set ids (default: all).")] = None,
    tracks: Annotated[
        bool, typer.Option("--tracks", help="List every added/removed track.")
    ] = True,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode", help="This plan's mode (replace, merge, append); one rule set only."
        ),
    ] = None,
    new_playlist: Annotated[
        str | None,
        typer.Option(
            "--new-playlist",
            help="Write to a new playlist of this name instead (a one-off copy); one rule set.",
        ),
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Plan what each rule set's playlist needs (reads Spotify, writes nothing).

    A rule set that cannot be evaluated gets one line on stderr saying why and the others are
    planned; the exit code is 1 only when none could be. `--mode` and `--new-playlist` choose
    for this plan only: the stored rule set is not changed."""
    import asyncio

    from app.pipeline.sync.service import PlanOptions, plan_rule_sets

    if mode is not None and mode not in ("replace", "merge", "append"):
        _fail(f"--mode is replace, merge or append, not {mode!r}")
    options = PlanOptions(mode=mode, new_playlist_name=new_playlist)  # type: ignore[arg-type]  # checked above
    services = _services(cache_dir, demo, spotify=True)
    planning = asyncio.run(plan_rule_sets(services, rules or None, options))
    plans = planning.plans
    if as_json:
        _print_json([stored.model_dump(mode="json") for stored in plans])
    elif not plans and not planning.broken:
        out.print("No rule set has a target playlist (set target_playlist_id or _name).")
    else:
        _print_plans(services.stores, plans, tracks)
    _print_broken(planning.broken)
    if planning.broken and not plans:
        raise typer.Exit(1)


def _print_plans(stores: Stores, plans: Sequence[StoredPlan], tracks: bool) -> None:
    """One line per plan, its guards and (with `tracks`) every track added or removed."""
    names = _track_names(stores)
    for stored in plans:
        summary = stored.summary
        target = stored.playlist_name or stored.playlist_id or "?"
        create = " [bold](new playlist)[/]" if stored.create else ""
        out.print(
            f"[bold]{escape(stored.id)}[/] {escape(str(stored.rule_id))} → "
            f"{escape(target)}{create} ({stored.mode}): "
            f"[green]+{summary.adds}[/] [red]-{summary.removes}[/] "
            f"~{summary.moves} moved, {summary.kept} kept, {summary.writes} write(s)",
            highlight=False,
        )
        for guard in stored.guards:
            out.print(f"  [yellow]guard {guard.guard}[/]: {escape(guard.message)}")
        for left in stored.excluded:  # always shown: the rule set asked for them
            what = left.name or names.get(left.uri, left.uri)
            out.print(f"  [yellow]left out[/]: {escape(what)} — {escape(left.message)}")
        if tracks:
            for add in stored.plan.adds:
                out.print(f"  [green]+ {escape(names.get(add.uri, add.uri))}[/]")
            for uri in stored.plan.removes:
                out.print(f"  [red]- {escape(names.get(uri, uri))}[/]")


def apply(
    plan_id: Annotated[str, typer.Argument(help="A plan id from `plan`.")],
    force: Annotated[
        list[str] | None,
        typer.Option("--force", help="Override a guard: empty, remove_share or drift."),
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Apply a plan: the only command that writes to Spotify (backed up first)."""
    from app.pipeline.sync.service import check_applicable

    manager = _manager(cache_dir, demo, spotify=True)
    check_applicable(manager.services, plan_id, force or [])
    job = _run_with_progress(manager, "apply", {"plan_id": plan_id, "force": force or []})
    _report(job, as_json)


def backups(
    playlist: Annotated[str | None, typer.Option(help="Only this playlist id.")] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Backups taken before each apply, newest first."""
    from rich.table import Table

    from app.pipeline.sync.backups import list_backups

    rows = list_backups(_services(cache_dir, demo), playlist)
    if as_json:
        _print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("backup", "playlist", "taken", "items", "reason")
    for row in rows:
        table.add_row(
            row.id,
            escape(row.playlist_name or row.playlist_id),
            row.taken_at.strftime("%Y-%m-%dT%H:%M:%S"),
            str(row.items),
            escape(row.reason),
        )
    out.print(table)


def backup_diff(
    backup_id: Annotated[str, typer.Argument(help="A backup id from `backups`.")],
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """What restoring a backup would change in the playlist now (reads Spotify, writes nothing)."""
    import asyncio

    from app.pipeline.sync.backups import diff_backup

    diff = asyncio.run(diff_backup(_services(cache_dir, demo, spotify=True), backup_id))
    if as_json:
        _print_json(diff.model_dump(mode="json"))
        return
    name = diff.playlist_name or diff.backup.playlist_id
    if not diff.plan.calls:
        out.print(escape(f"{name} holds exactly what backup {backup_id} holds."), highlight=False)
        return
    summary = diff.summary
    out.print(
        escape(f"restoring {backup_id} into {name}: ")
        + f"[green]+{summary.adds}[/] [red]-{summary.removes}[/] ~{summary.moves} moved, "
        f"{summary.writes} write(s)",
        highlight=False,
    )
    for add in diff.plan.adds:
        out.print(f"  [green]+ {escape(diff.names.get(add.uri, add.uri))}[/]", highlight=False)
    for uri in diff.plan.removes:
        out.print(f"  [red]- {escape(diff.names.get(uri, uri))}[/]", highlight=False)


def restore(
    backup_id: Annotated[str, typer.Argument(help="A backup id from `backups`.")],
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Put a playlist back as a backup holds it (itself backed up, so it can be undone)."""
    manager = _manager(cache_dir, demo, spotify=True)
    manager.services.stores.backups.get(backup_id)
    job = _run_with_progress(manager, "restore", {"backup_id": backup_id})
    _report(job, as_json)


def _report(job: PipelineJob, as_json: bool) -> None:
    """An ``apply`` or ``restore`` job: its JSON, or one line per playlist written."""
    from app.core.models import JobStatus
    from app.pipeline.sync.plans import AppliedPlans, ApplyResult, RestoreResult

    if as_json:
        _print_json(job.model_dump(mode="json"))
    elif job.status is JobStatus.DONE:
        results: list[ApplyResult] = (
            AppliedPlans.model_validate(job.payload).applied
            if job.step == "apply"
            else [RestoreResult.model_validate(job.payload)]
        )
        for result in results:
            resumed = " (resumed an apply that was cut short)" if result.resumed else ""
            out.print(
                f"{result.playlist_id}: {result.writes} write(s), "
                f"backup {result.backup_id or '-'}{resumed}",
                highlight=False,
            )
    if job.status is not JobStatus.DONE:
        _fail(job.error.message if job.error else job.status.value)


def sync(
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only this rule set (repeatable).")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Apply the plans whose guards did not trip.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and show, write nothing to Spotify.")
    ] = False,
    fetch: Annotated[
        bool, typer.Option("--fetch/--no-fetch", help="Refresh sources first.")
    ] = True,
    enrich: Annotated[
        bool, typer.Option("--enrich/--no-enrich", help="Enrich new tracks first.")
    ] = True,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Fetch, enrich, plan every rule set and (with --yes) apply what no guard stops; for cron.

    Exits 1 when a guard skipped a playlist or an apply failed, naming the reason. A dry run
    (or no --yes) reports the same guards and exits as the real run would."""
    from rich.table import Table

    from app.core.models import JobStatus

    manager = _manager(cache_dir, demo, spotify=True)
    metadata = {
        "rule_ids": rule or None,
        "apply": yes and not dry_run,
        "fetch": fetch,
        "enrich": enrich,
    }
    job = _run_with_progress(manager, "sync", metadata)
    if job.status is not JobStatus.DONE:
        _fail(job.error.message if job.error else job.status.value)
    from app.pipeline.sync.unattended import SyncReport

    if as_json:
        _print_json(job.payload)
    report = SyncReport.model_validate(job.payload)
    if not as_json:
        caption = (
            "dry run: nothing written; `planned` ones would be applied with --yes"
            if report.dry_run
            else None
        )
        table = Table("plan", "rule set", "playlist", "changes", "outcome", caption=caption)
        for entry in report.plans:
            summary = entry.summary
            table.add_row(
                entry.id,
                escape(str(entry.rule_id)),
                escape(entry.playlist_name or entry.playlist_id or "(new)"),
                f"+{summary.adds} -{summary.removes} ~{summary.moves}",
                escape(entry.outcome),
            )
        out.print(table)
    _print_broken(report.broken)
    shortfall = report.fetched.shortfall() if report.fetched is not None else None
    if shortfall is not None:  # the other sources were fetched and used
        err.print(f"[bold red]fetch:[/] {escape(shortfall.error.message)}", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


def build(
    source: Annotated[
        str, typer.Option("--from", help="rules, or classifications (one playlist per mood).")
    ] = "rules",
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """v1: the target playlists — rule sets with a target, or one rule set per mood."""
    from rich.table import Table

    from app.pipeline.classify import build_targets

    result = build_targets(_services(cache_dir, demo), source=source)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    table = Table("rule set", "name", "tracks", caption=f"from {source}")
    for target in result.targets:
        table.add_row(target.rule_id, escape(target.name), str(target.tracks))
    out.print(table)
