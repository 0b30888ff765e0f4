"""Compiled rule nodes: each decides its condition per track view and per library mask.

A `ConditionNode` holds one compiled condition; `test(view)` decides it for one track's view
(`matches_rules`, explain, small libraries) and `mask(columns)` for the whole library at once,
from the field indexes of `rules_index`. Both go through the same element predicates, so they
cannot disagree. A negative operator is exactly NOT of its positive twin; a scalar operator on a
list field matches when any element does; a positive operator on a missing value is false.
`GroupNode` combines its children with and/or (short-circuiting) and negation.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.core.rules import RuleCondition, RuleGroup, RuleOperator
from app.pipeline.rules.engine.columns import Columns
from app.pipeline.rules.values import Kind, TextForm, present

__all__ = ["ConditionNode", "GroupNode", "Node", "Range", "Test", "View"]

View = Mapping[str, Any]
Test = Callable[[View], bool]


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


class ConditionNode(Node):
    """One compiled condition: `test(view)` and `mask(columns)` decide the same thing."""

    def __init__(
        self,
        condition: RuleCondition,
        field: str,
        positive: RuleOperator,
        negated: bool,
        mode: Literal["text", "range", "bool", "exists", "all", "rule"],
        *,
        element: Callable[[Any], bool] | None = None,
        text_test: Callable[[str], bool] | None = None,
        form: TextForm = (True, False),
        kind: Kind = "text",
        ranges: tuple[Range, ...] = (),
        parts: tuple[ConditionNode, ...] = (),
        members: frozenset[str] = frozenset(),
    ) -> None:
        self.condition = condition
        self.field = field
        self.positive = positive
        self.negated = negated
        self.mode = mode
        self.element = element
        self.text_test = text_test
        self.form = form
        self.kind = kind
        self.ranges = ranges
        self.parts = parts
        self.members = members
        self.signature = (
            field,
            positive,
            mode,
            kind,
            form,
            repr(condition.value),
            condition.case_sensitive,
            condition.accent_insensitive,
        )
        positive_test = self._positive_test()
        if negated:

            def negative(view: View) -> bool:
                return not positive_test(view)

            self.test = negative
        else:
            self.test = positive_test
        self.positive_test = positive_test

    def _positive_test(self) -> Test:
        name = self.field
        if self.mode == "exists":
            return lambda view: present(view.get(name))
        if self.mode == "rule":
            members = self.members
            return lambda view: view.get("id") in members
        if self.mode == "all":
            parts = tuple(part.positive_test for part in self.parts)

            def has_all(view: View) -> bool:
                if not present(view.get(name)):
                    return False
                return all(part(view) for part in parts)

            return has_all
        element = self.element
        assert element is not None

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

    def positive_mask(self, columns: Columns) -> int:
        if self.mode == "exists":
            return columns.distinct(self.field)[2]
        if self.mode == "rule":
            index = columns.library.index
            return columns.mask(
                [[index[track_id] for track_id in self.members if track_id in index]]
            )
        if self.mode == "all":
            result = columns.distinct(self.field)[2]
            for part in self.parts:
                result &= part.positive_mask_cached(columns)
            return result
        if self.mode == "range":
            keys = columns.sorted_keys(self.field, self.kind)[0]
            spans = []
            for bound in self.ranges:
                start = (bisect_left if bound.low_inclusive else bisect_right)(keys, bound.low)
                end = (bisect_right if bound.high_inclusive else bisect_left)(keys, bound.high)
                if start < end:
                    spans.append((start, end))
            return columns.spans(self.field, self.kind, spans)
        values, postings, _ = columns.distinct(self.field)
        if self.mode == "text":
            text_test = self.text_test
            assert text_test is not None
            chosen = list(map(text_test, columns.texts(self.field, self.form)))
        else:
            assert self.element is not None
            chosen = list(map(self.element, values))
        return columns.union(self.field, postings, chosen)

    def positive_mask_cached(self, columns: Columns) -> int:
        """The positive mask, computed once per library: a condition repeated across rule
        sets, or met again by the next preview, costs a dictionary lookup. The key holds what
        the mask depends on beyond the condition itself: the bounds `in_last` computed from
        "now", and a referenced rule set's members."""
        key = (self.signature, self.ranges, self.members)
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
