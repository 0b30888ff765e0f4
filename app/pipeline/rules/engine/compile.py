"""Compile rule trees once into plain closures (per track) and set-based evaluators (per library).

Every condition is compiled once, as its operator's entry in the registry (`rules.operators`)
says: its value read by shape (a list, a pair, one literal), the kind it compares as chosen
among those the operator can (the only one, else the field's type from the registry or
inferred from the library, else what the literals look like), then the entry's builder for
that kind gives the predicate: literals casefolded (unless `case_sensitive`) and unaccented
(if `accent_insensitive`), sets frozen, regexes compiled with RE2 (linear time, so no
catastrophic pattern), dates turned into bounds against one `now`. The result is a tree of
`nodes` whose matchers serve two evaluation strategies from the same predicate, so they cannot
disagree:

* `test(view)`: a closure over one track's view (`matches_rules`, explain, small libraries);
* `mask(columns)`: the whole library at once, a condition decided once per distinct value from
  the per-field indexes of `columns` and groups combined as bit masks.

How values are read and compared (missing values, dates as periods) is `rules.values`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.rules import RuleCondition, RuleGroup, RuleOperator
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.stored import library_field_type
from app.pipeline.rules.fields.types import FieldType
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.nodes import (
    ConditionNode,
    FlagMatcher,
    GroupNode,
    Matcher,
    Node,
    RangeMatcher,
    TextMatcher,
)
from app.pipeline.rules.operators import BY_NAME, Operand, Operator
from app.pipeline.rules.values import Kind, TextForm, as_number, invalid, is_date_like

__all__ = [
    "CompileContext",
    "TypeOf",
    "compile_condition",
    "compile_node",
    "compile_tree",
    "registry_types",
]

_BUILTIN = FieldRegistry.builtin()


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
        name = library.key_for(name)
        return name, library_field_type(library, name)

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


def _pair(value: Any, condition: RuleCondition, op: RuleOperator) -> list[Any]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return [value[0], value[1]]
    if isinstance(value, Mapping) and {"low", "high"} <= set(value):
        return [value["low"], value["high"]]
    raise invalid(f"{condition.field} {op.value}: give two values [low, high] (got {value!r})")


def _literals(entry: Operator, condition: RuleCondition) -> list[Any]:
    """The value as a list, as its shape says: a list's items, a pair's ends, else itself."""
    if entry.value == "list":
        return _as_list(condition.value, condition)
    if entry.value == "pair":
        return _pair(condition.value, condition, entry.name)
    return [condition.value]


_PLURAL = {"text": "texts", "number": "numbers", "date": "dates", "bool": "booleans"}


def _kind_for(entry: Operator, ftype: FieldType | None, literals: list[Any]) -> Kind:
    """The kind a condition compares as, among those its operator can: the only one, else the
    field's type, else what the literals look like."""
    kinds = entry.kinds
    if len(kinds) == 1:
        return kinds[0]
    if ftype in kinds:
        assert ftype is not None
        return ftype
    if "text" not in kinds:  # an order: numbers or dates, nothing else
        if "number" in kinds and all(as_number(v) is not None for v in literals):
            return "number"
        if "date" in kinds and all(is_date_like(v) or isinstance(v, int) for v in literals):
            return "date"
        compared = " or ".join(_PLURAL[kind] for kind in kinds)
        raise invalid(f"operator {entry.name.value} compares {compared}, not {literals!r}")
    if "bool" in kinds and literals and all(isinstance(v, bool) for v in literals):
        return "bool"
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in literals)
    if "number" in kinds and literals and numeric:
        return "number"
    return "text"


def text_form(condition: RuleCondition, entry: Operator) -> TextForm:
    """How a condition sees a text before comparing: casefolded unless `case_sensitive`
    (or the operator folds case itself), accents stripped when `accent_insensitive`."""
    return (not condition.case_sensitive and entry.folds_case, condition.accent_insensitive)


def _matcher(entry: Operator, kind: Kind, operand: Operand, name: str) -> Matcher:
    if kind == "text" and entry.on_text is not None:
        return TextMatcher(entry.on_text(operand), operand.form)
    if kind == "bool" and entry.on_bool is not None:
        return FlagMatcher(entry.on_bool(operand))
    if kind == "number" and entry.on_number is not None:
        return RangeMatcher(kind, entry.on_number(operand))
    if kind == "date" and entry.on_date is not None:
        return RangeMatcher(kind, entry.on_date(operand))
    raise invalid(f"operator {entry.name.value} does not apply to {kind} field {name!r}")


def compile_condition(condition: RuleCondition, ctx: CompileContext) -> ConditionNode:
    """One condition, compiled as its operator's registry entry says."""
    op = condition.operator
    entry = BY_NAME[op]
    field_name = entry.reads or condition.field
    name, ftype = ctx.type_of(field_name)
    literals = _literals(entry, condition)

    def part(part_op: RuleOperator, value: Any) -> ConditionNode:
        return compile_condition(
            condition.model_copy(update={"field": field_name, "operator": part_op, "value": value}),
            ctx,
        )

    operand = Operand(
        condition,
        entry.name,
        literals,
        text_form(condition, entry),
        ctx.now,
        part,
        ctx.rule_members,
    )
    if entry.match is not None:
        matcher = entry.match(operand)
    else:
        matcher = _matcher(entry, _kind_for(entry, ftype, literals), operand, name)
    return ConditionNode(condition, name, entry.name, op is not entry.name, matcher)


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
