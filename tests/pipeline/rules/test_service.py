"""Rule files (`[id] Name` headers, kept in git by users) applied through the rules manager over
real stores in a temporary directory: cross references inside one file, all-or-nothing, header
errors."""

from __future__ import annotations

import pytest

from app.core.errors import RulesInvalidError, UnprocessableError
from app.core.rules import MAX_RULE_TEXT_CHARS, RuleCondition
from app.data import Stores
from app.pipeline.rules.rule_files import apply_rules_file
from app.pipeline.rules.rule_sets import stored_rule_sets, upsert_rule_set
from app.pipeline.services import Services


@pytest.fixture
def stores(services: Services) -> Stores:
    return services.stores


TWO_THAT_REFER = """\
# my playlists
[a] Long ones
duration > 300
sort by duration desc

[b] Long and clean
in rule "a" and explicit = false
"""


def test_a_file_whose_rule_sets_refer_to_each_other_is_applied(stores: Stores) -> None:
    saved = apply_rules_file(stores, TWO_THAT_REFER)
    assert [(rs.id, rs.name) for rs in saved] == [("a", "Long ones"), ("b", "Long and clean")]
    stored = {rs.id: rs for rs in stored_rule_sets(stores)}
    assert list(stored) == ["a", "b"]
    assert [key.field for key in stored["a"].sort] == ["duration"]
    condition = stored["b"].rules.conditions[0]
    assert isinstance(condition, RuleCondition)
    assert (condition.field, condition.operator.value, condition.value) == ("track", "in_rule", "a")
    # Applying again replaces by id: still two rule sets.
    apply_rules_file(stores, TWO_THAT_REFER.replace("Long ones", "Longer ones"))
    assert [(d["id"], d["name"]) for d in stores.rules.load_rules()] == [
        ("a", "Longer ones"),
        ("b", "Long and clean"),
    ]


def test_nothing_is_saved_when_one_rule_set_of_the_file_is_invalid(stores: Stores) -> None:
    upsert_rule_set(stores, {"id": "a", "name": "Kept", "text": "explicit = true"})
    before = stores.rules.path.read_bytes()
    content = TWO_THAT_REFER.replace("explicit = false", "explicitt = false")
    with pytest.raises(RulesInvalidError) as caught:
        apply_rules_file(stores, content)
    [problem] = caught.value.extra["problems"]
    assert problem["message"] == "[b] unknown field 'explicitt'"
    assert problem["hint"] == "did you mean 'explicit'?"
    assert (problem["line"], problem["column"]) == (7, 17)  # lines of the file
    assert problem["rendered"].splitlines() == [
        "line 7, column 17: [b] unknown field 'explicitt' — did you mean 'explicit'?",
        'in rule "a" and explicitt = false',
        "                ^^^^^^^^^",
    ]
    assert stores.rules.path.read_bytes() == before
    assert [rs.name for rs in stored_rule_sets(stores)] == ["Kept"]


def test_a_cycle_inside_one_file_is_refused(stores: Stores) -> None:
    content = '[a] A\nin rule "b"\n\n[b] B\nin rule "a"\n'
    with pytest.raises(RulesInvalidError) as caught:
        apply_rules_file(stores, content)
    assert [p["message"] for p in caught.value.extra["problems"]] == [
        "rules a → b → a form a cycle"
    ]
    assert stores.rules.load_rules() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "duration > 300\n[a] A\nexplicit = true\n",
            "line 1: text before the first '[id] Name' header",
        ),
        (
            "# only a comment\n[a]\nexplicit = true\n",
            "line 2: a rule set starts with '[id] Name', got '[a]'",
        ),
        ("# nothing here\n\n", "no rule set in the file (each starts with '[id] Name')"),
    ],
)
def test_header_errors(stores: Stores, content: str, message: str) -> None:
    with pytest.raises(UnprocessableError) as caught:
        apply_rules_file(stores, content)
    assert caught.value.code == "rules_file_invalid"
    assert str(caught.value.detail) == message
    assert stores.rules.load_rules() == []


@pytest.mark.parametrize("extra", [0, 1])
def test_a_rule_set_deep_in_a_file_has_the_same_length_limit_as_alone(
    stores: Stores, extra: int
) -> None:
    # The second rule set starts on line 40: its text is measured without the blank lines
    # that stand in for the file above it (they keep problem positions on file lines).
    rules = "explicit = true\n"
    text = rules + "#" * (MAX_RULE_TEXT_CHARS + extra - len(rules))
    content = "[a] First\nexplicit = false\n" + "# a note\n" * 37 + "[b] Second\n" + text
    if extra == 0:
        saved = apply_rules_file(stores, content)
        assert [rs.id for rs in saved] == ["a", "b"]
        return
    with pytest.raises(RulesInvalidError) as caught:
        apply_rules_file(stores, content)
    messages = [p["message"] for p in caught.value.extra["problems"]]
    assert f"the rule text has {MAX_RULE_TEXT_CHARS + 1:,} characters" in " ".join(messages)
    assert stores.rules.load_rules() == []
