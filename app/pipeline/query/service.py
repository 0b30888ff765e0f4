"""Library queries: a page of the library table, or every matching id, over the loaded library.

    page = query_library(services.queries, LibraryQuery(filter="tempo > 120",
                                                        sort=[SortSpec(field="energy")]))
    page.total, [row.values["name"] for row in page.rows]
    every = library_ids(services.queries, LibraryFilter(filter="tempo > 120"))

Everything is read from the loaded library (`LibraryCache`: the snapshot's views, provenance and
the engine's per-field indexes), never from the JSON files per request. The filter is decided by
the rules engine as a rule set (`filter.run_filter`); the sort is the engine's order over the
whole library, kept per sort (`state`), so a page costs one sort of the matching tracks' places
(small ints) and the rows it shows: a few milliseconds at 100,000 tracks once warm (see
docs/performance.md, "Library query"). Unknown fields are refused with the closest name.

A query may also name a rule set (`rule`, saved or not): its rows are then the tracks that rule
set's playlist would hold (`rules.service.playlist_of`), in the playlist's order until sorted —
the rule set preview's table — kept per loaded library like a filter's answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.errors import UnprocessableError
from app.core.models import utc_now
from app.pipeline.query.filter import FilterMatch, run_filter
from app.pipeline.query.model import (
    DEFAULT_ENRICHED,
    DEFAULT_FIELDS,
    CellValue,
    LibraryFilter,
    LibraryIds,
    LibraryIdsRequest,
    LibraryPage,
    LibraryQuery,
    LibraryRow,
    QueryColumn,
    SortSpec,
    ValueSource,
)
from app.pipeline.query.state import KeptForLibrary, LibraryQueries, SortFields
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import FieldInfo
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.rule_sets import RenderedWarning
from app.pipeline.rules.service import playlist_of

__all__ = ["library_ids", "matched_positions", "matching_ids", "query_library"]


def query_library(
    queries: LibraryQueries, query: LibraryQuery, *, now: datetime | None = None
) -> LibraryPage:
    """One page of the library: `query.limit` rows from `query.offset` of the tracks matching
    `query.filter`, in the order of `query.sort`, with the requested columns."""
    views, kept = queries.current()
    registry = kept.registry
    sort = _sort_fields(query.sort, registry)
    columns = [_column(info) for info in _fields(query.fields, registry, views)]
    matched = _matched(queries, views, kept, query, now)
    positions = matched.positions if matched is not None else None
    total = len(views) if positions is None else len(positions)
    page = _ordered(views, kept, positions, sort, query.offset, query.limit)
    stamps_needed = any(c.origin == "enrichment" for c in columns)
    rows = _rows(views, kept, page, columns, stamps_needed)
    warnings = [] if matched is None else matched.warnings
    return LibraryPage.model_construct(
        total=total,
        library_tracks=len(views),
        offset=query.offset,
        limit=query.limit,
        sort=[SortSpec(field=name, direction=direction) for name, direction in sort],
        columns=columns,
        rows=rows,
        warnings=[
            RenderedWarning.of(warning, None if matched is None else matched.text)
            for warning in warnings
        ],
    )


def library_ids(
    queries: LibraryQueries, request: LibraryFilter, *, now: datetime | None = None
) -> LibraryIds:
    """Every track matching `request.filter`, in the order of `request.sort` — or, for a
    `LibraryIdsRequest` with a range, those of its rows `offset`…`offset + limit`."""
    views, kept = queries.current()
    sort = _sort_fields(request.sort, kept.registry)
    matched = _matched(queries, views, kept, request, now)
    positions = matched.positions if matched is not None else None
    total = len(views) if positions is None else len(positions)
    offset, limit = 0, total
    if isinstance(request, LibraryIdsRequest):
        offset = request.offset
        limit = total if request.limit is None else request.limit
    rows = _ordered(views, kept, positions, sort, offset, limit)
    return LibraryIds.model_construct(total=total, ids=list(map(views.ids.__getitem__, rows)))


def matching_ids(
    queries: LibraryQueries, request: LibraryFilter, *, now: datetime | None = None
) -> list[str]:
    """The ids of the tracks `request` selects, in its order (bulk edits take these)."""
    return library_ids(queries, request, now=now).ids


def matched_positions(
    queries: LibraryQueries, request: LibraryFilter, *, now: datetime | None = None
) -> list[int] | None:
    """The library positions `request` selects (its filter and rule set), or None for all."""
    views, kept = queries.current()
    matched = _matched(queries, views, kept, request, now)
    return None if matched is None else matched.positions


# --- fields ------------------------------------------------------------------------------------


def _resolve(name: str, registry: FieldRegistry, what: str) -> FieldInfo:
    info = registry.resolve(name)
    if info is None:
        suggestion = registry.suggest(name)
        hint = f"; did you mean {suggestion[0]!r}?" if suggestion else ""
        raise UnprocessableError(
            f"{what}: no field {name!r}{hint} (GET /data/rules/fields lists them)",
            code="unknown_field",
        )
    return info


def _sort_fields(sort: Sequence[SortSpec], registry: FieldRegistry) -> SortFields:
    fields: dict[str, Any] = {}
    for spec in sort:
        name = _resolve(spec.field, registry, "sort").name
        fields.setdefault(name, spec.direction)  # a column sorted twice: the first one counts
    return tuple(fields.items())


def _fields(
    names: Sequence[str] | None, registry: FieldRegistry, views: Library
) -> list[FieldInfo]:
    if names is None:
        chosen: Iterable[str] = (
            *DEFAULT_FIELDS,
            *(name for name in DEFAULT_ENRICHED if _has(registry, name)),
        )
        return [info for info in map(registry.resolve, chosen) if info is not None]
    found: dict[str, FieldInfo] = {}
    for name in names:
        info = _resolve(name, registry, "fields")
        found.setdefault(info.name, info)
    return list(found.values())


def _has(registry: FieldRegistry, name: str) -> bool:
    info = registry.resolve(name)
    return info is not None and bool(info.coverage)


def _column(info: FieldInfo) -> QueryColumn:
    return QueryColumn(name=info.name, type=info.type, list=info.is_list, origin=info.origin)


# --- matching and order ------------------------------------------------------------------------


def _matched(
    queries: LibraryQueries,
    views: Library,
    kept: KeptForLibrary,
    request: LibraryFilter,
    now: datetime | None,
) -> FilterMatch | None:
    at = now or utc_now()
    filtered = _filtered(queries, views, kept, request.filter, at)
    if request.rule is None:
        return filtered
    # Kept like a filter: the rule set as sorted JSON, the stored rule sets and the minute.
    rule = request.rule
    key = (
        "rule",
        json.dumps(rule, sort_keys=True, default=str),
        _signature(queries.stores.rules.path),
        at.replace(second=0, microsecond=0),
    )

    def playlist() -> FilterMatch:
        one = playlist_of(queries.stores, views, rule, now=at)
        index = views.index  # a pinned track outside the library has no row to show
        found = [index.get(track_id) for track_id in one.result.track_ids]
        return FilterMatch([position for position in found if position is not None], one.warnings)

    chosen = kept.matched(key, playlist)
    if filtered is None:
        return chosen
    keep = set(filtered.positions)
    return FilterMatch(
        [position for position in chosen.positions if position in keep],
        [*chosen.warnings, *filtered.warnings],
        filtered.text,
    )


def _filtered(
    queries: LibraryQueries,
    views: Library,
    kept: KeptForLibrary,
    text: str | None,
    at: datetime,
) -> FilterMatch | None:
    if text is None or not text.strip():
        return None
    # Kept per loaded library; `in rule` reads the stored rule sets and `in last` the clock:
    # both are in the key (to the minute), so a kept answer is never staler than that.
    key = (text, _signature(queries.stores.rules.path), at.replace(second=0, microsecond=0))
    return kept.matched(key, lambda: run_filter(queries.stores, views, text, kept.registry, now=at))


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _ordered(
    views: Library,
    kept: KeptForLibrary,
    positions: list[int] | None,
    sort: SortFields,
    offset: int,
    limit: int,
) -> Sequence[int]:
    """The library positions of rows `offset`…`offset + limit` of the matching tracks
    (`positions` in library order; None: every track) in the order of `sort`."""
    end = offset + limit
    if not sort:
        return range(len(views))[offset:end] if positions is None else positions[offset:end]
    order = kept.order(views, sort)
    if positions is None:
        return order.order[offset:end]
    places = sorted(map(order.place.__getitem__, positions))
    return list(map(order.order.__getitem__, places[offset:end]))


# --- rows --------------------------------------------------------------------------------------


def _rows(
    views: Library,
    kept: KeptForLibrary,
    positions: Sequence[int],
    columns: Sequence[QueryColumn],
    enriched: bool,
) -> list[LibraryRow]:
    keys = [(column.name, views.key_for(column.name)) for column in columns]
    stamps = kept.stamps(views) if enriched and positions else None
    shown = {column.name for column in columns}
    links = kept.links(views) if positions and shown & {"album", "artists"} else None
    rows: list[LibraryRow] = []
    for position in positions:
        track_id = views.ids[position]
        view = views.view(track_id) or {}
        origin = views.provenance[position] if stamps is not None else {}
        values: dict[str, CellValue] = {}
        provenance: dict[str, list[ValueSource]] = {}
        for name, key in keys:
            values[name] = _cell(view.get(key))
            given = origin.get(key)
            if given and stamps is not None:
                provenance[name] = [
                    ValueSource.model_construct(provider=name_, at=stamps.at(name_, position))
                    for name_ in given.split(", ")
                ]
        ids: dict[str, list[str]] = {}
        if links is not None:
            album = links.album(position)
            if "album" in shown and album is not None:
                ids["album"] = [album]
            if "artists" in shown and links.artists(position):
                ids["artists"] = list(links.artists(position))
        rows.append(
            LibraryRow.model_construct(id=track_id, values=values, provenance=provenance, links=ids)
        )
    return rows


def _cell(value: Any) -> CellValue:
    """A view's value as the table shows it (see `CellValue`)."""
    if value is None or value == "" or value == []:
        return None
    cls = value.__class__
    if cls is str or cls is int or cls is float or cls is bool:
        return value  # type: ignore[no-any-return]
    if cls is list or cls is tuple:
        return [_scalar(item) for item in value if item is not None and item != ""]
    return _scalar(value)


def _scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
