"""The rules model (`app.core.rules`): shapes, aliases, structural limits, spans, rendering."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.core.rules import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    RuleProblem,
    parse_span,
)
from app.pipeline.rules.operators import NEGATION, NEGATIVE, VALUE_KIND

SEED = {
    "id": "3f1c2a9e-0b7d-4c55-9a61-2f1d4e8b7c10",
    "name": "Upbeat 90s",
    "description": "seed file",
    "enabled": True,
    "target_playlist_id": None,
    "rules": {
        "operator": "and",
        "conditions": [
            {"field": "year", "operator": "between", "value": [1990, 1999]},
            {"field": "energy", "operator": "gte", "value": 0.6},
            {"field": "genre", "operator": "regex", "value": "rock|pop"},
        ],
    },
}


def test_a_seed_rule_set_loads_unchanged() -> None:
    model = PlaylistRuleSet.model_validate(SEED)
    assert model.model_dump(mode="json", exclude_unset=True) == SEED
    assert model.schema_version == 1
    assert model.sort == [] and model.limit is None and model.dedupe == "none"
    first = model.rules.conditions[0]
    assert isinstance(first, RuleCondition)
    assert (first.operator, first.case_sensitive) == (RuleOperator.BETWEEN, False)


def test_seed_operators_are_all_still_there() -> None:
    seed_ops = "eq ne gt lt gte lte in not_in between contains starts_with ends_with exists"
    for name in [*seed_ops.split(), "not_exists", "regex"]:
        assert RuleOperator(name).value == name


@pytest.mark.parametrize(("alias", "operator"), [("all", "and"), ("ANY", "or"), (" Or ", "or")])
def test_group_operator_aliases(alias: str, operator: str) -> None:
    assert RuleGroup.model_validate({"operator": alias}).operator == operator


def test_nodes_are_told_apart_by_conditions() -> None:
    group = RuleGroup.model_validate(
        {
            "conditions": [
                {"field": "a", "operator": "eq", "value": 1},
                {"operator": "or", "negate": True, "conditions": []},
            ]
        }
    )
    assert isinstance(group.conditions[0], RuleCondition)
    assert isinstance(group.conditions[1], RuleGroup) and group.conditions[1].negate
    assert (group.depth(), group.condition_count()) == (2, 1)


def _nested(depth: int) -> dict[str, Any]:
    group: dict[str, Any] = {"conditions": [{"field": "a", "operator": "exists"}]}
    for _ in range(depth - 1):
        group = {"conditions": [group]}
    return group


def test_depth_limit() -> None:
    PlaylistRuleSet.model_validate({"id": "a", "name": "A", "rules": _nested(MAX_DEPTH)})
    with pytest.raises(ValidationError, match="rules are nested 9 deep; at most 8"):
        PlaylistRuleSet.model_validate({"id": "a", "name": "A", "rules": _nested(MAX_DEPTH + 1)})


def test_condition_limit() -> None:
    conditions = [{"field": "a", "operator": "exists"}] * (MAX_CONDITIONS + 1)
    with pytest.raises(ValidationError, match="201 conditions; a rule set may have at most 200"):
        PlaylistRuleSet.model_validate(
            {"id": "a", "name": "A", "rules": {"conditions": conditions}}
        )


def test_unknown_keys_and_operators_are_refused() -> None:
    with pytest.raises(ValidationError):
        RuleCondition.model_validate({"field": "a", "operator": "eq", "valu": 1})
    with pytest.raises(ValidationError):
        RuleCondition.model_validate({"field": "a", "operator": "equals"})


@pytest.mark.parametrize("bad", ["", "a b", "-a", "x" * 129, "é"])
def test_ids_are_slugs(bad: str) -> None:
    with pytest.raises(ValidationError, match="an id is 1-128"):
        PlaylistRuleSet.model_validate({"id": bad, "name": "A"})


def test_limit_checks() -> None:
    assert LimitSpec(value=90, unit="minutes").value == 90
    with pytest.raises(ValidationError, match="whole number"):
        LimitSpec(value=2.5)
    with pytest.raises(ValidationError, match="at most 100"):
        LimitSpec(value=101, unit="percent")
    with pytest.raises(ValidationError):
        LimitSpec(value=0)


def test_every_operator_has_a_value_kind_and_negations_pair_up() -> None:
    assert set(VALUE_KIND) == set(RuleOperator)
    for positive, negative in NEGATION.items():
        assert NEGATION[negative] is positive
        assert VALUE_KIND[positive] == VALUE_KIND[negative]
    assert RuleOperator.NE in NEGATIVE and RuleOperator.EQ not in NEGATIVE
    assert RuleOperator.GT not in NEGATION


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("12h", 43_200),
        ("30d", 2_592_000),
        (" 2w ", 1_209_600),
        ("6mo", 15_552_000),
        ("1y", 31_536_000),
    ],
)
def test_parse_span(text: str, seconds: int) -> None:
    assert parse_span(text) == seconds


@pytest.mark.parametrize("text", ["30", "d", "3 days", "1.5d", "-1d", "2m"])
def test_parse_span_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time span like 12h, 30d, 2w, 6mo or 1y"):
        parse_span(text)


def test_problem_render() -> None:
    text = "tempo > 120 and energyy > 0.5"
    problem = RuleProblem(
        message="unknown field 'energyy'",
        line=1,
        column=17,
        length=7,
        hint="did you mean 'energy'?",
    )
    assert problem.render(text) == (
        "line 1, column 17: unknown field 'energyy' — did you mean 'energy'?\n"
        f"{text}\n"
        "                ^^^^^^^"
    )
    assert problem.render() == "line 1, column 17: unknown field 'energyy' — did you mean 'energy'?"
    by_path = RuleProblem(message="m", path="rules.conditions[2].operator")
    assert by_path.render(text) == "rules.conditions[2].operator: m"
    assert RuleProblem(message="m").render() == "m"
    assert RuleProblem(message="m", line=5, column=1).render("one line") == "line 5, column 1: m"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (2**63, "does not fit in 64 bits"),
        ([1, -(2**63) - 1], "does not fit in 64 bits"),
        (float("nan"), "not a number the rules can hold"),
        ([0.5, float("inf")], "not a number the rules can hold"),
    ],
)
def test_a_value_the_stores_cannot_write_is_refused(value: object, said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        RuleCondition(field="year", operator=RuleOperator.GT, value=value)
    assert RuleCondition(field="year", operator=RuleOperator.GT, value=2**63 - 1).value == 2**63 - 1
