"""Deciding conditions on the whole library at once, over its typed columns.

`Columns` is one evaluation run over a `Library`. Each field is read as the library's typed
column (`library.column`, see `table`): a range over a column of numbers or instants is a
vectorised comparison of the whole column; any other condition is decided once per *distinct
element* of the field (its `Postings`: the distinct texts, numbers or list items and which
tracks hold each), then the chosen elements select their tracks. What it derives (postings,
text forms, element keys) is cached on the library, so later runs and rule sets reuse it.

A set of positions is a bit mask: a Python int with one byte per track, combined with `&`,
`|`, `^` in C. The conditions themselves are in `nodes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from app.pipeline.rules.library.table import InstantColumn, Mask, NumberColumn, Postings
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.values import Kind, TextForm, as_instant, as_number, as_text, text_former

__all__ = ["Columns", "bits"]


def bits(mask: Mask) -> int:
    """A bool array as a mask: one byte (0 or 1) per track."""
    return int.from_bytes(mask.tobytes(), "little")


@dataclass
class Columns:
    """One evaluation run over a library: its derived indexes and condition masks, both
    cached on the library so that later runs reuse them."""

    library: Library
    universe: int
    masks: dict[Any, int]

    @classmethod
    def of(cls, library: Library) -> Columns:
        universe = library.columns.get("universe")
        if universe is None:
            universe = library.columns["universe"] = int.from_bytes(
                b"\x01" * len(library), "little"
            )
        masks = library.columns.get("masks")
        if masks is None:
            masks = library.columns["masks"] = {}  # kept across runs: see `ConditionNode`
        return cls(library, universe, masks)

    def selected(self, mask: int) -> npt.NDArray[np.intp]:
        """The positions a mask holds, in library order."""
        marks = np.frombuffer(mask.to_bytes(len(self.library), "little"), dtype=np.uint8)
        return np.flatnonzero(marks)

    def mask(self, positions: Iterable[Iterable[int]]) -> int:
        marks = bytearray(len(self.library))
        for chunk in positions:
            for position in chunk:
                marks[position] = 1
        return int.from_bytes(marks, "little")

    def postings(self, name: str) -> Postings:
        """A field's distinct elements and the tracks holding each."""
        key = ("postings", name)
        found: Postings | None = self.library.columns.get(key)
        if found is None:
            found = self.library.columns[key] = self.library.column(name).postings()
        return found

    def elements(self, name: str) -> list[Any]:
        """A field's distinct elements (those that are missing are never chosen)."""
        return self.postings(name).elements

    def present(self, name: str) -> int:
        """The tracks with a value under `name` (a list with one present item or more)."""
        key = ("present", name)
        found: int | None = self.library.columns.get(key)
        if found is None:
            found = self.library.columns[key] = bits(self.library.column(name).present())
        return found

    def choose(self, name: str, chosen: Iterable[bool]) -> int:
        """The tracks holding at least one chosen element (a flag per `elements(name)`)."""
        return bits(self.postings(name).choose(chosen))

    def texts(self, name: str, form: TextForm) -> list[str]:
        """The distinct elements of a field as text, in `form` (casefolded, unaccented)."""
        key = ("texts", name, form)
        cached: list[str] | None = self.library.columns.get(key)
        if cached is None:
            former = text_former(form)
            cached = [former(as_text(v)) for v in self.elements(name)]
            self.library.columns[key] = cached
        return cached

    def within(self, name: str, kind: Kind, ranges: Iterable[Any]) -> int:
        """The tracks with an element in one of `ranges` (`nodes.Range`), compared as `kind`.

        A column of numbers read as numbers, or of datetimes read as dates, is compared
        whole; any other is read element by element (`as_number`, `as_instant`)."""
        column = self.library.column(name)
        if kind == "number" and isinstance(column, NumberColumn):
            return bits(_in_ranges(self._floats(name, column), ranges) & column.present())
        if kind == "date" and isinstance(column, InstantColumn):
            return bits(_in_ranges(self._seconds(name, column), ranges) & column.present())
        keys = self.keys(name, kind)
        return self.choose(name, _in_ranges(keys, ranges))

    def keys(self, name: str, kind: Kind) -> npt.NDArray[np.float64]:
        """Each distinct element as a number (or an instant), NaN where it is none."""
        key = ("keys", name, kind)
        cached: npt.NDArray[np.float64] | None = self.library.columns.get(key)
        if cached is None:
            convert = as_number if kind == "number" else as_instant
            converted = (convert(element) for element in self.elements(name))
            cached = np.fromiter(
                (np.nan if number is None else number for number in converted),
                dtype=np.float64,
                count=len(self.elements(name)),
            )
            self.library.columns[key] = cached
        return cached

    def _floats(self, name: str, column: NumberColumn) -> npt.NDArray[np.float64]:
        if column.data.dtype == np.float64:
            return column.floats()
        key = ("floats", name)
        cached: npt.NDArray[np.float64] | None = self.library.columns.get(key)
        if cached is None:
            cached = self.library.columns[key] = column.floats()
        return cached

    def _seconds(self, name: str, column: InstantColumn) -> npt.NDArray[np.float64]:
        key = ("seconds", name)
        cached: npt.NDArray[np.float64] | None = self.library.columns.get(key)
        if cached is None:
            cached = self.library.columns[key] = column.seconds()
        return cached


def _in_ranges(keys: npt.NDArray[np.float64], ranges: Iterable[Any]) -> Mask:
    """Which keys lie in one of the ranges (NaN in none: it compares false)."""
    found = np.zeros(len(keys), dtype=np.bool_)
    for bound in ranges:
        low = keys >= bound.low if bound.low_inclusive else keys > bound.low
        high = keys <= bound.high if bound.high_inclusive else keys < bound.high
        found |= low & high
    return found
