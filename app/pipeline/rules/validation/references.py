"""References between rule sets: `in_rule` cycles, and the walk over a rule set's conditions.

`check_references` finds `in_rule` / `not_in_rule` cycles across rule sets (self-references
included: they are cycles of one), each reported once on the referencing condition of the
cycle's first rule set. `conditions_of` yields every condition under a raw group with its path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from app.core.rules import PlaylistRuleSet, RuleOperator, RuleProblem

__all__ = ["check_references", "conditions_of"]

Op = RuleOperator


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
        for path, condition in conditions_of(raw.get("rules"), "rules"):
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


def conditions_of(rules: Any, path: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
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
