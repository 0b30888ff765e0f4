"""The operator registry: every operator of the rules language, declared once.

One `Operator` entry says all the language needs to know about an operator and its negative
`Twin`:

* its name, the `RuleOperator` value the JSON model stores (the enum stays in `app.core.rules`:
  the model needs it and `app.core` cannot import the pipeline; an entry for every member is
  checked when this module is imported);
* its text form (plus any `aliases` the parser also reads): the grammar's operator alternatives
  and keywords are generated from it (`text.grammar`), the printer writes it;
* its negative twin, exactly NOT of it (so a missing value satisfies the twin), with the twin's
  own name, text and Navidrome form; operators without one are negated by ``not (…)``;
* the field types it `applies_to` (validation and the field registry's operator lists), the shape
  of its `value` (scalar, pair, list, span, none, ref) and what a scalar `literal` must be (a
  value of the field's type, text in quotes, or an RE2 pattern);
* how it tests one value, for each kind the engine may compare as: a text predicate
  (`on_text`), number or date ranges (`on_number`, `on_date`), a set of booleans (`on_bool`);
  or, for an operator that looks at the whole field, a `match` returning a matcher. The
  engine's matchers (`nodes`) turn each of these into both the per-view `test` and the
  per-library `mask` from that one predicate, so the two evaluations cannot disagree;
* its Navidrome ``.nsp`` operator (`nsp`), when Navidrome has one.

An entry, in full::

    Operator(
        name=Op.CONTAINS,
        text="contains",
        literal="text",
        applies_to=TEXT,
        on_text=lambda v: _contains(v.text()),
        nsp="contains",
        negative=Twin(name=Op.NOT_CONTAINS, text="not contains", nsp="notContains"),
    )

A malformed entry (no way to test a value, a field type it applies to but cannot compare, a
duplicate text form, a `RuleOperator` without an entry…) raises `ValueError` at import.

Read by the grammar (`text.grammar`), the tree builder and printer (`text.builder`,
`text.printer`), validation (`fields.types`, `validation.conditions`, `validation.validator`),
the compiler (`engine.compile`) and the Navidrome tables (`navidrome.tables`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import re2  # type: ignore[import-untyped]

from app.core.rules import MAX_REGEX_LENGTH, RuleCondition, RuleOperator, parse_span
from app.pipeline.rules.nodes import ConditionNode, Every, Matcher, Members, Presence, Range
from app.pipeline.rules.values import (
    Kind,
    Period,
    TextForm,
    as_bool,
    as_number,
    as_text,
    date_period,
    epoch_seconds,
    invalid,
    strip_accents,
    text_former,
)

__all__ = [
    "BY_NAME",
    "NEGATION",
    "NEGATIVE",
    "NSP_FORMS",
    "OPERATORS",
    "TEXT_FORMS",
    "VALUE_KIND",
    "Operand",
    "Operator",
    "Target",
    "Twin",
    "ValueShape",
    "applying_to",
    "build_registry",
]

Op = RuleOperator

ValueShape = Literal["scalar", "pair", "list", "span", "none", "ref"]
"""What an operator's value looks like: one literal, ``[low, high]``, a list, a time span
(``30d``), nothing, or a quoted name (``in playlist "x"``)."""

Target = Literal["text", "number", "date", "bool", "list", "track"]
"""What an operator applies to: a field of a type, a list field (any element type), or the
track itself (the pseudo-field ``track``)."""

TEXT: frozenset[Target] = frozenset({"text"})
NUMBER: frozenset[Target] = frozenset({"number"})
DATE: frozenset[Target] = frozenset({"date"})
BOOL: frozenset[Target] = frozenset({"bool"})
LIST: frozenset[Target] = frozenset({"list"})
TRACK: frozenset[Target] = frozenset({"track"})
ORDERED = NUMBER | DATE
SCALARS = TEXT | NUMBER | DATE | BOOL

_KINDS: tuple[Kind, ...] = ("text", "number", "date", "bool")
_FORM = re.compile(r"[a-z]+(?: [a-z]+)*|[!<=>~&|^*+/]+")  # not `%`, `-`: a unit, a sign
_INF = math.inf

TextTest = Callable[[str], bool]
Ranges = tuple[Range, ...]


# --- what a builder reads ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Operand:
    """A condition's value as an operator's builders read it; errors name the condition.

    `literals` is the value as a list (a list's items, a pair's two ends, else the value alone);
    `form` is how texts compare (casefolded, unaccented); `op` is the positive operator.
    """

    condition: RuleCondition
    op: RuleOperator
    literals: list[Any]
    form: TextForm
    now: datetime
    part: Callable[[RuleOperator, Any], ConditionNode]
    rule_members: Mapping[str, Collection[str]]

    @property
    def value(self) -> Any:
        return self.condition.value

    def number(self) -> float:
        """The value as a number."""
        return self.number_of(self.condition.value)

    def number_of(self, value: Any) -> float:
        """`value` (a literal) as a number."""
        number = as_number(value)
        if number is None:
            raise invalid(f"{self.condition.field}: {value!r} is not a number")
        return number

    def numbers(self) -> list[float]:
        """The literals as numbers, sorted, without repeats."""
        return sorted({self.number_of(v) for v in self.literals})

    def period(self) -> Period:
        """The period the value names, [start, end) in epoch seconds (``2020``: the year)."""
        return date_period(self.condition.value)

    def periods(self) -> list[Period]:
        """The periods the literals name, sorted, without repeats."""
        return sorted({date_period(v) for v in self.literals})

    def text(self) -> str:
        """The value as text in the condition's `form`."""
        if self.condition.value is None:
            raise invalid(f"{self.condition.field} {self.op.value}: a value is needed")
        return text_former(self.form)(as_text(self.condition.value))

    def texts(self) -> frozenset[str]:
        """The literals as texts in the condition's `form` (missing ones left out)."""
        former = text_former(self.form)
        return frozenset(former(as_text(v)) for v in self.literals if v is not None)

    def flags(self) -> frozenset[bool]:
        """The literals as booleans."""
        wanted = set()
        for literal in self.literals:
            flag = as_bool(literal)
            if flag is None:
                raise invalid(f"{self.condition.field}: {literal!r} is not true or false")
            wanted.add(flag)
        return frozenset(wanted)

    def span(self) -> float:
        """The value as a time span in seconds (``30d``, or a number of seconds)."""
        value = self.condition.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(parse_span(str(value)))
        except ValueError as exc:
            raise invalid(f"{self.condition.field} {self.op.value}: {exc}") from None

    def each(self, op: RuleOperator) -> tuple[ConditionNode, ...]:
        """`op` compiled for each literal alone, on the same field (``has all`` is ``has any``
        of every item)."""
        return tuple(self.part(op, [item]) for item in self.literals)

    def members(self) -> frozenset[str]:
        """The tracks of the rule set the value names (evaluated before this one)."""
        ref = str(self.condition.value)
        if ref not in self.rule_members:
            raise invalid(f"rule {ref!r} is unknown or not evaluated yet")
        return frozenset(self.rule_members[ref])


# --- entries -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Twin:
    """The negative twin of an operator: exactly NOT of it, a missing value included.

    It shares its positive's value shape, types and literal; it has its own name, text form(s)
    and Navidrome form.
    """

    name: RuleOperator
    text: str
    aliases: tuple[str, ...] = ()
    nsp: str | None = None


@dataclass(frozen=True, kw_only=True)
class Operator:
    """One operator of the rules language, and its negative twin (see the module docstring)."""

    name: RuleOperator
    text: str
    aliases: tuple[str, ...] = ()
    applies_to: frozenset[Target]
    value: ValueShape = "scalar"
    literal: Literal["field", "text", "pattern"] = "field"
    negative: Twin | None = None
    nsp: str | None = None
    reads: str | None = None
    """The view field it reads, whatever field the condition names (track operators)."""
    refers_to: str | None = None
    """What a `ref` value names, as messages say it (``a playlist id or name``)."""
    folds_case: bool = True
    """Texts are casefolded before `on_text` unless `case_sensitive` (a regex folds case itself)."""
    on_text: Callable[[Operand], TextTest] | None = None
    on_number: Callable[[Operand], Ranges] | None = None
    on_date: Callable[[Operand], Ranges] | None = None
    on_bool: Callable[[Operand], frozenset[bool]] | None = None
    match: Callable[[Operand], Matcher] | None = None
    kinds: tuple[Kind, ...] = field(init=False)
    """The kinds it compares values as: those it has an ``on_<kind>`` builder for."""

    def __post_init__(self) -> None:
        builders = (self.on_text, self.on_number, self.on_date, self.on_bool)
        kinds = tuple(k for k, build in zip(_KINDS, builders, strict=True) if build is not None)
        object.__setattr__(self, "kinds", kinds)
        name = self.name.value
        problems = []
        twin = () if self.negative is None else (self.negative.text, *self.negative.aliases)
        for form in (*self.forms(), *twin):
            if not _FORM.fullmatch(form):
                problems.append(f"text form {form!r} is not lower-case words or one symbol")
        if self.negative is not None and self.negative.name is self.name:
            problems.append("its negative twin has its own name")
        if not self.applies_to or not self.applies_to <= {*_KINDS, "list", "track"}:
            problems.append(f"applies_to {sorted(self.applies_to)} names no field type")
        if (self.match is None) == (not kinds):
            problems.append("says how it tests a value with `match` or `on_<kind>` builders (one)")
        if self.match is None:
            for target in sorted(self.applies_to & set(_KINDS)):
                if target not in kinds:
                    problems.append(f"applies to {target} fields but has no on_{target}")
        if "track" in self.applies_to and self.reads is None:
            problems.append("a track operator names the view field it `reads`")
        if self.value == "ref" and not self.refers_to:
            problems.append("a `ref` value needs `refers_to` (what it names)")
        if self.literal != "field" and (self.value != "scalar" or self.on_text is None):
            problems.append(f"a {self.literal} literal is one scalar compared by on_text")
        if problems:
            raise ValueError(f"operator {name!r}: " + "; ".join(problems))

    def forms(self, name: RuleOperator | None = None) -> tuple[str, ...]:
        """Text forms of the operator (or of its twin, when `name` is the twin's), first the
        one the printer writes."""
        if name is None or name is self.name:
            return (self.text, *self.aliases)
        assert self.negative is not None and name is self.negative.name
        return (self.negative.text, *self.negative.aliases)

    def nsp_of(self, name: RuleOperator) -> str | None:
        """The Navidrome form of the operator (or of its twin)."""
        if name is self.name:
            return self.nsp
        assert self.negative is not None and name is self.negative.name
        return self.negative.nsp

    def names(self) -> tuple[RuleOperator, ...]:
        """The operator's name and its twin's."""
        return (self.name,) if self.negative is None else (self.name, self.negative.name)


# --- how values are tested ---------------------------------------------------------------------


def _above(low: float, inclusive: bool) -> Ranges:
    return (Range(low, inclusive, _INF, True),)


def _below(high: float, inclusive: bool) -> Ranges:
    return (Range(-_INF, True, high, inclusive),)


def _points(numbers: Iterable[float]) -> Ranges:
    return tuple(Range(n, True, n, True) for n in numbers)


def _periods(periods: Iterable[tuple[float, float]]) -> Ranges:
    return tuple(Range(start, True, end, False) for start, end in periods)


def _numbers_between(v: Operand) -> Ranges:
    low, high = (v.number_of(item) for item in v.literals)
    if low > high:
        raise invalid(f"{v.condition.field} {v.op.value}: {low:g} is above {high:g}")
    return (Range(low, True, high, True),)


def _dates_between(v: Operand) -> Ranges:
    (low, _), (_, high) = (date_period(item) for item in v.literals)
    if low >= high:
        raise invalid(f"{v.condition.field} {v.op.value}: the first date is after the second")
    return (Range(low, True, high, False),)


def _in_last(v: Operand) -> Ranges:
    moment = epoch_seconds(v.now)
    return (Range(moment - v.span(), True, moment, True),)


def _contains(needle: str) -> TextTest:
    return lambda text: needle in text


def _starts_with(needle: str) -> TextTest:
    return lambda text: text.startswith(needle)


def _ends_with(needle: str) -> TextTest:
    return lambda text: text.endswith(needle)


def _regex(v: Operand) -> TextTest:
    """An RE2 search (linear time: no pattern can hang), case-insensitive unless asked."""
    condition, pattern = v.condition, v.value
    if condition.accent_insensitive and isinstance(pattern, str):
        pattern = strip_accents(pattern)  # the pattern compares with unaccented text
    if not isinstance(pattern, str):
        raise invalid(f"{condition.field} regex: the pattern must be text")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise invalid(f"{condition.field} regex: pattern longer than {MAX_REGEX_LENGTH}")
    options = re2.Options()
    options.case_sensitive = condition.case_sensitive
    options.log_errors = False
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        raise invalid(f"{condition.field} regex: invalid pattern {pattern!r}: {exc}") from None
    raw = getattr(compiled, "_regexp", None)  # RE2 itself: skips the wrapper's span decoding
    if raw is None or not hasattr(raw, "Match"):
        search = compiled.search
        return lambda text: search(text) is not None
    match, unanchored, miss = raw.Match, re2._Anchor.UNANCHORED, (-1, -1)

    def regex_test(text: str) -> bool:
        encoded = text.encode()
        return bool(match(unanchored, encoded, 0, len(encoded))[0] != miss)

    return regex_test


def _one_of(v: Operand) -> TextTest:
    return v.texts().__contains__


# --- the registry ------------------------------------------------------------------------------

OPERATORS: tuple[Operator, ...] = (
    Operator(
        name=Op.EQ,
        text="=",
        applies_to=SCALARS,
        on_text=lambda v: v.text().__eq__,
        on_number=lambda v: _points([v.number()]),
        on_date=lambda v: _periods([v.period()]),
        on_bool=Operand.flags,
        nsp="is",
        negative=Twin(name=Op.NE, text="!=", nsp="isNot"),
    ),
    Operator(
        name=Op.GT,
        text=">",
        applies_to=ORDERED,
        on_number=lambda v: _above(v.number(), False),
        on_date=lambda v: _above(v.period().end, True),
        nsp="gt",
    ),
    Operator(
        name=Op.GTE,
        text=">=",
        applies_to=ORDERED,
        on_number=lambda v: _above(v.number(), True),
        on_date=lambda v: _above(v.period().start, True),
    ),
    Operator(
        name=Op.LT,
        text="<",
        applies_to=ORDERED,
        on_number=lambda v: _below(v.number(), False),
        on_date=lambda v: _below(v.period().start, False),
        nsp="lt",
    ),
    Operator(
        name=Op.LTE,
        text="<=",
        applies_to=ORDERED,
        on_number=lambda v: _below(v.number(), True),
        on_date=lambda v: _below(v.period().end, False),
    ),
    Operator(
        name=Op.BETWEEN,
        text="between",
        value="pair",
        applies_to=ORDERED,
        on_number=_numbers_between,
        on_date=_dates_between,
        nsp="inTheRange",
        negative=Twin(name=Op.NOT_BETWEEN, text="not between"),
    ),
    Operator(
        name=Op.IN,
        text="in",
        value="list",
        applies_to=TEXT | NUMBER,
        on_text=_one_of,
        on_number=lambda v: _points(v.numbers()),
        on_date=lambda v: _periods(v.periods()),
        on_bool=Operand.flags,
        negative=Twin(name=Op.NOT_IN, text="not in"),
    ),
    Operator(
        name=Op.CONTAINS,
        text="contains",
        literal="text",
        applies_to=TEXT,
        on_text=lambda v: _contains(v.text()),
        nsp="contains",
        negative=Twin(name=Op.NOT_CONTAINS, text="not contains", nsp="notContains"),
    ),
    Operator(
        name=Op.STARTS_WITH,
        text="starts with",
        literal="text",
        applies_to=TEXT,
        on_text=lambda v: _starts_with(v.text()),
        nsp="startsWith",
        negative=Twin(name=Op.NOT_STARTS_WITH, text="not starts with"),
    ),
    Operator(
        name=Op.ENDS_WITH,
        text="ends with",
        literal="text",
        applies_to=TEXT,
        on_text=lambda v: _ends_with(v.text()),
        nsp="endsWith",
        negative=Twin(name=Op.NOT_ENDS_WITH, text="not ends with"),
    ),
    Operator(
        name=Op.REGEX,
        text="matches",
        literal="pattern",
        applies_to=TEXT,
        folds_case=False,
        on_text=_regex,
        negative=Twin(name=Op.NOT_REGEX, text="not matches"),
    ),
    Operator(
        name=Op.HAS_ANY,
        text="has any",
        value="list",
        applies_to=LIST,
        on_text=_one_of,
        on_number=lambda v: _points(v.numbers()),
        on_date=lambda v: _periods(v.periods()),
        on_bool=Operand.flags,
        negative=Twin(name=Op.HAS_NONE, text="has none"),
    ),
    Operator(
        name=Op.HAS_ALL,
        text="has all",
        value="list",
        applies_to=LIST,
        match=lambda v: Every(v.each(Op.HAS_ANY)),
    ),
    Operator(
        name=Op.BEFORE,
        text="before",
        applies_to=DATE,
        on_date=lambda v: _below(v.period().start, False),
        nsp="before",
    ),
    Operator(
        name=Op.AFTER,
        text="after",
        applies_to=DATE,
        on_date=lambda v: _above(v.period().end, True),
        nsp="after",
    ),
    Operator(
        name=Op.IN_LAST,
        text="in last",
        value="span",
        applies_to=DATE,
        on_date=_in_last,
        nsp="inTheLast",
        negative=Twin(name=Op.NOT_IN_LAST, text="not in last", nsp="notInTheLast"),
    ),
    Operator(
        name=Op.EXISTS,
        text="is present",
        value="none",
        applies_to=SCALARS,
        match=lambda v: Presence(),
        negative=Twin(name=Op.NOT_EXISTS, text="is missing"),
    ),
    Operator(
        name=Op.IN_PLAYLIST,
        text="in playlist",
        value="ref",
        applies_to=TRACK,
        reads="playlists",
        refers_to="a playlist id or name",
        on_text=_one_of,
        nsp="inPlaylist",
        negative=Twin(name=Op.NOT_IN_PLAYLIST, text="not in playlist", nsp="notInPlaylist"),
    ),
    Operator(
        name=Op.IN_RULE,
        text="in rule",
        value="ref",
        applies_to=TRACK,
        reads="id",
        refers_to="a rule set id",
        match=lambda v: Members(v.members()),
        negative=Twin(name=Op.NOT_IN_RULE, text="not in rule"),
    ),
)


def build_registry(operators: Iterable[Operator]) -> dict[RuleOperator, Operator]:
    """Each `RuleOperator` → the entry declaring it (as itself or as its twin).

    Raises `ValueError` when a `RuleOperator` has no entry or two, or when two operators share
    a text form or a Navidrome form.
    """
    by_name: dict[RuleOperator, Operator] = {}
    forms: dict[str, RuleOperator] = {}
    nsp: dict[str, RuleOperator] = {}
    problems = []
    for entry in operators:
        for name in entry.names():
            if name in by_name:
                problems.append(f"{name.value!r} is declared twice")
            by_name[name] = entry
            for form in entry.forms(name):
                if form in forms:
                    problems.append(f"{name.value!r} and {forms[form].value!r} both read {form!r}")
                forms[form] = name
            spelled = entry.nsp_of(name)
            if spelled is not None:
                if spelled.lower() in nsp:
                    other = nsp[spelled.lower()].value
                    problems.append(f"{name.value!r} and {other!r} are both .nsp {spelled!r}")
                nsp[spelled.lower()] = name
    problems += [f"{op.value!r} has no entry" for op in RuleOperator if op not in by_name]
    if problems:
        raise ValueError("operator registry: " + "; ".join(problems))
    return {op: by_name[op] for op in RuleOperator}


BY_NAME: Mapping[RuleOperator, Operator] = build_registry(OPERATORS)
"""Every `RuleOperator` → its entry (a negative twin → its positive's entry), in enum order."""

NEGATION: dict[RuleOperator, RuleOperator] = {}
"""Each operator with a twin → the twin, both ways."""
for _entry in OPERATORS:
    if _entry.negative is not None:
        NEGATION[_entry.name] = _entry.negative.name
        NEGATION[_entry.negative.name] = _entry.name

NEGATIVE: frozenset[RuleOperator] = frozenset(
    entry.negative.name for entry in OPERATORS if entry.negative is not None
)
"""Operators that are NOT of a positive twin: true on a missing value."""

VALUE_KIND: dict[RuleOperator, ValueShape] = {op: entry.value for op, entry in BY_NAME.items()}
"""What each operator's value must look like, structurally."""

TEXT_FORMS: dict[RuleOperator, tuple[str, ...]] = {
    op: entry.forms(op) for op, entry in BY_NAME.items()
}
"""Each operator's text forms, the printed one first."""

NSP_FORMS: dict[RuleOperator, str] = {
    op: spelled for op, entry in BY_NAME.items() if (spelled := entry.nsp_of(op)) is not None
}
"""Each operator Navidrome has → its ``.nsp`` name."""


def applying_to(target: Target) -> tuple[RuleOperator, ...]:
    """The operators (twins included) valid on a field of `target`, in `RuleOperator` order."""
    return tuple(op for op, entry in BY_NAME.items() if target in entry.applies_to)
