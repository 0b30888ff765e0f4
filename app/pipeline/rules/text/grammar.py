"""The rules grammar: `grammar.lark` plus the operators' part, generated from the registry.

`grammar.lark` holds the language's structure, literals and clauses. `grammar_text` adds, for
every text form of every operator in the registry (`app.pipeline.rules.operators`), an
alternative of ``predicate`` (what follows a field) and, for operators of the track itself,
of ``track_predicate`` (no field written), each named ``op_<operator>`` for the tree builder;
and a keyword terminal for each word of a form that the static grammar does not define. A form
is lower-case words (keywords, case-insensitive, ending where a name would end) or one symbol;
the operator's value shape says what follows it::

    scalar  >= 120          pair  between 120..130    list  in ["a", "b"]
    span    in last 30d     none  is present          ref   in playlist "Road trip"

The first words of the settings clauses (`SOFT_KEYWORDS`: ``pin``, ``target``, ``mode``…) are
defined here too, each with a lookahead refusing it when an operator follows (the operators'
first words come from the registry), so that a field with such a name needs no quotes anywhere:
``mode = 1`` is a condition, ``mode merge`` the clause.

For syntax errors (`errors`): `OPERATOR_TERMINALS`, the terminals an operator starts with;
`OPERATOR_PHRASE`, how a message lists the operators; `CONTINUATIONS`, how it names the words
after an operator's first (``'any', 'all' or 'none'`` after ``has``). For the printer:
`FIELD_KEYWORDS`, the words a field name is quoted for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from app.core.rules import RuleOperator
from app.pipeline.rules.operators import BY_NAME, Operator, ValueShape

__all__ = [
    "CLAUSE_WORDS",
    "CONTINUATIONS",
    "FIELD_KEYWORDS",
    "OPERATOR_PHRASE",
    "OPERATOR_TERMINALS",
    "SOFT_KEYWORDS",
    "grammar_text",
]

Registry = Mapping[RuleOperator, Operator]

_STATIC = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
_DEFINED = frozenset(re.findall(r"^([A-Z_][A-Z0-9_]*)(?:\.\d+)?\s*:", _STATIC, re.MULTILINE))
_VALUE_RULES: dict[ValueShape, str] = {
    "scalar": "scalar",
    "pair": "bounds",
    "list": "items",
    "span": "span",
    "none": "",
    "ref": "STRING",
}
_KEYWORD = r"/{word}(?![\w]|\.[a-z_])/i"  # as grammar.lark writes its keywords

SOFT_KEYWORDS = (
    "pin",
    "ban",
    "target",
    "mode",
    "enabled",
    "disabled",
    "hold",
    "apply",
    "description",
)
"""The first words of the settings clauses: keywords only where no operator follows them."""

CLAUSE_WORDS = ("from", "sort", "limit", "dedupe", "max", *SOFT_KEYWORDS)
"""The first word of every clause (for did-you-mean on a misspelt one)."""


def _word_terminal(word: str) -> str:
    upper = word.upper()
    return upper if upper in _DEFINED and f"_{upper}" not in _DEFINED else f"_{upper}"


def _forms(registry: Registry) -> Iterator[tuple[RuleOperator, Operator, int, str]]:
    for op, entry in registry.items():
        for index, form in enumerate(entry.forms(op)):
            yield op, entry, index, form


def _terminals(op: RuleOperator, index: int, form: str) -> list[str]:
    if form[0].isalpha():
        return [_word_terminal(word) for word in form.split()]
    return [op.name if index == 0 else f"{op.name}_{index}"]  # a symbol: named after its operator


def _soft_keyword(word: str, registry: Registry) -> str:
    """``WORD.1: /word(?!…)/i``: the keyword, unless an operator's first word or symbol follows."""
    firsts = sorted({form.split()[0] for _, _, _, form in _forms(registry)}, key=len, reverse=True)
    symbols = "|".join(re.escape(f) for f in firsts if not f[0].isalpha())
    words = "|".join(f for f in firsts if f[0].isalpha())
    follows = "|".join(
        part for part in (symbols, rf"(?:{words})(?![\w]|\.[a-z_])" if words else "") if part
    )
    return rf"{word.upper()}.1: /{word}(?![\w]|\.[a-z_])(?!\s*(?:{follows}))/i"


def grammar_text(registry: Registry = BY_NAME) -> str:
    """The whole grammar: the static part and every operator's alternatives and keywords."""
    predicate, track, definitions = [], [], {}
    for word in SOFT_KEYWORDS:
        definitions[word.upper()] = _soft_keyword(word, registry)
    for op, entry, index, form in _forms(registry):
        terminals = _terminals(op, index, form)
        if form[0].isalpha():
            for word, terminal in zip(form.split(), terminals, strict=True):
                if terminal not in _DEFINED:
                    definitions[terminal] = f"{terminal}.1: {_KEYWORD.format(word=word)}"
        else:
            definitions[terminals[0]] = f'{terminals[0]}: "{form}"'
        expansion = " ".join([*terminals, _VALUE_RULES[entry.value]]).strip()
        predicate.append(f"{expansion} -> op_{op.value}")
        if "track" in entry.applies_to and op is entry.name:
            track.append(f"{expansion} -> op_{op.value}")
    return "\n".join(
        [
            _STATIC,
            "// Generated from the operator registry (text/grammar.py).",
            "predicate: " + "\n         | ".join(predicate),
            *(["track_predicate: " + "\n               | ".join(track)] if track else []),
            *definitions.values(),
            "",
        ]
    )


def _operator_terminals(registry: Registry) -> frozenset[str]:
    return frozenset(_terminals(op, i, form)[0] for op, _, i, form in _forms(registry))


def _operator_phrase(registry: Registry) -> str:
    """``=, !=, …, has any/all/none, …, not …``: each printed form, those sharing a first word
    together (just the word when it is a form itself: ``in`` for ``in last``, ``in rule``…)."""
    by_first: dict[str, list[str]] = {}
    for op, entry in registry.items():
        words = entry.forms(op)[0].split()
        if words[0] != "not":
            by_first.setdefault(words[0], []).append(" ".join(words[1:]))
    phrases = []
    for first, rests in by_first.items():
        if "" in rests or len(rests) == 1:
            phrases.append(first if "" in rests else f"{first} {rests[0]}")
        else:
            phrases.append(f"{first} {'/'.join(rests)}")
    if any(form.startswith("not ") for _, _, _, form in _forms(registry)):
        phrases.append("not …")
    return ", ".join(phrases)


def _either(words: list[str]) -> str:
    quoted = [f"'{word}'" for word in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _continuations(registry: Registry) -> tuple[tuple[frozenset[str], str], ...]:
    """The words that follow an operator's first words, named together (``'present' or
    'missing'`` after ``is``) unless what precedes them is an operator itself (after ``in``,
    ``'last'``, ``'playlist'`` and ``'rule'`` are listed with ``'['``, one by one)."""
    forms = {form for _, _, _, form in _forms(registry)}
    firsts = {form.split()[0] for form in forms}
    following: dict[tuple[str, ...], list[str]] = {}
    for op, entry in registry.items():
        words = entry.forms(op)[0].split()
        words = words[1:] if words[0] == "not" else words
        for index in range(1, len(words)):
            if words[index] not in firsts:
                after = following.setdefault(tuple(words[:index]), [])
                after += [] if words[index] in after else [words[index]]
    named: dict[frozenset[str], str] = {}
    for prefix, words in following.items():
        groups = [[word] for word in words] if " ".join(prefix) in forms else [words]
        for group in groups:
            named.setdefault(frozenset(map(_word_terminal, group)), _either(group))
    return tuple(named.items())


OPERATOR_TERMINALS = _operator_terminals(BY_NAME)
"""The terminals an operator starts with (`NOT` for the negative ones)."""

OPERATOR_PHRASE = _operator_phrase(BY_NAME)
"""How a message lists the operators: ``=, !=, >, …, is present/missing, not …``."""

CONTINUATIONS = _continuations(BY_NAME)
"""(terminals, name) of the words after an operator's first, for messages."""

FIELD_KEYWORDS = frozenset({"and", "or", "not", "from", "sort", "limit", "dedupe", "max"}) | {
    form.split()[0]
    for op, entry, _, form in _forms(BY_NAME)
    if "track" in entry.applies_to and op is entry.name
}
"""Words that are keywords where a field name may stand (a field so named is quoted): the
reserved `and`/`or`/`not`, the clauses' first words, and those of the track operators written
without a field (``in playlist "x"``)."""
