"""Compile rule trees once into plain closures (per track) and set-based evaluators (per library).

Every condition is compiled once: literals casefolded (unless `case_sensitive`) and unaccented
(if `accent_insensitive`), sets frozen, regexes compiled with RE2 (linear time, so no
catastrophic pattern), dates turned into bounds against one `now`, field types looked up in the
registry (else inferred from the library). The result is a tree of `nodes` serving two
evaluation strategies that share the same element
predicates, so they cannot disagree:

* `test(view)`: a closure over one track's view (`matches_rules`, explain, small libraries);
* `mask(columns)`: the whole library at once, a condition decided once per distinct value from
  the per-field indexes of `columns` and groups combined as bit masks.

How values are read and compared (missing values, dates as periods) is `rules.values`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import re2  # type: ignore[import-untyped]

from app.core.rules import (
    MAX_REGEX_LENGTH,
    NEGATION,
    NEGATIVE,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    parse_span,
)
from app.pipeline.rules.engine.nodes import ConditionNode, GroupNode, Node, Range
from app.pipeline.rules.fields.discovery import sample_type
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import FieldType
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.values import (
    Kind,
    TextForm,
    as_bool,
    as_instant,
    as_number,
    as_text,
    date_period,
    epoch_seconds,
    invalid,
    is_date_like,
    strip_accents,
    text_former,
)

__all__ = [
    "CompileContext",
    "TypeOf",
    "compile_condition",
    "compile_node",
    "compile_tree",
    "registry_types",
]

Op = RuleOperator

_BUILTIN = FieldRegistry.builtin()
_INF = math.inf


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
            library.columns[cache_key] = sample_type(sample)
        inferred: FieldType | None = library.columns[cache_key]
        return name, inferred

    return type_of


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
        moment = epoch_seconds(now)
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


def text_form(condition: RuleCondition, op: RuleOperator) -> TextForm:
    """How a condition sees a text before comparing: casefolded unless `case_sensitive`
    (a regex folds case itself), accents stripped when `accent_insensitive`."""
    return (not condition.case_sensitive and op is not Op.REGEX, condition.accent_insensitive)


def _text_test(op: RuleOperator, value: Any, condition: RuleCondition) -> Callable[[str], bool]:
    form = text_former(text_form(condition, op))

    def lit(v: Any) -> str:
        return form(as_text(v))

    if op is Op.REGEX:
        if condition.accent_insensitive and isinstance(value, str):
            value = strip_accents(value)  # the pattern compares with unaccented text
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
                    accent_insensitive=condition.accent_insensitive,
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
    form = text_form(condition, positive)
    former = text_former(form)

    def element(item: Any) -> bool:
        return text_test(former(as_text(item)))

    return ConditionNode(
        condition,
        name,
        positive,
        negated,
        "text",
        element=element,
        text_test=text_test,
        form=form,
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
