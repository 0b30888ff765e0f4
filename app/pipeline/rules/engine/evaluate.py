"""The rules engine: which tracks each rule set selects, in what order, and why.

Pipeline per rule set, fixed (docs: rules-dsl.md): candidates (`sources`) → `rules` →
`exclude` → dedupe → choose N (`limit.selected_by`, else `sort`, else library order) →
`max_per_artist` (walked in that choosing order) → output `sort` (else library order) →
`include` pins (kept where they are, else appended; a track both pinned and excluded stays out).

Rule sets referring to others (`in_rule`) are evaluated children first; a cycle is rejected with
the cycle named. Rules are compiled once per run (`compile`); on a large library the
conditions are decided per distinct value and combined as bit masks, on a small one per view.

One bad rule set is one bad rule set: `evaluate_each` evaluates every rule set on its own and
reports, by id, each one that cannot be evaluated (a regex RE2 cannot compile, an unknown
`in_rule` target, a cycle) with its problems, and each one that refers to a broken one
(naming it), while the others get their playlists. `evaluate_rule_sets` is the strict form:
the first problem raises.

The stages after the rules are `stages`; why one track is (not) in a playlist is `explain`.
The seed's entry points, `matches_rules` and `build_rule_based_playlists`, are at the end.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.core.errors import AppError, RulesInvalidError
from app.core.fs import paused_gc
from app.core.models import utc_now
from app.core.rules import PlaylistRuleSet, RuleCondition, RuleGroup, RuleOperator, RuleProblem
from app.pipeline.rules.engine.compile import compile_tree, registry_types
from app.pipeline.rules.engine.stages import Positions, RuleResult, run_pipeline
from app.pipeline.rules.fields.discovery import registry_from_payload
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.library.columns import Columns
from app.pipeline.rules.library.views import Library, library_from_payload
from app.pipeline.rules.nodes import Node
from app.pipeline.rules.values import invalid

__all__ = [
    "Evaluation",
    "RuleSetFailure",
    "compile_group",
    "dependency_order",
    "evaluate_each",
    "evaluate_rule_sets",
    "references",
    "rule_set_of",
    "sources_node",
]

log = logging.getLogger(__name__)

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


def references(group: RuleGroup) -> list[str]:
    """The rule ids a rule group refers to (`in_rule`, `not_in_rule`), in order."""
    refs: list[str] = []
    for node in group.conditions:
        if isinstance(node, RuleGroup):
            refs.extend(references(node))
        elif node.operator in (RuleOperator.IN_RULE, RuleOperator.NOT_IN_RULE):
            refs.append(str(node.value))
    return refs


@dataclass(frozen=True)
class RuleSetFailure:
    """A rule set that could not be evaluated: its problems, and the broken rule sets it
    refers to (`in_rule`) when that is why."""

    rule_id: str
    rule_name: str
    problems: tuple[RuleProblem, ...]
    broken_references: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule_set: PlaylistRuleSet, *messages: str) -> RuleSetFailure:
        return cls(rule_set.id, rule_set.name, tuple(RuleProblem(message=m) for m in messages))

    def error(self) -> RulesInvalidError:
        """The failure as the error evaluating this rule set alone raises."""
        return RulesInvalidError(
            [{**problem.model_dump(), "rendered": problem.render()} for problem in self.problems]
        )


def _problems_of(error: Exception) -> tuple[RuleProblem, ...]:
    if isinstance(error, RulesInvalidError):
        problems = [
            RuleProblem.model_validate({k: v for k, v in problem.items() if k != "rendered"})
            for problem in error.extra.get("problems", [])
        ]
        if problems:
            return tuple(problems)
    if isinstance(error, AppError):
        return (RuleProblem(message=error.detail),)
    return (RuleProblem(message=f"could not be evaluated ({type(error).__name__}: {error})"),)


def _plan(
    rule_sets: Sequence[PlaylistRuleSet],
    broken: Mapping[str, RuleSetFailure] | None = None,
) -> tuple[list[PlaylistRuleSet], dict[str, RuleSetFailure], dict[str, list[str]]]:
    """Rule sets with every `in_rule` target before its users; the failures found on the way
    (`broken`, then unknown targets in the given order, then cycles); each one's references.

    Two rule sets with one id raise: which of them a playlist or an `in_rule` means is not
    something to guess."""
    by_id: dict[str, PlaylistRuleSet] = {}
    for rule_set in rule_sets:
        if rule_set.id in by_id:
            raise invalid(f"two rule sets have the id {rule_set.id!r}")
        by_id[rule_set.id] = rule_set
    deps = {rule_set.id: list(dict.fromkeys(references(rule_set.rules))) for rule_set in rule_sets}
    failures: dict[str, RuleSetFailure] = dict(broken or {})
    for rule_id, refs in deps.items():
        unknown = [ref for ref in refs if ref not in by_id and ref not in failures]
        if unknown:
            failures[rule_id] = RuleSetFailure.of(
                by_id[rule_id],
                *(f"rule set {rule_id!r} refers to unknown rule {ref!r}" for ref in unknown),
            )
    order: list[PlaylistRuleSet] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(rule_id: str) -> None:
        if state.get(rule_id) == 2:
            return
        if state.get(rule_id) == 1:
            cycle = [*path[path.index(rule_id) :], rule_id]
            for member in cycle[:-1]:
                failures.setdefault(
                    member,
                    RuleSetFailure.of(by_id[member], f"rules {' → '.join(cycle)} form a cycle"),
                )
            return
        state[rule_id] = 1
        path.append(rule_id)
        for ref in deps[rule_id]:
            if ref in by_id:
                visit(ref)
        path.pop()
        state[rule_id] = 2
        order.append(by_id[rule_id])

    for rule_set in rule_sets:
        visit(rule_set.id)
    return order, failures, deps


def dependency_order(rule_sets: Sequence[PlaylistRuleSet]) -> list[PlaylistRuleSet]:
    """Rule sets with every `in_rule` target before its users; an unknown target or a cycle
    raises, named."""
    order, failures, _deps = _plan(rule_sets)
    for failure in failures.values():
        raise failure.error()
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


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate_each` found: each rule set's result or failure, by rule id (results in
    dependency order)."""

    results: dict[str, RuleResult]
    failures: dict[str, RuleSetFailure]

    def failures_behind(self, rule_ids: Iterable[str]) -> list[RuleSetFailure]:
        """The failures of `rule_ids` and of the broken rule sets they refer to, transitively:
        each once, the named ones first (in their order)."""
        found: dict[str, RuleSetFailure] = {}
        queue = deque(rule_id for rule_id in rule_ids if rule_id in self.failures)
        while queue:
            rule_id = queue.popleft()
            if rule_id in found:
                continue
            failure = found[rule_id] = self.failures[rule_id]
            queue.extend(failure.broken_references)
        return list(found.values())

    def error_for(self, rule_id: str) -> RulesInvalidError | None:
        """Why `rule_id` has no result, as one error: its problems, then those of the broken
        rule sets behind it (each prefixed with its rule id); None if it has a result."""
        if rule_id not in self.failures:
            return None
        problems = [
            problem
            if failure.rule_id == rule_id
            else problem.model_copy(update={"message": f"{failure.rule_id}: {problem.message}"})
            for failure in self.failures_behind([rule_id])
            for problem in failure.problems
        ]
        return RuleSetFailure(rule_id, self.failures[rule_id].rule_name, tuple(problems)).error()


def evaluate_each(
    rule_sets: Iterable[PlaylistRuleSet | Mapping[str, Any]],
    library: Library,
    *,
    now: datetime,
    registry: FieldRegistry | None = None,
    strategy: Strategy = "auto",
    broken: Mapping[str, RuleSetFailure] | None = None,
) -> Evaluation:
    """Every rule set's result, or why it has none: one rule set that cannot be evaluated, or
    that refers to one that cannot, is a failure of its own and the others are evaluated
    (disabled sets too: others may refer to them). `broken`: rule sets known to be broken
    before evaluation (stored ones that cannot be read), for those referring to them. Other
    arguments as `evaluate_rule_sets`."""
    with paused_gc():  # millions of short-lived containers, no cycles
        ordered, failures, deps = _plan([rule_set_of(rs) for rs in rule_sets], broken)
        results = _evaluate(
            ordered,
            library,
            now=now,
            registry=registry,
            strategy=strategy,
            failures=failures,
            deps=deps,
        )
    return Evaluation(results, failures)


def evaluate_rule_sets(
    rule_sets: Iterable[PlaylistRuleSet | Mapping[str, Any]],
    library: Library,
    *,
    now: datetime,
    registry: FieldRegistry | None = None,
    strategy: Strategy = "auto",
) -> dict[str, RuleResult]:
    """Every rule set's result, keyed by rule id (disabled sets too: others may refer to them);
    the first rule set that cannot be evaluated raises (`evaluate_each` reports each instead).

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
    failures: dict[str, RuleSetFailure] | None = None,
    deps: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, RuleResult]:
    """Results in `ordered` order; with `failures`, a rule set that fails (or refers to one
    that did) is added to them instead of raising."""
    type_of = registry_types(registry, library)
    use_columns = strategy == "columns" or (strategy == "auto" and len(library) >= COLUMNS_FROM)
    columns = Columns.of(library) if use_columns else None
    members: dict[str, frozenset[str]] = {}
    results: dict[str, RuleResult] = {}
    # Per view: a library held as columns makes its views once for all rule sets.
    views = library.views if use_columns or library.table is None else list(library.views)
    for rule_set in ordered:
        if failures is not None:
            if rule_set.id in failures:
                continue
            broken = [ref for ref in (deps or {}).get(rule_set.id, ()) if ref in failures]
            if broken:
                failures[rule_set.id] = RuleSetFailure(
                    rule_set.id,
                    rule_set.name,
                    tuple(
                        RuleProblem(message=f"refers to rule set {ref!r}, which is broken")
                        for ref in broken
                    ),
                    tuple(broken),
                )
                continue
        try:
            positions, candidates = _evaluate_one(
                rule_set, library, columns, views, members, now, registry
            )
            result = run_pipeline(rule_set, positions, candidates, library, type_of)
        except Exception as exc:
            if failures is None:
                raise
            if not isinstance(exc, AppError):  # a bug: logged with its traceback, not hidden
                log.exception("rule set %r could not be evaluated", rule_set.id)
            failures[rule_set.id] = RuleSetFailure(rule_set.id, rule_set.name, _problems_of(exc))
            continue
        results[rule_set.id] = result
        members[rule_set.id] = frozenset(result.track_ids)
    return results


def _evaluate_one(
    rule_set: PlaylistRuleSet,
    library: Library,
    columns: Columns | None,
    views: Sequence[dict[str, Any]],
    members: Mapping[str, frozenset[str]],
    now: datetime,
    registry: FieldRegistry | None,
) -> tuple[Sequence[int] | Positions, int]:
    """(positions of the candidates matching the rules, how many candidates there were)."""
    node = compile_tree(
        rule_set.rules, now=now, registry=registry, library=library, rule_members=members
    )
    sources = sources_node(rule_set, library, now)
    if columns is not None:
        candidates = sources.mask(columns) if sources is not None else columns.universe
        positions = columns.selected(candidates & node.mask(columns))
        return positions, candidates.bit_count()  # one bit per track: bytes are 0 or 1
    source_test = sources.test if sources is not None else None
    test = node.test
    eligible = [p for p, view in enumerate(views) if source_test is None or source_test(view)]
    return [p for p in eligible if test(views[p])], len(eligible)


# --- the seed's entry points ------------------------------------------------------------


def matches_rules(
    view: Mapping[str, Any],
    group: RuleGroup | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """Seed-compatible: does one track's view satisfy `group`? (Compiles on every call.)"""
    rules = group if isinstance(group, RuleGroup) else RuleGroup.model_validate(group)
    # The seed's callers pass their own flat map: its keys are the fields.
    registry = registry_from_payload([view])
    return compile_group(rules, now=now or utc_now(), registry=registry)(view)


def build_rule_based_playlists(
    rules: Iterable[PlaylistRuleSet | Mapping[str, Any]],
    tracks: Iterable[Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Seed-compatible preview: ``[{rule_id, rule_name, track_ids, track_count}]`` per enabled
    rule set, in the given order."""
    rule_sets = [rule_set_of(rule) for rule in rules]
    library = library_from_payload(tracks)
    results = evaluate_rule_sets(
        rule_sets, library, now=now or utc_now(), registry=registry_from_payload(library.views)
    )
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
