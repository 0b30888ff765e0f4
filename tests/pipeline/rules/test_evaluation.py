"""Condition semantics: every operator on every kind of value, missing values, negation, dates,
and the two evaluation strategies (per view, set-wise) agreeing on random libraries."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.errors import RulesInvalidError
from app.core.rules import RuleCondition, RuleGroup, RuleOperator
from app.pipeline.rules.engine.compile import compile_tree
from app.pipeline.rules.engine.evaluate import compile_group, matches_rules
from app.pipeline.rules.library.columns import Columns
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.operators import NEGATION, NEGATIVE

Op = RuleOperator
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def check(view: dict[str, Any], field: str, op: str, value: Any = None, **extra: Any) -> bool:
    group = RuleGroup(
        conditions=[RuleCondition(field=field, operator=Op(op), value=value, **extra)]
    )
    # Both strategies, typed from the same one-track library, must agree.
    library = Library.from_views([{"id": "t", **view}])
    node = compile_tree(group, now=NOW, library=library)
    per_view = node.test(library.views[0])
    assert node.mask(Columns.of(library)) == int(per_view), (field, op, value, view)
    return per_view


# (view, field, operator, value, expected)
TABLE: list[tuple[dict[str, Any], str, str, Any, bool]] = [
    # text scalar, case-insensitive by default
    ({"mood": "Happy"}, "mood", "eq", "happy", True),
    ({"mood": "Happy"}, "mood", "eq", "sad", False),
    ({"mood": "Happy"}, "mood", "ne", "happy", False),
    ({"mood": "Happy"}, "mood", "in", ["sad", "HAPPY"], True),
    ({"mood": "Happy"}, "mood", "not_in", ["sad"], True),
    ({"name": "Love Will Tear Us Apart"}, "name", "contains", "tear", True),
    ({"name": "Love Will Tear Us Apart"}, "name", "starts_with", "love", True),
    ({"name": "Love Will Tear Us Apart"}, "name", "ends_with", "APART", True),
    ({"name": "Love Will Tear Us Apart"}, "name", "ends_with", "love", False),
    ({"name": "Heartbeat - Live"}, "name", "regex", "(live|remaster)", True),
    ({"name": "Heartbeat"}, "name", "regex", "(live|remaster)", False),
    ({"name": "Heartbeat - Live"}, "name", "not_regex", "(live|remaster)", False),
    # text list: any element
    ({"genres": ["Rock", "indie"]}, "genres", "eq", "rock", True),
    ({"genres": ["Rock", "indie"]}, "genres", "contains", "ind", True),
    ({"genres": ["Rock", "indie"]}, "genres", "has_any", ["jazz", "INDIE"], True),
    ({"genres": ["Rock", "indie"]}, "genres", "has_any", ["jazz"], False),
    ({"genres": ["Rock", "indie"]}, "genres", "has_all", ["rock", "indie"], True),
    ({"genres": ["Rock", "indie"]}, "genres", "has_all", ["rock", "jazz"], False),
    ({"genres": ["Rock", "indie"]}, "genres", "has_none", ["jazz"], True),
    ({"genres": ["Rock", "indie"]}, "genres", "has_none", ["rock"], False),
    ({"genres": ["Rock", "indie"]}, "genres", "ne", "rock", False),
    ({"artists": ["Chaka Khan", "Rufus"]}, "artist", "eq", "rufus", True),  # alias
    # numbers (and numeric text from a manual enrichment)
    ({"tempo": 124.5}, "tempo", "gt", 120, True),
    ({"tempo": 124.5}, "tempo", "lt", 120, False),
    ({"tempo": 120}, "tempo", "gte", 120, True),
    ({"tempo": 120}, "tempo", "lte", 119.9, False),
    ({"tempo": 120}, "tempo", "between", [120, 130], True),
    ({"tempo": 130.01}, "tempo", "between", [120, 130], False),
    ({"tempo": 130.01}, "tempo", "not_between", [120, 130], True),
    ({"tempo": 120}, "tempo", "eq", 120.0, True),
    ({"tempo": 120}, "tempo", "in", [100, 120], True),
    ({"tempo": "121"}, "tempo", "gt", 120, True),
    ({"tempo": "fast"}, "tempo", "gt", 120, False),
    ({"year": 1999}, "year", "between", [1990, 1999], True),
    ({"duration": 185.2}, "duration", "lt", 200, True),
    # booleans
    ({"explicit": True}, "explicit", "eq", True, True),
    ({"explicit": False}, "explicit", "eq", True, False),
    ({"explicit": False}, "explicit", "ne", True, True),
    ({"liked": True}, "liked", "eq", "true", True),
    # dates: a literal covers its whole period; a date-only value is its first instant
    ({"release_date": "1999-05-17"}, "release_date", "eq", "1999", True),
    ({"release_date": "1999-05-17"}, "release_date", "eq", "1999-05", True),
    ({"release_date": "1999-05-17"}, "release_date", "eq", "1999-05-18", False),
    ({"release_date": "1999"}, "release_date", "eq", "1999", True),
    ({"release_date": "1999"}, "release_date", "before", "1999-05-01", True),
    ({"release_date": "1999-12-31"}, "release_date", "after", "1999", False),
    ({"release_date": "2000-01-01"}, "release_date", "after", "1999", True),
    ({"release_date": "1999-05-17"}, "release_date", "gt", "1999-05", False),
    ({"release_date": "1999-05-17"}, "release_date", "gte", "1999-05", True),
    ({"release_date": "1999-05-17"}, "release_date", "lte", "1999-05", True),
    ({"release_date": "1999-05-17"}, "release_date", "lt", "1999-05", False),
    ({"release_date": "1999-05-17"}, "release_date", "between", ["1990", "1999"], True),
    ({"release_date": "2000-01-01"}, "release_date", "between", ["1990", "1999"], False),
    ({"added_at": datetime(2020, 1, 1, 15, 0, tzinfo=UTC)}, "added_at", "eq", "2020-01-01", True),
    (
        {"added_at": datetime(2020, 1, 1, 15, 0, tzinfo=UTC)},
        "added_at",
        "after",
        "2020-01-01",
        False,
    ),
    ({"added_at": datetime(2020, 1, 2, 0, 0, tzinfo=UTC)}, "added_at", "after", "2020-01-01", True),
    ({"added_at": "2020-01-01T15:00:00Z"}, "added_at", "eq", "2020-01-01T15:00:00+00:00", True),
    ({"added_at": NOW - timedelta(days=29)}, "added_at", "in_last", "30d", True),
    ({"added_at": NOW - timedelta(days=31)}, "added_at", "in_last", "30d", False),
    ({"added_at": NOW - timedelta(days=31)}, "added_at", "not_in_last", "30d", True),
    ({"added_at": NOW - timedelta(hours=2)}, "added_at", "in_last", "3h", True),
    ({"added_at": NOW - timedelta(days=364)}, "added_at", "in_last", "1y", True),
    ({"added_at": NOW + timedelta(days=1)}, "added_at", "in_last", "30d", False),
    # exists
    ({"mood": "calm"}, "mood", "exists", None, True),
    ({"mood": "calm"}, "mood", "not_exists", None, False),
    # playlists and rules
    ({"playlists": ["p1", "Road Trip"]}, "playlists", "in_playlist", "road trip", True),
    ({"playlists": ["p1", "Road Trip"]}, "playlists", "in_playlist", "p2", False),
    ({"playlists": ["p1", "Road Trip"]}, "playlists", "not_in_playlist", "p1", False),
]


@pytest.mark.parametrize(("view", "field", "op", "value", "expected"), TABLE)
def test_operator_table(
    view: dict[str, Any], field: str, op: str, value: Any, expected: bool
) -> None:
    assert check(view, field, op, value) is expected


MISSING_VIEWS: list[dict[str, Any]] = [{}, {"x": None}, {"x": ""}, {"x": []}, {"x": [None, ""]}]
VALUES_FOR: dict[Op, Any] = {
    Op.EQ: "a",
    Op.GT: 1,
    Op.GTE: 1,
    Op.LT: 1,
    Op.LTE: 1,
    Op.BETWEEN: [1, 2],
    Op.IN: ["a"],
    Op.CONTAINS: "a",
    Op.STARTS_WITH: "a",
    Op.ENDS_WITH: "a",
    Op.REGEX: "a",
    Op.HAS_ANY: ["a"],
    Op.HAS_ALL: ["a"],
    Op.BEFORE: "2020",
    Op.AFTER: "2020",
    Op.IN_LAST: "30d",
    Op.EXISTS: None,
}


@pytest.mark.parametrize("view", MISSING_VIEWS, ids=repr)
@pytest.mark.parametrize("op", sorted(VALUES_FOR, key=str), ids=str)
def test_missing_values_fail_positive_and_pass_negative(view: dict[str, Any], op: Op) -> None:
    assert check(view, "x", op.value, VALUES_FOR[op]) is False
    if op in NEGATION:
        assert check(view, "x", NEGATION[op].value, VALUES_FOR[op]) is True


# Views of every shape a field can take, for the negation identities.
SHAPES: list[dict[str, Any]] = [
    {},
    {"x": None},
    {"x": ""},
    {"x": []},
    {"x": "a"},
    {"x": "A b"},
    {"x": ["a", "c"]},
    {"x": ["b"]},
    {"x": 1},
    {"x": 1.5},
    {"x": [0, 5]},
    {"x": True},
    {"x": "2020-05-01"},
    {"x": datetime(2025, 5, 20, tzinfo=UTC)},
]
TWIN_VALUES: dict[Op, list[Any]] = {
    Op.EQ: ["a", 1],
    Op.BETWEEN: [[1, 2], ["2020", "2021"]],
    Op.IN: [["a", "b"], [1, 5]],
    Op.CONTAINS: ["a"],
    Op.STARTS_WITH: ["a"],
    Op.ENDS_WITH: ["b"],
    Op.REGEX: ["^a"],
    Op.HAS_ANY: [["a", "b"], [5]],
    Op.IN_LAST: ["30d"],
    Op.EXISTS: [None],
}


@pytest.mark.parametrize("positive", sorted(TWIN_VALUES, key=str), ids=str)
def test_every_negative_operator_is_not_of_its_twin(positive: Op) -> None:
    negative = NEGATION[positive]
    assert negative in NEGATIVE
    outcomes = set()
    for value in TWIN_VALUES[positive]:
        for view in SHAPES:
            try:
                p = check(view, "x", positive.value, value)
            except RulesInvalidError:  # the literal does not suit the value's type
                with pytest.raises(RulesInvalidError):
                    check(view, "x", negative.value, value)
                continue
            n = check(view, "x", negative.value, value)
            assert n is (not p), (positive, value, view)
            not_group = RuleGroup(
                conditions=[
                    RuleGroup(
                        negate=True,
                        conditions=[RuleCondition(field="x", operator=positive, value=value)],
                    )
                ]
            )
            library = Library.from_views([{"id": "t", **view}])
            assert compile_tree(not_group, now=NOW, library=library).test(view) is n
            outcomes.add(p)
    assert outcomes == {True, False}  # the identity was tested on both sides


def test_accent_insensitive_conditions_ignore_accents_only_when_asked() -> None:
    artist = {"artists": ["Beyoncé", "JAY-Z"], "name": "Café del Mar", "genres": ["Música"]}
    ignoring = {"accent_insensitive": True}
    assert check(artist, "artists", "eq", "beyonce") is False  # accents count by default
    assert check(artist, "artists", "eq", "beyonce", **ignoring) is True
    assert check(artist, "artists", "eq", "BEYONCÉ", **ignoring) is True
    assert check(artist, "artists", "ne", "beyonce", **ignoring) is False  # exact NOT
    assert check(artist, "name", "contains", "cafe", **ignoring) is True
    assert check(artist, "name", "starts_with", "CAFÉ D", **ignoring) is True
    assert check(artist, "genres", "has_any", ["musica", "jazz"], **ignoring) is True
    assert check(artist, "genres", "has_all", ["música", "musica"], **ignoring) is True
    assert check(artist, "name", "regex", "^cafe", **ignoring) is True
    assert check(artist, "name", "regex", "^café del", **ignoring) is True  # pattern unaccented
    assert check(artist, "name", "regex", "^cafe") is False
    both = {"case_sensitive": True, "accent_insensitive": True}
    assert check(artist, "name", "eq", "Cafe del Mar", **both) is True
    assert check(artist, "name", "eq", "cafe del mar", **both) is False


def test_case_sensitive_conditions() -> None:
    assert check({"mood": "Happy"}, "mood", "eq", "happy", case_sensitive=True) is False
    assert check({"mood": "Happy"}, "mood", "eq", "Happy", case_sensitive=True) is True
    assert check({"name": "LIVE"}, "name", "regex", "live", case_sensitive=True) is False
    assert check({"name": "LIVE"}, "name", "regex", "live") is True
    assert check({"name": "Straße"}, "name", "contains", "STRASSE") is True  # casefold


def test_nested_groups_and_or_negate() -> None:
    group = RuleGroup.model_validate(
        {
            "operator": "and",
            "conditions": [
                {"field": "genres", "operator": "has_any", "value": ["rock", "indie rock"]},
                {"field": "tempo", "operator": "between", "value": [120, 130]},
                {
                    "operator": "or",
                    "negate": True,
                    "conditions": [
                        {"field": "artists", "operator": "contains", "value": "Nickelback"},
                        {"field": "name", "operator": "regex", "value": "(live|remaster)"},
                    ],
                },
            ],
        }
    )
    test = compile_group(group, now=NOW)
    base = {"genres": ["Indie Rock"], "tempo": 125, "artists": ["Foals"], "name": "Spanish Sahara"}
    assert test(base)
    assert not test({**base, "name": "Spanish Sahara (Live)"})
    assert not test({**base, "artists": ["Foals", "Nickelback"]})
    assert not test({**base, "tempo": 140})
    assert compile_group(RuleGroup(operator="or"), now=NOW)(base) is False
    assert compile_group(RuleGroup(), now=NOW)(base) is True


def test_seed_matches_rules_accepts_seed_json() -> None:
    seed_group = {
        "operator": "and",
        "conditions": [
            {"field": "mood", "operator": "eq", "value": "happy"},
            {"field": "energy", "operator": "gte", "value": 0.5},
        ],
    }
    assert matches_rules({"mood": "HAPPY", "energy": 0.7}, seed_group)
    assert not matches_rules({"mood": "happy", "energy": 0.2}, seed_group)
    assert not matches_rules({}, seed_group)


@pytest.mark.parametrize(
    ("field", "op", "value", "message"),
    [
        ("name", "regex", "(unclosed", "invalid pattern"),
        ("tempo", "between", [130, 120], "above"),
        ("release_date", "after", "someday", "not a date"),
        ("added_at", "in_last", "30 days", "time span"),
        ("name", "gt", "abc", "numbers or dates"),
        ("tempo", "gt", None, "not a number"),
    ],
)
def test_bad_literals_raise_never_a_silent_false(
    field: str, op: str, value: Any, message: str
) -> None:
    with pytest.raises(RulesInvalidError, match=message):
        check({"name": "x", "tempo": 1}, field, op, value)


def test_regex_engine_is_linear_time() -> None:
    # Catastrophic for a backtracking engine; RE2 answers at once.
    assert check({"name": "a" * 5000 + "!"}, "name", "regex", "^(a+)+$") is False


def _random_view(rng: random.Random, index: int) -> dict[str, Any]:
    def maybe(value: Any) -> Any:
        return rng.choice([value, value, value, None, "", []])

    return {
        "id": f"t{index}",
        "name": maybe(rng.choice(["Love song", "night drive", "Intro", "Live at home", "Ü"])),
        "genres": maybe(rng.sample(["rock", "Indie", "jazz", "pop", "soul"], rng.randrange(0, 3))),
        "tempo": maybe(rng.choice([90, 119.5, 120, 125.25, 140, "128"])),
        "energy": maybe(round(rng.random(), 2)),
        "explicit": rng.random() < 0.3,
        "release_date": maybe(rng.choice(["1999", "1999-05", "2005-02-03", "2021-12-31"])),
        "added_at": maybe(NOW - timedelta(days=rng.randrange(0, 800))),
        "tags": maybe([rng.choice(["chill", "Workout", "summer"])]),
    }


def _random_condition(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        [
            {"field": "name", "operator": rng.choice(["contains", "not_contains"]), "value": "o"},
            {"field": "name", "operator": "regex", "value": rng.choice(["^l", "ive", "ü"])},
            {"field": "name", "operator": rng.choice(["eq", "ne"]), "value": "intro"},
            {
                "field": "genres",
                "operator": rng.choice(["has_any", "has_none", "has_all"]),
                "value": rng.sample(["rock", "indie", "jazz"], 2),
            },
            {"field": "tempo", "operator": rng.choice(["gt", "lte", "eq"]), "value": 120},
            {
                "field": "tempo",
                "operator": rng.choice(["between", "not_between"]),
                "value": [119.5, 128],
            },
            {"field": "energy", "operator": rng.choice(["gte", "lt"]), "value": 0.5},
            {"field": "explicit", "operator": rng.choice(["eq", "ne"]), "value": True},
            {
                "field": "release_date",
                "operator": rng.choice(["before", "after", "eq", "gte"]),
                "value": rng.choice(["1999", "1999-05", "2005"]),
            },
            {
                "field": "added_at",
                "operator": rng.choice(["in_last", "not_in_last"]),
                "value": rng.choice(["30d", "1y"]),
            },
            {"field": "tags", "operator": rng.choice(["exists", "not_exists"])},
            {"field": "tags", "operator": rng.choice(["in", "not_in"]), "value": ["workout"]},
        ]
    )


def _random_group(rng: random.Random, depth: int) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    for _ in range(rng.randrange(1, 4)):
        if depth < 3 and rng.random() < 0.3:
            children.append(_random_group(rng, depth + 1))
        else:
            children.append(_random_condition(rng))
    return {
        "operator": rng.choice(["and", "or"]),
        "negate": rng.random() < 0.2,
        "conditions": children,
    }


def test_set_wise_and_per_view_evaluation_agree_on_random_libraries() -> None:
    rng = random.Random(42)
    library = Library.from_views([_random_view(rng, i) for i in range(400)])
    columns = Columns.of(library)
    sizes = set()
    for _ in range(150):
        group = RuleGroup.model_validate(_random_group(rng, 1))
        node = compile_tree(group, now=NOW, library=library)
        expected = [node.test(view) for view in library.views]
        mask = node.mask(columns).to_bytes(len(library), "little")
        assert [bool(b) for b in mask] == expected, group.model_dump()
        sizes.add(sum(expected))
    assert len(sizes) > 20  # the trees select very different subsets, none trivially
