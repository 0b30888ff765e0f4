"""Per-field indexes over a library, for deciding conditions on the whole library at once.

`Columns` is one evaluation run: each field gets an index on first use (distinct values →
positions; numbers and dates sorted for `bisect`), cached on the `Library` so later runs and rule
sets reuse it, so a condition is decided once per *distinct value* instead of once per track. A
set of positions is a bit mask: a Python int with one byte per track, combined with `&`, `|`,
`^` in C. The conditions themselves are in `nodes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import compress
from operator import not_
from typing import Any, NamedTuple, cast

from app.pipeline.rules.library.views import Library
from app.pipeline.rules.values import (
    Kind,
    TextForm,
    as_instant,
    as_number,
    as_text,
    epoch_seconds,
    text_former,
)

__all__ = ["Columns", "Distinct", "SortedKeys"]


class Distinct(NamedTuple):
    """A field's distinct present elements, the positions holding each, and a mask of the
    positions where the field is present at all."""

    values: list[Any]
    postings: list[list[int]]
    present: int


class SortedKeys(NamedTuple):
    """A field's present values as numbers (or instants), ascending, and where each came from."""

    keys: list[float]
    positions: list[int]


@dataclass
class Columns:
    """One evaluation run over a library: its indexes and condition masks, both cached on
    the library so that later runs reuse them."""

    library: Library
    universe: int
    masks: dict[Any, int]
    positions: list[int]  # 0..n-1, built once: `compress` over it makes no new ints

    @classmethod
    def of(cls, library: Library) -> Columns:
        universe = library.columns.get("universe")
        if universe is None:
            universe = library.columns["universe"] = int.from_bytes(
                b"\x01" * len(library.views), "little"
            )
        masks = library.columns.get("masks")
        if masks is None:
            masks = library.columns["masks"] = {}  # kept across runs: see `ConditionNode`
        positions = library.columns.get("positions")
        if positions is None:
            positions = library.columns["positions"] = list(range(len(library.views)))
        return cls(library, universe, masks, positions)

    def selected(self, mask: int) -> list[int]:
        """The positions a mask holds, in library order."""
        return list(compress(self.positions, mask.to_bytes(len(self.positions), "little")))

    def mask(self, positions: Iterable[Iterable[int]]) -> int:
        marks = bytearray(len(self.library.views))
        for chunk in positions:
            for position in chunk:
                marks[position] = 1
        return int.from_bytes(marks, "little")

    def union(self, name: str, postings: list[list[int]], chosen: list[bool]) -> int:
        """The mask of the `chosen` postings of a field's distinct values.

        When every track holds at most one value (a column of scalars) and most are chosen,
        the others are marked instead and flipped within the present mask: fewer positions
        to touch for the same mask.
        """
        if self.library.columns.get(("one value each", name)):
            present = self.distinct(name).present
            if 2 * sum(map(len, compress(postings, chosen))) > present.bit_count():
                return present ^ self.mask(compress(postings, map(not_, chosen)))
        return self.mask(compress(postings, chosen))

    def spans(self, name: str, kind: Kind, spans: list[tuple[int, int]]) -> int:
        """The mask of the tracks in the `[start, end)` spans of `sorted_keys`; a single span
        holding most of a column with one value per track is computed from the rest."""
        positions = self.sorted_keys(name, kind).positions
        present_key = ("sorted present", name, kind)
        if len(spans) == 1 and present_key in self.library.columns:
            (start, end) = spans[0]
            if 2 * (end - start) > len(positions):
                present = self.library.columns[present_key]
                if present is None:
                    present = self.library.columns[present_key] = self.mask([positions])
                return int(present ^ self.mask([positions[:start], positions[end:]]))
        return self.mask([positions[start:end] for start, end in spans])

    def distinct(self, name: str) -> Distinct:
        """Distinct present elements of a field, their positions, and the present mask."""
        key = ("distinct", name)
        cached = self.library.columns.get(key)
        if cached is None:
            column = self._column(name)
            kinds = _kinds(column)
            single = len(kinds) == 1 and kinds <= _SCALARS
            cached = self._distinct_scalars(column) if single else self._distinct_any(column)
            self.library.columns[key] = cached
            self.library.columns[("one value each", name)] = single
        return cached

    def _column(self, name: str) -> list[Any]:
        """The field's value at every position (None where missing)."""
        return [view.get(name) for view in self.library.views]

    def _distinct_scalars(self, column: list[Any]) -> Distinct:
        """`distinct` for a column of one scalar type (text, int or float): the values are
        their own keys and each position holds one, so no markers and no repeat checks."""
        postings: dict[Any, list[int]] = {}
        marks = bytearray(len(column))
        get = postings.get
        for position, value in enumerate(column):
            if value is None or value == "":
                continue
            entry = get(value)
            if entry is None:
                postings[value] = [position]
            else:
                entry.append(position)
            marks[position] = 1
        return Distinct(list(postings), list(postings.values()), int.from_bytes(marks, "little"))

    def _distinct_any(self, column: list[Any]) -> Distinct:
        """`distinct` for lists and mixed types: elements of lists count one by one, and
        True, 1 and 1.0 stay apart."""
        postings: dict[Any, list[int]] = {}
        values: dict[Any, Any] = {}
        marks = bytearray(len(column))
        for position, value in enumerate(column):
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
        return Distinct(
            list(values.values()), list(postings.values()), int.from_bytes(marks, "little")
        )

    def texts(self, name: str, form: TextForm) -> list[str]:
        """The distinct values of a field as text, in `form` (casefolded, unaccented)."""
        key = ("texts", name, form)
        cached = self.library.columns.get(key)
        if cached is None:
            values = self.distinct(name).values
            former = text_former(form)
            cached = [former(as_text(v)) for v in values]
            self.library.columns[key] = cached
        return cached

    def sorted_keys(self, name: str, kind: Kind) -> SortedKeys:
        """Every present value as a number (or an instant) in ascending order, and the
        position each came from: ranges are then two bisections."""
        key = ("sorted", name, kind)
        cached = self.library.columns.get(key)
        if cached is None:
            cached = self._sorted_directly(name, kind)
            if cached is not None:  # one position per value: `spans` may flip a mask
                self.library.columns[("sorted present", name, kind)] = None  # built on use
            else:
                cached = self._sorted_by_distinct(name, kind)
            self.library.columns[key] = cached
        return cached

    def _sorted_directly(self, name: str, kind: Kind) -> SortedKeys | None:
        """`sorted_keys` for the common columns, all numbers or all datetimes, without the
        distinct-value index: convert each value and sort the positions (None otherwise)."""
        column = self._column(name)
        kinds = _kinds(column)
        if kind == "number" and kinds <= _NUMBERS:
            present = [position for position, v in enumerate(column) if v is not None and v == v]
            present.sort(key=column.__getitem__)  # NaN was left out: it does not compare
            numbers = map(column.__getitem__, present)
            return SortedKeys(
                list(numbers) if kinds <= _FLOATS else list(map(float, numbers)), present
            )
        if kind == "date" and kinds == _DATETIMES:
            instants = [None if v is None else epoch_seconds(v) for v in column]
            present = [position for position, v in enumerate(instants) if v is not None]
            instant_at = cast(Callable[[int], float], instants.__getitem__)  # never None here
            present.sort(key=instant_at)
            return SortedKeys(list(map(instant_at, present)), present)
        return None

    def _sorted_by_distinct(self, name: str, kind: Kind) -> SortedKeys:
        convert = as_number if kind == "number" else as_instant
        values, postings, _ = self.distinct(name)
        converted = ((convert(v), p) for v, p in zip(values, postings, strict=True))
        pairs = sorted((number, p) for number, p in converted if number is not None)
        keys: list[float] = []
        flat: list[int] = []
        for number, positions in pairs:
            keys.extend([number] * len(positions))
            flat.extend(positions)
        return SortedKeys(keys, flat)


_SCALARS = frozenset({str, int, float})
_NUMBERS = frozenset({int, float})
_FLOATS = frozenset({float})
_DATETIMES = frozenset({datetime})


def _kinds(column: list[Any]) -> set[type]:
    """The types of a column's present values (bool is its own type, not an int here)."""
    kinds = set(map(type, column))
    kinds.discard(type(None))
    return kinds
