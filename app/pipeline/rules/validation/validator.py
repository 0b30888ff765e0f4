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

Per-condition checks are in `conditions` (which also has `compile_regex` and `date_bounds`),
cycles in `references`.

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

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from app.core.errors import RulesInvalidError
from app.core.rules import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    RuleProblem,
    SortKey,
)
from app.pipeline.rules.fields.registry import FieldRegistry, closest
from app.pipeline.rules.fields.types import TRACK_FIELD
from app.pipeline.rules.operators import TEXT_FORMS
from app.pipeline.rules.validation.conditions import (
    Found,
    check_condition,
    short_value,
    unknown_field,
)
from app.pipeline.rules.validation.references import conditions_of

__all__ = [
    "Spans",
    "load_rule_sets",
    "path_key",
    "positioned",
    "rules_invalid_error",
    "validate_rule_set",
]

Op = RuleOperator

Spans = Mapping[str, tuple[int, int, int]]
"""JSON path → (line, column, length) of the text that produced it (1-based)."""

RANDOM_SORT = "random"

_OPERATOR_WORDS = {
    **{
        spelling: op.value
        for op, forms in TEXT_FORMS.items()
        for form in forms
        for spelling in (form, form.replace(" ", "_"))
    },
    "==": "eq",
    "equals": "eq",
    "<>": "ne",
    "~": "regex",
    "and": "and",
    "all": "and",
    "any": "or",
}
"""What a person may write for an operator in JSON → the operator meant (did-you-mean): every
text form of the registry (``>=``, ``matches``, ``is present``, ``not_matches``…) and a few
spellings from other languages."""


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
    found: list[Found] = []
    if isinstance(data, PlaylistRuleSet):
        raw: Any = data.model_dump(mode="python")
        structural: dict[str, list[Found]] = {}
    else:
        raw = data
        if not isinstance(raw, Mapping):
            problem = RuleProblem(
                message=f"a rule set must be a JSON object (got {short_value(raw)})", path=""
            )
            return [problem]
        size = _size_problems(raw)
        if size:
            return positioned(size, text, spans)
        structural = _structural(raw)
        for problems in structural.values():
            found.extend(problems)
    found.extend(_semantic(raw, registry, known_rule_ids, skip=set(structural)))
    found.sort(key=lambda item: path_key(item.problem.path or ""))
    return positioned(found, text, spans)


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


# --- size -------------------------------------------------------------------------------------


def _size_problems(raw: Mapping[str, Any]) -> list[Found]:
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
    found: list[Found] = []
    if too_deep is not None:
        message = f"rules are nested {deepest} deep; at most {MAX_DEPTH}"
        found.append(Found(RuleProblem(message=message, path=too_deep), None))
    if count > MAX_CONDITIONS:
        message = f"{count} conditions; a rule set may have at most {MAX_CONDITIONS}"
        found.append(Found(RuleProblem(message=message, path="rules"), None))
    return found


# --- structure --------------------------------------------------------------------------------

_TAGS: dict[str, type[BaseModel]] = {"condition": RuleCondition, "group": RuleGroup}


def _structural(raw: Mapping[str, Any]) -> dict[str, list[Found]]:
    """Pydantic's errors as problems, grouped by the path of the node they belong to."""
    try:
        PlaylistRuleSet.model_validate(raw)
    except ValidationError as exc:
        grouped: dict[str, list[Found]] = {}
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


def _from_pydantic(error: Any, path: str, model: type[BaseModel]) -> Found:
    kind = error["type"]
    loc = error["loc"]
    key = loc[-1] if loc else ""
    value = error.get("input")
    if kind == "extra_forbidden":
        known = list(model.model_fields)
        suggestion = closest(str(key), known)
        hint = f"did you mean {suggestion[0]!r}?" if suggestion else f"keys: {', '.join(known)}"
        return Found(RuleProblem(message=f"unknown key {key!r}", path=path, hint=hint), str(key))
    if kind == "missing":
        return Found(RuleProblem(message=f"{key!r} is required", path=path), None)
    if kind == "enum" and key == "operator":
        word = str(value)
        mapped = _OPERATOR_WORDS.get(word.strip().lower())
        guesses = [mapped] if mapped else closest(word, [op.value for op in Op])
        hint = (
            f"did you mean {guesses[0]!r}?"
            if guesses
            else "operators: " + ", ".join(op.value for op in Op)
        )
        return Found(
            RuleProblem(message=f"unknown operator {short_value(value)}", path=path, hint=hint),
            word,
        )
    if kind == "literal_error" and key == "operator":
        message = f"group operator must be 'and' or 'or' (got {short_value(value)})"
        return Found(RuleProblem(message=message, path=path), None)
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind != "value_error":
        message = f"{message} (got {short_value(value)})"
    return Found(RuleProblem(message=message, path=path), None)


# --- meaning ----------------------------------------------------------------------------------


def _semantic(
    raw: Mapping[str, Any],
    registry: FieldRegistry,
    known_rule_ids: Collection[str] | None,
    *,
    skip: set[str],
) -> list[Found]:
    found: list[Found] = []
    for path, condition in conditions_of(raw.get("rules"), "rules"):
        if path in skip:
            continue
        found.extend(check_condition(condition, path, registry, known_rule_ids))
    sort = raw.get("sort")
    if isinstance(sort, list):
        found.extend(_check_sort(sort, "sort", registry, skip))
    limit = raw.get("limit")
    if isinstance(limit, Mapping) and isinstance(limit.get("selected_by"), list):
        found.extend(_check_sort(limit["selected_by"], "limit.selected_by", registry, skip))
    return found


def _check_sort(keys: list[Any], path: str, registry: FieldRegistry, skip: set[str]) -> list[Found]:
    found: list[Found] = []
    for index, key in enumerate(keys):
        key_path = f"{path}[{index}]"
        if key_path in skip or not isinstance(key, Mapping):
            continue
        name = key.get("field")
        if not isinstance(name, str) or name.strip().casefold() == RANDOM_SORT:
            continue
        if name.strip().casefold() == TRACK_FIELD:
            message = f"cannot sort by {TRACK_FIELD!r}; choose a field"
            found.append(Found(RuleProblem(message=message, path=f"{key_path}.field"), name))
        elif registry.resolve(name) is None:
            candidates = [*registry.spellings()[1:], RANDOM_SORT]
            found.append(unknown_field(name, f"{key_path}.field", candidates))
    return found


# --- positions --------------------------------------------------------------------------------


_PATH_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def path_key(path: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(index)) if index else (1, name) for index, name in _PATH_PART.findall(path)
    )


def positioned(found: list[Found], text: str | None, spans: Spans | None) -> list[RuleProblem]:
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
