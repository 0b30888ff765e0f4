"""Compiled rule nodes: each decides its condition per track view and per library mask.

A `ConditionNode` holds one compiled condition and its `Matcher`, the predicate its operator
declared in the registry (`app.pipeline.rules.operators`). A matcher decides the condition's
positive form in both of the engine's ways from one element predicate, so they cannot disagree:
`test(field)` for one track's view (`matches_rules`, explain, small libraries) and
`mask(field, columns)` for the whole library at once, from the field indexes of `columns`:

* `TextMatcher`: a text predicate, on each element's text in one form (casefolded, unaccented),
  per library over the distinct texts of the field;
* `RangeMatcher`: number or instant ranges, per library a comparison of the whole column;
* `FlagMatcher`: a set of booleans, per library over the distinct values;
* `Presence`, `Every` (every part holds) and `Members` (the track is in a set of ids) for
  operators that look at the whole field or the track.

A negative operator is exactly NOT of its positive twin; a scalar operator on a list field
matches when any element does; a positive operator on a missing value is false. `GroupNode`
combines its children with and/or (short-circuiting) and negation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from app.core.rules import RuleCondition, RuleGroup, RuleOperator
from app.pipeline.rules.library.columns import Columns
from app.pipeline.rules.values import (
    Kind,
    TextForm,
    as_bool,
    as_instant,
    as_number,
    as_text,
    present,
    text_former,
)

__all__ = [
    "ConditionNode",
    "Every",
    "FlagMatcher",
    "GroupNode",
    "Matcher",
    "Members",
    "Mode",
    "Node",
    "Presence",
    "Range",
    "RangeMatcher",
    "Test",
    "TextMatcher",
    "View",
]

View = Mapping[str, Any]
Test = Callable[[View], bool]
Mode = Literal["text", "range", "bool", "exists", "all", "rule"]
"""Which matcher decides a condition (explain reads it)."""


@dataclass(frozen=True)
class Range:
    """An interval of numbers or instants, each end open or closed."""

    low: float
    low_inclusive: bool
    high: float
    high_inclusive: bool

    def holds(self, key: float) -> bool:
        if key < self.low or (key == self.low and not self.low_inclusive):
            return False
        return not (key > self.high or (key == self.high and not self.high_inclusive))


MASKS_KEPT = 512
"""Condition masks kept per library (one byte per track each: ~50 MB at 100,000 tracks)."""


class Node:
    """A compiled rule tree node: `test` decides one view, `mask` a whole library."""

    test: Test

    def mask(self, columns: Columns) -> int:
        raise NotImplementedError


# --- matchers: one predicate, two evaluations --------------------------------------------------


class Matcher:
    """A condition's positive predicate on a field: `test` builds the per-view closure, `mask`
    decides the whole library; both from the same predicate."""

    mode: ClassVar[Mode]

    def test(self, field: str) -> Test:
        raise NotImplementedError

    def mask(self, field: str, columns: Columns) -> int:
        raise NotImplementedError

    def key(self) -> Hashable:
        """What the mask depends on beyond the condition's own text (cached masks' key)."""
        return None


def _any_element(name: str, element: Callable[[Any], bool]) -> Test:
    """The view test of an element predicate: any present element of the field holds."""

    def any_element(view: View) -> bool:
        value = view.get(name)
        if value is None:
            return False
        if value.__class__ is list or value.__class__ is tuple:
            for item in value:  # noqa: SIM110 (a loop is faster than any(genexpr))
                if item is not None and item != "" and element(item):
                    return True
            return False
        return value != "" and element(value)

    return any_element


@dataclass(frozen=True, eq=False)
class TextMatcher(Matcher):
    """`predicate` on each element's text in `form`."""

    mode: ClassVar[Mode] = "text"
    predicate: Callable[[str], bool]
    form: TextForm

    def test(self, field: str) -> Test:
        predicate, former = self.predicate, text_former(self.form)

        def element(item: Any) -> bool:
            return predicate(former(as_text(item)))

        return _any_element(field, element)

    def mask(self, field: str, columns: Columns) -> int:
        return columns.choose(field, map(self.predicate, columns.texts(field, self.form)))

    def key(self) -> Hashable:
        return self.form


@dataclass(frozen=True, eq=False)
class RangeMatcher(Matcher):
    """Each element as a number (or an instant) within one of `ranges`."""

    mode: ClassVar[Mode] = "range"
    kind: Kind
    ranges: tuple[Range, ...]

    def test(self, field: str) -> Test:
        return _any_element(field, _range_element(self.kind, self.ranges))

    def mask(self, field: str, columns: Columns) -> int:
        return columns.within(field, self.kind, self.ranges)

    def key(self) -> Hashable:
        return (self.kind, self.ranges)


def _range_element(kind: Kind, ranges: tuple[Range, ...]) -> Callable[[Any], bool]:
    convert = as_number if kind == "number" else as_instant
    if len(ranges) == 1:
        (bound,) = ranges
        low, high = bound.low, bound.high
        if bound.low_inclusive and bound.high_inclusive:

            def closed(item: Any) -> bool:
                key = convert(item)
                return key is not None and low <= key <= high

            return closed
        if bound.low_inclusive:

            def half_open(item: Any) -> bool:
                key = convert(item)
                return key is not None and low <= key < high

            return half_open

    def general(item: Any) -> bool:
        key = convert(item)
        return key is not None and any(bound.holds(key) for bound in ranges)

    return general


@dataclass(frozen=True, eq=False)
class FlagMatcher(Matcher):
    """Each element as a boolean, one of `wanted`."""

    mode: ClassVar[Mode] = "bool"
    wanted: frozenset[bool]

    def _element(self) -> Callable[[Any], bool]:
        wanted = self.wanted
        return lambda item: as_bool(item) in wanted

    def test(self, field: str) -> Test:
        return _any_element(field, self._element())

    def mask(self, field: str, columns: Columns) -> int:
        return columns.choose(field, map(self._element(), columns.elements(field)))


@dataclass(frozen=True, eq=False)
class Presence(Matcher):
    """The field has a value (not missing, not empty)."""

    mode: ClassVar[Mode] = "exists"

    def test(self, field: str) -> Test:
        return lambda view: present(view.get(field))

    def mask(self, field: str, columns: Columns) -> int:
        return columns.present(field)


@dataclass(frozen=True, eq=False)
class Every(Matcher):
    """The field has a value and every part holds (the parts decide the same field)."""

    mode: ClassVar[Mode] = "all"
    parts: tuple[ConditionNode, ...]

    def test(self, field: str) -> Test:
        parts = tuple(part.positive_test for part in self.parts)

        def every(view: View) -> bool:
            if not present(view.get(field)):
                return False
            return all(part(view) for part in parts)

        return every

    def mask(self, field: str, columns: Columns) -> int:
        result = columns.present(field)
        for part in self.parts:
            result &= part.positive_mask_cached(columns)
        return result


@dataclass(frozen=True, eq=False)
class Members(Matcher):
    """The field (the track id) is one of `ids`."""

    mode: ClassVar[Mode] = "rule"
    ids: frozenset[str]

    def test(self, field: str) -> Test:
        ids = self.ids
        return lambda view: view.get(field) in ids

    def mask(self, field: str, columns: Columns) -> int:
        index = columns.library.index
        return columns.mask([[index[track_id] for track_id in self.ids if track_id in index]])

    def key(self) -> Hashable:
        return self.ids


# --- nodes -------------------------------------------------------------------------------------


class ConditionNode(Node):
    """One compiled condition: `test(view)` and `mask(columns)` decide the same thing."""

    def __init__(
        self,
        condition: RuleCondition,
        field: str,
        positive: RuleOperator,
        negated: bool,
        matcher: Matcher,
    ) -> None:
        self.condition = condition
        self.field = field
        self.positive = positive
        self.negated = negated
        self.matcher = matcher
        self.mode = matcher.mode
        self.signature = (
            field,
            positive,
            matcher.mode,
            repr(condition.value),
            condition.case_sensitive,
            condition.accent_insensitive,
        )
        positive_test = matcher.test(field)
        if negated:

            def negative(view: View) -> bool:
                return not positive_test(view)

            self.test = negative
        else:
            self.test = positive_test
        self.positive_test = positive_test

    @property
    def members(self) -> frozenset[str]:
        """The track ids an `in rule` condition holds (empty for other conditions)."""
        return self.matcher.ids if isinstance(self.matcher, Members) else frozenset()

    def positive_mask(self, columns: Columns) -> int:
        return self.matcher.mask(self.field, columns)

    def positive_mask_cached(self, columns: Columns) -> int:
        """The positive mask, computed once per library: a condition repeated across rule
        sets, or met again by the next preview, costs a dictionary lookup. The key holds what
        the mask depends on beyond the condition itself (`Matcher.key`): the kind and ranges
        (`in_last` computes them from "now"), the text form, a referenced rule set's members."""
        key = (self.signature, self.matcher.key())
        masks = columns.masks
        found = masks.get(key)
        if found is None:
            found = self.positive_mask(columns)
            while len(masks) >= MASKS_KEPT:
                masks.pop(next(iter(masks)), None)  # the oldest: bounded memory
            masks[key] = found
        return found

    def mask(self, columns: Columns) -> int:
        result = self.positive_mask_cached(columns)
        return columns.universe ^ result if self.negated else result


class GroupNode(Node):
    """A compiled group: its children combined with and/or, then negated if asked."""

    def __init__(self, group: RuleGroup, children: list[Node]) -> None:
        self.group = group
        self.children = children
        tests = tuple(child.test for child in children)
        if group.operator == "and":

            def all_of(view: View) -> bool:
                for child in tests:  # noqa: SIM110
                    if not child(view):
                        return False
                return True

            combined = all_of
        else:

            def any_of(view: View) -> bool:
                for child in tests:  # noqa: SIM110
                    if child(view):
                        return True
                return False

            combined = any_of
        if group.negate:
            self.test = lambda view: not combined(view)
        else:
            self.test = combined

    def mask(self, columns: Columns) -> int:
        if self.group.operator == "and":
            result = columns.universe
            for child in self.children:
                if not result:
                    break
                result &= child.mask(columns)
        else:
            result = 0
            for child in self.children:
                result |= child.mask(columns)
        return columns.universe ^ result if self.group.negate else result
