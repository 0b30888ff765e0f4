"""The rules engine: which tracks each rule set selects, in what order, and why.

Pipeline per rule set, fixed (docs: rules-dsl.md): candidates (`sources`) → `rules` →
`exclude` → dedupe → choose N (`limit.selected_by`, else `sort`, else library order) →
`max_per_artist` (walked in that choosing order) → output `sort` (else library order) →
`include` pins (kept where they are, else appended; a track both pinned and excluded stays out).

Rule sets referring to others (`in_rule`) are evaluated children first; a cycle is rejected with
the cycle named. Rules are compiled once per run (`compile`); on a large library the
conditions are decided per distinct value and combined as bit masks, on a small one per view.

The stages after the rules are `stages`; why one track is (not) in a playlist is `explain`.
The seed's entry points, `matches_rules` and `build_rule_based_playlists`, are at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from app.core.fs import paused_gc
from app.core.models import utc_now
from app.core.rules import PlaylistRuleSet, RuleCondition, RuleGroup, RuleOperator
from app.pipeline.rules.engine.columns import Columns
from app.pipeline.rules.engine.compile import compile_tree, registry_types
from app.pipeline.rules.engine.nodes import Node
from app.pipeline.rules.engine.stages import RuleResult, run_pipeline
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.library.views import (
    Library,
    library_from_payload,
)
from app.pipeline.rules.values import invalid

__all__ = ["compile_group", "dependency_order", "evaluate_rule_sets", "rule_set_of", "sources_node"]

Strategy = Literal["auto", "columns", "views"]
COLUMNS_FROM = 1000
"""Libraries at least this large are evaluated set-wise (`strategy="auto"`)."""


def rule_set_of(value: PlaylistRuleSet | Mapping[str, Any]) -> PlaylistRuleSet:
    """A rule set, validated from its JSON when not already a model."""
    return value if isinstance(value, PlaylistRuleSet) else PlaylistRuleSet.model_validate(value)


def compile_group(
    group: RuleGroup,
    *,
    now: datetime,
    registry: FieldRegistry | None = None,
    rule_members: Mapping[str, Iterable[str]] | None = None,
) -> Callable[[Mapping[str, Any]], bool]:
    """A closure deciding `group` for one track view (`rule_members`: rule id → track ids)."""
    members = {key: frozenset(ids) for key, ids in (rule_members or {}).items()}
    return compile_tree(group, now=now, registry=registry, rule_members=members).test


# --- dependency order ----------------------------------------------------------------------------


def _references(group: RuleGroup) -> list[str]:
    refs: list[str] = []
    for node in group.conditions:
        if isinstance(node, RuleGroup):
            refs.extend(_references(node))
        elif node.operator in (RuleOperator.IN_RULE, RuleOperator.NOT_IN_RULE):
            refs.append(str(node.value))
    return refs


def dependency_order(rule_sets: Sequence[PlaylistRuleSet]) -> list[PlaylistRuleSet]:
    """Rule sets with every `in_rule` target before its users; a cycle raises, named."""
    by_id: dict[str, PlaylistRuleSet] = {}
    for rule_set in rule_sets:
        if rule_set.id in by_id:
            raise invalid(f"two rule sets have the id {rule_set.id!r}")
        by_id[rule_set.id] = rule_set
    deps = {rule_set.id: list(dict.fromkeys(_references(rule_set.rules))) for rule_set in rule_sets}
    for rule_id, refs in deps.items():
        for ref in refs:
            if ref not in by_id:
                raise invalid(f"rule set {rule_id!r} refers to unknown rule {ref!r}")
    order: list[PlaylistRuleSet] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(rule_id: str) -> None:
        if state.get(rule_id) == 2:
            return
        if state.get(rule_id) == 1:
            cycle = [*path[path.index(rule_id) :], rule_id]
            raise invalid(f"rules {' → '.join(cycle)} form a cycle")
        state[rule_id] = 1
        path.append(rule_id)
        for ref in deps[rule_id]:
            visit(ref)
        path.pop()
        state[rule_id] = 2
        order.append(by_id[rule_id])

    for rule_set in rule_sets:
        visit(rule_set.id)
    return order


# --- evaluation ----------------------------------------------------------------------------------


def sources_node(rule_set: PlaylistRuleSet, library: Library, now: datetime) -> Node | None:
    """The compiled `sources` filter of a rule set; None when it takes every track."""
    if rule_set.sources is None:
        return None
    condition = RuleCondition(
        field="sources",
        operator=RuleOperator.HAS_ANY,
        value=list(rule_set.sources),
        case_sensitive=True,
    )
    return compile_tree(RuleGroup(conditions=[condition]), now=now, library=library)


def evaluate_rule_sets(
    rule_sets: Iterable[PlaylistRuleSet | Mapping[str, Any]],
    library: Library,
    *,
    now: datetime,
    registry: FieldRegistry | None = None,
    strategy: Strategy = "auto",
) -> dict[str, RuleResult]:
    """Every rule set's result, keyed by rule id (disabled sets too: others may refer to them).

    `now` is the single moment `in_last` measures from. `strategy` picks set-wise (`columns`)
    or per-view evaluation; both give the same result (`auto`: columns on larger libraries).
    """
    with paused_gc():  # millions of short-lived containers, no cycles
        return _evaluate(
            dependency_order([rule_set_of(rule_set) for rule_set in rule_sets]),
            library,
            now=now,
            registry=registry,
            strategy=strategy,
        )


def _evaluate(
    ordered: list[PlaylistRuleSet],
    library: Library,
    *,
    now: datetime,
    registry: FieldRegistry | None,
    strategy: Strategy,
) -> dict[str, RuleResult]:
    type_of = registry_types(registry, library)
    use_columns = strategy == "columns" or (strategy == "auto" and len(library) >= COLUMNS_FROM)
    columns = Columns.of(library) if use_columns else None
    members: dict[str, frozenset[str]] = {}
    results: dict[str, RuleResult] = {}
    views = library.views
    for rule_set in ordered:
        node = compile_tree(
            rule_set.rules, now=now, registry=registry, library=library, rule_members=members
        )
        sources = sources_node(rule_set, library, now)
        if columns is not None:
            candidates = sources.mask(columns) if sources is not None else columns.universe
            positions = columns.selected(candidates & node.mask(columns))
            candidate_count = candidates.bit_count()  # one bit per track: bytes are 0 or 1
        else:
            source_test = sources.test if sources is not None else None
            test = node.test
            eligible = [
                p for p, view in enumerate(views) if source_test is None or source_test(view)
            ]
            candidate_count = len(eligible)
            positions = [p for p in eligible if test(views[p])]
        result = run_pipeline(rule_set, positions, candidate_count, library, type_of)
        results[rule_set.id] = result
        members[rule_set.id] = frozenset(result.track_ids)
    return {rule_set.id: results[rule_set.id] for rule_set in ordered}


# --- the seed's entry points ------------------------------------------------------------


def matches_rules(
    view: Mapping[str, Any],
    group: RuleGroup | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """Seed-compatible: does one track's view satisfy `group`? (Compiles on every call.)"""
    rules = group if isinstance(group, RuleGroup) else RuleGroup.model_validate(group)
    return compile_group(rules, now=now or utc_now())(view)


def build_rule_based_playlists(
    rules: Iterable[PlaylistRuleSet | Mapping[str, Any]],
    tracks: Iterable[Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Seed-compatible preview: ``[{rule_id, rule_name, track_ids, track_count}]`` per enabled
    rule set, in the given order."""
    rule_sets = [rule_set_of(rule) for rule in rules]
    results = evaluate_rule_sets(rule_sets, library_from_payload(tracks), now=now or utc_now())
    return [
        {
            "rule_id": rule_set.id,
            "rule_name": rule_set.name,
            "track_ids": results[rule_set.id].track_ids,
            "track_count": len(results[rule_set.id].track_ids),
        }
        for rule_set in rule_sets
        if rule_set.enabled
    ]
