"""The meaning of one condition: its field, operator and value, checked against the registry.

`check_condition` reports an unknown field (did-you-mean over names and aliases), an operator
that does not fit the field's type, and a malformed value (pairs, lists, dates, spans, regexes
under re2, types); `in_rule` naming an unknown rule set when the known ids are given. What an
operator applies to, the shape of its value and what its literal must be are its entry in the
operator registry (`rules.operators`). Each
problem is a `Found`: the `RuleProblem` and the token to look for in the text when no span is
known (`validator` places them). `compile_regex` and `date_bounds` read a
regex or a date value the way the engine does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import re2  # type: ignore[import-untyped]

from app.core.rules import MAX_LIST_VALUES, MAX_REGEX_LENGTH, RuleOperator, RuleProblem, parse_span
from app.pipeline.rules.fields.registry import FieldRegistry, closest
from app.pipeline.rules.fields.types import (
    LIST_OPERATORS,
    SCALAR_OPERATORS,
    TRACK_FIELD,
    TRACK_OPERATORS,
    FieldInfo,
    FieldType,
    operators_for,
    type_label,
)
from app.pipeline.rules.operators import BY_NAME

__all__ = [
    "MAX_SPAN_SECONDS",
    "Found",
    "check_condition",
    "compile_regex",
    "date_bounds",
    "short_value",
    "unknown_field",
]

Op = RuleOperator

MAX_SPAN_SECONDS = 1000 * 365 * 86_400
"""`in_last 1000y` at most: further back would leave the calendar."""


class Found(NamedTuple):
    """A problem found, before it is given a position."""

    problem: RuleProblem
    token: str | None  # what to look for in `text` when no span is known


def compile_regex(pattern: str, *, case_sensitive: bool = False) -> Any:
    """The re2 regex of a `regex` condition (linear time: no catastrophic backtracking).

    Raises ValueError with re2's reason when the pattern is too long or does not compile.
    """
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"regex is {len(pattern)} characters long; at most {MAX_REGEX_LENGTH}")
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"invalid regex: {reason}") from None


class DateBounds(NamedTuple):
    """The first and the last instant a date value covers."""

    first: datetime
    last: datetime


def date_bounds(value: str) -> DateBounds:
    """First and last instant (UTC) a date value covers: ``1999`` is the whole year,
    ``1999-05`` the month, ``1999-05-17`` the day, an ISO datetime itself (naive = UTC).

    Inclusive ranges use the low value's start and the high value's end, so
    ``between 1990..1999`` covers all of 1999. Raises ValueError when it does not parse.
    """
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            start = datetime(int(text), 1, 1, tzinfo=UTC)
            end = datetime(int(text) + 1, 1, 1, tzinfo=UTC) if int(text) < 9999 else None
        elif re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:7])
            start = datetime(year, month, 1, tzinfo=UTC)
            following = (year + 1, 1) if month == 12 else (year, month + 1)
            end = datetime(*following, 1, tzinfo=UTC) if following[0] <= 9999 else None
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            start = datetime.fromisoformat(text).replace(tzinfo=UTC)
            end = start + timedelta(days=1) if start.year < 9999 else None
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ].+", text):
            moment = datetime.fromisoformat(text.replace("z", "Z"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            moment = moment.astimezone(UTC)
            return DateBounds(moment, moment)
        else:
            raise ValueError(text)
    except (ValueError, OverflowError):
        raise ValueError(
            f"expected a date like 2020, 2020-05, 2020-05-17 or 2020-05-17T08:00:00Z "
            f"(got {value!r})"
        ) from None
    last = datetime.max.replace(tzinfo=UTC) if end is None else end - timedelta(microseconds=1)
    return DateBounds(start, last)


def unknown_field(name: str, path: str, candidates: Iterable[str]) -> Found:
    """``unknown field 'x'``, with the closest of `candidates` as a hint."""
    suggestion = closest(name, candidates)
    hint = f"did you mean {suggestion[0]!r}?" if suggestion else None
    return Found(RuleProblem(message=f"unknown field {name!r}", path=path, hint=hint), name)


def check_condition(
    condition: Mapping[str, Any],
    path: str,
    registry: FieldRegistry,
    known_rule_ids: Collection[str] | None,
) -> list[Found]:
    """The problems of one structurally sound condition (raw JSON) at `path`."""
    name = condition.get("field")
    try:
        operator = Op(str(condition.get("operator")))
    except ValueError:
        return []
    if not isinstance(name, str):
        return []
    value = condition.get("value")
    is_track = name.strip().casefold() == TRACK_FIELD
    if operator in TRACK_OPERATORS or is_track:
        return _check_track_condition(name, operator, value, path, known_rule_ids)
    info = registry.resolve(name)
    if info is None:
        return [unknown_field(name, f"{path}.field", registry.spellings())]
    allowed = operators_for(info)
    if operator not in allowed:
        message = (
            f"operator {operator.value!r} needs {_needs(operator)}; "
            f"{info.name!r} is {type_label(info)}"
        )
        hint = f"{info.name!r} takes {', '.join(op.value for op in allowed)}"
        problem = RuleProblem(message=message, path=f"{path}.operator", hint=hint)
        return [Found(problem, operator.value)]
    return _check_value(
        info, operator, value, f"{path}.value", bool(condition.get("case_sensitive"))
    )


def _check_track_condition(
    name: str,
    operator: RuleOperator,
    value: Any,
    path: str,
    known_rule_ids: Collection[str] | None,
) -> list[Found]:
    if operator not in TRACK_OPERATORS:
        message = (
            f"operator {operator.value!r} does not apply to {TRACK_FIELD!r}; "
            f"{TRACK_FIELD!r} takes {', '.join(op.value for op in TRACK_OPERATORS)}"
        )
        return [Found(RuleProblem(message=message, path=f"{path}.operator"), operator.value)]
    if name.strip().casefold() != TRACK_FIELD:
        message = f"operator {operator.value!r} applies to the track itself (got field {name!r})"
        fix = f"write field {TRACK_FIELD!r}"
        return [Found(RuleProblem(message=message, path=f"{path}.field", hint=fix), name)]
    what = BY_NAME[operator].refers_to
    if not isinstance(value, str) or not value.strip():
        message = f"{operator.value!r} needs {what} (got {short_value(value)})"
        return [Found(RuleProblem(message=message, path=f"{path}.value"), None)]
    if operator in (Op.IN_RULE, Op.NOT_IN_RULE) and known_rule_ids is not None:
        target = value.strip()
        if target not in known_rule_ids:
            suggestion = closest(target, known_rule_ids)
            hint = f"did you mean {suggestion[0]!r}?" if suggestion else None
            problem = RuleProblem(
                message=f"unknown rule {target!r}", path=f"{path}.value", hint=hint
            )
            return [Found(problem, target)]
    return []


def _needs(operator: RuleOperator) -> str:
    if operator in LIST_OPERATORS:
        return "a list field"
    types = [kind for kind, operators in SCALAR_OPERATORS.items() if operator in operators]
    return " or ".join(types) + " field"


def _check_value(
    info: FieldInfo, operator: RuleOperator, value: Any, path: str, case_sensitive: bool
) -> list[Found]:
    entry = BY_NAME[operator]
    kind = entry.value
    op = operator.value
    if kind == "none":
        if value is None or value is True:
            return []
        return [_problem(f"operator {op!r} takes no value (got {short_value(value)})", path)]
    if kind == "span":
        return _check_span(value, path)
    if entry.literal == "pattern":
        if not isinstance(value, str):
            return [_problem(f"{op!r} needs a pattern in quotes (got {short_value(value)})", path)]
        try:
            compile_regex(value, case_sensitive=case_sensitive)
        except ValueError as exc:
            return [_problem(str(exc), path, token=value[:50])]
        return []
    if entry.literal == "text":
        if not isinstance(value, str):
            return [_problem(f"{op!r} needs text in quotes (got {short_value(value)})", path)]
        return []
    if kind == "scalar":
        problem = _check_typed(info, value, path)
        return [] if problem is None else [problem]
    if kind == "pair":
        return _check_pair(info, operator, value, path)
    return _check_list(info, operator, value, path)


def _check_typed(info: FieldInfo, value: Any, path: str) -> Found | None:
    """`value` as one value of the field's element type."""
    field_type: FieldType = info.type
    prefix = f"{info.name!r} is {type_label(info)}"
    if field_type == "text":
        if isinstance(value, str):
            return None
        return _problem(f"{prefix}: expected text in quotes (got {short_value(value)})", path)
    if field_type == "number":
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return None
        hint = None
        if isinstance(value, str) and _is_number_text(value):
            hint = f"write {value.strip()} without quotes"
        return _problem(f"{prefix}: expected a number (got {short_value(value)})", path, hint=hint)
    if field_type == "bool":
        if isinstance(value, bool):
            return None
        return _problem(f"{prefix}: expected true or false (got {short_value(value)})", path)
    if isinstance(value, str):
        try:
            date_bounds(value)
        except ValueError as exc:
            return _problem(f"{prefix}: {exc}", path, token=value)
        return None
    hint = f'write "{value}"' if isinstance(value, int) and not isinstance(value, bool) else None
    message = (
        f"{prefix}: expected a date like 2020, 2020-05 or 2020-05-17 (got {short_value(value)})"
    )
    return _problem(message, path, hint=hint)


def _check_pair(info: FieldInfo, operator: RuleOperator, value: Any, path: str) -> list[Found]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return [_problem(f"{operator.value!r} needs [low, high] (got {short_value(value)})", path)]
    problems = [
        problem
        for index, item in enumerate(value)
        if (problem := _check_typed(info, item, f"{path}[{index}]")) is not None
    ]
    if problems:
        return problems
    low, high = value
    if info.type == "date":
        disordered = date_bounds(low).first > date_bounds(high).last
    elif info.type == "number":
        disordered = low > high
    else:
        disordered = False  # text and bool fields do not take `between`
    if disordered:
        return [
            _problem(
                f"low {short_value(low)} is greater than high {short_value(high)}",
                path,
                hint=f"write [{_json(high)}, {_json(low)}]",
            )
        ]
    return []


def _check_list(info: FieldInfo, operator: RuleOperator, value: Any, path: str) -> list[Found]:
    op = operator.value
    if not isinstance(value, list | tuple):
        example = '["a", "b"]' if info.type == "text" else "[1, 2]"
        hint = f"write [{_json(value)}]" if _is_scalar(value) and value is not None else None
        message = f"{op!r} needs a list of values like {example} (got {short_value(value)})"
        return [_problem(message, path, hint=hint)]
    if not value:
        return [_problem(f"{op!r} needs at least one value", path)]
    if len(value) > MAX_LIST_VALUES:
        return [_problem(f"{op!r} has {len(value)} values; at most {MAX_LIST_VALUES}", path)]
    problems: list[Found] = []
    for index, item in enumerate(value):
        problem = _check_typed(info, item, f"{path}[{index}]")
        if problem is not None:
            problems.append(problem)
            if len(problems) >= 5:
                break
    return problems


def _check_span(value: Any, path: str) -> list[Found]:
    if not isinstance(value, str):
        return [
            _problem(
                f"expected a time span like 12h, 30d, 2w, 6mo or 1y (got {short_value(value)})",
                path,
                hint=f'write "{value}d"'
                if isinstance(value, int) and not isinstance(value, bool)
                else None,
            )
        ]
    try:
        seconds = parse_span(value)
    except ValueError as exc:
        return [_problem(str(exc), path, token=value)]
    if seconds <= 0:
        return [_problem("a time span must be longer than 0", path, token=value)]
    if seconds > MAX_SPAN_SECONDS:
        return [
            _problem(f"a time span of at most 1000y (got {value.strip()!r})", path, token=value)
        ]
    return []


def _problem(
    message: str, path: str, *, hint: str | None = None, token: str | None = None
) -> Found:
    return Found(RuleProblem(message=message, path=path, hint=hint), token)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def short_value(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it: JSON-ish, cut to `limit` characters."""
    if isinstance(value, list | tuple) and len(value) > 5:
        return f"a list of {len(value)} values"
    if isinstance(value, Mapping):
        return "an object"
    shown = repr(value) if isinstance(value, str) else _json(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_json(item) for item in value) + "]"
    return str(value)
