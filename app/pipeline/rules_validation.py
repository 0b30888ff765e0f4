"""Validation of rule sets against the field registry: every problem, with where it is.

`validate_rule_set` takes what a user gave (a JSON object or an already built
`PlaylistRuleSet`) and returns a list of `RuleProblem`s, empty when the rule set is valid:

1. Size, on the raw JSON before anything else (so hostile input costs little): nesting deeper
   than `MAX_DEPTH`, more than `MAX_CONDITIONS` conditions.
2. Structure (pydantic): unknown keys (with did-you-mean), unknown operators, wrong shapes.
   Each pydantic error becomes a problem with a JSON path such as
   ``rules.conditions[2].operator``.
3. Meaning, per condition that is structurally sound: unknown field (did-you-mean over names
   and aliases), operator not valid for the field's type, malformed value (pairs, lists,
   dates, spans, regexes under re2, types), `in_rule` naming an unknown rule set; unknown
   `sort` / `limit.selected_by` fields.

Problems have one shape for JSON and text input: `path` always; `line`/`column`/`length` too
when the caller gives `spans` (JSON path → position, from the text parser) or, failing that,
`text` (the offending token is then looked up in it). `check_references` finds `in_rule`
cycles across rule sets (self-references included: they are cycles of one).

Message formats (values quoted with `repr`-style single quotes):

    unknown field 'energyy'                       hint: did you mean 'energy'?
    operator 'has_any' needs a list field; 'tempo' is a number
                                                  hint: 'tempo' takes eq, ne, gt, …
    'tempo' is a number: expected a number (got 'fast')
    'between' needs [low, high] (got 120)
    low 130 is greater than high 120              hint: write [120, 130]
    rules a → b → a form a cycle
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import re2  # type: ignore[import-untyped]
from pydantic import BaseModel, ValidationError

from app.core.errors import RulesInvalidError
from app.core.rules import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LIST_VALUES,
    MAX_REGEX_LENGTH,
    VALUE_KIND,
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    RuleProblem,
    SortKey,
    parse_span,
)
from app.pipeline.rules_fields import (
    LIST_OPERATORS,
    SCALAR_OPERATORS,
    TRACK_FIELD,
    TRACK_OPERATORS,
    FieldInfo,
    FieldRegistry,
    FieldType,
    closest,
    operators_for,
    type_label,
)

Op = RuleOperator

Spans = Mapping[str, tuple[int, int, int]]
"""JSON path → (line, column, length) of the text that produced it (1-based)."""

RANDOM_SORT = "random"
MAX_SPAN_SECONDS = 1000 * 365 * 86_400
"""`in_last 1000y` at most: further back would leave the calendar."""

_OPERATOR_WORDS = {
    "=": "eq",
    "==": "eq",
    "equals": "eq",
    "!=": "ne",
    "<>": "ne",
    ">": "gt",
    ">=": "gte",
    "<": "lt",
    "<=": "lte",
    "matches": "regex",
    "~": "regex",
    "not_matches": "not_regex",
    "and": "and",
    "all": "and",
    "any": "or",
}


class _Found(NamedTuple):
    problem: RuleProblem
    token: str | None  # what to look for in `text` when no span is known


# --- public API -------------------------------------------------------------------------------


def validate_rule_set(
    data: Mapping[str, Any] | PlaylistRuleSet,
    registry: FieldRegistry,
    *,
    known_rule_ids: Collection[str] | None = None,
    text: str | None = None,
    spans: Spans | None = None,
) -> list[RuleProblem]:
    """Every problem of one rule set, in document order; [] when it is valid.

    `known_rule_ids`: ids `in_rule` may name (None: not checked here). Cycles, including a
    rule set naming itself, are `check_references`' business.
    """
    found: list[_Found] = []
    if isinstance(data, PlaylistRuleSet):
        raw: Any = data.model_dump(mode="python")
        structural: dict[str, list[_Found]] = {}
    else:
        raw = data
        if not isinstance(raw, Mapping):
            problem = RuleProblem(
                message=f"a rule set must be a JSON object (got {_short(raw)})", path=""
            )
            return [problem]
        size = _size_problems(raw)
        if size:
            return _positioned(size, text, spans)
        structural = _structural(raw)
        for problems in structural.values():
            found.extend(problems)
    found.extend(_semantic(raw, registry, known_rule_ids, skip=set(structural)))
    found.sort(key=lambda item: _path_key(item.problem.path or ""))
    return _positioned(found, text, spans)


def check_references(
    rule_sets: Iterable[PlaylistRuleSet | Mapping[str, Any]],
) -> list[RuleProblem]:
    """`in_rule` cycles across rule sets, each named once: ``rules a → b → a form a cycle``.

    The problem's `path` is the referencing condition in the cycle's first rule set (the
    smallest id). References to unknown ids are not reported here (`validate_rule_set` with
    `known_rule_ids` does).
    """
    edges: dict[str, list[tuple[str, str]]] = {}
    for rule_set in rule_sets:
        raw = rule_set.model_dump(mode="python") if isinstance(rule_set, BaseModel) else rule_set
        rule_id = raw.get("id")
        if not isinstance(rule_id, str):
            continue
        targets = edges.setdefault(rule_id, [])
        for path, condition in _conditions(raw.get("rules"), "rules"):
            operator = condition.get("operator")
            value = condition.get("value")
            if operator in (Op.IN_RULE, Op.NOT_IN_RULE) and isinstance(value, str):
                targets.append((value.strip(), f"{path}.value"))

    problems: list[RuleProblem] = []
    reported: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(edges):
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        trail: list[str] = [start]
        state[start] = 1
        while stack:
            node, index = stack[-1]
            targets = edges.get(node, [])
            if index >= len(targets):
                stack.pop()
                trail.pop()
                state[node] = 2
                continue
            stack[-1] = (node, index + 1)
            target = targets[index][0]
            mark = state.get(target)
            if mark == 1:
                cycle = trail[trail.index(target) :]
                pivot = cycle.index(min(cycle))
                canonical = tuple(cycle[pivot:] + cycle[:pivot])
                if canonical not in reported:
                    reported.add(canonical)
                    problems.append(_cycle_problem(canonical, edges))
            elif mark is None and target in edges:
                state[target] = 1
                stack.append((target, 0))
                trail.append(target)
    return problems


def load_rule_sets(
    documents: Iterable[Mapping[str, Any]],
) -> tuple[list[PlaylistRuleSet], list[RuleProblem]]:
    """Typed rule sets from stored JSON documents, and the problems of those that are not
    (paths prefixed with the document's index: ``[3].rules.operator``)."""
    rule_sets: list[PlaylistRuleSet] = []
    problems: list[RuleProblem] = []
    for index, document in enumerate(documents):
        try:
            rule_sets.append(PlaylistRuleSet.model_validate(document))
        except ValidationError:
            raw = document if isinstance(document, Mapping) else {}
            found = _size_problems(raw) or [f for fs in _structural(raw).values() for f in fs]
            for item in found:
                path = item.problem.path
                prefixed = f"[{index}].{path}" if path else f"[{index}]"
                problems.append(item.problem.model_copy(update={"path": prefixed}))
    return rule_sets, problems


def rules_invalid_error(
    problems: list[RuleProblem], *, text: str | None = None
) -> RulesInvalidError:
    """The API/CLI error for `problems`: each as a dict with its one-line `rendered` form."""
    payload = [{**problem.model_dump(), "rendered": problem.render(text)} for problem in problems]
    return RulesInvalidError(payload, text=text)


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


def date_bounds(value: str) -> tuple[datetime, datetime]:
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
            return moment, moment
        else:
            raise ValueError(text)
    except (ValueError, OverflowError):
        raise ValueError(
            f"expected a date like 2020, 2020-05, 2020-05-17 or 2020-05-17T08:00:00Z "
            f"(got {value!r})"
        ) from None
    last = datetime.max.replace(tzinfo=UTC) if end is None else end - timedelta(microseconds=1)
    return start, last


# --- size -------------------------------------------------------------------------------------


def _size_problems(raw: Mapping[str, Any]) -> list[_Found]:
    """Depth and condition count on raw JSON, iteratively (no recursion on hostile input)."""
    rules = raw.get("rules")
    if not isinstance(rules, Mapping):
        return []
    count = 0
    too_deep: str | None = None
    deepest = 0
    stack: list[tuple[Mapping[str, Any], int, str]] = [(rules, 1, "rules")]
    while stack:
        group, depth, path = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH and too_deep is None:
            too_deep = path
        conditions = group.get("conditions")
        if not isinstance(conditions, list):
            continue
        for index, node in enumerate(conditions):
            if isinstance(node, Mapping) and "conditions" in node:
                stack.append((node, depth + 1, f"{path}.conditions[{index}]"))
            else:
                count += 1
    found: list[_Found] = []
    if too_deep is not None:
        message = f"rules are nested {deepest} deep; at most {MAX_DEPTH}"
        found.append(_Found(RuleProblem(message=message, path=too_deep), None))
    if count > MAX_CONDITIONS:
        message = f"{count} conditions; a rule set may have at most {MAX_CONDITIONS}"
        found.append(_Found(RuleProblem(message=message, path="rules"), None))
    return found


# --- structure --------------------------------------------------------------------------------

_TAGS: dict[str, type[BaseModel]] = {"condition": RuleCondition, "group": RuleGroup}


def _structural(raw: Mapping[str, Any]) -> dict[str, list[_Found]]:
    """Pydantic's errors as problems, grouped by the path of the node they belong to."""
    try:
        PlaylistRuleSet.model_validate(raw)
    except ValidationError as exc:
        grouped: dict[str, list[_Found]] = {}
        for error in exc.errors():
            node_path, path, model = _locate(error["loc"])
            grouped.setdefault(node_path, []).append(_from_pydantic(error, path, model))
        return grouped
    return {}


def _locate(loc: tuple[int | str, ...]) -> tuple[str, str, type[BaseModel]]:
    """(path of the condition/group/root the error is in, the error's own path, its model)."""
    parts: list[str] = []
    model: type[BaseModel] = PlaylistRuleSet
    node_path = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
            continue
        previous = loc[index - 1] if index else None
        if part in _TAGS and isinstance(previous, int):
            model = _TAGS[part]
            node_path = _join(parts)
            continue
        if index == len(loc) - 1:
            parts.append(f".{part}")
            break
        if part == "rules" and index == 0:
            model, node_path = RuleGroup, "rules"
        elif part == "limit":
            model = LimitSpec
        elif part in ("sort", "selected_by"):
            model = SortKey
        parts.append(f".{part}")
    path = _join(parts)
    return node_path or path, path, model


def _join(parts: list[str]) -> str:
    return "".join(parts).lstrip(".")


def _from_pydantic(error: Any, path: str, model: type[BaseModel]) -> _Found:
    kind = error["type"]
    loc = error["loc"]
    key = loc[-1] if loc else ""
    value = error.get("input")
    if kind == "extra_forbidden":
        known = list(model.model_fields)
        suggestion = closest(str(key), known)
        hint = f"did you mean {suggestion[0]!r}?" if suggestion else f"keys: {', '.join(known)}"
        return _Found(RuleProblem(message=f"unknown key {key!r}", path=path, hint=hint), str(key))
    if kind == "missing":
        return _Found(RuleProblem(message=f"{key!r} is required", path=path), None)
    if kind == "enum" and key == "operator":
        word = str(value)
        mapped = _OPERATOR_WORDS.get(word.strip().lower())
        guesses = [mapped] if mapped else closest(word, [op.value for op in Op])
        hint = (
            f"did you mean {guesses[0]!r}?"
            if guesses
            else "operators: " + ", ".join(op.value for op in Op)
        )
        return _Found(
            RuleProblem(message=f"unknown operator {_short(value)}", path=path, hint=hint), word
        )
    if kind == "literal_error" and key == "operator":
        message = f"group operator must be 'and' or 'or' (got {_short(value)})"
        return _Found(RuleProblem(message=message, path=path), None)
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind != "value_error":
        message = f"{message} (got {_short(value)})"
    return _Found(RuleProblem(message=message, path=path), None)


# --- meaning ----------------------------------------------------------------------------------


def _conditions(rules: Any, path: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """(path, condition) of every condition under a raw group, in document order."""
    stack: list[tuple[Any, str]] = [(rules, path)]
    while stack:
        group, group_path = stack.pop()
        if not isinstance(group, Mapping):
            continue
        conditions = group.get("conditions")
        if not isinstance(conditions, list):
            continue
        children: list[tuple[Any, str]] = []
        for index, node in enumerate(conditions):
            node_path = f"{group_path}.conditions[{index}]"
            if isinstance(node, Mapping) and "conditions" in node:
                children.append((node, node_path))
            elif isinstance(node, Mapping):
                yield node_path, node
        stack.extend(reversed(children))


def _semantic(
    raw: Mapping[str, Any],
    registry: FieldRegistry,
    known_rule_ids: Collection[str] | None,
    *,
    skip: set[str],
) -> list[_Found]:
    found: list[_Found] = []
    for path, condition in _conditions(raw.get("rules"), "rules"):
        if path in skip:
            continue
        found.extend(_check_condition(condition, path, registry, known_rule_ids))
    sort = raw.get("sort")
    if isinstance(sort, list):
        found.extend(_check_sort(sort, "sort", registry, skip))
    limit = raw.get("limit")
    if isinstance(limit, Mapping) and isinstance(limit.get("selected_by"), list):
        found.extend(_check_sort(limit["selected_by"], "limit.selected_by", registry, skip))
    return found


def _check_sort(
    keys: list[Any], path: str, registry: FieldRegistry, skip: set[str]
) -> list[_Found]:
    found: list[_Found] = []
    for index, key in enumerate(keys):
        key_path = f"{path}[{index}]"
        if key_path in skip or not isinstance(key, Mapping):
            continue
        name = key.get("field")
        if not isinstance(name, str) or name.strip().casefold() == RANDOM_SORT:
            continue
        if name.strip().casefold() == TRACK_FIELD:
            message = f"cannot sort by {TRACK_FIELD!r}; choose a field"
            found.append(_Found(RuleProblem(message=message, path=f"{key_path}.field"), name))
        elif registry.resolve(name) is None:
            candidates = [*registry.spellings()[1:], RANDOM_SORT]
            found.append(_unknown_field(name, f"{key_path}.field", candidates))
    return found


def _unknown_field(name: str, path: str, candidates: Iterable[str]) -> _Found:
    suggestion = closest(name, candidates)
    hint = f"did you mean {suggestion[0]!r}?" if suggestion else None
    return _Found(RuleProblem(message=f"unknown field {name!r}", path=path, hint=hint), name)


def _check_condition(
    condition: Mapping[str, Any],
    path: str,
    registry: FieldRegistry,
    known_rule_ids: Collection[str] | None,
) -> list[_Found]:
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
        return [_unknown_field(name, f"{path}.field", registry.spellings())]
    allowed = operators_for(info)
    if operator not in allowed:
        message = (
            f"operator {operator.value!r} needs {_needs(operator)}; "
            f"{info.name!r} is {type_label(info)}"
        )
        hint = f"{info.name!r} takes {', '.join(op.value for op in allowed)}"
        problem = RuleProblem(message=message, path=f"{path}.operator", hint=hint)
        return [_Found(problem, operator.value)]
    return _check_value(
        info, operator, value, f"{path}.value", bool(condition.get("case_sensitive"))
    )


def _check_track_condition(
    name: str,
    operator: RuleOperator,
    value: Any,
    path: str,
    known_rule_ids: Collection[str] | None,
) -> list[_Found]:
    if operator not in TRACK_OPERATORS:
        message = (
            f"operator {operator.value!r} does not apply to {TRACK_FIELD!r}; "
            f"{TRACK_FIELD!r} takes {', '.join(op.value for op in TRACK_OPERATORS)}"
        )
        return [_Found(RuleProblem(message=message, path=f"{path}.operator"), operator.value)]
    if name.strip().casefold() != TRACK_FIELD:
        message = f"operator {operator.value!r} applies to the track itself (got field {name!r})"
        fix = f"write field {TRACK_FIELD!r}"
        return [_Found(RuleProblem(message=message, path=f"{path}.field", hint=fix), name)]
    what = (
        "a playlist id or name"
        if operator in (Op.IN_PLAYLIST, Op.NOT_IN_PLAYLIST)
        else "a rule set id"
    )
    if not isinstance(value, str) or not value.strip():
        message = f"{operator.value!r} needs {what} (got {_short(value)})"
        return [_Found(RuleProblem(message=message, path=f"{path}.value"), None)]
    if operator in (Op.IN_RULE, Op.NOT_IN_RULE) and known_rule_ids is not None:
        target = value.strip()
        if target not in known_rule_ids:
            suggestion = closest(target, known_rule_ids)
            hint = f"did you mean {suggestion[0]!r}?" if suggestion else None
            problem = RuleProblem(
                message=f"unknown rule {target!r}", path=f"{path}.value", hint=hint
            )
            return [_Found(problem, target)]
    return []


def _needs(operator: RuleOperator) -> str:
    if operator in LIST_OPERATORS:
        return "a list field"
    types = [kind for kind, operators in SCALAR_OPERATORS.items() if operator in operators]
    return " or ".join(types) + " field"


def _check_value(
    info: FieldInfo, operator: RuleOperator, value: Any, path: str, case_sensitive: bool
) -> list[_Found]:
    kind = VALUE_KIND[operator]
    op = operator.value
    if kind == "none":
        if value is None or value is True:
            return []
        return [_problem(f"operator {op!r} takes no value (got {_short(value)})", path)]
    if kind == "span":
        return _check_span(value, path)
    if operator in (Op.REGEX, Op.NOT_REGEX):
        if not isinstance(value, str):
            return [_problem(f"{op!r} needs a pattern in quotes (got {_short(value)})", path)]
        try:
            compile_regex(value, case_sensitive=case_sensitive)
        except ValueError as exc:
            return [_problem(str(exc), path, token=value[:50])]
        return []
    if operator in (
        Op.CONTAINS,
        Op.NOT_CONTAINS,
        Op.STARTS_WITH,
        Op.NOT_STARTS_WITH,
        Op.ENDS_WITH,
        Op.NOT_ENDS_WITH,
    ):
        if not isinstance(value, str):
            return [_problem(f"{op!r} needs text in quotes (got {_short(value)})", path)]
        return []
    if kind == "scalar":
        problem = _check_typed(info, value, path)
        return [] if problem is None else [problem]
    if kind == "pair":
        return _check_pair(info, operator, value, path)
    return _check_list(info, operator, value, path)


def _check_typed(info: FieldInfo, value: Any, path: str) -> _Found | None:
    """`value` as one value of the field's element type."""
    field_type: FieldType = info.type
    prefix = f"{info.name!r} is {type_label(info)}"
    if field_type == "text":
        if isinstance(value, str):
            return None
        return _problem(f"{prefix}: expected text in quotes (got {_short(value)})", path)
    if field_type == "number":
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return None
        hint = None
        if isinstance(value, str) and _is_number_text(value):
            hint = f"write {value.strip()} without quotes"
        return _problem(f"{prefix}: expected a number (got {_short(value)})", path, hint=hint)
    if field_type == "bool":
        if isinstance(value, bool):
            return None
        return _problem(f"{prefix}: expected true or false (got {_short(value)})", path)
    if isinstance(value, str):
        try:
            date_bounds(value)
        except ValueError as exc:
            return _problem(f"{prefix}: {exc}", path, token=value)
        return None
    hint = f'write "{value}"' if isinstance(value, int) and not isinstance(value, bool) else None
    message = f"{prefix}: expected a date like 2020, 2020-05 or 2020-05-17 (got {_short(value)})"
    return _problem(message, path, hint=hint)


def _check_pair(info: FieldInfo, operator: RuleOperator, value: Any, path: str) -> list[_Found]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return [_problem(f"{operator.value!r} needs [low, high] (got {_short(value)})", path)]
    problems = [
        problem
        for index, item in enumerate(value)
        if (problem := _check_typed(info, item, f"{path}[{index}]")) is not None
    ]
    if problems:
        return problems
    low, high = value
    if info.type == "date":
        disordered = date_bounds(low)[0] > date_bounds(high)[1]
    elif info.type == "number":
        disordered = low > high
    else:
        disordered = False  # text and bool fields do not take `between`
    if disordered:
        return [
            _problem(
                f"low {_short(low)} is greater than high {_short(high)}",
                path,
                hint=f"write [{_json(high)}, {_json(low)}]",
            )
        ]
    return []


def _check_list(info: FieldInfo, operator: RuleOperator, value: Any, path: str) -> list[_Found]:
    op = operator.value
    if not isinstance(value, list | tuple):
        example = '["a", "b"]' if info.type == "text" else "[1, 2]"
        hint = f"write [{_json(value)}]" if _is_scalar(value) and value is not None else None
        message = f"{op!r} needs a list of values like {example} (got {_short(value)})"
        return [_problem(message, path, hint=hint)]
    if not value:
        return [_problem(f"{op!r} needs at least one value", path)]
    if len(value) > MAX_LIST_VALUES:
        return [_problem(f"{op!r} has {len(value)} values; at most {MAX_LIST_VALUES}", path)]
    problems: list[_Found] = []
    for index, item in enumerate(value):
        problem = _check_typed(info, item, f"{path}[{index}]")
        if problem is not None:
            problems.append(problem)
            if len(problems) >= 5:
                break
    return problems


def _check_span(value: Any, path: str) -> list[_Found]:
    if not isinstance(value, str):
        return [
            _problem(
                f"expected a time span like 12h, 30d, 2w, 6mo or 1y (got {_short(value)})",
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


# --- helpers ----------------------------------------------------------------------------------


def _problem(
    message: str, path: str, *, hint: str | None = None, token: str | None = None
) -> _Found:
    return _Found(RuleProblem(message=message, path=path, hint=hint), token)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _short(value: Any, limit: int = 40) -> str:
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


_PATH_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _path_key(path: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(index)) if index else (1, name) for index, name in _PATH_PART.findall(path)
    )


def _cycle_problem(
    cycle: tuple[str, ...], edges: Mapping[str, list[tuple[str, str]]]
) -> RuleProblem:
    first = cycle[0]
    following = cycle[1] if len(cycle) > 1 else first
    path = next((where for target, where in edges[first] if target == following), None)
    if len(cycle) == 1:
        return RuleProblem(message=f"rule {first} refers to itself", path=path)
    names = " → ".join((*cycle, first))
    return RuleProblem(message=f"rules {names} form a cycle", path=path)


def _positioned(found: list[_Found], text: str | None, spans: Spans | None) -> list[RuleProblem]:
    """Problems with line/column from `spans` (the longest known prefix of their path), else
    from the first occurrence of their token in `text`."""
    problems: list[RuleProblem] = []
    lines = text.splitlines() if text is not None else []
    for problem, token in found:
        position = _span_of(problem.path or "", spans) if spans else None
        if position is None and lines and token:
            position = _find(token, lines)
        if position is not None:
            line, column, length = position
            problem = problem.model_copy(update={"line": line, "column": column, "length": length})
        problems.append(problem)
    return problems


def _span_of(path: str, spans: Spans) -> tuple[int, int, int] | None:
    while True:
        if path in spans:
            return spans[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return spans.get(path) if path else None
        path = path[:cut]


def _find(token: str, lines: list[str]) -> tuple[int, int, int] | None:
    pattern = re.compile(r"(?<![\w])" + re.escape(token) + r"(?![\w])", re.IGNORECASE)
    for number, line in enumerate(lines, start=1):
        match = pattern.search(line)
        if match:
            return number, match.start() + 1, len(token)
    return None
