"""Rule-set validation: every problem, its literal message, its JSON path (or text position)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import RulesInvalidError
from app.core.rules import MAX_CONDITIONS, MAX_DEPTH, PlaylistRuleSet, RuleOperator, RuleProblem
from app.data.rules import RuleStore
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import FieldInfo
from app.pipeline.rules.validation.conditions import compile_regex, date_bounds
from app.pipeline.rules.validation.references import check_references
from app.pipeline.rules.validation.validator import (
    load_rule_sets,
    rules_invalid_error,
    validate_rule_set,
)

Op = RuleOperator


@pytest.fixture
def registry() -> FieldRegistry:
    registry = FieldRegistry.builtin()
    for info in (
        FieldInfo("energy", "number", providers=("reccobeats",)),
        FieldInfo("tempo", "number", providers=("reccobeats", "deezer")),
        FieldInfo("genres", "text", is_list=True),
        FieldInfo("mood", "text"),
        FieldInfo("instrumental", "bool"),
    ):
        registry.add(info)
    return registry


def rule_set(*conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "r", "name": "R", "rules": {"operator": "and", "conditions": list(conditions)}}


def cond(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def problems(data: Any, registry: FieldRegistry, **kwargs: Any) -> list[tuple[str | None, str]]:
    return [(p.path, p.render()) for p in validate_rule_set(data, registry, **kwargs)]


# --- operator by type --------------------------------------------------------------------------

TEXT = {
    "eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with", "not_starts_with",
    "ends_with", "not_ends_with", "regex", "not_regex", "exists", "not_exists",
}  # fmt: skip
NUMBER = {
    "eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between", "in", "not_in", "exists",
    "not_exists",
}  # fmt: skip
DATE = {
    "eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between", "before", "after",
    "in_last", "not_in_last", "exists", "not_exists",
}  # fmt: skip
BOOL = {"eq", "ne", "exists", "not_exists"}
LIST_TEXT = TEXT | {"has_any", "has_all", "has_none"}
TRACK = {"in_playlist", "not_in_playlist", "in_rule", "not_in_rule"}

FIELDS = {
    "name": ("text", TEXT),
    "tempo": ("number", NUMBER),
    "added_at": ("date", DATE),
    "explicit": ("bool", BOOL),
    "genres": ("text", LIST_TEXT),
    "track": ("track", TRACK),
}
SCALARS: dict[str, Any] = {"text": "x", "number": 1, "date": "2020-01-01", "bool": True}


def good_value(operator: Op, kind: str) -> Any:
    """A well-formed value for `operator` on a field of `kind`."""
    scalar = SCALARS.get(kind, "x")
    if operator in (Op.EXISTS, Op.NOT_EXISTS):
        return None
    if operator in (Op.BETWEEN, Op.NOT_BETWEEN):
        return {"number": [1, 2], "date": ["2019", "2020-06"]}.get(kind, [scalar, scalar])
    if operator in (Op.IN, Op.NOT_IN, Op.HAS_ANY, Op.HAS_ALL, Op.HAS_NONE):
        return [scalar]
    if operator in (Op.IN_LAST, Op.NOT_IN_LAST):
        return "30d"
    if operator in (
        Op.CONTAINS,
        Op.REGEX,
        Op.STARTS_WITH,
        Op.ENDS_WITH,
    ) or operator.value.startswith(("not_contains", "not_regex", "not_starts", "not_ends")):
        return "x"
    return scalar


@pytest.mark.parametrize("operator", list(Op), ids=lambda op: op.value)
@pytest.mark.parametrize("field", list(FIELDS))
def test_operator_per_type_table(registry: FieldRegistry, field: str, operator: Op) -> None:
    kind, allowed = FIELDS[field]
    data = rule_set(cond(field, operator.value, good_value(operator, kind)))
    found = validate_rule_set(data, registry, known_rule_ids=["x"])
    if operator.value in allowed:
        assert found == []
    else:
        assert len(found) == 1
        expected_path = (
            "rules.conditions[0].field"
            if operator.value in TRACK
            else "rules.conditions[0].operator"
        )
        assert found[0].path == expected_path


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            cond("tempo", "has_any", [120]),
            "rules.conditions[0].operator: operator 'has_any' needs a list field; 'tempo' is a "
            "number — 'tempo' takes eq, ne, gt, gte, lt, lte, between, not_between, in, not_in, "
            "exists, not_exists",
        ),
        (
            cond("name", "gt", "a"),
            "rules.conditions[0].operator: operator 'gt' needs number or date field; 'name' is "
            "text — 'name' takes eq, ne, in, not_in, contains, not_contains, starts_with, "
            "not_starts_with, ends_with, not_ends_with, regex, not_regex, exists, not_exists",
        ),
        (
            cond("explicit", "contains", "x"),
            "rules.conditions[0].operator: operator 'contains' needs text field; 'explicit' is "
            "true/false — 'explicit' takes eq, ne, exists, not_exists",
        ),
        (
            cond("tempo", "in_last", "30d"),
            "rules.conditions[0].operator: operator 'in_last' needs date field; 'tempo' is a "
            "number — 'tempo' takes eq, ne, gt, gte, lt, lte, between, not_between, in, not_in, "
            "exists, not_exists",
        ),
        (
            cond("genres", "gt", "a"),
            "rules.conditions[0].operator: operator 'gt' needs number or date field; 'genres' is "
            "a list of text — 'genres' takes eq, ne, in, not_in, contains, not_contains, "
            "starts_with, not_starts_with, ends_with, not_ends_with, regex, not_regex, has_any, "
            "has_all, has_none, exists, not_exists",
        ),
        (
            cond("track", "eq", "x"),
            "rules.conditions[0].operator: operator 'eq' does not apply to 'track'; 'track' takes "
            "in_playlist, not_in_playlist, in_rule, not_in_rule",
        ),
        (
            cond("genres", "in_playlist", "x"),
            "rules.conditions[0].field: operator 'in_playlist' applies to the track itself (got "
            "field 'genres') — write field 'track'",
        ),
    ],
)
def test_operator_messages(
    registry: FieldRegistry, condition: dict[str, Any], message: str
) -> None:
    assert [p.render() for p in validate_rule_set(rule_set(condition), registry)] == [message]


# --- fields -----------------------------------------------------------------------------------


def test_unknown_field_with_did_you_mean(registry: FieldRegistry) -> None:
    data = rule_set(cond("tempo", "gt", 120), cond("energyy", "gt", 0.5), cond("zzzz", "exists"))
    assert problems(data, registry) == [
        (
            "rules.conditions[1].field",
            "rules.conditions[1].field: unknown field 'energyy' — did you mean 'energy'?",
        ),
        ("rules.conditions[2].field", "rules.conditions[2].field: unknown field 'zzzz'"),
    ]


def test_did_you_mean_includes_aliases(registry: FieldRegistry) -> None:
    [problem] = validate_rule_set(rule_set(cond("titel", "eq", "x")), registry)
    assert problem.hint == "did you mean 'title'?"


def test_aliases_and_case_resolve(registry: FieldRegistry) -> None:
    data = rule_set(cond("Title", "eq", "x"), cond("artist", "has_any", ["a"]))
    assert validate_rule_set(data, registry) == []


def test_sort_and_selected_by_fields(registry: FieldRegistry) -> None:
    data = rule_set(cond("tempo", "gt", 1))
    data["sort"] = [{"field": "energgy"}, {"field": "random", "seed": 3}, {"field": "track"}]
    data["limit"] = {"value": 10, "selected_by": [{"field": "added"}]}
    assert problems(data, registry) == [
        (
            "limit.selected_by[0].field",
            "limit.selected_by[0].field: unknown field 'added' — did you mean 'added_at'?",
        ),
        ("sort[0].field", "sort[0].field: unknown field 'energgy' — did you mean 'energy'?"),
        ("sort[2].field", "sort[2].field: cannot sort by 'track'; choose a field"),
    ]


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (cond("tempo", "between", 120), "'between' needs [low, high] (got 120)"),
        (cond("tempo", "between", [1, 2, 3]), "'between' needs [low, high] (got [1, 2, 3])"),
        (
            cond("tempo", "between", [130, 120]),
            "low 130 is greater than high 120 — write [120, 130]",
        ),
        (
            cond("added_at", "not_between", ["2021", "2020-12"]),
            "low '2021' is greater than high '2020-12' — write [\"2020-12\", \"2021\"]",
        ),
        (
            cond("tempo", "between", [1, "x"]),
            "'tempo' is a number: expected a number (got 'x')",
        ),
        (
            cond("tempo", "eq", "120"),
            "'tempo' is a number: expected a number (got '120') — write 120 without quotes",
        ),
        (cond("tempo", "gt", True), "'tempo' is a number: expected a number (got true)"),
        (
            cond("explicit", "eq", "yes"),
            "'explicit' is true/false: expected true or false (got 'yes')",
        ),
        (cond("name", "eq", 5), "'name' is text: expected text in quotes (got 5)"),
        (cond("name", "contains", 5), "'contains' needs text in quotes (got 5)"),
        (
            cond("added_at", "after", "2020-13-01"),
            "'added_at' is a date: expected a date like 2020, 2020-05, 2020-05-17 or "
            "2020-05-17T08:00:00Z (got '2020-13-01')",
        ),
        (
            cond("release_date", "gt", 1990),
            "'release_date' is a date: expected a date like 2020, 2020-05 or 2020-05-17 (got "
            '1990) — write "1990"',
        ),
        (
            cond("added_at", "in_last", "3 days"),
            "'3 days' is not a time span like 12h, 30d, 2w, 6mo or 1y",
        ),
        (
            cond("added_at", "in_last", 30),
            'expected a time span like 12h, 30d, 2w, 6mo or 1y (got 30) — write "30d"',
        ),
        (cond("added_at", "in_last", "0d"), "a time span must be longer than 0"),
        (cond("added_at", "in_last", "1001y"), "a time span of at most 1000y (got '1001y')"),
        (
            cond("genres", "has_any", "rock"),
            '\'has_any\' needs a list of values like ["a", "b"] (got \'rock\') — write ["rock"]',
        ),
        (cond("tempo", "in", 5), "'in' needs a list of values like [1, 2] (got 5) — write [5]"),
        (cond("genres", "has_all", []), "'has_all' needs at least one value"),
        (cond("name", "regex", "(live"), "invalid regex: missing ): (live"),
        (cond("name", "regex", "a(?=b)"), "invalid regex: invalid perl operator: (?="),
        (cond("name", "not_regex", 5), "'not_regex' needs a pattern in quotes (got 5)"),
        (cond("explicit", "exists", 5), "operator 'exists' takes no value (got 5)"),
        (cond("track", "in_playlist", ""), "'in_playlist' needs a playlist id or name (got '')"),
        (cond("track", "in_rule", None), "'in_rule' needs a rule set id (got null)"),
    ],
)
def test_value_messages(registry: FieldRegistry, condition: dict[str, Any], message: str) -> None:
    [problem] = validate_rule_set(rule_set(condition), registry)
    assert problem.path is not None and problem.path.startswith("rules.conditions[0].value")
    assert problem.render().split(": ", 1)[1] == message


def test_list_items_are_checked_with_their_index(registry: FieldRegistry) -> None:
    data = rule_set(cond("tempo", "in", [1, "two", 3, "four"]))
    assert problems(data, registry) == [
        (
            "rules.conditions[0].value[1]",
            "rules.conditions[0].value[1]: 'tempo' is a number: expected a number (got 'two')",
        ),
        (
            "rules.conditions[0].value[3]",
            "rules.conditions[0].value[3]: 'tempo' is a number: expected a number (got 'four')",
        ),
    ]


@pytest.mark.parametrize(
    "value", ["2020", "2020-05", "2020-05-17", "2020-05-17T08:00:00Z", "2020-05-17 08:00+02:00"]
)
def test_date_forms(registry: FieldRegistry, value: str) -> None:
    assert validate_rule_set(rule_set(cond("added_at", "before", value)), registry) == []


def test_date_bounds_cover_the_period() -> None:
    start, end = date_bounds("1999")
    assert (start.isoformat(), end.isoformat()) == (
        "1999-01-01T00:00:00+00:00",
        "1999-12-31T23:59:59.999999+00:00",
    )
    assert date_bounds("2020-12")[1].isoformat() == "2020-12-31T23:59:59.999999+00:00"
    assert date_bounds("2020-05-17T10:00:00+02:00")[0].isoformat() == "2020-05-17T08:00:00+00:00"
    assert date_bounds("9999")[1].year == 9999


def test_in_rule_checks_known_ids(registry: FieldRegistry) -> None:
    data = rule_set(cond("track", "in_rule", "workot"), cond("track", "not_in_rule", "chill"))
    assert problems(data, registry, known_rule_ids=["workout", "chill"]) == [
        (
            "rules.conditions[0].value",
            "rules.conditions[0].value: unknown rule 'workot' — did you mean 'workout'?",
        )
    ]
    assert problems(data, registry) == []  # not checked without known ids


def test_seed_era_exists_value_true_is_accepted(registry: FieldRegistry) -> None:
    assert validate_rule_set(rule_set(cond("mood", "exists", True)), registry) == []


# --- structure --------------------------------------------------------------------------------


def test_structural_problems_have_json_paths(registry: FieldRegistry) -> None:
    data = {
        "id": "bad id",
        "name": "R",
        "colour": "red",
        "rules": {
            "operator": "xor",
            "conditions": [
                {"field": "tempo", "operator": "equals", "value": 1},
                {"field": "tempo", "opertor": "eq", "value": 1},
                {"field": "energyy", "operator": "gt", "value": 0.5},
                5,
            ],
        },
        "sort": [{"field": "energy", "order": "up"}],
        "limit": {"value": 5.5},
    }
    assert problems(data, registry) == [
        (
            "colour",
            "colour: unknown key 'colour' — keys: schema_version, id, name, description, "
            "enabled, rules, sources, sort, limit, dedupe, max_per_artist, include, exclude, "
            "target_playlist_id, target_playlist_name, sync_mode, auto_apply",
        ),
        (
            "id",
            "id: an id is 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or "
            "digit (got 'bad id')",
        ),
        ("limit", "limit: a limit in tracks must be a whole number"),
        (
            "rules.conditions[0].operator",
            "rules.conditions[0].operator: unknown operator 'equals' — did you mean 'eq'?",
        ),
        (
            "rules.conditions[1].operator",
            "rules.conditions[1].operator: 'operator' is required",
        ),
        (
            "rules.conditions[1].opertor",
            "rules.conditions[1].opertor: unknown key 'opertor' — did you mean 'operator'?",
        ),
        (
            "rules.conditions[2].field",
            "rules.conditions[2].field: unknown field 'energyy' — did you mean 'energy'?",
        ),
        (
            "rules.conditions[3]",
            "rules.conditions[3]: Input should be a valid dictionary or instance of "
            "RuleCondition (got 5)",
        ),
        ("rules.operator", "rules.operator: group operator must be 'and' or 'or' (got 'xor')"),
        ("sort[0].order", "sort[0].order: Input should be 'asc' or 'desc' (got 'up')"),
    ]


def test_symbol_operators_get_their_name_as_hint(registry: FieldRegistry) -> None:
    [problem] = validate_rule_set(rule_set(cond("tempo", ">=", 1)), registry)
    assert (problem.message, problem.hint) == ("unknown operator '>='", "did you mean 'gte'?")


def test_not_an_object(registry: FieldRegistry) -> None:
    [problem] = validate_rule_set([1, 2], registry)  # type: ignore[arg-type]
    assert problem.message == "a rule set must be a JSON object (got [1, 2])"


def test_a_model_input_gets_the_semantic_checks(registry: FieldRegistry) -> None:
    model = PlaylistRuleSet.model_validate(rule_set(cond("energyy", "gt", 1)))
    assert problems(model, registry) == [
        (
            "rules.conditions[0].field",
            "rules.conditions[0].field: unknown field 'energyy' — did you mean 'energy'?",
        )
    ]


def test_nested_groups_paths(registry: FieldRegistry) -> None:
    inner = {"operator": "or", "conditions": [cond("tempo", "gt", 1), cond("tempoo", "gt", 1)]}
    data = rule_set(
        cond("tempo", "gt", 1), {"operator": "any", "negate": True, "conditions": [inner]}
    )
    assert [p.path for p in validate_rule_set(data, registry)] == [
        "rules.conditions[1].conditions[0].conditions[1].field"
    ]


# --- hostile input ----------------------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    group: dict[str, Any] = {"operator": "and", "conditions": [cond("tempo", "gt", 1)]}
    for _ in range(depth - 1):
        group = {"operator": "and", "conditions": [group]}
    return group


def test_depth_nine_is_rejected_with_the_path(registry: FieldRegistry) -> None:
    data = {"id": "r", "name": "R", "rules": nested(MAX_DEPTH)}
    assert validate_rule_set(data, registry) == []
    data["rules"] = nested(MAX_DEPTH + 1)
    [problem] = validate_rule_set(data, registry)
    assert problem.path == "rules" + ".conditions[0]" * MAX_DEPTH
    assert problem.message == "rules are nested 9 deep; at most 8"


def test_very_deep_input_costs_no_recursion(registry: FieldRegistry) -> None:
    data = {"id": "r", "name": "R", "rules": nested(20_000)}
    [problem] = validate_rule_set(data, registry)
    assert problem.message == "rules are nested 20000 deep; at most 8"


def test_201_conditions_are_rejected(registry: FieldRegistry) -> None:
    data = rule_set(*[cond("tempo", "gt", i) for i in range(MAX_CONDITIONS)])
    assert validate_rule_set(data, registry) == []
    data["rules"]["conditions"].append(cond("tempo", "gt", 0))
    assert problems(data, registry) == [
        ("rules", "rules: 201 conditions; a rule set may have at most 200")
    ]


def test_huge_list_is_rejected(registry: FieldRegistry) -> None:
    data = rule_set(cond("genres", "has_any", [f"g{i}" for i in range(10_000)]))
    assert problems(data, registry) == [
        (
            "rules.conditions[0].value",
            "rules.conditions[0].value: 'has_any' has 10000 values; at most 1000",
        )
    ]


def test_long_regex_is_rejected(registry: FieldRegistry) -> None:
    data = rule_set(cond("name", "regex", "a" * 5000))
    assert problems(data, registry) == [
        (
            "rules.conditions[0].value",
            "rules.conditions[0].value: regex is 5000 characters long; at most 500",
        )
    ]


def test_catastrophic_pattern_is_accepted_and_linear_under_re2(registry: FieldRegistry) -> None:
    assert validate_rule_set(rule_set(cond("name", "regex", "(a+)+$")), registry) == []
    pattern = compile_regex("(a+)+$")
    assert pattern.search("a" * 100_000 + "b") is None  # backtracking engines never return
    assert compile_regex("LIVE").search("Song (live)") is not None
    assert compile_regex("LIVE", case_sensitive=True).search("Song (live)") is None


def test_the_largest_allowed_rule_set_of_regexes_validates(registry: FieldRegistry) -> None:
    # How fast is bench/rules_validation.py's question; here, only that the worst case passes.
    data = rule_set(*[cond("name", "regex", f"(x{i}|y)+") for i in range(MAX_CONDITIONS)])
    assert validate_rule_set(data, registry) == []


# --- text positions ---------------------------------------------------------------------------


def test_spans_give_line_and_column(registry: FieldRegistry) -> None:
    text = "tempo > 120 and energyy > 0.5"
    spans = {"rules.conditions[1]": (1, 17, 13), "rules.conditions[1].field": (1, 17, 7)}
    data = rule_set(cond("tempo", "gt", 120), cond("energyy", "gt", 0.5))
    [problem] = validate_rule_set(data, registry, text=text, spans=spans)
    assert (problem.line, problem.column, problem.length) == (1, 17, 7)
    assert problem.render(text) == (
        "line 1, column 17: unknown field 'energyy' — did you mean 'energy'?\n"
        "tempo > 120 and energyy > 0.5\n"
        "                ^^^^^^^"
    )


def test_spans_fall_back_to_the_enclosing_node(registry: FieldRegistry) -> None:
    spans = {"rules.conditions[0]": (2, 1, 20)}
    data = rule_set(cond("tempo", "between", [130, 120]))
    [problem] = validate_rule_set(data, registry, text="x\ntempo between 130..120", spans=spans)
    assert (problem.line, problem.column, problem.length) == (2, 1, 20)


def test_text_alone_locates_the_token(registry: FieldRegistry) -> None:
    text = "# workout\ntempo > 120\n  and energyy > 0.5"
    data = rule_set(cond("tempo", "gt", 120), cond("energyy", "gt", 0.5))
    [problem] = validate_rule_set(data, registry, text=text)
    assert (problem.line, problem.column, problem.length) == (3, 7, 7)
    assert problem.path == "rules.conditions[1].field"


# --- references -------------------------------------------------------------------------------


def with_refs(rule_id: str, *targets: str) -> dict[str, Any]:
    data = rule_set(*[cond("track", "in_rule", target) for target in targets])
    data["id"] = rule_id
    return data


def test_cycles_are_named_once() -> None:
    sets = [
        with_refs("b", "c"),
        with_refs("a", "b"),
        with_refs("c", "a"),
        with_refs("d", "d"),
        with_refs("e", "a", "unknown"),
    ]
    assert [(p.path, p.message) for p in check_references(sets)] == [
        ("rules.conditions[0].value", "rules a → b → c → a form a cycle"),
        ("rules.conditions[0].value", "rule d refers to itself"),
    ]


def test_second_reference_path_and_models() -> None:
    sets = [
        PlaylistRuleSet.model_validate(with_refs("x", "y")),
        PlaylistRuleSet.model_validate(with_refs("y", "z", "x")),
    ]
    [problem] = check_references(sets)
    assert problem.message == "rules x → y → x form a cycle"
    assert problem.path == "rules.conditions[0].value"


def test_no_cycle_in_a_diamond() -> None:
    sets = [with_refs("a", "b", "c"), with_refs("b", "d"), with_refs("c", "d"), with_refs("d")]
    assert check_references(sets) == []


# --- errors, storage and seed compatibility ---------------------------------------------------


def test_rules_invalid_error_carries_rendered_problems() -> None:
    problem = RuleProblem(message="unknown field 'x'", line=1, column=1, path="rules", hint="h")
    error = rules_invalid_error([problem, problem], text="x > 1")
    assert error.status_code == 422 and error.code == "rules_invalid"
    assert (
        error.detail == "line 1, column 1: unknown field 'x' — h\nx > 1\n^ (and 1 more problem(s))"
    )
    assert error.extra["problems"][0]["path"] == "rules"
    assert isinstance(error, RulesInvalidError)


SEED_RULES = [
    {
        "id": "workout",
        "name": "Workout",
        "description": "Fast and energetic",
        "enabled": True,
        "target_playlist_id": "37i9dQZF1DX76Wlfdnj7AP",
        "rules": {
            "operator": "and",
            "conditions": [
                {"field": "bpm", "operator": "gte", "value": 120},
                {"field": "energy", "operator": "gt", "value": 0.7},
                {"field": "genre", "operator": "in", "value": ["rock", "metal", "edm"]},
                {"field": "year", "operator": "between", "value": [1990, 2024]},
                {"field": "mood", "operator": "ne", "value": "sad"},
                {"field": "tempo", "operator": "lte", "value": 180},
                {"field": "danceability", "operator": "lt", "value": 0.95},
            ],
        },
    },
    {
        "id": "chill-evenings",
        "name": "Chill evenings",
        "description": None,
        "enabled": False,
        "target_playlist_id": None,
        "rules": {
            "operator": "or",
            "conditions": [
                {"field": "mood", "operator": "eq", "value": "calm"},
                {"field": "genre", "operator": "not_in", "value": ["metal"]},
                {"field": "name", "operator": "contains", "value": "acoustic"},
                {"field": "album", "operator": "starts_with", "value": "Unplugged"},
                {"field": "name", "operator": "ends_with", "value": "(Live)"},
                {"field": "lastfm_tags", "operator": "exists", "value": None},
                {"field": "language", "operator": "not_exists", "value": None},
                {"field": "name", "operator": "regex", "value": "^(intro|outro)\\b"},
                {"field": "artist", "operator": "eq", "value": "Nick Drake"},
            ],
        },
    },
]


@pytest.fixture
def seed_registry() -> FieldRegistry:
    registry = FieldRegistry.builtin()
    for info in (
        FieldInfo("bpm", "number"),
        FieldInfo("energy", "number"),
        FieldInfo("danceability", "number"),
        FieldInfo("tempo", "number"),
        FieldInfo("genre", "text"),
        FieldInfo("mood", "text"),
        FieldInfo("language", "text"),
        FieldInfo("lastfm_tags", "text", is_list=True),
    ):
        registry.add(info)
    return registry


def test_seed_rule_files_load_and_validate_unchanged(
    tmp_path: Path, seed_registry: FieldRegistry
) -> None:
    (tmp_path / "rules.json").write_text(json.dumps(SEED_RULES), encoding="utf-8")  # bare list
    store = RuleStore(tmp_path)
    documents = store.load_rules()
    assert documents == SEED_RULES
    models = [PlaylistRuleSet.model_validate(document) for document in documents]
    for document, model in zip(documents, models, strict=True):
        assert validate_rule_set(document, seed_registry) == []
        assert validate_rule_set(model, seed_registry) == []
        # Nothing renamed, dropped or changed: the set fields dump back to the same document.
        assert model.model_dump(mode="json", exclude_unset=True) == document
        assert model.schema_version == 1
    typed, found = load_rule_sets(documents)
    assert (typed, found) == (models, [])
    assert check_references(models) == []

    # Saving writes the current envelope; loading gives the same documents back.
    store.save_rules(documents)
    assert json.loads((tmp_path / "rules.json").read_text())["schema_version"] == 1
    assert store.load_rules() == SEED_RULES


def test_load_rule_sets_reports_bad_documents_by_index() -> None:
    documents = [SEED_RULES[0], {"id": "x", "name": "X", "rules": {"operator": "nand"}}]
    typed, found = load_rule_sets(documents)
    assert [model.id for model in typed] == ["workout"]
    assert [(p.path, p.message) for p in found] == [
        ("[1].rules.operator", "group operator must be 'and' or 'or' (got 'nand')")
    ]
