"""Syntax errors of the rules text form, as `RuleProblem`s a person can act on.

`problem_at` locates a semantic problem found while building (a bad date, a second clause);
`syntax_problem` turns Lark's `UnexpectedInput` into a message naming what the grammar accepts
at that point (computed exactly with an interactive parse), with hints for the usual slips:
a keyword used as a field name, unquoted text, an unclosed string, parenthesis or bracket, a
malformed number, date or time span.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from app.core.rules import RuleProblem
from app.pipeline.rules.text.grammar import (
    CLAUSE_WORDS,
    CONTINUATIONS,
    OPERATOR_PHRASE,
    OPERATOR_TERMINALS,
    SOFT_KEYWORDS,
)

__all__ = ["ProblemFound", "problem_at", "syntax_problem"]


class ProblemFound(Exception):
    """A problem found while parsing: raised inside the parse, turned into `RulesInvalidError`."""

    def __init__(self, problem: RuleProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def problem_at(
    token: Token, message: str, *, hint: str | None = None, end: Token | None = None
) -> ProblemFound:
    """The problem at `token` (through `end`, when on the same line), ready to raise."""
    last = end or token
    length = (last.end_pos or 0) - (token.start_pos or 0) if last.line == token.line else len(token)
    return ProblemFound(
        RuleProblem(
            message=message,
            line=token.line,
            column=token.column,
            length=max(1, length),
            hint=hint,
        )
    )


_VALUE_TERMINALS = frozenset({"STRING", "NUMBER", "DATE", "TRUE", "FALSE"})
_CLAUSE_TERMINALS = frozenset(
    {"FROM", "SORT", "LIMIT", "DEDUPE", "MAX", *(word.upper() for word in SOFT_KEYWORDS)}
)
_SYNC_MODES = ("replace", "merge", "append")
# What to call what the parser expected, in the order messages list them; a group is named when
# all of its terminals are expected. The operators and their words come from the registry.
_EXPECTED_NAMES: tuple[tuple[frozenset[str], str], ...] = (
    (OPERATOR_TERMINALS, f"an operator ({OPERATOR_PHRASE})"),
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
    (frozenset({"ACCENT"}), "'accent insensitive'"),
    (frozenset({"_INSENSITIVE"}), "'insensitive'"),
    (frozenset({"_DOTDOT"}), "'..'"),
    (frozenset({"_COMMA"}), "','"),
    (frozenset({"_RPAR"}), "')'"),
    (frozenset({"_RBRACK"}), "']'"),
    *CONTINUATIONS,
    (frozenset({"_BY"}), "'by'"),
    (frozenset({"ASC", "DESC"}), "'asc' or 'desc'"),
    (frozenset({"_SEED"}), "'seed'"),
    (frozenset({"TRACKS", "MINUTES", "PERCENT"}), "a unit (tracks, minutes or %)"),
    (frozenset({"_SELECTED"}), "'selected by'"),
    (frozenset({"_PER"}), "'per'"),
    (frozenset({"_ARTIST"}), "'artist'"),
    (frozenset({"LIKED"}), "'liked'"),
    (frozenset({"_CSV"}), "'csv'"),
    (frozenset({"SYNC_MODE"}), "a mode (replace, merge or append)"),
    (frozenset({"_PLAYLIST"}), "'playlist'"),
    (frozenset({"_NAMED"}), "'named'"),
    (frozenset({"_NONE"}), "'none'"),
    (frozenset({"_FOR"}), "'for'"),
    (frozenset({"_REVIEW"}), "'review'"),
    (frozenset({"_ITSELF"}), "'itself'"),
    (
        _CLAUSE_TERMINALS,
        "a clause (from, sort by, limit, dedupe by, max … per artist, pin, ban, target, mode, "
        "enabled, disabled, hold for review, apply by itself, description)",
    ),
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


def syntax_problem(error: UnexpectedInput, text: str, parser: Lark) -> RuleProblem:
    """The problem to report for a Lark syntax error in `text` (`parser`: the one that failed)."""
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, text, parser)
    assert isinstance(error, UnexpectedCharacters)
    return _unexpected_characters(error, text, parser)


def _unexpected_token(error: UnexpectedToken, text: str, parser: Lark) -> RuleProblem:
    token = error.token
    position = len(text) if token.type == "$END" else token.start_pos or 0
    expected = _expected_at(text, position, parser)
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
    elif token.type == "NAME" and ("SYNC_MODE" in expected or expected >= _CLAUSE_TERMINALS):
        words = _SYNC_MODES if "SYNC_MODE" in expected else CLAUSE_WORDS
        guess = difflib.get_close_matches(str(token).lower(), words, n=1, cutoff=0.6)
        hint = f"did you mean '{guess[0]}'?" if guess else None
    elif "_RPAR" in expected:
        opener = _unclosed_opener(text, token.start_pos or 0)
        if opener is not None:
            _, line, column = opener
            hint = f"the '(' at line {line}, column {column} is not closed"
    return RuleProblem(
        message=f"expected {_expected_text(expected)}, found '{token}'",
        line=token.line,
        column=token.column,
        length=max(1, len(token)),
        hint=hint,
    )


def _unexpected_characters(error: UnexpectedCharacters, text: str, parser: Lark) -> RuleProblem:
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
    allowed = _expected_at(text, position, parser)
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


def _expected_at(text: str, position: int, parser: Lark) -> set[str]:
    """The terminals the grammar accepts at `position`, exactly (the LALR tables merge states)."""
    interactive = parser.parse_interactive(text)
    try:
        for token in interactive.iter_parse():
            if (token.start_pos or 0) >= position:
                break
    except (UnexpectedInput, ProblemFound):
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
