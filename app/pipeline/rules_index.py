"""Per-field indexes over a library, for deciding conditions on the whole library at once.

`Columns` is one evaluation run: each field gets an index on first use (distinct values →
positions; numbers and dates sorted for `bisect`), cached on the `Library` so later runs and rule
sets reuse it, so a condition is decided once per *distinct value* instead of once per track. A
set of positions is a bit mask: a Python int with one byte per track, combined with `&`, `|`,
`^` in C. The conditions themselves are in `rules_nodes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.pipeline.rules_values import Kind, as_instant, as_number, as_text
from app.pipeline.rules_view import Library

__all__ = ["Columns"]


@dataclass
class Columns:
    """One evaluation run over a library: its indexes (cached on the library) and masks."""

    library: Library
    universe: int
    masks: dict[Any, int]

    @classmethod
    def of(cls, library: Library) -> Columns:
        universe = library.columns.get("universe")
        if universe is None:
            universe = library.columns["universe"] = int.from_bytes(
                b"\x01" * len(library.views), "little"
            )
        return cls(library, universe, {})

    def mask(self, positions: Iterable[Iterable[int]]) -> int:
        marks = bytearray(len(self.library.views))
        for chunk in positions:
            for position in chunk:
                marks[position] = 1
        return int.from_bytes(marks, "little")

    def distinct(self, name: str) -> tuple[list[Any], list[list[int]], int]:
        """Distinct present elements of a field, their positions, and the present mask."""
        key = ("distinct", name)
        cached = self.library.columns.get(key)
        if cached is None:
            postings: dict[Any, list[int]] = {}
            values: dict[Any, Any] = {}
            marks = bytearray(len(self.library.views))
            get = dict.get
            for position, view in enumerate(self.library.views):
                value = get(view, name)
                if value is None:
                    continue
                cls = value.__class__
                items = value if cls is list or cls is tuple else (value,)
                for item in items:
                    cls = item.__class__
                    if cls is str:
                        if not item:
                            continue
                        marker = item  # text keys cannot collide with the tuples below
                    elif item is None:
                        continue
                    else:
                        marker = (cls, item)  # keeps True, 1 and 1.0 apart
                        try:
                            hash(marker)
                        except TypeError:
                            marker = (str, repr(item))
                    entry = postings.get(marker)
                    if entry is None:
                        postings[marker] = [position]
                        values[marker] = item
                    elif entry[-1] != position:
                        entry.append(position)
                    marks[position] = 1
            cached = (
                list(values.values()),
                list(postings.values()),
                int.from_bytes(marks, "little"),
            )
            self.library.columns[key] = cached
        return cached

    def texts(self, name: str, fold: bool) -> list[str]:
        key = ("texts", name, fold)
        cached = self.library.columns.get(key)
        if cached is None:
            values = self.distinct(name)[0]
            cached = [as_text(v).casefold() if fold else as_text(v) for v in values]
            self.library.columns[key] = cached
        return cached

    def sorted_keys(self, name: str, kind: Kind) -> tuple[list[float], list[int]]:
        key = ("sorted", name, kind)
        cached = self.library.columns.get(key)
        if cached is None:
            convert = as_number if kind == "number" else as_instant
            values, postings, _ = self.distinct(name)
            converted = ((convert(v), p) for v, p in zip(values, postings, strict=True))
            pairs = sorted((number, p) for number, p in converted if number is not None)
            keys: list[float] = []
            flat: list[int] = []
            for number, positions in pairs:
                keys.extend([number] * len(positions))
                flat.extend(positions)
            cached = (keys, flat)
            self.library.columns[key] = cached
        return cached
