"""Why one track is (or is not) in a rule set's playlist.

`explain` replays a rule set for one track: the compiled condition tree with, for each
condition, the track's actual value, the provider it came from and whether it passed, and the
outcome: ``included``, ``pinned``, ``failed rules``, ``not in sources``, ``not in library``, or
the pipeline stage that dropped it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.rules import PlaylistRuleSet, RuleOperator
from app.pipeline.rules.engine.compile import compile_tree
from app.pipeline.rules.engine.evaluate import evaluate_each, rule_set_of, sources_node
from app.pipeline.rules.engine.stages import RuleResult, Stage
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.library.views import SOURCE_PROVIDER, TRACK_PROVIDER, Library
from app.pipeline.rules.nodes import ConditionNode, GroupNode, Node

__all__ = ["ExplainedCondition", "ExplainedGroup", "Explanation", "Outcome", "explain"]

Outcome = Literal["included", "pinned", "failed rules", "not in sources", "not in library"] | Stage
"""Why a track is or is not in the playlist; a `Stage` when a pipeline stage dropped it."""


class ExplainedCondition(BaseModel):
    """One condition as the rule set says it, the track's value and whether it passed."""

    field: str
    operator: RuleOperator
    value: Any = Field(description="The condition's value, as in the rule set.")
    case_sensitive: bool
    accent_insensitive: bool
    actual: Any = Field(
        description="The track's value (for `in_rule`: whether it is in that rule set's result)."
    )
    provider: str | None = Field(
        description="Where the value came from: `spotify` (the track itself), `sources`, "
        "`rules` (`in_rule`) or an enrichment provider; null when the track has no value."
    )
    passed: bool


class ExplainedGroup(BaseModel):
    """A group of conditions, whether it passed, and each of its children explained."""

    operator: Literal["and", "or"]
    negate: bool
    passed: bool
    conditions: list[ExplainedGroup | ExplainedCondition]


class Explanation(BaseModel):
    """Why a track is (not) in a rule set's playlist (see `explain`)."""

    track_id: str
    rule_id: str
    rule_name: str
    outcome: Outcome
    included: bool = Field(description="In the playlist (pinned included).")
    candidate: bool = Field(description="In the library and in the rule set's sources.")
    matched_rules: bool = Field(description="The track passes the rules.")
    position: int | None = Field(description="Its index in the playlist; null when not in it.")
    rules: ExplainedGroup


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _provider(name: str, position: int | None, library: Library) -> str | None:
    info = FieldRegistry.builtin().resolve(name)
    if info is not None and info.origin == "track":
        return TRACK_PROVIDER
    if info is not None and info.origin == "source":
        return SOURCE_PROVIDER
    if position is None:
        return None
    return library.provenance[position].get(name)


def _explain_node(
    node: Node, view: Mapping[str, Any], position: int | None, library: Library
) -> ExplainedGroup | ExplainedCondition:
    if isinstance(node, GroupNode):
        return ExplainedGroup(
            operator=node.group.operator,
            negate=node.group.negate,
            passed=node.test(view),
            conditions=[_explain_node(child, view, position, library) for child in node.children],
        )
    assert isinstance(node, ConditionNode)
    condition = node.condition
    if node.mode == "rule":
        actual: Any = view.get("id") in node.members
        provider: str | None = "rules"
    else:
        actual = _jsonable(view.get(node.field))
        provider = _provider(node.field, position, library) if actual is not None else None
    return ExplainedCondition(
        field=condition.field,
        operator=condition.operator,
        value=_jsonable(condition.value),
        case_sensitive=condition.case_sensitive,
        accent_insensitive=condition.accent_insensitive,
        actual=actual,
        provider=provider,
        passed=node.test(view),
    )


def explain(
    track_id: str,
    rule_set: PlaylistRuleSet | Mapping[str, Any],
    library: Library,
    *,
    now: datetime,
    rule_sets: Iterable[PlaylistRuleSet | Mapping[str, Any]] = (),
    registry: FieldRegistry | None = None,
    results: Mapping[str, RuleResult] | None = None,
) -> Explanation:
    """Why `track_id` is (not) in `rule_set`'s playlist: the condition tree with each actual
    value, its provider and pass/fail, and the outcome — ``included``, ``pinned``, ``failed
    rules``, ``not in sources``, ``not in library``, or the stage that dropped it (``excluded``,
    ``deduped``, ``over limit``, ``artist cap``). `rule_sets` are the others `in_rule` may
    name (a broken one matters only if the target refers to it); `results` a finished run to
    reuse. A target that cannot be evaluated raises `RulesInvalidError` with its problems."""
    target = rule_set_of(rule_set)
    if results is None or target.id not in results:
        others = [rule_set_of(other) for other in rule_sets]
        everything = [other for other in others if other.id != target.id] + [target]
        evaluation = evaluate_each(everything, library, now=now, registry=registry)
        error = evaluation.error_for(target.id)
        if error is not None:
            raise error
        results = evaluation.results
    result = results[target.id]
    members = {key: frozenset(value.track_ids) for key, value in results.items()}
    node = compile_tree(
        target.rules, now=now, registry=registry, library=library, rule_members=members
    )
    position = library.index.get(track_id)
    view: Mapping[str, Any] = library.views[position] if position is not None else {"id": track_id}
    sources = sources_node(target, library, now)
    candidate = position is not None and (sources is None or sources.test(view))
    passed = node.test(view)
    outcome: Outcome
    if track_id in result.pinned:
        outcome = "pinned"
    elif track_id in result.dropped:
        outcome = result.dropped[track_id]
    elif track_id in result.track_ids:
        outcome = "included"
    elif position is None:
        outcome = "not in library"
    elif not candidate:
        outcome = "not in sources"
    else:
        outcome = "failed rules"
    rules = _explain_node(node, view, position, library)
    assert isinstance(rules, ExplainedGroup)  # a rule set's rules are a group
    return Explanation(
        track_id=track_id,
        rule_id=target.id,
        rule_name=target.name,
        outcome=outcome,
        included=track_id in result.track_ids,
        candidate=candidate,
        matched_rules=passed,
        position=result.track_ids.index(track_id) if track_id in result.track_ids else None,
        rules=rules,
    )
