"""The search query language: a Lucene subset parsed into `Leaf`/`Branch` trees.

`field:term`, `field:"phrase"`, `field:(a OR b)`, `field:[a TO b]`, `AND`/`OR`/`NOT`/`&&`/`||`,
parentheses, backslash escapes; an unescaped special character is a `QueryError`.
"""

from __future__ import annotations

from dataclasses import dataclass


class QueryError(ValueError):
    pass


_FIELD_ALIASES = {
    "recordingaccent": "recording",
    "title": "recording",
    "artistname": "artist",
    "creditname": "artist",
    "qdur": "dur",
}
_KNOWN_FIELDS = {"recording", "artist", "isrc", "rid", "arid", "dur", "reid", "rgid", "release"}
_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


@dataclass(frozen=True)
class Leaf:
    field: str
    value: str  # a term or phrase, unescaped
    low: str | None = None  # ranges: [low TO high]
    high: str | None = None


@dataclass(frozen=True)
class Branch:
    op: str  # "and", "or", "not"
    children: tuple[Query, ...]


Query = Leaf | Branch


def _tokenize(text: str) -> list[tuple[str, str]]:
    """("op", "and"|"or"|"not"|"("|")"|":"), ("term", text), ("phrase", text), ("range", ...)."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(("op", char))
            i += 1
        elif char == ":":
            tokens.append(("op", ":"))
            i += 1
        elif text.startswith(("&&", "||"), i):
            tokens.append(("op", "and" if char == "&" else "or"))
            i += 2
        elif char in "+-!" and (not tokens or tokens[-1][0] == "op"):
            if char == "!" or char == "-":
                tokens.append(("op", "not"))
            i += 1
        elif char == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise QueryError("unterminated phrase")
            tokens.append(("phrase", "".join(chars)))
            i += 1
        elif char in "[{":
            end = text.find("]" if char == "[" else "}", i)
            if end < 0:
                raise QueryError("unterminated range")
            parts = text[i + 1 : end].split()
            if len(parts) != 3 or parts[1] != "TO":
                raise QueryError("a range reads [low TO high]")
            tokens.append(("range", f"{parts[0]} {parts[2]}"))
            i = end + 1
        else:
            chars = []
            while i < n and not text[i].isspace():
                current = text[i]
                if current == "\\" and i + 1 < n:
                    chars.append(text[i + 1])
                    i += 2
                    continue
                if current in "():" or (current == '"'):
                    break
                if current in _SPECIAL and current not in "-+":
                    raise QueryError(f"unescaped special character {current!r}")
                chars.append(current)
                i += 1
            word = "".join(chars)
            if word in ("AND", "OR", "NOT"):
                tokens.append(("op", word.lower()))
            else:
                tokens.append(("term", word))
    return tokens


class _QueryParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryError("unexpected end of query")
        self.pos += 1
        return token

    def parse(self) -> Query:
        query = self.expression("recording")
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return query

    def expression(self, field_name: str) -> Query:
        """OR of ANDs; adjacent clauses without an operator are ANDed."""
        alternatives = [self.conjunction(field_name)]
        while self.peek() == ("op", "or"):
            self.take()
            alternatives.append(self.conjunction(field_name))
        return alternatives[0] if len(alternatives) == 1 else Branch("or", tuple(alternatives))

    def conjunction(self, field_name: str) -> Query:
        parts = [self.unary(field_name)]
        while True:
            token = self.peek()
            if token is None or token in (("op", "or"), ("op", ")")):
                break
            if token == ("op", "and"):
                self.take()
            parts.append(self.unary(field_name))
        return parts[0] if len(parts) == 1 else Branch("and", tuple(parts))

    def unary(self, field_name: str) -> Query:
        if self.peek() == ("op", "not"):
            self.take()
            return Branch("not", (self.unary(field_name),))
        return self.clause(field_name)

    def clause(self, field_name: str) -> Query:
        kind, value = self.take()
        if kind == "term" and self.peek() == ("op", ":"):
            self.take()
            name = _FIELD_ALIASES.get(value.lower(), value.lower())
            if name not in _KNOWN_FIELDS:
                raise QueryError(f"unknown field {value!r}")
            return self.clause(name)
        if (kind, value) == ("op", "("):
            inner = self.expression(field_name)
            if self.take() != ("op", ")"):
                raise QueryError("missing ')'")
            return inner
        if kind in ("term", "phrase"):
            return Leaf(field_name, value)
        if kind == "range":
            low, high = value.split(" ")
            return Leaf(field_name, value, low, high)
        raise QueryError(f"unexpected {value!r}")


def parse_query(text: str) -> Query:
    if not text.strip():
        raise QueryError("empty query")
    return _QueryParser(_tokenize(text)).parse()
