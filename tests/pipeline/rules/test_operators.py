"""The operator registry is the single source of every operator: each entry is read by the
grammar, the printer, validation, the compiler (both evaluations) and the `.nsp` tables, and an
entry missing a part is refused when it is defined."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lark import Lark
from lark.exceptions import UnexpectedInput

from app.core.errors import RulesInvalidError
from app.core.rules import PlaylistRuleSet, RuleCondition, RuleGroup, RuleOperator, SortKey
from app.pipeline.rules.engine.compile import compile_tree
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import TRACK_FIELD, FieldInfo, FieldType
from app.pipeline.rules.library.columns import Columns
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.navidrome.exporter import export_nsp
from app.pipeline.rules.navidrome.importer import import_nsp
from app.pipeline.rules.navidrome.tables import NSP_TO_OPERATOR, OPERATOR_TO_NSP
from app.pipeline.rules.operators import (
    BY_NAME,
    NEGATION,
    OPERATORS,
    TEXT,
    TEXT_FORMS,
    VALUE_KIND,
    Operand,
    Operator,
    Twin,
    build_registry,
)
from app.pipeline.rules.text.builder import TreeBuilder
from app.pipeline.rules.text.grammar import OPERATOR_PHRASE, grammar_text
from app.pipeline.rules.text.parser import parse_rules
from app.pipeline.rules.text.printer import OPERATOR_TEXT, format_rules, normalize
from app.pipeline.rules.validation.validator import validate_rule_set
from tests.helpers.paths import REPO

Op = RuleOperator
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ALL = list(RuleOperator)

# A field of each kind (and a list field of each element kind) the samples below are written for.
SCALAR_FIELD: dict[FieldType, str] = {
    "text": "name",
    "number": "year",
    "date": "release_date",
    "bool": "explicit",
}
LIST_FIELD: dict[FieldType, str] = {
    "text": "artists",
    "number": "scores",
    "date": "dates",
    "bool": "flags",
}
# A literal of each kind for each value shape (a regex pattern and a time span apart).
LITERALS: dict[tuple[str, str], Any] = {
    ("scalar", "text"): "a",
    ("scalar", "number"): 2000,
    ("scalar", "date"): "2020-05",
    ("scalar", "bool"): True,
    ("pair", "number"): [1990, 2005],
    ("pair", "date"): ["2019", "2021-06"],
    ("list", "text"): ["a", "b"],
    ("list", "number"): [1999, 2001],
    ("list", "date"): ["2020", "2021"],
    ("list", "bool"): [True],
    ("span", "date"): "400d",
    ("ref", "text"): "x",
}


def _value(op: RuleOperator, kind: FieldType) -> Any:
    entry = BY_NAME[op]
    if entry.value == "none":
        return None
    if entry.literal == "pattern":
        return "^a"
    return LITERALS[(entry.value, kind)]


def sample(op: RuleOperator, kind: FieldType | None = None) -> RuleCondition:
    """A valid condition of `op` (comparing as `kind`, else the operator's first kind)."""
    entry = BY_NAME[op]
    kind = kind or (entry.kinds[0] if entry.kinds else "text")
    if "track" in entry.applies_to:
        field = TRACK_FIELD
    elif "list" in entry.applies_to:
        field = LIST_FIELD[kind]
    else:
        field = SCALAR_FIELD[kind]
    return RuleCondition(field=field, operator=op, value=_value(op, kind))


# --- every operator, through every reader of the registry --------------------------------------


def test_every_operator_has_one_entry_and_twins_pair_up() -> None:
    assert set(BY_NAME) == set(RuleOperator)
    assert {name for entry in OPERATORS for name in entry.names()} == set(RuleOperator)
    for op, twin in NEGATION.items():
        assert NEGATION[twin] is op
        assert BY_NAME[op] is BY_NAME[twin]
        assert VALUE_KIND[op] == VALUE_KIND[twin]


@pytest.mark.parametrize("op", ALL, ids=str)
def test_the_parser_reads_and_the_printer_writes_each_text_form(op: RuleOperator) -> None:
    condition = sample(op)
    text = format_rules(RuleGroup(conditions=[condition]))
    assert OPERATOR_TEXT[op] == BY_NAME[op].forms(op)[0]
    assert f" {OPERATOR_TEXT[op]}" in f" {text}"
    assert parse_rules(text).rules == normalize(RuleGroup(conditions=[condition]))
    for alias in BY_NAME[op].forms(op)[1:]:
        assert parse_rules(text.replace(OPERATOR_TEXT[op], alias, 1)).rules.conditions == [
            condition
        ]


@pytest.mark.parametrize("op", ALL, ids=str)
def test_validation_knows_the_types_each_operator_applies_to(op: RuleOperator) -> None:
    entry = BY_NAME[op]
    registry = FieldRegistry.builtin()
    condition = sample(op)
    rule_set = {"id": "r", "name": "R", "rules": {"conditions": [condition.model_dump()]}}
    assert validate_rule_set(rule_set, registry, known_rule_ids={"x"}) == []
    if condition.field != TRACK_FIELD:
        assert op in registry.operators(condition.field)
    for kind, field in SCALAR_FIELD.items():
        fits = kind in entry.applies_to
        assert (op in registry.operators(field)) is fits, (op, field)
        if not fits and "list" not in entry.applies_to and "track" not in entry.applies_to:
            wrong = {**condition.model_dump(), "field": field}
            problems = validate_rule_set(
                {"id": "r", "name": "R", "rules": {"conditions": [wrong]}}, registry
            )
            assert [p.path for p in problems] == ["rules.conditions[0].operator"], problems


@pytest.mark.parametrize("op", ALL, ids=str)
def test_a_text_form_written_as_a_json_operator_gets_a_did_you_mean(op: RuleOperator) -> None:
    for form in BY_NAME[op].forms(op):
        if form == op.value:  # `in`, `contains`…: the text form is the JSON name
            continue
        condition = {**sample(op).model_dump(mode="json"), "operator": form}
        rule_set = {"id": "r", "name": "R", "rules": {"conditions": [condition]}}
        [problem] = validate_rule_set(rule_set, FieldRegistry.builtin())
        assert problem.hint == f"did you mean {op.value!r}?", form


def _random_view(rng: random.Random, index: int) -> dict[str, Any]:
    def maybe(value: Any) -> Any:
        return rng.choice([value, value, value, None, "", []])

    def date() -> Any:
        moment = NOW - timedelta(days=rng.randrange(0, 3000))
        return rng.choice([moment, moment.date().isoformat(), moment.isoformat()[:7]])

    texts = ["a", "Ab", "b", "bA", "x", "Äb", "c"]
    return {
        "id": f"t{index}",
        "name": maybe(rng.choice([*texts, 5, ["a", "z"]])),
        "year": maybe(rng.choice([1985, 1990, 1999.5, 2000, 2001, "2005", "n/a", 2010])),
        "release_date": maybe(date()),
        "explicit": maybe(rng.choice([True, False, "yes", 0])),
        "artists": maybe(rng.sample(texts, rng.randrange(0, 3))),
        "scores": maybe([rng.choice([1990, 1999, 2001, 2005.5]) for _ in range(rng.randrange(3))]),
        "dates": maybe([date() for _ in range(rng.randrange(3))]),
        "flags": maybe([rng.choice([True, False]) for _ in range(rng.randrange(3))]),
        "playlists": maybe(rng.sample(["x", "X", "road trip", "y"], rng.randrange(0, 3))),
    }


def _typed_registry() -> FieldRegistry:
    registry = FieldRegistry.builtin()
    for kind, name in LIST_FIELD.items():
        registry.add(FieldInfo(name, kind, is_list=True))
    return registry


def _kinds(op: RuleOperator) -> tuple[FieldType, ...]:
    """The kinds an operator compares as; a `match` operator, on a field of every kind."""
    entry = BY_NAME[op]
    if entry.kinds:
        return entry.kinds
    return ("text",) if "track" in entry.applies_to else tuple(SCALAR_FIELD)


CASES = [pytest.param(op, kind, id=f"{op}-{kind}") for op in ALL for kind in _kinds(op)]


@pytest.mark.parametrize(("op", "kind"), CASES)
def test_each_builder_gives_a_test_and_a_mask_that_agree(op: RuleOperator, kind: FieldType) -> None:
    # Every kind an entry can compare as, on a library of every shape of value (lists, wrong
    # types, blanks): the per-view test and the per-library mask select the same tracks.
    rng = random.Random(f"{op}-{kind}")
    library = Library.from_views([_random_view(rng, i) for i in range(300)])
    columns = Columns.of(library)
    condition = sample(op, kind)
    node = compile_tree(
        RuleGroup(conditions=[condition]),
        now=NOW,
        registry=_typed_registry(),
        library=library,
        rule_members={"x": {"t1", "t5", "t8", "t299", "gone"}},
    )
    per_view = [node.test(view) for view in library.views]
    mask = node.mask(columns).to_bytes(len(library), "little")
    assert [bool(b) for b in mask] == per_view
    if op not in NEGATION or BY_NAME[op].name is op:  # the sample tells tracks apart
        assert 0 < sum(per_view) < len(per_view), (op, kind)


def test_the_nsp_tables_are_the_registry_forms() -> None:
    declared = {op: BY_NAME[op].nsp_of(op) for op in ALL}
    assert {op: nsp for op, nsp in declared.items() if nsp is not None} == OPERATOR_TO_NSP
    assert {nsp: op for op, nsp in OPERATOR_TO_NSP.items()} == NSP_TO_OPERATOR


NSP_FIELDS = {"name": "title", "year": "year", "release_date": "releasedate", "explicit": None}


@pytest.mark.parametrize("op", ALL, ids=str)
def test_export_writes_the_declared_nsp_form_and_import_reads_it_back(op: RuleOperator) -> None:
    condition = sample(op)
    if condition.field == "explicit":  # Navidrome has no such field; `loved` is ours `liked`
        condition = condition.model_copy(update={"field": "liked"})
    rule_set = PlaylistRuleSet(
        id="r",
        name="R",
        rules=RuleGroup(conditions=[condition]),
        sort=[SortKey(field="name")],  # Navidrome has no "library order"
    )
    exported = export_nsp(rule_set)
    nsp = OPERATOR_TO_NSP.get(op)
    keys = _operator_keys(exported.nsp["all"])
    assert keys <= set(NSP_TO_OPERATOR), keys  # only Navidrome's own operators are written
    if nsp is None:
        assert exported.dropped or exported.notes  # dropped, or rewritten with a note
        return
    assert keys == {nsp}
    assert not exported.dropped
    [back] = import_nsp(exported.nsp).rule_set.rules.conditions
    assert back.operator is op


def _operator_keys(expressions: list[dict[str, Any]]) -> set[str]:
    keys: set[str] = set()
    for expression in expressions:
        for key, payload in expression.items():
            if key in ("all", "any"):
                keys |= _operator_keys(payload)
            elif not (key == "gt" and payload == {"playcount": -1}):  # "no condition left"
                keys.add(key)
    return keys


# --- the grammar is generated from the registry ------------------------------------------------


def _with(op: RuleOperator, **changes: Any) -> dict[RuleOperator, Operator]:
    entries = [dataclasses.replace(e, **changes) if e.name is op else e for e in OPERATORS]
    return build_registry(entries)


def _parse(registry: dict[RuleOperator, Operator], text: str) -> Any:
    parser = Lark(
        grammar_text(registry),
        parser="lalr",
        lexer="contextual",
        transformer=TreeBuilder(),
        maybe_placeholders=True,
    )
    return parser.parse(text)[0]


def test_a_new_text_form_and_an_alias_need_nothing_but_the_entry() -> None:
    registry = _with(Op.CONTAINS, text="includes", aliases=("has text", "~"))
    for text in ('name includes "x"', 'name has text "x"', 'name ~ "x"'):
        assert _parse(registry, text) == RuleCondition(
            field="name", operator=Op.CONTAINS, value="x"
        )
    assert _parse(registry, 'name not contains "x"').operator is Op.NOT_CONTAINS
    with pytest.raises(UnexpectedInput, match="includes"):  # only the registry's forms parse
        _parse(build_registry(OPERATORS), 'name includes "x"')


def test_syntax_errors_list_the_registry_operators() -> None:
    assert OPERATOR_PHRASE == (
        "=, !=, >, >=, <, <=, between, in, contains, starts with, ends with, matches, "
        "has any/all/none, before, after, is present/missing, not …"
    )
    with pytest.raises(RulesInvalidError, match="an operator \\(=, !=, >"):
        parse_rules("tempo ~ 1")


# --- an entry missing a part is refused where it is written ------------------------------------


def _eq(**changes: Any) -> Operator:
    fields: dict[str, Any] = {
        "name": Op.EQ,
        "text": "=",
        "applies_to": TEXT,
        "on_text": lambda v: v.text().__eq__,
    }
    return Operator(**(fields | changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"on_text": None}, "says how it tests a value"),
        ({"match": lambda v: None}, "says how it tests a value"),
        ({"applies_to": frozenset({"text", "date"})}, "applies to date fields but has no on_date"),
        ({"applies_to": frozenset()}, "names no field type"),
        ({"applies_to": frozenset({"track"})}, "names the view field it `reads`"),
        ({"value": "ref", "reads": "x"}, "needs `refers_to`"),
        ({"text": "Equals"}, "is not lower-case words or one symbol"),
        ({"aliases": ("is  equal",)}, "is not lower-case words or one symbol"),
        ({"literal": "pattern", "value": "list"}, "literal is one scalar"),
        ({"negative": Twin(name=Op.EQ, text="!=")}, "its negative twin has its own name"),
        ({"negative": Twin(name=Op.NE, text="Not Equal")}, "'Not Equal' is not lower-case"),
    ],
)
def test_an_entry_missing_a_part_is_refused_when_defined(
    changes: dict[str, Any], message: str
) -> None:
    _eq()  # the unchanged entry is fine
    with pytest.raises(ValueError, match=message):
        _eq(**changes)


def test_the_registry_refuses_a_missing_a_duplicate_or_a_clashing_operator() -> None:
    without_gt = [entry for entry in OPERATORS if entry.name is not Op.GT]
    with pytest.raises(ValueError, match="'gt' has no entry"):
        build_registry(without_gt)
    with pytest.raises(ValueError, match="'gt' is declared twice"):
        build_registry([*OPERATORS, BY_NAME[Op.GT]])
    clash = dataclasses.replace(BY_NAME[Op.GTE], text=">")
    with pytest.raises(ValueError, match="both read '>'"):
        build_registry([clash if e.name is Op.GTE else e for e in OPERATORS])
    twin_nsp = dataclasses.replace(BY_NAME[Op.LT], nsp="gt")
    with pytest.raises(ValueError, match=r"both \.nsp 'gt'"):
        build_registry([twin_nsp if e.name is Op.LT else e for e in OPERATORS])


def test_an_operand_reads_literals_in_the_condition_s_text_form() -> None:
    condition = RuleCondition(field="x", operator=Op.IN, value=["B", 2, None])
    operand = Operand(condition, Op.IN, ["B", 2, None], (True, False), NOW, _no_part, {})
    assert operand.texts() == frozenset({"b", "2"})
    with pytest.raises(RulesInvalidError, match="x: 'B' is not a number"):
        operand.numbers()


def _no_part(op: RuleOperator, value: Any) -> Any:
    raise AssertionError("not a composite operator")


# --- the web editor's copy -----------------------------------------------------------------------

WEB_OPERATORS = REPO / "web" / "src" / "features" / "editor" / "operators.ts"
_WEB_ENTRY = re.compile(r'^\s*(\w+): \{ text: "([^"]*)", shape: "(\w+)" \},$', re.MULTILINE)


def test_the_web_editor_shows_each_operator_as_the_registry_writes_it() -> None:
    # The editor keeps its own table of text forms and value shapes (it builds and highlights
    # text without a round trip); tsc holds it to the operator names, this to what they say.
    table = {
        name: (text, shape) for name, text, shape in _WEB_ENTRY.findall(WEB_OPERATORS.read_text())
    }
    assert table == {op.value: (TEXT_FORMS[op][0], VALUE_KIND[op]) for op in RuleOperator}
