"""`providers`, `enrich`, `enrichment`, `coverage`, `tag`, `untag`, `tag-undo`: enrichment from
the shell."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.common import (
    AsJson,
    CacheDir,
    Demo,
    _fail,
    _manager,
    _print_json,
    _services,
    err,
    escape,
    out,
    refresh,
)

if TYPE_CHECKING:
    from app.core.models import PipelineJob
    from app.pipeline.enrichment.manual import ManualOutcome
    from app.pipeline.enrichment.service import EnrichmentDetail
    from app.pipeline.rules.fields.types import FieldInfo
    from app.pipeline.services import Services


def providers(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """List the enrichment providers: what they give, whether they can run, and whether the
    service each one calls answers now (one quick request to each, 3 s at most)."""
    import asyncio

    from rich.table import Table

    from app.pipeline.enrichment.service import provider_status

    rows = asyncio.run(provider_status(_services(cache_dir, demo, spotify=True), refresh=True))
    if as_json:
        _print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("provider", "type", "version", "status", "service", "fields")
    colours = {"up": "green", "throttled": "yellow", "down": "red"}
    for row in rows:
        state = "[green]enabled[/]" if row.enabled else f"[yellow]off[/]: {row.reason_if_disabled}"
        service = row.service
        health = (
            f"[{colours[service.state]}]{service.state}[/]: {escape(service.detail)}"
            if service is not None
            else "-"
        )
        fields = ", ".join(field.name for field in row.fields)
        table.add_row(row.id, row.type, row.version, state, health, escape(fields))
    out.print(table)


def enrich(
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", "-p", help="A provider id (repeatable); default: all enabled."),
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask again about tracks already enriched.")
    ] = False,
    source: Annotated[
        str | None, typer.Option(help="Only this source's tracks, e.g. liked.")
    ] = None,
    track: Annotated[
        list[str] | None, typer.Option("--track", help="Only this track id (repeatable).")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Enrich the library from the providers, all at once, with a progress bar per provider."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from app.core.models import JobPart, JobStatus
    from app.pipeline.enrichment.service import ENRICH_STEP, plan_enrich_job

    manager = _manager(cache_dir, demo, spotify=True)
    planned = plan_enrich_job(
        manager.services, providers=provider, track_ids=track, source=source, refresh=refresh
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.fields[name]:<15}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err.console,
    ) as progress:
        bars: dict[str, TaskID] = {
            name: progress.add_task("queued", total=None, name=name, start=False)
            for name in planned.providers
        }

        def show(parts: list[JobPart]) -> None:
            for part in parts:
                bar = bars.get(part.id)
                if bar is None:
                    continue
                if part.state.value != "pending":
                    progress.start_task(bar)
                progress.update(
                    bar,
                    completed=part.done,
                    total=part.total,
                    description=escape(part.message or part.state.value),
                )
                if part.state.value in ("done", "failed", "cancelled"):
                    progress.stop_task(bar)

        job = manager.run_inline(ENRICH_STEP, planned.model_dump(mode="json"), on_parts=show)
    if as_json:
        _print_json([job.model_dump(mode="json")])  # a list: one job per provider, before
    else:
        _print_enrich_report(job)
    if job.status is not JobStatus.DONE:
        raise typer.Exit(1)


def _print_enrich_report(job: PipelineJob) -> None:
    """One row per provider: its counts, or why it failed; then the job's error, if any."""
    from rich.table import Table

    from app.pipeline.enrichment.service import EnrichRunReport

    if job.payload is None:  # cancelled, or failed before any provider ran
        message = job.error.message if job.error else job.status.value
        err.print(f"[bold red]{job.status.value}:[/] {escape(message)}", soft_wrap=True)
        return
    report = EnrichRunReport.model_validate(job.payload)
    table = Table()
    table.add_column("provider", no_wrap=True)
    for name in ("asked", "matched", "not found", "failed", "cached", "n/a", "requests", "time"):
        table.add_column(name, justify="right")
    for run in report.providers:
        seconds = f"{run.seconds:.1f}s" if run.seconds is not None else ""
        if run.state.value != "done":
            why = run.error.message if run.error else run.state.value
            table.add_row(run.provider, f"[red]{run.state.value}[/]: {escape(why)}")
            continue
        counts = (
            run.total,
            run.matched,
            run.not_found,
            run.failed,
            run.cached,
            run.not_applicable,
            run.requests,
        )
        table.add_row(run.provider, *map(str, counts), seconds)
    out.print(table)


def enrichment(
    track_id: Annotated[str, typer.Argument(help="A track id of the library.")],
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Show what the providers (and you) say about one track, and who said it."""
    from rich.table import Table

    from app.pipeline.enrichment.service import enrichment_detail

    services = _services(cache_dir, demo)
    detail = enrichment_detail(services.stores, track_id, services.library.precedence)
    if as_json:
        _print_json(detail.model_dump(mode="json"))
        return
    table = Table("field", "value", "from", title=escape(_title(detail)))
    for key in sorted(detail.view):
        value = detail.view[key]
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        table.add_row(escape(key), escape(shown), detail.provenance.get(key, ""))
    out.print(table)


def _title(detail: EnrichmentDetail) -> str:
    track = detail.track
    if track is None:
        return detail.track_id
    return f"{track.name} — {', '.join(artist.name for artist in track.artists)}"


def coverage(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """How many library tracks have each enriched field, and from which providers."""
    from rich.table import Table

    from app.pipeline.enrichment.service import coverage as library_coverage

    services = _services(cache_dir, demo)
    report = library_coverage(services.library)
    if as_json:
        _print_json(report.model_dump(mode="json"))
        return
    table = Table("field", "tracks", "share", "providers", caption=f"{report.tracks} tracks")
    for row in report.fields:
        providers_text = ", ".join(f"{name} {count}" for name, count in row.providers.items())
        table.add_row(escape(row.field), str(row.tracks), f"{row.share:.0%}", providers_text)
    out.print(table)


def _parse_value(text: str, info: FieldInfo | None = None) -> Any:
    """`120` → 120, `true` → True, `["a","b"]` → list; anything else stays text. A text or date
    field (`info`) keeps the text as written (`era=1990` is the text "1990"), lists aside."""
    if info is not None and info.type in ("text", "date") and not text.startswith("["):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str | int | float | bool | list) else text


def _split(items: list[str], filter_: str | None = None) -> tuple[list[str], list[str]]:
    """Track ids (22 letters and digits) or `spotify:track:` URIs vs everything else; with a
    filter, no track id (the filter chooses the tracks)."""
    tracks: list[str] = []
    rest: list[str] = []
    for item in items:
        track_id = item.removeprefix("spotify:track:")
        if len(track_id) == 22 and track_id.isalnum() and "=" not in item:
            tracks.append(track_id)
        else:
            rest.append(item)
    if filter_ is not None:
        if tracks:
            _fail("give track ids or --filter, not both")
    elif not tracks:
        _fail(
            "give at least one track id (22 letters and digits) or spotify:track: URI, or --filter"
        )
    return tracks, rest


FilterOption = Annotated[
    str | None,
    typer.Option(
        "--filter", "-f", help="Every track matching this filter (rules language) instead of ids."
    ),
]


def _targets(services: Services, track_ids: list[str], filter_: str | None) -> list[str]:
    """The tracks to edit: the ids given, or every track the filter matches."""
    if filter_ is None:
        return track_ids
    from app.cli.rules import _checked
    from app.core.errors import NotFoundError
    from app.pipeline.query.model import LibraryFilter
    from app.pipeline.query.service import matching_ids

    matched = _checked(lambda: matching_ids(services.queries, LibraryFilter(filter=filter_)))
    if not matched:
        raise NotFoundError("no track matches the filter: nothing to edit")
    return matched


def tag(
    items: Annotated[
        list[str] | None,
        typer.Argument(help="Track ids or spotify:track: URIs, then key=value pairs."),
    ] = None,
    add_tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag to add (repeatable).")
    ] = None,
    filter_: FilterOption = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Set your own values on tracks: `sap tag ID… mood=happy energy=0.8 -t summer`, or on
    every track of a filter: `sap tag -f 'genres has any ["jazz"]' -t late-night`."""
    from app.pipeline.enrichment.manual import ManualEdit, edit_manual
    from app.pipeline.rules.rule_sets import field_registry

    track_ids, assignments = _split(items or [], filter_)
    services = _services(cache_dir, demo)
    stores = services.stores
    registry = field_registry(stores, services.library) if assignments else None
    values: dict[str, Any] = {}
    for assignment in assignments:
        if "=" not in assignment:
            _fail(f"{assignment!r} is neither a track id nor key=value")
        key, _, text = assignment.partition("=")
        info = registry.resolve(key.strip()) if registry is not None else None
        values[key.strip()] = _parse_value(text.strip(), info)
    edit = ManualEdit(set=values, add_tags=add_tag or [])
    targets = _targets(services, track_ids, filter_)
    outcome = edit_manual(stores, targets, edit, registry=registry)
    refresh(services)  # the next preview loads the library instead of building it
    _report_manual(outcome, as_json)


def untag(
    items: Annotated[
        list[str] | None,
        typer.Argument(help="Track ids or spotify:track: URIs, then keys to remove."),
    ] = None,
    remove_tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag to take off (repeatable).")
    ] = None,
    filter_: FilterOption = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Remove your values or take tags off tracks: `sap untag ID… mood -t summer` (or `-f`)."""
    from app.pipeline.enrichment.manual import ManualEdit, edit_manual

    track_ids, keys = _split(items or [], filter_)
    services = _services(cache_dir, demo)
    edit = ManualEdit(unset=keys, remove_tags=remove_tag or [])
    targets = _targets(services, track_ids, filter_)
    outcome = edit_manual(services.stores, targets, edit)
    refresh(services)  # the next preview loads the library instead of building it
    _report_manual(outcome, as_json)


SHOWN_TRACKS = 20
"""Tracks `tag`/`untag` list one by one; beyond, a count."""


def _report_manual(outcome: ManualOutcome, as_json: bool) -> None:
    results = outcome.results
    if as_json:
        _print_json(
            {
                track_id: entry.categories if entry is not None else None
                for track_id, entry in results.items()
            }
        )
        return
    for track_id, entry in list(results.items())[:SHOWN_TRACKS]:
        values = entry.categories if entry is not None else {}
        text = ", ".join(f"{key}={value}" for key, value in values.items()) or "(no manual values)"
        out.print(f"{track_id}: {escape(text)}", highlight=False)
    if len(results) > SHOWN_TRACKS:
        out.print(f"… and {len(results) - SHOWN_TRACKS} more tracks", highlight=False)
    unchanged = f", {len(outcome.unchanged)} already so" if outcome.unchanged else ""
    undo = "; undo with `sap tag-undo`" if outcome.undo is not None else ""
    err.print(f"changed {len(outcome.changed)} track(s){unchanged}{undo}", highlight=False)


def tag_undo(
    show: Annotated[bool, typer.Option("--show", help="Only say what would be undone.")] = False,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Undo the last edit of your values (`tag`, `untag`, or the web app's), exactly."""
    from app.pipeline.enrichment.manual import undo_manual
    from app.pipeline.enrichment.undo import last_edit

    services = _services(cache_dir, demo)
    stores = services.stores
    if show:
        state = last_edit(stores)
        if as_json:
            _print_json(state.model_dump(mode="json"))
        elif state.last is None:
            out.print("nothing to undo")
        else:
            out.print(
                f"would undo: {escape(state.last.summary)} ({state.last.at:%Y-%m-%d %H:%M})",
                highlight=False,
            )
        return
    report = undo_manual(stores)
    refresh(services)  # the next preview loads the library instead of building it
    if as_json:
        _print_json(report.model_dump(mode="json"))
        return
    out.print(
        f"undone: {escape(report.undone.summary)} ({report.restored} track(s) put back)",
        highlight=False,
    )


def classify(
    classifier: Annotated[str, typer.Option(help="Classifier id.")] = "mood_v1",
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """v1: label every library track with a classifier (mood, genre, year for mood_v1)."""
    from rich.table import Table

    from app.pipeline.classify import classify_library

    services = _services(cache_dir, demo)
    summary = classify_library(services.stores, services.library, classifier)
    if as_json:
        _print_json(summary.model_dump(mode="json"))
        return
    table = Table("mood", "tracks", caption=f"{summary.tracks} tracks, {classifier}")
    for mood, count in summary.moods.items():
        table.add_row(escape(mood), str(count))
    out.print(table)


def relabel(
    track_id: Annotated[str, typer.Argument(help="A track id of the library.")],
    labels: Annotated[list[str], typer.Argument(help="label=value pairs (mood, genre, year).")],
    classifier: Annotated[str, typer.Option(help="Classifier id.")] = "mood_v1",
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """v1: correct a track's labels by hand; later classify runs keep them."""
    from app.pipeline.classify import correct_labels

    values: dict[str, Any] = {}
    for pair in labels:
        if "=" not in pair:
            _fail(f"{pair!r} is not label=value")
        key, _, text = pair.partition("=")
        values[key.strip()] = _parse_value(text.strip()) if text.strip() else None
    result = correct_labels(_services(cache_dir, demo).stores, classifier, track_id, values)
    if as_json:
        _print_json(result.model_dump(mode="json"))
    else:
        text = ", ".join(f"{key}={value}" for key, value in result.labels.items())
        out.print(f"{track_id}: {escape(text)}", highlight=False)
