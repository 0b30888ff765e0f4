"""`library query`: the library table from the command line (`POST /data/library/query`);
`library charts`: how its values spread (`GET /data/library/distributions`); `library refresh`:
its snapshot brought up to date (what every job that changes the library does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import AsJson, CacheDir, Demo, _fail, _print_json, _services, escape, out
from app.cli.rules import _checked

if TYPE_CHECKING:
    from app.pipeline.query.model import CellValue, LibraryRow, SortSpec

library_app = typer.Typer(help="Browse the fetched library as a table.", no_args_is_help=True)


def _sort_specs(items: list[str]) -> list[SortSpec]:
    """``tempo:desc`` → SortSpec(field="tempo", direction="desc"); a bare field is ascending."""
    from app.pipeline.query.model import SortSpec

    specs = []
    for item in items:
        name, _, direction = item.partition(":")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            _fail(f"--sort {item!r}: the direction is asc or desc (e.g. tempo:desc)")
        specs.append(
            SortSpec(field=name.strip(), direction="desc" if direction == "desc" else "asc")
        )
    return specs


def _shown(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(_shown, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _with_source(row: LibraryRow, name: str) -> str:
    text = _shown(row.values.get(name))
    sources = row.provenance.get(name)
    if not sources:
        return escape(text)
    said = "; ".join(
        f"{s.provider}, {s.at:%Y-%m-%d}" if s.at is not None else s.provider for s in sources
    )
    return f"{escape(text)} [dim]— {escape(said)}[/]"


@library_app.command("query")
def query(
    filter_: Annotated[
        str | None,
        typer.Option(
            "--filter", "-f", help="Conditions in the rules language, e.g. 'tempo > 120'."
        ),
    ] = None,
    sort: Annotated[
        list[str] | None,
        typer.Option("--sort", "-s", help="FIELD[:asc|desc], repeatable; the first sorts first."),
    ] = None,
    fields: Annotated[
        list[str] | None,
        typer.Option("--fields", help="Columns, comma-separated or repeated (default: a set)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Rows to show.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip.")] = 0,
    provenance: Annotated[
        bool, typer.Option("--provenance", help="Show who said each enriched value, and when.")
    ] = False,
    ids: Annotated[
        bool, typer.Option("--ids", help="Print every matching track id, one per line.")
    ] = False,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """The library as a table: filter with the rules language, sort by any fields."""
    from rich.table import Table

    from app.pipeline.query.model import LibraryFilter, LibraryQuery
    from app.pipeline.query.service import library_ids, query_library

    columns = [name.strip() for item in fields or [] for name in item.split(",") if name.strip()]
    queries = _services(cache_dir, demo).queries
    chosen = LibraryFilter(filter=filter_, sort=_sort_specs(sort or []))
    if ids:
        every = _checked(lambda: library_ids(queries, chosen))
        if as_json:
            _print_json(every.model_dump(mode="json"))
        else:
            out.print("\n".join(every.ids), highlight=False, soft_wrap=True)
        return
    request = LibraryQuery(
        **chosen.model_dump(), fields=columns or None, limit=limit, offset=offset
    )
    page = _checked(lambda: query_library(queries, request))
    if as_json:
        _print_json(page.model_dump(mode="json"))
        return
    last = page.offset + len(page.rows)
    caption = (
        f"rows {page.offset + 1} to {last} of {page.total} matching "
        f"({page.library_tracks} tracks in the library)"
        if page.rows
        else f"no rows here: {page.total} matching ({page.library_tracks} in the library)"
    )
    table = Table("id", *(column.name for column in page.columns), caption=caption)
    for row in page.rows:
        cells = [
            _with_source(row, column.name)
            if provenance
            else escape(_shown(row.values[column.name]))
            for column in page.columns
        ]
        table.add_row(row.id, *cells)
    out.print(table)
    for warning in page.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning.rendered)}", highlight=False)
    if not page.rows and page.total == 0 and page.library_tracks == 0:
        _fail("the library is empty: run `sap fetch` first")


BAR_WIDTH = 30
"""Characters of the longest bar of `library charts`."""


@library_app.command("charts")
def charts(
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-F",
            help="A field (repeatable); default: year, tempo, energy, duration, genres, tags.",
        ),
    ] = None,
    bins: Annotated[int, typer.Option(min=1, max=40, help="Histogram bins, at most.")] = 20,
    top: Annotated[int, typer.Option(min=1, max=50, help="Most frequent values kept.")] = 15,
    cache_dir: CacheDir = None,
    demo: Demo = False,
    as_json: AsJson = False,
) -> None:
    """How the library's values spread: a histogram per number field, the most frequent values
    of the others, each bar with its filter for `library query -f`."""
    from rich.table import Table

    from app.pipeline.query.distributions import library_distributions

    queries = _services(cache_dir, demo).queries
    found = _checked(lambda: library_distributions(queries, field or None, bins=bins, top=top))
    if as_json:
        _print_json(found.model_dump(mode="json"))
        return
    if found.tracks == 0:
        _fail("the library is empty: run `sap fetch` first")
    for shown in found.fields:
        rows = (
            [(f"{_number(b.low)} to {_number(b.high)}", b.count, b.filter) for b in shown.bins]
            if shown.kind == "histogram"
            else [(v.value, v.count, v.filter) for v in shown.top]
        )
        most = max((count for _, count, _ in rows), default=0)
        table = Table(
            "value" if shown.kind == "top" else "range",
            "tracks",
            "",
            "filter",
            title=f"{shown.field}: {shown.present} of {found.tracks} tracks have it",
            title_justify="left",
        )
        for label, count, filter_text in rows:
            width = round(BAR_WIDTH * count / most) if most else 0
            table.add_row(
                escape(label),
                str(count),
                "[green]" + "█" * width + "[/]",
                f"[dim]{escape(filter_text)}[/]",
            )
        if not rows:
            table.add_row("[dim]no values[/]", "0", "", "")
        out.print(table)


def _number(value: float) -> str:
    return f"{value:g}"


@library_app.command("refresh")
def refresh(
    cache_dir: CacheDir = None,
    demo: Demo = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Bring the library's snapshot up to date with the stores: built and saved now if they
    changed since (what `fetch`, `enrich` and tagging start behind them), so that the next
    preview loads it. Waits for a build another process has under way."""
    import time

    services = _services(cache_dir, demo)
    started = time.perf_counter()
    built = _checked(services.library.refresh)
    if quiet:
        return
    if not services.library.has_library():
        out.print("no library yet: run `sap fetch` first")
    elif built:
        tracks, took = len(services.library.views()), time.perf_counter() - started
        out.print(f"library snapshot built: {tracks} tracks in {took:.1f} s")
    else:
        out.print("library snapshot already up to date")
