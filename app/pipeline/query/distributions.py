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

from pydantic import BaseModel, Field

from app.core.errors import UnprocessableError
from app.pipeline.query.state import LibraryQueries
from app.pipeline.rules.fields.types import FieldInfo
from app.pipeline.rules.library.views import Library

__all__ = ["Bin", "Distribution", "Distributions", "TopValue", "library_distributions"]

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


def library_distributions(
    queries: LibraryQueries, fields: Sequence[str] | None = None, *, bins: int = 20, top: int = 15
) -> Distributions:
    """The distribution of each of `fields` (default: year, tempo, energy, duration, genres,
    tags) over the whole loaded library. Unknown fields are refused with the closest name."""
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
    key = (tuple(info.name for info in infos), bins, top)
    return kept.distributions(
        key,
        lambda: Distributions(
            tracks=len(views),
            fields=[_distribution(views, info, bins, top) for info in infos],
        ),
    )


def _values(views: Library, info: FieldInfo) -> list[Any]:
    key = views.key_for(info.name)
    found = []
    for track_id in views.ids:
        view = views.view(track_id) or {}
        value = view.get(key)
        if value is None or value == "" or value == [] or value == ():
            continue
        found.append(value)
    return found


def _distribution(views: Library, info: FieldInfo, bins: int, top: int) -> Distribution:
    values = _values(views, info)
    present, missing = len(values), len(views) - len(values)
    if info.type == "number" and not info.is_list:
        numbers = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
        return Distribution(
            field=info.name,
            kind="histogram",
            present=present,
            missing=missing,
            bins=_histogram(info.name, numbers, bins),
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


def _histogram(name: str, numbers: list[float], bins: int) -> list[Bin]:
    if not numbers:
        return []
    low, high = min(numbers), max(numbers)
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
