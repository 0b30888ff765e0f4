r"""The text form of a rule set: one parser, one printer, one normal form.

The JSON model (`app.core.rules`) is the source of truth; this is a second, exactly equivalent
view of the parts of a `PlaylistRuleSet` that say which tracks and how many (``rules``,
``sources``, ``sort``, ``limit``, ``dedupe``, ``max_per_artist``). An expression comes first, then
clauses, one per line by convention::

    genres has any ["rock", "indie rock"] and tempo between 120..130 and energy > 0.6
    and added_at in last 90d and not (artists contains "Nickelback" or name matches "live")
    from liked, playlist "37i9dQZF1DXcBWIGoYBM5M"
    sort by energy desc
    limit 90 minutes selected by added_at desc
    dedupe by isrc
    max 2 per artist

Worked examples (each is a doctest):

>>> parsed = parse_rules('tempo > 120 and (genres has any ["rock"] or energy >= 0.8)')
>>> [type(node).__name__ for node in parsed.rules.conditions]
['RuleCondition', 'RuleGroup']
>>> format_rules(parsed)
'tempo > 120 and (genres has any ["rock"] or energy >= 0.8)'

Precedence is ``not`` > ``and`` > ``or``; the printer writes only the parentheses it needs, and
``not`` folds into an operator's negative twin (`normalize`):

>>> format_rules(parse_rules('a = 1 or (b = 2 and c = 3)'))
'a = 1 or b = 2 and c = 3'
>>> format_rules(parse_rules('NOT (name CONTAINS "Live") # keywords ignore case'))
'name not contains "Live"'
>>> format_rules(parse_rules('not (year > 2000)'))
'not (year > 2000)'

Values: ``"text"`` (escapes ``\"`` ``\\`` ``\n`` ``\t`` ``\r`` ``\uXXXX``; any other backslash is
kept, so ``matches "\d+"`` means what it says), numbers ``12``, ``-0.5``, ``1e3``, dates
``2020-01-01``, ``2020-05`` or ``2020-01-01T10:00:00Z`` (kept as the same ISO string; a bare
``2020`` is the number), ``true``/``false``, lists ``["a", "b"]``, ranges ``120..130``, time spans
``30d`` (h d w mo y). A trailing ``case sensitive`` makes a text comparison respect case:

>>> parse_rules('release_date between 2020-01..2020-06 and name = "ABBA" case sensitive').rules
... # doctest: +NORMALIZE_WHITESPACE
RuleGroup(operator='and', negate=False,
  conditions=[RuleCondition(field='release_date', operator=<RuleOperator.BETWEEN: 'between'>,
                            value=['2020-01', '2020-06'], case_sensitive=False),
              RuleCondition(field='name', operator=<RuleOperator.EQ: 'eq'>, value='ABBA',
                            case_sensitive=True)])

A field whose name is not a plain identifier, or is one of ``and or not from sort limit dedupe
max``, is written in double quotes: ``"lastfm:tags" has any ["jazz"]``, ``"sort" = 1``.

Clauses (any order, each once): ``from liked, playlist "<id>", csv "<name>", "<source key>"``
(the rule set's ``sources``; no clause = every fetched track), ``sort by f [asc|desc] [seed N],
…`` (``random seed 7`` is a stable shuffle), ``limit N [tracks|minutes|%] [selected by f desc,
…]``, ``dedupe by id|isrc|recording``, ``max N per artist``. The text describes those six fields
completely: an absent clause means the field's default (`ParsedRules.apply_to`).

Errors are `RuleProblem`s with line, column and length, raised as `RulesInvalidError`:

>>> try:
...     parse_rules("tempo > 120 and and energy > 0.5")
... except RulesInvalidError as error:
...     print(error.detail)  # doctest: +ELLIPSIS
line 1, column 17: expected a field name, 'not', '(' or 'in', found 'and' — 'and' is a keyword; ...
tempo > 120 and and energy > 0.5
                ^^^
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import RulesInvalidError
from app.core.rules import (
    MAX_LIST_VALUES,
    NEGATION,
    VALUE_KIND,
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    RuleProblem,
    SortKey,
)

__all__ = [
    "MAX_NESTING",
    "TEXT_FIELDS",
    "ParsedRules",
    "format_rules",
    "normalize",
    "parse_rules",
]

TRACK_FIELD = "track"
"""The field of `in playlist` / `in rule` conditions, which test the track itself."""

MAX_NESTING = 50
"""Parentheses and `not`s nest at most this deep: refuses hostile input long before recursion."""

TEXT_FIELDS = ("rules", "sources", "sort", "limit", "dedupe", "max_per_artist")
"""The `PlaylistRuleSet` fields the text form describes."""


class ParsedRules(BaseModel):
    """What a text describes: the rule tree and the clauses, with the model's defaults."""

    model_config = ConfigDict(extra="forbid")

    rules: RuleGroup = Field(default_factory=RuleGroup)
    sources: list[str] | None = None
    sort: list[SortKey] = Field(default_factory=list)
    limit: LimitSpec | None = None
    dedupe: Literal["none", "id", "isrc", "recording"] = "none"
    max_per_artist: int | None = Field(default=None, ge=1)

    def apply_to(self, rule_set: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a rule set's JSON with the six text fields replaced (no clause: default)."""
        return {**rule_set, **self.model_dump(mode="json")}


# --- normal form -------------------------------------------------------------------------------


def normalize(group: RuleGroup) -> RuleGroup:
    """The canonical tree the printer writes and the parser returns (same meaning).

    Flattens a group into a parent with the same operator, replaces one-child groups by their
    child, folds `not` into the negative twin (``not (x = 1)`` → ``x != 1``), removes double
    negation, and gives values their canonical container (lists, ``None`` for `exists`).
    A root with a single condition becomes ``and [condition]``.
    """
    node = _normalize_node(group)
    return node if isinstance(node, RuleGroup) else RuleGroup(conditions=[node])


def _normalize_node(node: RuleCondition | RuleGroup) -> RuleCondition | RuleGroup:
    if isinstance(node, RuleCondition):
        return _canonical_value(node)
    if not node.conditions:
        return node
    children: list[RuleCondition | RuleGroup] = []
    for child in (_normalize_node(c) for c in node.conditions):
        if (
            isinstance(child, RuleGroup)
            and child.conditions
            and not child.negate
            and child.operator == node.operator
        ):
            children.extend(child.conditions)
        else:
            children.append(child)
    if len(children) == 1:
        return _negated(children[0]) if node.negate else children[0]
    return RuleGroup(operator=node.operator, negate=node.negate, conditions=children)


def _negated(node: RuleCondition | RuleGroup) -> RuleCondition | RuleGroup:
    """NOT of an already normal node, itself normal."""
    if isinstance(node, RuleGroup):
        if node.negate and len(node.conditions) == 1:  # `not (x > 1)`: double negation
            return node.conditions[0]
        return node.model_copy(update={"negate": not node.negate})
    twin = NEGATION.get(node.operator)
    if twin is None:  # gt gte lt lte has_all before after: only `not (…)` says it
        return RuleGroup(negate=True, conditions=[node])
    return node.model_copy(update={"operator": twin})


def _canonical_value(condition: RuleCondition) -> RuleCondition:
    kind = VALUE_KIND[condition.operator]
    value = condition.value
    if kind == "none" and value is not None:
        return condition.model_copy(update={"value": None})
    if kind in ("pair", "list") and isinstance(value, tuple):
        return condition.model_copy(update={"value": list(value)})
    return condition


# --- printer -----------------------------------------------------------------------------------

_OPERATOR_TEXT: dict[RuleOperator, str] = {
    RuleOperator.EQ: "=",
    RuleOperator.NE: "!=",
    RuleOperator.GT: ">",
    RuleOperator.GTE: ">=",
    RuleOperator.LT: "<",
    RuleOperator.LTE: "<=",
    RuleOperator.BETWEEN: "between",
    RuleOperator.NOT_BETWEEN: "not between",
    RuleOperator.IN: "in",
    RuleOperator.NOT_IN: "not in",
    RuleOperator.CONTAINS: "contains",
    RuleOperator.NOT_CONTAINS: "not contains",
    RuleOperator.STARTS_WITH: "starts with",
    RuleOperator.NOT_STARTS_WITH: "not starts with",
    RuleOperator.ENDS_WITH: "ends with",
    RuleOperator.NOT_ENDS_WITH: "not ends with",
    RuleOperator.REGEX: "matches",
    RuleOperator.NOT_REGEX: "not matches",
    RuleOperator.HAS_ANY: "has any",
    RuleOperator.HAS_ALL: "has all",
    RuleOperator.HAS_NONE: "has none",
    RuleOperator.BEFORE: "before",
    RuleOperator.AFTER: "after",
    RuleOperator.IN_LAST: "in last",
    RuleOperator.NOT_IN_LAST: "not in last",
    RuleOperator.EXISTS: "is present",
    RuleOperator.NOT_EXISTS: "is missing",
    RuleOperator.IN_PLAYLIST: "in playlist",
    RuleOperator.NOT_IN_PLAYLIST: "not in playlist",
    RuleOperator.IN_RULE: "in rule",
    RuleOperator.NOT_IN_RULE: "not in rule",
}
OPERATOR_TEXT = _OPERATOR_TEXT
"""Each operator's text form (for help screens and the UI)."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# Words that are keywords where a field can stand (everything else is contextual).
_FIELD_KEYWORDS = frozenset({"and", "or", "not", "in", "from", "sort", "limit", "dedupe", "max"})
_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?)?)?"
)
_SPAN_TEXT = re.compile(r"[0-9]+(?:mo|h|d|w|y)")
_SIMPLE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def format_rules(rules: PlaylistRuleSet | ParsedRules | RuleGroup | Mapping[str, Any]) -> str:
    """The canonical text of a rule set (or of its rule tree): normalized, one clause per line.

    Raises `ValueError` for what has no text form: an empty nested group, a value of the wrong
    shape for its operator (validation reports those), a non-finite number, ``sources: []``.
    """
    parts = _as_parts(rules)
    lines = []
    root = normalize(parts.rules)
    if root.conditions:
        lines.append(_group_text(root))
    elif root.negate or root.operator != "and":
        raise ValueError("an empty `or` or negated root group has no text form")
    if parts.sources is not None:
        if not parts.sources:
            raise ValueError("`sources: []` (no candidates at all) has no text form")
        lines.append("from " + ", ".join(_source_text(s) for s in parts.sources))
    if parts.sort:
        lines.append("sort by " + _sort_keys_text(parts.sort))
    if parts.limit is not None:
        lines.append(_limit_text(parts.limit))
    if parts.dedupe != "none":
        lines.append(f"dedupe by {parts.dedupe}")
    if parts.max_per_artist is not None:
        lines.append(f"max {parts.max_per_artist} per artist")
    return "\n".join(lines)


def _as_parts(rules: PlaylistRuleSet | ParsedRules | RuleGroup | Mapping[str, Any]) -> ParsedRules:
    if isinstance(rules, ParsedRules):
        return rules
    if isinstance(rules, RuleGroup):
        return ParsedRules(rules=rules)
    if isinstance(rules, PlaylistRuleSet):
        return ParsedRules.model_validate({f: getattr(rules, f) for f in TEXT_FIELDS})
    return ParsedRules.model_validate({f: rules[f] for f in TEXT_FIELDS if f in rules})


def _group_text(group: RuleGroup) -> str:
    if not group.conditions:
        raise ValueError("an empty nested group has no text form")
    inner = f" {group.operator} ".join(
        _child_text(child, group.operator) for child in group.conditions
    )
    if group.negate:
        return f"not ({inner})"
    return inner


def _child_text(node: RuleCondition | RuleGroup, parent_operator: str) -> str:
    if isinstance(node, RuleCondition):
        return _condition_text(node)
    text = _group_text(node)
    # `and` binds tighter than `or`: only an `or` group inside an `and` needs parentheses.
    if not node.negate and node.operator == "or" and parent_operator == "and":
        return f"({text})"
    return text


def _condition_text(condition: RuleCondition) -> str:
    operator = condition.operator
    kind = VALUE_KIND[operator]
    value = condition.value
    where = f"{condition.field} {operator.value}"
    implied = kind == "ref" and condition.field == TRACK_FIELD and not condition.case_sensitive
    parts = [] if implied else [_field_text(condition.field)]
    parts.append(_OPERATOR_TEXT[operator])
    if kind == "scalar":
        parts.append(_scalar_text(value, where))
    elif kind == "pair":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(f"{where}: needs a [low, high] pair, got {value!r}")
        parts.append(f"{_scalar_text(value[0], where)}..{_scalar_text(value[1], where)}")
    elif kind == "list":
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: needs a list, got {value!r}")
        parts.append("[" + ", ".join(_scalar_text(v, where) for v in value) + "]")
    elif kind == "span":
        if not isinstance(value, str):
            raise ValueError(f"{where}: needs a time span such as '30d', got {value!r}")
        parts.append(value if _SPAN_TEXT.fullmatch(value) else _quote(value))
    elif kind == "ref":
        if not isinstance(value, str):
            raise ValueError(f"{where}: needs a name in quotes, got {value!r}")
        parts.append(_quote(value))
    if condition.case_sensitive:
        parts.append("case sensitive")
    return " ".join(parts)


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} has no text form")
        return repr(value)
    if isinstance(value, str):
        return value if _is_date_literal(value) else _quote(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise ValueError(f"{where}: {value!r} is not a text, number, date or boolean")


def _is_date_literal(text: str) -> bool:
    """A date the parser accepts unquoted: YYYY-MM, YYYY-MM-DD or an ISO date-time."""
    if not _DATE.fullmatch(text):
        return False
    try:
        if len(text) == 7:
            return 1 <= int(text[5:]) <= 12 and int(text[:4]) >= 1
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _field_text(name: str) -> str:
    if _NAME.fullmatch(name) and name.lower() not in _FIELD_KEYWORDS:
        return name
    return _quote(name)


def _quote(text: str) -> str:
    """Double-quoted, escaping only what must be; a backslash stays single when unambiguous."""
    out = ['"']
    for index, char in enumerate(text):
        if char == "\\":
            following = text[index + 1] if index + 1 < len(text) else None
            plain = (
                following is not None
                and following not in '"\\ntru'
                and _escape_char(following) == following
            )
            out.append("\\" if plain else "\\\\")
        else:
            out.append(_escape_char(char))
    out.append('"')
    return "".join(out)


def _escape_char(char: str) -> str:
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    code = ord(char)
    # Control characters and anything `str.splitlines` treats as a line break stay visible.
    if code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029):
        return f"\\u{code:04x}"
    return char


def _unquote(token: str) -> str:
    body = token[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        following = body[index + 1]  # the lexer guarantees a character after a backslash
        if following in _UNESCAPES:
            out.append(_UNESCAPES[following])
            index += 2
        elif following == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2 : index + 6]):
            out.append(chr(int(body[index + 2 : index + 6], 16)))
            index += 6
        else:  # not an escape: the backslash is kept (regexes read naturally)
            out.append("\\")
            index += 1
    return "".join(out)


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _source_text(source: str) -> str:
    if source == "liked":
        return "liked"
    for kind in ("playlist", "csv"):
        if source.startswith(f"{kind}:"):
            return f"{kind} {_quote(source[len(kind) + 1 :])}"
    return _quote(source)


def _sort_keys_text(keys: Iterable[SortKey]) -> str:
    texts = []
    for key in keys:
        text = _field_text(key.field) + (" desc" if key.order == "desc" else "")
        texts.append(text + (f" seed {key.seed}" if key.seed is not None else ""))
    return ", ".join(texts)


def _limit_text(limit: LimitSpec) -> str:
    unit = {"tracks": " tracks", "minutes": " minutes", "percent": "%"}[limit.unit]
    text = f"limit {_number_text(limit.value)}{unit}"
    if limit.selected_by:
        text += " selected by " + _sort_keys_text(limit.selected_by)
    return text


# --- parser ------------------------------------------------------------------------------------


def parse_rules(text: str) -> ParsedRules:
    """The rule tree (normalized) and clauses a text describes; `RulesInvalidError` if it can't."""
    try:
        # The transformer runs inside the parse, so the "tree" is `_Build.start`'s tuple.
        built: Any = _parser().parse(text)
    except _ProblemFound as found:
        raise _invalid(found.problem, text) from None
    except UnexpectedInput as error:
        raise _invalid(_syntax_problem(error, text), text) from None
    root, clauses = built
    rules = normalize(_to_model(root)) if root is not None else RuleGroup()
    return ParsedRules(rules=rules, **clauses)


def _invalid(problem: RuleProblem, text: str) -> RulesInvalidError:
    return RulesInvalidError([problem.model_dump() | {"rendered": problem.render(text)}], text=text)


class _ProblemFound(Exception):
    def __init__(self, problem: RuleProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _problem_at(
    token: Token, message: str, *, hint: str | None = None, end: Token | None = None
) -> _ProblemFound:
    last = end or token
    length = (last.end_pos or 0) - (token.start_pos or 0) if last.line == token.line else len(token)
    return _ProblemFound(
        RuleProblem(
            message=message,
            line=token.line,
            column=token.column,
            length=max(1, length),
            hint=hint,
        )
    )


class _NestingGuard:
    """Lark post-lexer: refuses deep parentheses early; keeps `and or not` reserved everywhere."""

    always_accept = ("_AND", "_OR", "NOT")

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        # Each open parenthesis remembers the run of prefix `not`s before it: the nesting is the
        # parentheses plus every such `not`, counted left to right so the error is at the first
        # token too deep.
        opened: list[int] = []
        run = 0
        previous = "LPAR"
        for token in stream:
            kind = token.type
            if kind == "NOT" and previous in ("LPAR", "_AND", "_OR", "NOT"):
                run += 1
            elif kind == "LPAR":
                opened.append(run + 1)
                run = 0
            elif kind == "_RPAR":
                run = 0
                if opened:
                    opened.pop()
            else:
                run = 0
            if kind in ("NOT", "LPAR") and sum(opened) + run > MAX_NESTING:
                raise _problem_at(
                    token,
                    f"parentheses and 'not' nest more than {MAX_NESTING} deep",
                    hint="simplify the expression",
                )
            previous = kind
            yield token


@cache
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "rules_grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        postlex=_NestingGuard(),
        transformer=_Build(),
        maybe_placeholders=True,
    )


# The parse tree is built bottom-up by LALR reductions (no recursion), into these light nodes
# that know their depth, then turned into the model once the depth is known to be small.
@dataclass(slots=True)
class _Group:
    operator: Literal["and", "or"]
    negate: bool
    children: list[RuleCondition | _Group]
    depth: int


@dataclass(slots=True)
class _Value:
    value: Any
    first: Token
    last: Token


def _depth(node: RuleCondition | _Group) -> int:
    return node.depth if isinstance(node, _Group) else 0


def _to_model(node: RuleCondition | _Group) -> RuleGroup:
    if isinstance(node, RuleCondition):
        return RuleGroup(conditions=[node])
    return RuleGroup(
        operator=node.operator,
        negate=node.negate,
        conditions=[c if isinstance(c, RuleCondition) else _to_model(c) for c in node.children],
    )


_CLAUSE_TEXT = {
    "sources": "from",
    "sort": "sort by",
    "limit": "limit",
    "dedupe": "dedupe by",
    "max_per_artist": "max … per artist",
}


class _Build(Transformer[Token, Any]):
    """LALR callbacks: each grammar rule's children to a value; semantic checks raise problems."""

    def start(self, children: list[Any]) -> tuple[RuleCondition | _Group | None, dict[str, Any]]:
        root, *clauses = children
        seen: dict[str, Any] = {}
        for name, value, token in clauses:
            if name in seen:
                raise _problem_at(token, f"a second '{_CLAUSE_TEXT[name]}' clause")
            seen[name] = value
        return root, seen

    def expr(self, children: list[RuleCondition | _Group]) -> RuleCondition | _Group:
        return self._group("or", children)

    def conj(self, children: list[RuleCondition | _Group]) -> RuleCondition | _Group:
        return self._group("and", children)

    @staticmethod
    def _group(
        operator: Literal["and", "or"], children: list[RuleCondition | _Group]
    ) -> RuleCondition | _Group:
        if len(children) == 1:
            return children[0]
        return _Group(operator, False, children, 1 + max(_depth(c) for c in children))

    def negation(self, children: list[Any]) -> _Group:
        not_token, inner = children
        depth = 1 + _depth(inner)
        if depth > MAX_NESTING:
            raise _problem_at(not_token, f"'not' and parentheses nest more than {MAX_NESTING} deep")
        return _Group("and", True, [inner], depth)

    def paren(self, children: list[Any]) -> RuleCondition | _Group:
        return children[1]  # type: ignore[no-any-return]

    def unary(self, children: list[RuleCondition]) -> RuleCondition:
        return children[0]

    def condition(self, children: list[Any]) -> RuleCondition:
        field, (operator, value), case = children
        return RuleCondition(
            field=field.value, operator=operator, value=value, case_sensitive=case is not None
        )

    def track_condition(self, children: list[Any]) -> RuleCondition:
        operator, value = children[0]
        return RuleCondition(field=TRACK_FIELD, operator=operator, value=value)

    def field(self, children: list[Token]) -> _Value:
        token = children[0]
        name = _unquote(token) if token.type == "STRING" else str(token)
        if not 1 <= len(name) <= 100:
            raise _problem_at(token, "a field name has 1 to 100 characters")
        return _Value(name, token, token)

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:
        if not str(data).startswith("op_"):  # Lark's own helper rules (repetitions)
            return super().__default__(data, children, meta)  # type: ignore[no-untyped-call]
        operator = RuleOperator(str(data).removeprefix("op_"))
        kind = VALUE_KIND[operator]
        if kind == "none":
            return operator, None
        last = children[-1]
        if kind == "ref":
            return operator, _unquote(last)
        return operator, last.value

    def scalar(self, children: list[Token]) -> _Value:
        token = children[0]
        kind = token.type
        value: Any
        if kind == "STRING":
            value = _unquote(token)
        elif kind == "NUMBER":
            value = float(token) if any(c in token for c in ".eE") else int(token)
            if isinstance(value, float) and not math.isfinite(value):
                raise _problem_at(token, f"{token} is too large a number")
        elif kind == "DATE":
            if not _is_date_literal(str(token)):
                raise _problem_at(
                    token,
                    f"{token} is not a valid date",
                    hint="write YYYY-MM-DD, YYYY-MM or an ISO date-time",
                )
            value = str(token)
        else:
            value = kind == "TRUE"
        return _Value(value, token, token)

    def bounds(self, children: list[_Value]) -> _Value:
        low, high = children
        kinds = {_literal_kind(low), _literal_kind(high)}
        if len(kinds) != 1:
            raise _problem_at(
                low.first,
                "a range's ends must both be numbers, both dates or both texts",
                end=high.last,
            )
        comparable = kinds == {"number"} or (
            kinds == {"date"} and len(low.value) == len(high.value) and len(low.value) <= 10
        )
        if comparable and low.value > high.value:
            raise _problem_at(
                low.first,
                f"the range {low.first}..{high.last} is empty",
                hint=f"write the low end first: {high.last}..{low.first}",
                end=high.last,
            )
        return _Value([low.value, high.value], low.first, high.last)

    def items(self, children: list[Any]) -> _Value:
        bracket, *items = children
        values = [item for item in items if item is not None]
        if len(values) > MAX_LIST_VALUES:
            raise _problem_at(
                bracket, f"a list has at most {MAX_LIST_VALUES} values; this one has {len(values)}"
            )
        last = values[-1].last if values else bracket
        return _Value([v.value for v in values], bracket, last)

    def span(self, children: list[Token]) -> _Value:
        token = children[0]
        return _Value(_unquote(token) if token.type == "STRING" else str(token), token, token)

    # clauses ---------------------------------------------------------------------------------

    def from_clause(self, children: list[Any]) -> tuple[str, list[str], Token]:
        return "sources", children[1:], children[0]

    def source_liked(self, children: list[Token]) -> str:
        return "liked"

    def source_playlist(self, children: list[Token]) -> str:
        return "playlist:" + _unquote(children[0])

    def source_csv(self, children: list[Token]) -> str:
        return "csv:" + _unquote(children[0])

    def source_raw(self, children: list[Token]) -> str:
        return _unquote(children[0])

    def sort_clause(self, children: list[Any]) -> tuple[str, list[SortKey], Token]:
        return "sort", children[1], children[0]

    def sort_keys(self, children: list[SortKey]) -> list[SortKey]:
        return children

    def sort_key(self, children: list[Any]) -> SortKey:
        field, order, seed = children
        return SortKey(
            field=field.value,
            order="desc" if order is not None and order.type == "DESC" else "asc",
            seed=None if seed is None else _whole_number(seed, "a seed", minimum=None),
        )

    def limit_clause(self, children: list[Any]) -> tuple[str, LimitSpec, Token]:
        keyword, amount, unit, selected_by = children
        value = float(amount)
        unit = unit or "tracks"
        if value <= 0:
            raise _problem_at(amount, "a limit must be more than 0")
        if unit == "tracks" and value != int(value):
            raise _problem_at(amount, "a limit in tracks is a whole number")
        if unit == "percent" and value > 100:
            raise _problem_at(amount, "a limit in percent is at most 100")
        spec = LimitSpec(value=value, unit=unit, selected_by=selected_by or [])
        return "limit", spec, keyword

    def limit_unit(self, children: list[Token]) -> str:
        return {"TRACKS": "tracks", "MINUTES": "minutes", "PERCENT": "percent"}[children[0].type]

    def dedupe_clause(self, children: list[Token]) -> tuple[str, str, Token]:
        keyword, key = children
        if key.lower() not in ("none", "id", "isrc", "recording"):
            raise _problem_at(key, f"cannot dedupe by '{key}'", hint="use id, isrc or recording")
        return "dedupe", key.lower(), keyword

    def max_clause(self, children: list[Token]) -> tuple[str, int, Token]:
        keyword, amount = children
        return "max_per_artist", _whole_number(amount, "'max … per artist'", minimum=1), keyword


def _whole_number(token: Token, what: str, *, minimum: int | None) -> int:
    if any(c in token for c in ".eE") or (minimum is not None and int(token) < minimum):
        at_least = f" of at least {minimum}" if minimum is not None else ""
        raise _problem_at(token, f"{what} takes a whole number{at_least}, not {token}")
    return int(token)


def _literal_kind(value: _Value) -> str:
    if value.first.type == "DATE":
        return "date"
    if value.first.type == "NUMBER":
        return "number"
    return "text" if value.first.type == "STRING" else "boolean"


# --- syntax errors -----------------------------------------------------------------------------

_OPERATOR_TERMINALS = frozenset(
    {"EQ", "NE", "GT", "GTE", "LT", "LTE", "_BETWEEN", "_IN", "_CONTAINS", "_STARTS", "_ENDS"}
    | {"_MATCHES", "_HAS", "_BEFORE", "_AFTER", "_IS", "NOT"}
)
_VALUE_TERMINALS = frozenset({"STRING", "NUMBER", "DATE", "TRUE", "FALSE"})
_CLAUSE_TERMINALS = frozenset({"FROM", "SORT", "LIMIT", "DEDUPE", "MAX"})
# What to call what the parser expected, in the order messages list them; a group is named when
# all of its terminals are expected.
_EXPECTED_NAMES: tuple[tuple[frozenset[str], str], ...] = (
    (
        _OPERATOR_TERMINALS,
        "an operator (=, !=, >, >=, <, <=, between, in, contains, starts with, ends with, "
        "matches, has any/all/none, before, after, is present/missing, not …)",
    ),
    (_VALUE_TERMINALS, 'a value ("text", a number, a date, true or false)'),
    (frozenset({"NAME", "STRING"}), "a field name"),
    (frozenset({"NAME"}), "a field name"),
    (frozenset({"STRING"}), "a string"),
    (frozenset({"NUMBER"}), "a number"),
    (frozenset({"DATE"}), "a date"),
    (frozenset({"SPAN"}), "a time span like 30d"),
    (frozenset({"TRUE"}), "true"),
    (frozenset({"FALSE"}), "false"),
    (frozenset({"NOT"}), "'not'"),
    (frozenset({"LPAR"}), "'('"),
    (frozenset({"LBRACK"}), "'['"),
    (frozenset({"_AND"}), "'and'"),
    (frozenset({"_OR"}), "'or'"),
    (frozenset({"CASE"}), "'case sensitive'"),
    (frozenset({"_SENSITIVE"}), "'sensitive'"),
    (frozenset({"_DOTDOT"}), "'..'"),
    (frozenset({"_COMMA"}), "','"),
    (frozenset({"_RPAR"}), "')'"),
    (frozenset({"_RBRACK"}), "']'"),
    (frozenset({"_ANY", "_ALL", "_NONE"}), "'any', 'all' or 'none'"),
    (frozenset({"_PRESENT", "_MISSING"}), "'present' or 'missing'"),
    (frozenset({"_LAST"}), "'last'"),
    (frozenset({"_PLAYLIST"}), "'playlist'"),
    (frozenset({"_RULE"}), "'rule'"),
    (frozenset({"_WITH"}), "'with'"),
    (frozenset({"_BY"}), "'by'"),
    (frozenset({"ASC", "DESC"}), "'asc' or 'desc'"),
    (frozenset({"_SEED"}), "'seed'"),
    (frozenset({"TRACKS", "MINUTES", "PERCENT"}), "a unit (tracks, minutes or %)"),
    (frozenset({"_SELECTED"}), "'selected by'"),
    (frozenset({"_PER"}), "'per'"),
    (frozenset({"_ARTIST"}), "'artist'"),
    (frozenset({"LIKED"}), "'liked'"),
    (frozenset({"_CSV"}), "'csv'"),
    (_CLAUSE_TERMINALS, "a clause (from, sort by, limit, dedupe by, max … per artist)"),
    (frozenset({"$END"}), "the end of the text"),
)
_BAD_LITERAL = re.compile(r"-?[0-9][\w.:+-]*")
_OPENERS = re.compile(r'"(?:[^"\\\n]|\\[^\n])*"?|#[^\n]*|[()\[\]]')


def _expected_text(expected: Iterable[str]) -> str:
    remaining = set(expected)
    names = []
    for terminals, name in _EXPECTED_NAMES:
        if terminals <= remaining:
            names.append(name)
            remaining -= terminals
    # Terminals not named above (should not happen) still show, by their grammar name.
    names.extend(sorted(f"'{t.strip('_').lower()}'" for t in remaining))
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _syntax_problem(error: UnexpectedInput, text: str) -> RuleProblem:
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, text)
    assert isinstance(error, UnexpectedCharacters)
    return _unexpected_characters(error, text)


def _unexpected_token(error: UnexpectedToken, text: str) -> RuleProblem:
    token = error.token
    expected = _expected_at(text, len(text) if token.type == "$END" else token.start_pos or 0)
    if token.type == "$END":
        opener = _unclosed_opener(text, len(text))
        if opener is not None and ({"_RPAR", "_RBRACK"} & expected):
            char, line, column = opener
            closer = ")" if char == "(" else "]"
            return RuleProblem(
                message=f"'{char}' is never closed",
                line=line,
                column=column,
                hint=f"expected {_expected_text(expected)} before the end; add '{closer}'",
            )
        return RuleProblem(
            message=f"expected {_expected_text(expected)}, found the end of the text",
            line=token.end_line,
            column=token.end_column,
        )
    hint = None
    if token.type in ("_AND", "_OR", "NOT") and "NAME" in expected:
        word = str(token).lower()
        hint = f"'{word}' is a keyword; write a field with that name in quotes: \"{word}\""
    elif token.type == "NAME" and _VALUE_TERMINALS & expected:
        hint = f'text goes in double quotes: "{token}"'
    elif "_RPAR" in expected:
        opener = _unclosed_opener(text, token.start_pos or 0)
        if opener is not None:
            hint = f"the '(' at line {opener[1]}, column {opener[2]} is not closed"
    return RuleProblem(
        message=f"expected {_expected_text(expected)}, found '{token}'",
        line=token.line,
        column=token.column,
        length=max(1, len(token)),
        hint=hint,
    )


def _unexpected_characters(error: UnexpectedCharacters, text: str) -> RuleProblem:
    position = error.pos_in_stream or 0
    char = text[position]
    line_end = text.find("\n", position)
    rest = text[position : len(text) if line_end < 0 else line_end]
    where = {"line": error.line, "column": error.column}
    if char == '"':
        return RuleProblem(
            message="unclosed string",
            length=len(rest),
            hint='a string ends with " on the same line',
            **where,
        )
    bad = _BAD_LITERAL.match(text, position)
    allowed = _expected_at(text, position)
    if bad and allowed & (_VALUE_TERMINALS | {"SPAN"}):
        word = bad.group()
        if re.fullmatch(r"-?[0-9]+\.", word):
            message = f"'{word}' is not a number"
            hint = f"write {word[:-1]} or {word}5 (a range is written {word[:-1]}..130)"
        elif re.fullmatch(r"[0-9]+[A-Za-z]+", word):
            message = f"'{word}' is not a time span"
            hint = "a span is a whole number and a unit: h, d, w, mo or y (30d)"
        elif re.match(r"[0-9]{4}-", word):
            message = f"'{word}' is not a date"
            hint = "write YYYY-MM-DD, YYYY-MM or an ISO date-time"
        else:
            message = f"'{word}' is not a number, date or time span"
            hint = None
        return RuleProblem(message=message, length=len(word), hint=hint, **where)
    shown = bad.group() if bad else char
    return RuleProblem(
        message=f"expected {_expected_text(allowed)}, found '{shown}'",
        length=len(shown),
        **where,
    )


def _expected_at(text: str, position: int) -> set[str]:
    """The terminals the grammar accepts at `position`, exactly (the LALR tables merge states)."""
    interactive = _parser().parse_interactive(text)
    try:
        for token in interactive.iter_parse():
            if (token.start_pos or 0) >= position:
                break
    except (UnexpectedInput, _ProblemFound):
        pass
    accepted: set[str] = interactive.accepts()  # type: ignore[no-untyped-call]
    return {t for t in accepted if t not in ("COMMENT", "WS")}


def _unclosed_opener(text: str, end: int) -> tuple[str, int, int] | None:
    """The innermost '(' or '[' still open at `end`, as (char, line, column)."""
    stack: list[int] = []
    for match in _OPENERS.finditer(text, 0, end):
        char = match.group()
        if char in "([":
            stack.append(match.start())
        elif char in ")]" and stack:
            stack.pop()
    if not stack:
        return None
    start = stack[-1]
    line = text.count("\n", 0, start) + 1
    return text[start], line, start - (text.rfind("\n", 0, start) + 1) + 1
