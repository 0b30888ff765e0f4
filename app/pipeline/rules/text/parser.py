r"""The text form of a rule set: one parser, one printer, one normal form.

The JSON model (`app.core.rules`) is the source of truth; this is a second, exactly equivalent
view of a whole `PlaylistRuleSet` but its id and name: which tracks and how many (``rules``,
``sources``, ``sort``, ``limit``, ``dedupe``, ``max_per_artist``) and its settings (pins, bans,
target, sync mode, enabled, ``auto_apply``, description). An expression comes first, then
clauses, one per line by convention::

    genres has any ["rock", "indie rock"] and tempo between 120..130 and energy > 0.6
    and added_at in last 90d and not (artists contains "Nickelback" or name matches "live")
    from liked, playlist "37i9dQZF1DXcBWIGoYBM5M"
    sort by energy desc
    limit 90 minutes selected by added_at desc
    dedupe by isrc
    max 2 per artist

Worked examples (each is a doctest; the printer is `printer.format_rules`):

>>> from app.pipeline.rules.text.printer import format_rules
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
``30d`` (h d w mo y). A trailing ``case sensitive`` makes a text comparison respect case, and
``accent insensitive`` makes it ignore accents (``"Beyonce"`` finds ``"Beyoncé"``):

>>> parse_rules('release_date between 2020-01..2020-06 and name = "ABBA" case sensitive').rules
... # doctest: +NORMALIZE_WHITESPACE
RuleGroup(operator='and', negate=False,
  conditions=[RuleCondition(field='release_date', operator=<RuleOperator.BETWEEN: 'between'>,
                            value=['2020-01', '2020-06'], case_sensitive=False,
                            accent_insensitive=False),
              RuleCondition(field='name', operator=<RuleOperator.EQ: 'eq'>, value='ABBA',
                            case_sensitive=True, accent_insensitive=False)])
>>> parse_rules('artist = "beyonce" accent insensitive').rules.conditions[0].accent_insensitive
True

A field whose name is not a plain identifier, or is one of ``and or not from sort limit dedupe
max``, is written in double quotes: ``"lastfm:tags" has any ["jazz"]``, ``"sort" = 1``.

Clauses (any order, each once): ``from liked, playlist "<id>", csv "<name>", "<source key>"``
(the rule set's ``sources``; no clause = every fetched track), ``sort by f [asc|desc] [seed N],
…`` (``random seed 7`` is a stable shuffle), ``limit N [tracks|minutes|%] [selected by f desc,
…]``, ``dedupe by id|isrc|recording``, ``max N per artist``. The text describes those six fields
completely: an absent clause means the field's default (`ParsedRules.apply_to`).

Settings clauses (any order, each once): ``pin "<id>", …``, ``ban "<id>", …``, ``target
playlist "<id>" [named "<name>"]`` or ``target playlist named "<name>"``, ``mode
replace|merge|append``, ``hold for review`` / ``apply by itself``, ``disabled`` / ``enabled``,
``description "…"``; ``none`` clears (``pin none``, ``target none``, ``description none``). A
setting the text does not state is `None` in `ParsedRules`, and `apply_to` keeps the rule set's
value for it. Their first words are keywords only where no operator follows:

>>> parsed = parse_rules('mode = 1\ntarget playlist named "Road trip"\nmode merge\npin none')
>>> parsed.rules.conditions[0].field, parsed.sync_mode, parsed.include, parsed.enabled
('mode', 'merge', [], None)
>>> parsed.apply_to({"id": "road", "name": "Road", "include": ["t1"], "enabled": False})["enabled"]
False

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

from collections.abc import Iterator
from functools import cache
from typing import Any, NamedTuple

from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from app.core.errors import RulesInvalidError
from app.core.rules import MAX_RULE_TEXT_CHARS, RuleGroup, RuleProblem
from app.pipeline.rules.text.builder import MAX_NESTING, TreeBuilder, to_model
from app.pipeline.rules.text.errors import ProblemFound, problem_at, syntax_problem
from app.pipeline.rules.text.grammar import grammar_text
from app.pipeline.rules.text.printer import ParsedRules, normalize

__all__ = ["LocatedRules", "parse_located", "parse_rules"]


class LocatedRules(NamedTuple):
    """What a text says, and where each clause it states starts."""

    rules: ParsedRules
    where: dict[str, tuple[int, int, int]]
    """`ParsedRules` field → (line, column, length of its first word)."""


def parse_rules(text: str) -> ParsedRules:
    """The rule tree (normalized) and clauses a text describes; `RulesInvalidError` if it can't."""
    return parse_located(text).rules


def parse_located(text: str) -> LocatedRules:
    """`parse_rules`, and where each clause stated starts, for problems about a clause found
    after parsing."""
    # Leading line breaks are not counted: a rules file pads each rule set's text with one per
    # file line above it, so that positions are file lines (`rule_files.parse_rules_file`).
    size = len(text) if len(text) <= MAX_RULE_TEXT_CHARS else len(text.lstrip("\n"))
    if size > MAX_RULE_TEXT_CHARS:
        # Refused before parsing: the parse of a long text is what took the time.
        problem = RuleProblem(
            message=f"the rule text has {size:,} characters; at most "
            f"{MAX_RULE_TEXT_CHARS:,} are accepted",
            hint="split it into several rule sets (an in_rule condition can combine them)",
        )
        raise RulesInvalidError([problem.model_dump() | {"rendered": problem.render()}])
    try:
        # The transformer runs inside the parse, so the "tree" is `TreeBuilder.start`'s tuple.
        built: Any = _parser().parse(text)
    except ProblemFound as found:
        raise _invalid(found.problem, text) from None
    except UnexpectedInput as error:
        raise _invalid(syntax_problem(error, text, _parser()), text) from None
    root, clauses, where = built
    rules = normalize(to_model(root)) if root is not None else RuleGroup()
    located = {
        name: (token.line or 1, token.column or 1, len(token)) for name, token in where.items()
    }
    return LocatedRules(ParsedRules(rules=rules, **clauses), located)


def _invalid(problem: RuleProblem, text: str) -> RulesInvalidError:
    return RulesInvalidError([problem.model_dump() | {"rendered": problem.render(text)}], text=text)


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
                raise problem_at(
                    token,
                    f"parentheses and 'not' nest more than {MAX_NESTING} deep",
                    hint="simplify the expression",
                )
            previous = kind
            yield token


@cache
def _parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=_NestingGuard(),
        transformer=TreeBuilder(),
        maybe_placeholders=True,
    )
