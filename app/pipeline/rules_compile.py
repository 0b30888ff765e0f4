"""Compile rule trees once into plain closures (per track) and set-based evaluators (per library).

Every condition is compiled once: literals casefolded (unless `case_sensitive`), sets frozen,
regexes compiled with RE2 (linear time, so no catastrophic pattern), dates turned into bounds
against one `now`. The result serves two evaluation strategies that share the same element
predicates, so they cannot disagree:

* `test(view)`: a closure over one track's view (`matches_rules`, explain, small libraries);
* `mask(columns)`: the whole library at once. Each field gets an index on first use (distinct
  values → positions; numbers and dates sorted for `bisect`), a condition is decided once per
  *distinct value* instead of once per track, and groups combine the results as bit masks
  (a Python int with one byte per track, combined with `&`, `|`, `^` in C).

Semantics (docs: rules-dsl.md): a positive operator on a missing value is false; a negative one
is exactly NOT of its positive twin; a scalar operator on a list field matches when any element
does; an empty list, ``""`` and ``None`` are missing. Dates compare as UTC instants; a date
literal of lower precision covers its whole period (``2020`` is the year 2020, ``2020-05-17`` the
day, so `added_at = 2020-05-17` is true all day); a date-only value is its first instant.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal

import re2  # type: ignore[import-untyped]

from app.core.errors import RulesInvalidError
from app.core.rules import (
    MAX_REGEX_LENGTH,
    NEGATION,
    NEGATIVE,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    parse_span,
)
from app.pipeline.rules_fields import FieldRegistry, FieldType
from app.pipeline.rules_view import Library

Op = RuleOperator
View = Mapping[str, Any]
Test = Callable[[View], bool]
Kind = Literal["text", "number", "date", "bool"]

_BUILTIN = FieldRegistry.builtin()
_INF = math.inf


def invalid(message: str) -> RulesInvalidError:
    return RulesInvalidError([{"message": message}])


# --- value coercion ------------------------------------------------------------------------------


def present(value: Any) -> bool:
    """Not missing: not None, not ``""``, not an empty list (nor a list of missing items)."""
    if value is None or value == "":
        return False
    if value.__class__ is list or value.__class__ is tuple:
        return any(item is not None and item != "" for item in value)
    return True


def as_text(value: Any) -> str:
    if value.__class__ is str:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(number) else number


_TRUE = {"true", "yes", "1", "y", "on"}
_FALSE = {"false", "no", "0", "n", "off"}


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return None if value not in (0, 1) else bool(value)
    if isinstance(value, str):
        folded = value.strip().casefold()
        return True if folded in _TRUE else False if folded in _FALSE else None
    return None


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def _instant(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _period(text: str) -> tuple[float, float] | None:
    """[start, end) of a date text: a year, month, day or (a one-instant period) a datetime."""
    text = text.strip()
    match = _PARTIAL_DATE.match(text)
    try:
        if match is not None:
            year, month, day = (int(part) if part else None for part in match.groups())
            assert year is not None
            start = datetime(year, month or 1, day or 1, tzinfo=UTC)
            if day is not None:
                end = start.timestamp() + 86_400
            elif month is not None:
                end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC).timestamp()
            else:
                end = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() if year < 9999 else _INF
            return start.timestamp(), end
        instant = _instant(datetime.fromisoformat(text))
    except ValueError:
        return None
    return instant, math.nextafter(instant, _INF)


@lru_cache(maxsize=65_536)
def _text_instant(text: str) -> float | None:
    period = _period(text)
    return None if period is None else period[0]


def as_instant(value: Any) -> float | None:
    """A date value as UTC epoch seconds (a partial date is its first instant)."""
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    if isinstance(value, str):
        return _text_instant(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9999:
        return datetime(value, 1, 1, tzinfo=UTC).timestamp()
    return None


def date_period(literal: Any) -> tuple[float, float]:
    """The period a date literal names: [start, end) in epoch seconds."""
    if isinstance(literal, datetime):
        instant = _instant(literal)
        return instant, math.nextafter(instant, _INF)
    if isinstance(literal, date):
        start = datetime(literal.year, literal.month, literal.day, tzinfo=UTC).timestamp()
        return start, start + 86_400
    if isinstance(literal, int) and not isinstance(literal, bool):
        literal = f"{literal:04d}"
    if isinstance(literal, str):
        period = _period(literal)
        if period is not None:
            return period
    raise invalid(f"{literal!r} is not a date (YYYY, YYYY-MM, YYYY-MM-DD or an ISO datetime)")


def is_date_like(value: Any) -> bool:
    if isinstance(value, datetime | date):
        return True
    return isinstance(value, str) and len(value) > 4 and _period(value) is not None


# --- field types ---------------------------------------------------------------------------------


def infer_type(values: Iterable[Any]) -> FieldType | None:
    """The type of sampled present values: bool, number, date (ISO texts), else text."""
    kinds: set[str] = set()
    for value in values:
        items = value if value.__class__ is list or value.__class__ is tuple else (value,)
        for item in items:
            if item is None or item == "":
                continue
            if isinstance(item, bool):
                kinds.add("bool")
            elif isinstance(item, int | float):
                kinds.add("number")
            elif is_date_like(item):
                kinds.add("date")
            else:
                kinds.add("text")
    if not kinds:
        return None
    if len(kinds) == 1:
        return kinds.pop()  # type: ignore[return-value]
    return "text"


TypeOf = Callable[[str], tuple[str, FieldType | None]]


def registry_types(registry: FieldRegistry | None, library: Library | None = None) -> TypeOf:
    """Field name → (canonical name, type): the registry first, else inferred from the library."""
    reg = registry or _BUILTIN

    def type_of(name: str) -> tuple[str, FieldType | None]:
        info = reg.resolve(name) or (_BUILTIN.resolve(name) if registry is not None else None)
        if info is not None:
            return info.name, info.type
        if library is None:
            return name, None
        cache_key = ("type", name)
        if cache_key not in library.columns:
            sample = []
            for view in library.views:
                value = view.get(name)
                if value is not None:
                    sample.append(value)
                    if len(sample) >= 500:
                        break
            library.columns[cache_key] = infer_type(sample)
        inferred: FieldType | None = library.columns[cache_key]
        return name, inferred

    return type_of


# --- compiled nodes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    low: float
    low_inclusive: bool
    high: float
    high_inclusive: bool

    def holds(self, key: float) -> bool:
        if key < self.low or (key == self.low and not self.low_inclusive):
            return False
        return not (key > self.high or (key == self.high and not self.high_inclusive))


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


class Node:
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
        fold: bool = False,
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
        self.fold = fold
        self.kind = kind
        self.ranges = ranges
        self.parts = parts
        self.members = members
        self.signature = (
            field,
            positive,
            mode,
            kind,
            fold,
            repr(condition.value),
            condition.case_sensitive,
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
            keys, positions = columns.sorted_keys(self.field, self.kind)
            chunks = []
            for bound in self.ranges:
                start = (bisect_left if bound.low_inclusive else bisect_right)(keys, bound.low)
                end = (bisect_right if bound.high_inclusive else bisect_left)(keys, bound.high)
                if start < end:
                    chunks.append(positions[start:end])
            return columns.mask(chunks)
        values, postings, _ = columns.distinct(self.field)
        if self.mode == "text":
            text_test = self.text_test
            assert text_test is not None
            texts = columns.texts(self.field, self.fold)
            return columns.mask([postings[i] for i, text in enumerate(texts) if text_test(text)])
        element = self.element
        assert element is not None
        return columns.mask([postings[i] for i, value in enumerate(values) if element(value)])

    def positive_mask_cached(self, columns: Columns) -> int:
        found = columns.masks.get(self.signature)
        if found is None:
            found = columns.masks[self.signature] = self.positive_mask(columns)
        return found

    def mask(self, columns: Columns) -> int:
        result = self.positive_mask_cached(columns)
        return columns.universe ^ result if self.negated else result


class GroupNode(Node):
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


# --- compiling -----------------------------------------------------------------------------------


@dataclass
class CompileContext:
    now: datetime
    type_of: TypeOf
    rule_members: Mapping[str, Collection[str]]


def _as_list(value: Any, condition: RuleCondition) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    if value is None:
        raise invalid(f"{condition.field} {condition.operator.value}: a list of values is needed")
    return [value]


def _kind_for(op: RuleOperator, ftype: FieldType | None, literals: list[Any]) -> Kind:
    if op in (Op.BEFORE, Op.AFTER, Op.IN_LAST):
        return "date"
    if op in (Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH, Op.REGEX, Op.IN_PLAYLIST):
        return "text"
    if op in (Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN):
        if ftype in ("number", "date"):
            return ftype
        if all(as_number(v) is not None for v in literals):
            return "number"
        if all(is_date_like(v) or isinstance(v, int) for v in literals):
            return "date"
        raise invalid(f"operator {op.value} compares numbers or dates, not {literals!r}")
    if ftype is not None:
        return ftype
    if literals and all(isinstance(v, bool) for v in literals):
        return "bool"
    if literals and all(isinstance(v, int | float) and not isinstance(v, bool) for v in literals):
        return "number"
    return "text"


def _number(value: Any, condition: RuleCondition) -> float:
    number = as_number(value)
    if number is None:
        raise invalid(f"{condition.field}: {value!r} is not a number")
    return number


def _pair(value: Any, condition: RuleCondition) -> tuple[Any, Any]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, Mapping) and {"low", "high"} <= set(value):
        return value["low"], value["high"]
    raise invalid(f"{condition.field} between: give two values [low, high] (got {value!r})")


def _ranges(
    op: RuleOperator, kind: Kind, value: Any, condition: RuleCondition, now: datetime
) -> tuple[Range, ...]:
    if op is Op.IN_LAST:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            try:
                seconds = float(parse_span(str(value)))
            except ValueError as exc:
                raise invalid(f"{condition.field} in_last: {exc}") from None
        moment = _instant(now)
        return (Range(moment - seconds, True, moment, True),)
    if kind == "number":
        if op is Op.BETWEEN:
            low, high = (_number(v, condition) for v in _pair(value, condition))
            if low > high:
                raise invalid(f"{condition.field} between: {low:g} is above {high:g}")
            return (Range(low, True, high, True),)
        if op is Op.IN or op is Op.HAS_ANY:
            numbers = sorted({_number(v, condition) for v in _as_list(value, condition)})
            return tuple(Range(n, True, n, True) for n in numbers)
        x = _number(value, condition)
        return {
            Op.EQ: (Range(x, True, x, True),),
            Op.GT: (Range(x, False, _INF, True),),
            Op.GTE: (Range(x, True, _INF, True),),
            Op.LT: (Range(-_INF, True, x, False),),
            Op.LTE: (Range(-_INF, True, x, True),),
        }[op]
    if op is Op.BETWEEN:
        (low, _), (_, high) = (date_period(v) for v in _pair(value, condition))
        if low >= high:
            raise invalid(f"{condition.field} between: the first date is after the second")
        return (Range(low, True, high, False),)
    if op is Op.IN or op is Op.HAS_ANY:
        periods = sorted({date_period(v) for v in _as_list(value, condition)})
        return tuple(Range(start, True, end, False) for start, end in periods)
    start, end = date_period(value)
    return {
        Op.EQ: (Range(start, True, end, False),),
        Op.GT: (Range(end, True, _INF, True),),
        Op.AFTER: (Range(end, True, _INF, True),),
        Op.GTE: (Range(start, True, _INF, True),),
        Op.LT: (Range(-_INF, True, start, False),),
        Op.BEFORE: (Range(-_INF, True, start, False),),
        Op.LTE: (Range(-_INF, True, end, False),),
    }[op]


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


def _regex(pattern: Any, condition: RuleCondition) -> Any:
    if not isinstance(pattern, str):
        raise invalid(f"{condition.field} regex: the pattern must be text")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise invalid(f"{condition.field} regex: pattern longer than {MAX_REGEX_LENGTH}")
    options = re2.Options()
    options.case_sensitive = condition.case_sensitive
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise invalid(f"{condition.field} regex: invalid pattern {pattern!r}: {exc}") from None


def _text_test(op: RuleOperator, value: Any, condition: RuleCondition) -> Callable[[str], bool]:
    fold = not condition.case_sensitive

    def lit(v: Any) -> str:
        return as_text(v).casefold() if fold else as_text(v)

    if op is Op.REGEX:
        compiled = _regex(value, condition)
        raw = getattr(compiled, "_regexp", None)  # RE2 itself: skips the wrapper's span decoding
        if raw is None or not hasattr(raw, "Match"):
            search = compiled.search
            return lambda text: search(text) is not None
        match, unanchored, miss = raw.Match, re2._Anchor.UNANCHORED, (-1, -1)

        def regex_test(text: str) -> bool:
            encoded = text.encode()
            return bool(match(unanchored, encoded, 0, len(encoded))[0] != miss)

        return regex_test
    if op in (Op.IN, Op.HAS_ANY, Op.IN_PLAYLIST):
        values = _as_list(value, condition) if op is not Op.IN_PLAYLIST else [value]
        wanted = frozenset(lit(v) for v in values if v is not None)
        return wanted.__contains__
    if value is None:
        raise invalid(f"{condition.field} {op.value}: a value is needed")
    needle = lit(value)
    if op is Op.EQ:
        return needle.__eq__
    if op is Op.CONTAINS:
        return lambda text: needle in text
    if op is Op.STARTS_WITH:
        return lambda text: text.startswith(needle)
    if op is Op.ENDS_WITH:
        return lambda text: text.endswith(needle)
    raise invalid(f"operator {op.value} does not apply to text")


def compile_condition(condition: RuleCondition, ctx: CompileContext) -> ConditionNode:
    op = condition.operator
    negated = op in NEGATIVE
    positive = NEGATION[op] if negated else op
    if positive is Op.IN_RULE:
        ref = str(condition.value)
        if ref not in ctx.rule_members:
            raise invalid(f"rule {ref!r} is unknown or not evaluated yet")
        return ConditionNode(
            condition, "id", positive, negated, "rule", members=frozenset(ctx.rule_members[ref])
        )
    field_name = "playlists" if positive is Op.IN_PLAYLIST else condition.field
    name, ftype = ctx.type_of(field_name)
    if positive is Op.EXISTS:
        return ConditionNode(condition, name, positive, negated, "exists")
    value = condition.value
    if positive is Op.HAS_ALL:
        parts = tuple(
            compile_condition(
                RuleCondition(
                    field=field_name,
                    operator=Op.HAS_ANY,
                    value=[item],
                    case_sensitive=condition.case_sensitive,
                ),
                ctx,
            )
            for item in _as_list(value, condition)
        )
        return ConditionNode(condition, name, positive, negated, "all", parts=parts)
    if positive in (Op.IN, Op.HAS_ANY):
        literals = _as_list(value, condition)
    elif positive is Op.BETWEEN:
        literals = list(_pair(value, condition))
    else:
        literals = [value]
    kind = _kind_for(positive, ftype, literals)
    if kind in ("number", "date") and positive not in (
        Op.CONTAINS,
        Op.STARTS_WITH,
        Op.ENDS_WITH,
        Op.REGEX,
    ):
        ranges = _ranges(positive, kind, value, condition, ctx.now)
        return ConditionNode(
            condition,
            name,
            positive,
            negated,
            "range",
            element=_range_element(kind, ranges),
            kind=kind,
            ranges=ranges,
        )
    if kind == "bool" and positive in (Op.EQ, Op.IN, Op.HAS_ANY):
        wanted_bools = set()
        for literal in literals:
            flag = as_bool(literal)
            if flag is None:
                raise invalid(f"{condition.field}: {literal!r} is not true or false")
            wanted_bools.add(flag)
        frozen = frozenset(wanted_bools)
        return ConditionNode(
            condition,
            name,
            positive,
            negated,
            "bool",
            element=lambda item: as_bool(item) in frozen,
            kind="bool",
        )
    if positive in (Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN, Op.BEFORE, Op.AFTER, Op.IN_LAST):
        raise invalid(f"operator {positive.value} does not apply to text field {name!r}")
    text_test = _text_test(positive, value, condition)
    fold = not condition.case_sensitive and positive is not Op.REGEX

    def element(item: Any) -> bool:
        text = as_text(item)
        return text_test(text.casefold() if fold else text)

    return ConditionNode(
        condition,
        name,
        positive,
        negated,
        "text",
        element=element,
        text_test=text_test,
        fold=fold,
    )


def compile_node(node: RuleCondition | RuleGroup, ctx: CompileContext) -> Node:
    if isinstance(node, RuleGroup):
        return GroupNode(node, [compile_node(child, ctx) for child in node.conditions])
    return compile_condition(node, ctx)


def compile_tree(
    group: RuleGroup,
    *,
    now: datetime,
    registry: FieldRegistry | None = None,
    library: Library | None = None,
    rule_members: Mapping[str, Collection[str]] | None = None,
) -> Node:
    """Compile a rule tree once (see the module docstring)."""
    ctx = CompileContext(now, registry_types(registry, library), rule_members or {})
    return compile_node(group, ctx)
