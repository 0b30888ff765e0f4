"""How the library's values spread: a histogram per number field, the most frequent values per
text or list field, each bar with the rules-language filter of its tracks (the Charts screen
opens the Library with it).

    found = library_distributions(services.queries, ["year", "tempo", "genres"])
    found.fields[0].bins[0]
    # Bin(low=1960, high=1965, count=12, filter="year >= 1960 and year < 1965")

Read from the loaded library (the views the library query reads), over every track; computed
once per loaded library and question, then kept (`KeptForLibrary.distributions`) until the
library changes (a fetch, an enrichment run, an edit).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import UnprocessableError
from app.core.rules import MAX_RULE_TEXT_CHARS
from app.pipeline.query.model import LibraryFilter
from app.pipeline.query.service import matched_positions
from app.pipeline.query.state import LibraryQueries
from app.pipeline.rules.fields.types import FieldInfo
from app.pipeline.rules.library.views import Library

__all__ = [
    "Bin",
    "Distribution",
    "DistributionRequest",
    "Distributions",
    "TopValue",
    "library_distributions",
    "restricted_distributions",
]

DEFAULT_DISTRIBUTIONS = ("year", "tempo", "energy", "duration", "genres", "tags")
MAX_BINS = 40
MAX_TOP = 50


class Bin(BaseModel):
    """Tracks with `low <= value < high` (the last bin includes `high` when the library's
    top value is exactly there: its filter says `<=`)."""

    low: float
    high: float
    count: int
    filter: str = Field(description="These tracks in the rules language.")


class TopValue(BaseModel):
    value: str
    count: int = Field(description="Tracks with this value (a list field counts each once).")
    filter: str = Field(description="These tracks in the rules language.")


class Distribution(BaseModel):
    field: str
    kind: Literal["histogram", "top"]
    present: int = Field(description="Tracks with a value.")
    missing: int = Field(description="Tracks without one.")
    bins: list[Bin] = Field(default_factory=list, description="A histogram's bins, low first.")
    top: list[TopValue] = Field(default_factory=list, description="The most frequent values.")


class Distributions(BaseModel):
    tracks: int = Field(description="Library size.")
    fields: list[Distribution]


class DistributionRequest(BaseModel):
    """`POST /data/library/distributions`: the distributions of some tracks (a filter, a rule
    set's playlist), on the whole library's histogram bins so the two compare bar for bar."""

    model_config = ConfigDict(extra="forbid")

    fields: list[str] | None = Field(
        default=None, max_length=20, description="Field names (default: as the GET)."
    )
    # Strict: `true` or "5" is not a count (the fuzzer's find: lax mode read `true` as 1).
    bins: int = Field(default=20, ge=1, le=MAX_BINS, strict=True)
    top: int = Field(default=15, ge=1, le=MAX_TOP, strict=True)
    filter: str | None = Field(
        default=None,
        max_length=MAX_RULE_TEXT_CHARS,
        description="Only the tracks this filter matches (as `POST /data/library/query`).",
    )
    rule: dict[str, Any] | None = Field(
        default=None,
        description="Only the tracks this rule set's playlist would hold (saved or not, as "
        "`POST /data/library/query` takes it).",
    )


def library_distributions(
    queries: LibraryQueries,
    fields: Sequence[str] | None = None,
    *,
    bins: int = 20,
    top: int = 15,
    positions: Sequence[int] | None = None,
) -> Distributions:
    """The distribution of each of `fields` (default: year, tempo, energy, duration, genres,
    tags) over the whole loaded library, or over the tracks at `positions`, then with the
    library's histogram edges. Unknown fields are refused with the closest name."""
    views, kept = queries.current()
    infos: list[FieldInfo] = []
    for name in fields or DEFAULT_DISTRIBUTIONS:
        info = kept.registry.resolve(name)
        if info is None:
            suggestion = kept.registry.suggest(name)
            hint = f"; did you mean {suggestion[0]!r}?" if suggestion else ""
            raise UnprocessableError(
                f"fields: no field {name!r}{hint} (GET /data/rules/fields lists them)",
                code="unknown_field",
            )
        if info.name not in {known.name for known in infos}:
            infos.append(info)

    def build() -> Distributions:
        return Distributions(
            tracks=len(views) if positions is None else len(positions),
            fields=[_distribution(views, info, bins, top, positions) for info in infos],
        )

    if positions is not None:
        return build()  # a playlist's or a filter's: asked for while editing, not kept
    return kept.distributions((tuple(info.name for info in infos), bins, top), build)


def restricted_distributions(
    queries: LibraryQueries, request: DistributionRequest
) -> Distributions:
    """The distributions of the tracks `request` selects (`filter`, `rule`), else the whole
    library's."""
    positions = matched_positions(queries, LibraryFilter(filter=request.filter, rule=request.rule))
    return library_distributions(
        queries, request.fields, bins=request.bins, top=request.top, positions=positions
    )


def _values(views: Library, info: FieldInfo, positions: Sequence[int] | None = None) -> list[Any]:
    """The values the tracks (at `positions`, else all) hold for `info`, read from the field's
    typed column (not from each track's view: building 100,000 views per field was ~3 s)."""
    column = views.column(views.key_for(info.name))
    if positions is None:
        items = column.values()
    else:
        items = [column.value(position) for position in positions]
    return [
        value for value in items if not (value is None or value == "" or value == [] or value == ())
    ]


def _numbers(values: list[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


def _distribution(
    views: Library, info: FieldInfo, bins: int, top: int, positions: Sequence[int] | None
) -> Distribution:
    values = _values(views, info, positions)
    size = len(views) if positions is None else len(positions)
    present, missing = len(values), size - len(values)
    if info.type == "number" and not info.is_list:
        numbers = _numbers(values)
        span = numbers if positions is None else _numbers(_values(views, info))
        return Distribution(
            field=info.name,
            kind="histogram",
            present=present,
            missing=missing,
            bins=_histogram(info.name, numbers, bins, span),
        )
    counts: Counter[str] = Counter()
    for value in values:
        items = value if isinstance(value, list | tuple) else [value]
        counts.update({_text(item) for item in items if item is not None and item != ""})
    return Distribution(
        field=info.name,
        kind="top",
        present=present,
        missing=missing,
        top=[
            TopValue(value=value, count=count, filter=_value_filter(info, value))
            for value, count in counts.most_common(top)
        ],
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_filter(info: FieldInfo, value: str) -> str:
    if info.type == "bool":
        return f"{info.name} = {value}"
    quoted = json.dumps(value, ensure_ascii=False)
    if info.is_list:
        return f"{info.name} has any [{quoted}]"
    if info.type == "number":
        return f"{info.name} = {value}"
    return f"{info.name} = {quoted}"


def _nice_width(span: float, bins: int) -> float:
    """The step of 1, 2, 2.5 or 5 x 10^k that cuts `span` into at most `bins` bins."""
    raw = span / bins
    power = 10.0 ** math.floor(math.log10(raw))
    return next(step * power for step in (1.0, 2.0, 2.5, 5.0, 10.0) if step * power >= raw)


def _number(value: float) -> str:
    return f"{value:.10g}"


def _histogram(name: str, numbers: list[float], bins: int, span: list[float]) -> list[Bin]:
    """`numbers` in at most `bins` round bins cut over the range of `span` (the library's
    values: a playlist's histogram has the library's edges)."""
    if not numbers or not span:
        return []
    low, high = min(span), max(span)
    if low == high:
        return [Bin(low=low, high=high, count=len(numbers), filter=f"{name} = {_number(low)}")]
    width = _nice_width(high - low, bins)
    start = math.floor(low / width) * width
    count = max(1, math.ceil((high - start) / width - 1e-9))
    # The edges as the filters write them; a value is counted in the bin whose filter selects
    # it (`lo <= value < hi`, by bisection: `(value - start) // width` puts 0.6 in [0.4, 0.6)
    # since 0.6 / 0.2 is 2.9999999999999996). When the top value sits on the last edge (energy
    # 1.0, bins of 0.2) the last bin is closed (`lo <= value <= hi`): no extra bin.
    edges = [float(_number(start + index * width)) for index in range(count + 1)]
    while edges[-1] < high:
        edges.append(float(_number(start + len(edges) * width)))
    last = len(edges) - 2
    counts = [0] * (last + 1)
    for value in numbers:
        counts[min(last, max(0, bisect_right(edges, value) - 1))] += 1
    result = []
    for index, tracks in enumerate(counts):
        lo, hi = edges[index], edges[index + 1]
        below = "<=" if index == last and hi == high else "<"
        text = f"{name} >= {_number(lo)} and {name} {below} {_number(hi)}"
        result.append(Bin(low=lo, high=hi, count=tracks, filter=text))
    return result
