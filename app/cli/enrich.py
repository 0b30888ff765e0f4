"""`providers`, `enrich`, `enrichment`, `coverage`, `tag`, `untag`: enrichment from the shell."""

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
)

if TYPE_CHECKING:
    from app.core.models import PipelineJob
    from app.pipeline.enrichment.service import EnrichmentDetail
    from app.pipeline.rules.fields.types import FieldInfo


def providers(cache_dir: CacheDir = None, demo: Demo = False, as_json: AsJson = False) -> None:
    """List the enrichment providers: what they give and whether they can run."""
    from rich.table import Table

    from app.pipeline.enrichment.service import describe_providers

    rows = describe_providers(_services(cache_dir, demo).settings)
    if as_json:
        _print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("provider", "type", "version", "status", "fields")
    for row in rows:
        state = "[green]enabled[/]" if row.enabled else f"[yellow]off[/]: {row.reason_if_disabled}"
        fields = ", ".join(field.name for field in row.fields)
        table.add_row(row.id, row.type, row.version, state, escape(fields))
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
    """Enrich the library from the providers, with a progress bar per provider."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from app.core.models import JobStatus
    from app.pipeline.enrichment.service import ENRICH_STEP, ProviderRunReport, plan_enrich_jobs

    manager = _manager(cache_dir, demo, spotify=True)
    planned = plan_enrich_jobs(
        manager.services, providers=provider, track_ids=track, source=source, refresh=refresh
    )
    jobs: list[PipelineJob] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.fields[name]:<15}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err.console,
    ) as progress:
        tasks = {
            plan.provider: progress.add_task("waiting", total=None, name=plan.provider)
            for plan in planned
        }
        for plan in planned:
            task = tasks[plan.provider]

            def show(done: int, total: int | None, message: str | None, task: Any = task) -> None:
                progress.update(
                    task, completed=done, total=total, description=escape(message or "")
                )

            metadata = plan.model_dump(mode="json")
            jobs.append(manager.run_inline(ENRICH_STEP, metadata, on_progress=show))
    if as_json:
        _print_json([job.model_dump(mode="json") for job in jobs])
    else:
        table = Table(
            "provider", "asked", "matched", "not found", "failed", "cached", "n/a", "requests"
        )
        for job in jobs:
            name = str(job.metadata.get("provider"))
            if job.status is not JobStatus.DONE:
                message = job.error.message if job.error else job.status.value
                table.add_row(name, f"[red]failed[/]: {escape(message)}")
                continue
            run = ProviderRunReport.model_validate(job.payload)
            counts = (
                run.total,
                run.matched,
                run.not_found,
                run.failed,
                run.cached,
                run.not_applicable,
                run.requests,
            )
            table.add_row(name, *map(str, counts))
        out.print(table)
    if any(job.status is not JobStatus.DONE for job in jobs):
        raise typer.Exit(1)


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


def _split(items: list[str]) -> tuple[list[str], list[str]]:
    """Track ids (22 letters and digits) or `spotify:track:` URIs vs everything else."""
    tracks: list[str] = []
    rest: list[str] = []
    for item in items:
        track_id = item.removeprefix("spotify:track:")
        if len(track_id) == 22 and track_id.isalnum() and "=" not in item:
            tracks.append(track_id)
        else:
            rest.append(item)
    if not tracks:
        _fail("give at least one track id (22 letters and digits) or spotify:track: URI")
    return tracks, rest


def tag(
    items: Annotated[
        list[str], typer.Argument(help="Track ids or spotify:track: URIs, then key=value pairs.")
    ],
    add_tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag to add (repeatable).")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Set your own values on tracks: `sap tag ID… mood=happy energy=0.8 -t summer`."""
    from app.pipeline.enrichment.manual import ManualEdit, apply_manual
    from app.pipeline.rules.rule_sets import field_registry

    track_ids, assignments = _split(items)
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
    results = apply_manual(stores, track_ids, edit, registry=registry)
    services.library.refresh()  # the next preview loads the library instead of building it
    _report_manual(results, as_json)


def untag(
    items: Annotated[
        list[str], typer.Argument(help="Track ids or spotify:track: URIs, then keys to remove.")
    ],
    remove_tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag to take off (repeatable).")
    ] = None,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """Remove your values or take tags off tracks: `sap untag ID… mood -t summer`."""
    from app.pipeline.enrichment.manual import ManualEdit, apply_manual

    track_ids, keys = _split(items)
    edit = ManualEdit(unset=keys, remove_tags=remove_tag or [])
    services = _services(cache_dir, demo)
    results = apply_manual(services.stores, track_ids, edit)
    services.library.refresh()  # the next preview loads the library instead of building it
    _report_manual(results, as_json)


def _report_manual(results: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(
            {
                track_id: entry.categories if entry is not None else None
                for track_id, entry in results.items()
            }
        )
        return
    for track_id, entry in results.items():
        values = entry.categories if entry is not None else {}
        text = ", ".join(f"{key}={value}" for key, value in values.items()) or "(no manual values)"
        out.print(f"{track_id}: {escape(text)}", highlight=False)
    if not results:
        _fail("no tracks given")


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
