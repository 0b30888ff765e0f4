"""`rules …`, `preview` and `explain`: rule sets from the command line."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from app.cli.common import (
    AsJson,
    CacheDir,
    Demo,
    _fail,
    _print_broken,
    _print_json,
    _services,
    err,
    escape,
    out,
)

if TYPE_CHECKING:
    from app.data import Stores
    from app.pipeline.rules.engine.explain import ExplainedCondition, ExplainedGroup
    from app.pipeline.rules.previews import LibraryPreview, RuleSetCount
    from app.pipeline.rules.validation.coverage import RuleWarning

rules_app = typer.Typer(
    help="Manage playlist rule sets (JSON or text syntax).", no_args_is_help=True
)

T = TypeVar("T")


def _stores(cache_dir: Path | None, demo: bool) -> Stores:
    return _services(cache_dir, demo).stores


def _checked(action: Callable[[], T]) -> T:
    """Run `action`; rule problems are printed all at once, with carets, then exit 1."""
    from app.core.errors import RulesInvalidError

    try:
        return action()
    except RulesInvalidError as exc:
        for problem in exc.extra.get("problems", []):
            err.print(
                f"[bold red]error:[/] {escape(problem.get('rendered') or problem['message'])}",
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(1) from None


def _print_warnings(rule_id: object, warnings: Sequence[RuleWarning]) -> None:
    """The warnings of a rule set on stderr (fields no track has yet): as rendered, with the
    source line and a caret when they have one; they never change the exit code."""
    from app.pipeline.rules.rule_sets import RenderedWarning

    for warning in warnings:
        line = warning.rendered if isinstance(warning, RenderedWarning) else _one_line(warning)
        err.print(
            f"[yellow]warning:[/] {escape(f'[{rule_id}] {line}')}", highlight=False, soft_wrap=True
        )


def _one_line(warning: RuleWarning) -> str:
    return warning.message + (f" — {warning.hint}" if warning.hint else "")


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8")


@rules_app.command("list")
def rules_list(
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
    counts: Annotated[
        bool,
        typer.Option(
            "--counts",
            help="Add each rule set's track count and minutes over the library, and list the "
            "broken ones (`POST /pipeline/playlists/counts`; with --json, its answer).",
        ),
    ] = False,
) -> None:
    """List rule sets."""
    from rich.table import Table

    from app.pipeline.rules.rule_sets import document, stored_rule_sets
    from app.pipeline.rules.service import count_rule_sets
    from app.pipeline.rules.text.printer import format_rules

    services = _services(cache_dir, demo)
    figures = count_rule_sets(services.stores, services.library) if counts else None
    if figures is not None and as_json:
        _print_json(figures.model_dump(mode="json"))
        return
    rule_sets = stored_rule_sets(services.stores)
    if as_json:
        _print_json([document(rs).model_dump(mode="json") for rs in rule_sets])
        return
    counted = {item.rule_id: item for item in figures.counts} if figures is not None else {}
    columns = ("id", "name", "enabled", *(("tracks", "minutes") if figures else ()), "rules")
    table = Table(*columns, caption=f"{len(rule_sets)} rule set(s)")
    for rs in rule_sets:
        text = format_rules(rs).splitlines()[0] if rs.rules.conditions else "(everything)"
        item = counted.get(rs.id)
        figures_of = (
            ((str(item.track_count), f"{item.minutes:g}") if item else ("broken", "—"))
            if figures is not None
            else ()
        )
        table.add_row(
            rs.id, escape(rs.name), "yes" if rs.enabled else "no", *figures_of, escape(text)
        )
    out.print(table)
    if figures is not None:
        _print_broken(figures.broken)


@rules_app.command("show")
def rules_show(
    rule_id: str, cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False
) -> None:
    """Show one rule set in the text syntax (or as JSON)."""
    from app.pipeline.rules.rule_sets import document, get_rule_set
    from app.pipeline.rules.text.printer import format_rules

    rule_set = get_rule_set(_stores(cache_dir, demo), rule_id)
    if as_json:
        _print_json(document(rule_set).model_dump(mode="json"))
    else:
        out.print(f"[bold]\\[{rule_set.id}] {escape(rule_set.name)}[/]", highlight=False)
        out.print(escape(format_rules(rule_set)), highlight=False)


@rules_app.command("add")
def rules_add(
    rule_id: Annotated[str, typer.Argument(help="Id of the rule set (letters, digits, -_.:).")],
    name: Annotated[
        str | None, typer.Option(help="Playlist name (replacing one: kept when not given).")
    ] = None,
    text: Annotated[str | None, typer.Argument(help="Rules in the text syntax.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Read the rules from a file ('-' for stdin).")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Name of the Spotify playlist to create on first sync.")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
) -> None:
    """Create or replace a rule set from text, e.g. `rules add fast --name Fast 'tempo > 140'`.

    Replacing one keeps the settings (pins, bans, target, mode…) the text leaves out; a clause
    such as `target none` or `pin none` clears one (docs/rules.md)."""
    from app.pipeline.rules.rule_sets import save_rule_set

    if (text is None) == (file is None):
        _fail("give the rules either as an argument or with --file")
    body = text if text is not None else _read(file or "-")
    payload: dict[str, Any] = {"id": rule_id, "text": body}
    if name is not None:
        payload["name"] = name
    if target:
        payload["target_playlist_name"] = target
    rule_set = _checked(lambda: save_rule_set(_stores(cache_dir, demo), payload))
    out.print(escape(f"saved [{rule_set.id}] {rule_set.name}"), highlight=False)
    _print_warnings(rule_set.id, rule_set.warnings)


@rules_app.command("edit")
def rules_edit(rule_id: str, cache_dir: CacheDir = None, demo: Demo = False) -> None:
    """Edit a rule set's whole text in $EDITOR (a clause deleted is cleared); saved if valid."""
    from app.pipeline.rules.rule_sets import get_rule_set, save_rule_set, whole_text_payload
    from app.pipeline.rules.text.printer import format_rules

    stores = _stores(cache_dir, demo)
    rule_set = get_rule_set(stores, rule_id)
    with tempfile.NamedTemporaryFile("w+", suffix=".rules", delete=False) as handle:
        handle.write(format_rules(rule_set) + "\n")
        path = Path(handle.name)
    try:
        editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        subprocess.run([*editor, str(path)], check=True)
        text = path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
    saved = _checked(lambda: save_rule_set(stores, whole_text_payload(rule_set, text)))
    out.print(escape(f"saved [{saved.id}] {saved.name}"), highlight=False)
    _print_warnings(saved.id, saved.warnings)


@rules_app.command("rm")
def rules_rm(rule_id: str, cache_dir: CacheDir = None, demo: Demo = False) -> None:
    """Delete a rule set."""
    from app.pipeline.rules.rule_sets import delete_rule_set

    delete_rule_set(_stores(cache_dir, demo), rule_id)
    out.print(f"deleted {rule_id}")


def _set_auto_apply(rule_id: str, auto_apply: bool, cache_dir: Path | None, demo: bool) -> None:
    from app.pipeline.sync.unattended import set_auto_apply

    chosen = set_auto_apply(_services(cache_dir, demo), rule_id, auto_apply)
    what = "applies its plan by itself" if chosen.auto_apply else "holds its plan for review"
    out.print(escape(f"[{chosen.rule_id}] {chosen.name}: unattended sync {what}"), highlight=False)


@rules_app.command("hold")
def rules_hold(rule_id: str, cache_dir: CacheDir = None, demo: Demo = False) -> None:
    """Unattended sync holds this rule set's plan for your review (`sap apply` it)."""
    _set_auto_apply(rule_id, False, cache_dir, demo)


@rules_app.command("auto")
def rules_auto(rule_id: str, cache_dir: CacheDir = None, demo: Demo = False) -> None:
    """Unattended sync applies this rule set's plan by itself when no guard trips."""
    _set_auto_apply(rule_id, True, cache_dir, demo)


@rules_app.command("validate")
def rules_validate(
    source: Annotated[
        str | None,
        typer.Argument(help="A rules file ('-' for stdin); default: the stored rule sets."),
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
) -> None:
    """Check a rules file, or every stored rule set; exit 1 on any problem."""
    from app.pipeline.rules.rule_files import parse_rules_file, validate_rules_file
    from app.pipeline.rules.rule_sets import validation_report

    stores = _stores(cache_dir, demo)
    if source is not None:
        payloads = parse_rules_file(_read(source))
        checked = validate_rules_file(stores, payloads)
        reports, file_errors = checked.rule_sets, checked.errors
    else:
        payloads = stores.rules.load_rules()
        reports = [validation_report(stores, payload) for payload in payloads]
        file_errors = []
    failed = warned = 0
    for payload, report in zip(payloads, reports, strict=True):
        for error in report.errors:
            err.print(
                f"[bold red]\\[{payload.get('id')}][/] {escape(error.rendered)}",
                highlight=False,
                soft_wrap=True,
            )
        _print_warnings(payload.get("id"), report.warnings)
        failed += not report.valid
        warned += len(report.warnings)
    for error in file_errors:  # e.g. rule sets of the file referring to each other in a cycle
        err.print(f"[bold red]{escape(error.message)}[/]", highlight=False, soft_wrap=True)
    across = f", {len(file_errors)} problem(s) across rule sets" if file_errors else ""
    warnings = f", {warned} warning(s)" if warned else ""
    out.print(f"{len(payloads) - failed} valid, {failed} invalid{across}{warnings}")
    if failed or file_errors:
        raise typer.Exit(1)


@rules_app.command("count")
def rules_count(
    source: Annotated[
        str, typer.Argument(help="A stored rule set's id, or a rules file ('-' for stdin).")
    ],
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Count a rule set's tracks and minutes, and what each stage removed (not saved)."""
    from rich.table import Table

    from app.pipeline.rules.rule_files import parse_rules_file
    from app.pipeline.rules.service import count_rule_set

    services = _services(cache_dir, demo)
    targets: list[str | dict[str, Any]] = (
        list(parse_rules_file(_read(source)))
        if source == "-" or Path(source).is_file()
        else [source]
    )

    def counted(target: str | dict[str, Any]) -> RuleSetCount:
        return _checked(lambda: count_rule_set(services.stores, services.library, target))

    counts = [counted(target) for target in targets]
    if as_json:
        _print_json([count.model_dump(mode="json") for count in counts])
        return
    table = Table("rule", "tracks", "minutes", "removed by stage")
    for count in counts:
        removed = count.removed.model_dump()
        stages = ", ".join(f"{stage} {n}" for stage, n in removed.items() if n and stage != "pins")
        pins = f"; pins add {removed['pins']}" if removed["pins"] else ""
        table.add_row(
            f"{count.rule_id} ({escape(count.rule_name)})",
            str(count.track_count),
            f"{count.minutes:g}",
            escape(f"{count.candidates} candidates: {stages or 'none'}{pins}"),
        )
    out.print(table)
    for count in counts:
        _print_node_counts(count)
    for count in counts:
        _print_warnings(count.rule_id, count.warnings)


def _print_node_counts(count: RuleSetCount) -> None:
    """Each condition and group of a counted rule set with what it matches and removes (in an
    `and`) or only it adds (in an `or`), indented as the tree."""
    from rich.table import Table

    if len(count.nodes) <= 1:
        return
    table = Table("node", "condition", "matches", "effect", title=f"{count.rule_id}: per condition")
    for node in count.nodes[1:]:
        text = node.text if len(node.text) <= 70 else node.text[:69] + "…"
        effect = (
            f"removes {node.removes}" if node.removes else f"adds {node.adds}" if node.adds else "-"
        )
        depth = node.path.count(".")
        table.add_row(node.path, escape("  " * depth + text), str(node.matches), effect)
    out.print(table)


@rules_app.command("values")
def rules_values(
    field: Annotated[
        str | None, typer.Argument(help="One field (genres, tags, mood…); every one if absent.")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """The values your library holds per field, most common first: what the editor completes."""
    from rich.table import Table

    from app.pipeline.rules.completion import completion

    services = _services(cache_dir, demo)
    answer = completion(services.stores, services.library)
    if as_json:
        _print_json(answer.model_dump(mode="json"))
        return
    if field is not None:
        if field not in answer.values:
            known = ", ".join(answer.values) or "none"
            err.print(f"no known values for {escape(field)!r}; fields with values: {known}")
            raise typer.Exit(1)
        table = Table("value", "tracks", title=field)
        for value in answer.values[field]:
            table.add_row(escape(value.value), str(value.tracks))
        out.print(table)
        return
    table = Table("field", "values", "most common")
    for name, values in answer.values.items():
        top = ", ".join(f"{v.value} ({v.tracks})" for v in values[:5])
        table.add_row(name, str(len(values)), escape(top))
    out.print(table)


@rules_app.command("fmt")
def rules_fmt(
    source: Annotated[str, typer.Argument(help="Text rules ('-' for stdin).")] = "-",
) -> None:
    """Print rules in the canonical text form (checks the syntax)."""
    from app.pipeline.rules.text.parser import parse_rules
    from app.pipeline.rules.text.printer import format_rules

    parsed = _checked(lambda: parse_rules(_read(source)))
    out.print(escape(format_rules(parsed)), highlight=False)


@rules_app.command("apply-file")
def rules_apply_file(
    path: Path,
    check: Annotated[
        bool,
        typer.Option("--check", help="Only say what would change (new, changed, unchanged)."),
    ] = False,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Upsert every rule set of a file (`[id] Name` headers); nothing is saved if one is bad."""
    from app.pipeline.rules.rule_files import apply_rules_file, preview_rules_file

    content = path.read_text(encoding="utf-8")
    if check:
        found = _checked(lambda: preview_rules_file(_stores(cache_dir, demo), content))
        if as_json:
            _print_json(found.model_dump(mode="json"))
        else:
            for entry in found.rule_sets:
                out.print(escape(f"{entry.change:>9}  [{entry.id}] {entry.name}"), highlight=False)
                for problem in entry.report.errors:
                    err.print(f"[bold red]error:[/] {escape(problem.rendered)}", soft_wrap=True)
            for problem in found.errors:
                err.print(f"[bold red]error:[/] {escape(problem.rendered)}", soft_wrap=True)
            if found.kept:
                out.print(f"     kept  {', '.join(found.kept)} (not in the file)")
        if not found.applicable:
            raise typer.Exit(1)
        return
    saved = _checked(lambda: apply_rules_file(_stores(cache_dir, demo), content))
    out.print(f"saved {len(saved)} rule set(s): {', '.join(rs.id for rs in saved)}")
    for rule_set in saved:
        _print_warnings(rule_set.id, rule_set.warnings)


@rules_app.command("export")
def rules_export(
    rule_ids: Annotated[
        list[str] | None, typer.Argument(help="Rule set ids (default: every stored one).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the file here (default: stdout).")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
) -> None:
    """Write rule sets as a rules file (each whole, for git); `rules apply-file` reads it back."""
    from app.core.fs import write_chunks
    from app.pipeline.rules.rule_files import export_rule_sets

    text = export_rule_sets(_stores(cache_dir, demo), rule_ids or None)
    if output is None:
        sys.stdout.write(text)
    else:
        write_chunks(output, [text.encode("utf-8")], mode=0o644)  # a file to keep in git


@rules_app.command("import-nsp")
def rules_import_nsp(
    path: Path,
    rule_id: Annotated[
        str | None, typer.Option("--id", help="Rule set id (default: from the playlist name).")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
) -> None:
    """Import a Navidrome smart playlist (.nsp); kept disabled if it needs fixing here."""
    from app.pipeline.rules.service import import_nsp_rules

    imported = import_nsp_rules(
        _stores(cache_dir, demo), path.read_bytes(), rule_id=rule_id, name=path.stem
    )
    rule_set = imported.rule
    out.print(escape(f"imported [{rule_set.id}] {rule_set.name}"), highlight=False)
    for note in imported.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    for problem in imported.problems:
        err.print(f"[yellow]to fix:[/] {escape(problem.render())}", highlight=False, soft_wrap=True)
    _print_warnings(rule_set.id, imported.warnings)
    if imported.problems:
        err.print(
            "saved disabled until the problems above are fixed "
            f"(`spotify-auto-playlists rules edit {rule_set.id}`)"
        )


@rules_app.command("export-nsp")
def rules_export_nsp(
    rule_id: str,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the .nsp here (default: stdout).")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
) -> None:
    """Export a rule set as a Navidrome smart playlist; what Navidrome can't express is listed."""
    from app.pipeline.rules.service import export_nsp_rules

    exported = export_nsp_rules(_stores(cache_dir, demo), rule_id)
    text = json.dumps(exported.nsp, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    for line in exported.dropped:
        err.print(f"[yellow]dropped:[/] {escape(line)}", highlight=False, soft_wrap=True)
    for note in exported.notes:
        err.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)


@rules_app.command("starters")
def rules_starters(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """Rule sets to start from, built from your library, each with its count now."""
    from app.pipeline.query.starters import library_starters

    services = _services(cache_dir, demo)
    found = _checked(lambda: library_starters(services.stores, services.queries))
    if as_json:
        _print_json(found.model_dump(mode="json"))
        return
    for starter in found.starters:
        out.print(
            f"[bold]{escape(starter.title)}[/] — {starter.count} tracks, {starter.minutes:g} min "
            f"({escape(starter.why)})",
            highlight=False,
        )
        for line in starter.text.splitlines():
            out.print(f"    {escape(line)}", highlight=False)
        for need in starter.needs:
            err.print(f"    [yellow]{escape(need)}[/]", highlight=False)


@rules_app.command("status")
def rules_status(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """Each rule set's standing with Spotify as of its latest plan (`sap plan` checks afresh)."""
    from rich.table import Table

    from app.pipeline.sync.status import sync_states

    states = sync_states(_stores(cache_dir, demo))
    if as_json:
        _print_json([state.model_dump(mode="json") for state in states])
        return
    table = Table("rule", "status", "checked", "last apply")
    for state in states:
        status: str = state.status
        if state.status == "would change" and state.plan is not None:
            summary = state.plan.summary
            status += f" (+{summary.adds} -{summary.removes} ~{summary.moves})"
        table.add_row(
            state.rule_id,
            status,
            state.checked_at.isoformat(timespec="seconds") if state.checked_at else "never",
            state.last_apply.at.isoformat(timespec="seconds") if state.last_apply else "never",
        )
    out.print(table)


def overlaps(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """Where the enabled rule sets' playlists overlap, and the liked songs in none."""
    from rich.table import Table

    from app.pipeline.rules.overlaps import library_overlaps

    services = _services(cache_dir, demo)
    found = _checked(lambda: library_overlaps(services.stores, services.library))
    if as_json:
        _print_json(found.model_dump(mode="json"))
        return
    ids = [item.rule_id for item in found.rule_sets]
    table = Table("", *ids, caption="tracks each pair of playlists shares (diagonal: size)")
    for rule_id, row in zip(ids, found.matrix, strict=True):
        table.add_row(rule_id, *map(str, row))
    out.print(table)
    out.print(f"{found.several.count} tracks land in two playlists or more")
    out.print(
        f"{found.liked_nowhere.count} of {found.liked_nowhere.liked} liked songs land in none"
        + (
            f": sap library query --filter '{found.liked_nowhere.filter}'"
            if found.liked_nowhere.filter
            else ""
        )
    )
    for broken in found.broken:
        err.print(f"[yellow]broken:[/] {escape(broken.rule_id)}", highlight=False)


def preview(
    rule_ids: Annotated[
        list[str] | None, typer.Argument(help="Rule ids (default: all enabled).")
    ] = None,
    tracks: Annotated[bool, typer.Option("--tracks", help="List each playlist's tracks.")] = False,
    detail: Annotated[
        bool,
        typer.Option(
            "--detail",
            help="With --json: per track, the stage that dropped it and its rule sets "
            "(large; `sap explain` says why for one track).",
        ),
    ] = False,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Preview the playlists rule sets would make from the fetched library.

    A rule set that cannot be previewed gets one line on stderr saying why and the others are
    shown; the exit code is 1 only when none could be (docs/rules.md).
    """
    from rich.table import Table

    from app.pipeline.rules.service import preview_library

    services = _services(cache_dir, demo)
    stores = services.stores
    result = _checked(
        lambda: preview_library(stores, services.library, ids=rule_ids or None, detail=detail)
    )
    if as_json:
        _print_json(result.model_dump(mode="json"))
        _exit_if_all_broken(result)
        return
    partition = result.partition
    overlaps: dict[str, int] = {}
    for overlap in partition.overlaps:
        for rule_id in overlap.rule_ids:
            overlaps[rule_id] = overlaps.get(rule_id, 0) + overlap.tracks
    table = Table(
        "rule",
        "tracks",
        "minutes",
        "overlaps",
        caption=f"{partition.placed} of {partition.tracks} tracks placed; "
        f"{partition.nowhere.count} land nowhere",
    )
    for playlist in result.playlists:
        table.add_row(
            f"{playlist.rule_id} ({escape(playlist.rule_name)})",
            str(playlist.track_count),
            f"{playlist.minutes:g}",
            str(overlaps.get(playlist.rule_id, 0)),
        )
    out.print(table)
    if tracks:
        library = stores.tracks.load_tracks()
        for playlist in result.playlists:
            out.print(f"[bold]{playlist.rule_id}[/]")
            for track_id in playlist.track_ids:
                track = library.get(track_id)
                label = (
                    f"{track.name} — {', '.join(a.name for a in track.artists)}"
                    if track
                    else track_id
                )
                out.print(f"  {escape(label)}", highlight=False)
    _exit_if_all_broken(result)


def _exit_if_all_broken(result: LibraryPreview) -> None:
    """One line per warning and per broken rule set; exit 1 if nothing could be previewed
    because of broken ones (warnings never change the exit code)."""
    for playlist in result.playlists:
        _print_warnings(playlist.rule_id, playlist.warnings)
    _print_broken(result.broken)
    if result.broken and not result.playlists:
        raise typer.Exit(1)


def explain(
    track_id: Annotated[str, typer.Argument(help="Track id.")],
    rule_id: Annotated[str, typer.Argument(help="Rule set id.")],
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Why a track is (or is not) in a rule set's playlist."""
    from app.pipeline.rules.engine.explain import ExplainedGroup
    from app.pipeline.rules.service import explain_track

    services = _services(cache_dir, demo)
    result = _checked(lambda: explain_track(services.stores, services.library, track_id, rule_id))
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    out.print(f"{escape(f'{track_id} in [{rule_id}]')}: [bold]{result.outcome}[/]", highlight=False)

    def show(node: ExplainedGroup | ExplainedCondition, depth: int) -> None:
        mark = "[green]✓[/]" if node.passed else "[red]✗[/]"
        pad = "  " * depth
        if isinstance(node, ExplainedGroup):
            word = ("NOT " if node.negate else "") + node.operator.upper()
            out.print(f"{pad}{mark} {word}")
            for child in node.conditions:
                show(child, depth + 1)
        else:
            provider = f" (from {node.provider})" if node.provider else ""
            out.print(
                f"{pad}{mark} {escape(node.field)} {node.operator} "
                f"{escape(repr(node.value))}: actual "
                f"{escape(repr(node.actual))}{escape(provider)}",
                highlight=False,
            )

    show(result.rules, 1)
