"""The rules text form's tree builder: the parser's callbacks, from grammar rules to the model.

`TreeBuilder` runs inside the LALR parse (`parser`): each grammar rule's
children become a value, and the semantic checks the grammar cannot express (valid dates,
non-empty ranges, list sizes, units, each clause once, nesting depth) raise a located problem.
Conditions are built bottom-up into light nodes that know their depth; `to_model` turns the
root into `RuleGroup`s once the depth is known to be small.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from lark import Token, Transformer

from app.core.fs import INT64_MAX, INT64_MIN
from app.core.rules import (
    MAX_LIMIT,
    MAX_LIST_VALUES,
    LimitSpec,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    SortKey,
)
from app.pipeline.rules.operators import VALUE_KIND
from app.pipeline.rules.text.errors import problem_at
from app.pipeline.rules.text.printer import TRACK_FIELD, PlaylistTarget, is_date_literal

__all__ = ["MAX_NESTING", "TreeBuilder", "to_model"]

MAX_NESTING = 50
"""Parentheses and `not`s nest at most this deep: refuses hostile input long before recursion."""

_UNESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


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


def to_model(node: RuleCondition | _Group) -> RuleGroup:
    """The model of a built root: a lone condition becomes a one-condition group."""
    if isinstance(node, RuleCondition):
        return RuleGroup(conditions=[node])
    return RuleGroup(
        operator=node.operator,
        negate=node.negate,
        conditions=[c if isinstance(c, RuleCondition) else to_model(c) for c in node.children],
    )


_CLAUSE_TEXT = {
    "sources": "from",
    "sort": "sort by",
    "limit": "limit",
    "dedupe": "dedupe by",
    "max_per_artist": "max … per artist",
    "include": "pin",
    "exclude": "ban",
    "target": "target",
    "sync_mode": "mode",
    "enabled": "enabled' or 'disabled",
    "auto_apply": "hold for review' or 'apply by itself",
    "description": "description",
}

# A playlist's link or URI, as copied from Spotify: the target is its id.
_PLAYLIST_LINK = re.compile(
    r"(?:https?://open\.spotify\.com/(?:[a-z-]+/)?playlist/|spotify:playlist:)"
    r"([0-9A-Za-z]{22})(?:[?#].*)?",
    re.ASCII,
)
_MAX_NAME = 200
_MAX_DESCRIPTION = 2000


class TreeBuilder(Transformer[Token, Any]):
    """LALR callbacks: each grammar rule's children to a value; semantic checks raise problems."""

    def start(
        self, children: list[Any]
    ) -> tuple[RuleCondition | _Group | None, dict[str, Any], dict[str, Token]]:
        """The root, each clause's value by `ParsedRules` field, and its first token."""
        root, *clauses = children
        seen: dict[str, Any] = {}
        where: dict[str, Token] = {}
        for name, value, token in clauses:
            if name in seen:
                raise problem_at(token, f"a second '{_CLAUSE_TEXT[name]}' clause")
            seen[name] = value
            where[name] = token
        return root, seen, where

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
            raise problem_at(not_token, f"'not' and parentheses nest more than {MAX_NESTING} deep")
        return _Group("and", True, [inner], depth)

    def paren(self, children: list[Any]) -> RuleCondition | _Group:
        return children[1]  # type: ignore[no-any-return]

    def unary(self, children: list[RuleCondition]) -> RuleCondition:
        return children[0]

    def condition(self, children: list[Any]) -> RuleCondition:
        field, (operator, value), case, accent = children
        return RuleCondition(
            field=field.value,
            operator=operator,
            value=value,
            case_sensitive=case is not None,
            accent_insensitive=accent is not None,
        )

    def track_condition(self, children: list[Any]) -> RuleCondition:
        operator, value = children[0]
        return RuleCondition(field=TRACK_FIELD, operator=operator, value=value)

    def field(self, children: list[Token]) -> _Value:
        token = children[0]
        name = _unquote(token) if token.type == "STRING" else str(token)
        if not 1 <= len(name) <= 100:
            raise problem_at(token, "a field name has 1 to 100 characters")
        return _Value(name, token, token)

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:
        """An operator's alternative, ``op_<operator>`` (generated from the registry by
        `grammar`): (operator, value), the value read as the operator's shape says."""
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
            value = _number(token)
        elif kind == "DATE":
            if not is_date_literal(str(token)):
                raise problem_at(
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
            raise problem_at(
                low.first,
                "a range's ends must both be numbers, both dates or both texts",
                end=high.last,
            )
        comparable = kinds == {"number"} or (
            kinds == {"date"} and len(low.value) == len(high.value) and len(low.value) <= 10
        )
        if comparable and low.value > high.value:
            raise problem_at(
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
            raise problem_at(
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
        value = float(_number(amount))
        unit = unit or "tracks"
        if value > MAX_LIMIT:
            raise problem_at(amount, f"a limit is at most {MAX_LIMIT:,}, not {amount}")
        if value <= 0:
            raise problem_at(amount, "a limit must be more than 0")
        if unit == "tracks" and value != int(value):
            raise problem_at(amount, "a limit in tracks is a whole number")
        if unit == "percent" and value > 100:
            raise problem_at(amount, "a limit in percent is at most 100")
        spec = LimitSpec(value=value, unit=unit, selected_by=selected_by or [])
        return "limit", spec, keyword

    def limit_unit(self, children: list[Token]) -> str:
        return {"TRACKS": "tracks", "MINUTES": "minutes", "PERCENT": "percent"}[children[0].type]

    def dedupe_clause(self, children: list[Token]) -> tuple[str, str, Token]:
        keyword, key = children
        if key.lower() not in ("none", "id", "isrc", "recording"):
            raise problem_at(key, f"cannot dedupe by '{key}'", hint="use id, isrc or recording")
        return "dedupe", key.lower(), keyword

    def max_clause(self, children: list[Token]) -> tuple[str, int, Token]:
        keyword, amount = children
        return "max_per_artist", _whole_number(amount, "'max … per artist'", minimum=1), keyword

    # settings clauses --------------------------------------------------------------------------

    def pin_clause(self, children: list[Any]) -> tuple[str, list[str], Token]:
        return "include", children[1], children[0]

    def ban_clause(self, children: list[Any]) -> tuple[str, list[str], Token]:
        return "exclude", children[1], children[0]

    def no_tracks(self, children: list[Token]) -> list[str]:
        return []

    def tracks(self, children: list[Token]) -> list[str]:
        ids = []
        for token in children:
            track_id = _unquote(token)
            if not track_id.strip():
                raise problem_at(token, "a track id is not empty", hint="write `pin none` to clear")
            ids.append(track_id)
        return ids

    def target_clause(self, children: list[Any]) -> tuple[str, PlaylistTarget, Token]:
        return "target", children[1], children[0]

    def target_none(self, children: list[Token]) -> PlaylistTarget:
        return PlaylistTarget()

    def target_id(self, children: list[Token | None]) -> PlaylistTarget:
        ident, name = children
        assert ident is not None  # the grammar requires it
        playlist_id = _unquote(ident)
        link = _PLAYLIST_LINK.fullmatch(playlist_id.strip())
        if link is not None:
            playlist_id = link.group(1)
        if not playlist_id.strip() or len(playlist_id) > _MAX_NAME:
            raise problem_at(
                ident,
                "a playlist id has 1 to 200 characters",
                hint="copy it from the playlist's link: open.spotify.com/playlist/<id>",
            )
        return PlaylistTarget(
            playlist_id=playlist_id, playlist_name=None if name is None else _name(name)
        )

    def target_name(self, children: list[Token]) -> PlaylistTarget:
        return PlaylistTarget(playlist_name=_name(children[0]))

    def mode_clause(self, children: list[Token]) -> tuple[str, str, Token]:
        keyword, mode = children
        return "sync_mode", mode.lower(), keyword

    def enabled_clause(self, children: list[Token]) -> tuple[str, bool, Token]:
        return "enabled", True, children[0]

    def disabled_clause(self, children: list[Token]) -> tuple[str, bool, Token]:
        return "enabled", False, children[0]

    def hold_clause(self, children: list[Token]) -> tuple[str, bool, Token]:
        return "auto_apply", False, children[0]

    def apply_clause(self, children: list[Token]) -> tuple[str, bool, Token]:
        return "auto_apply", True, children[0]

    def description_clause(self, children: list[Token]) -> tuple[str, str, Token]:
        keyword, *text = children
        description = _unquote(text[0]) if text else ""
        if len(description) > _MAX_DESCRIPTION:
            raise problem_at(text[0], f"a description has at most {_MAX_DESCRIPTION:,} characters")
        return "description", description, keyword


def _name(token: Token) -> str:
    name = _unquote(token)
    if not name.strip() or len(name) > _MAX_NAME:
        raise problem_at(token, f"a playlist name has 1 to {_MAX_NAME} characters")
    return name


def _number(token: Token) -> int | float:
    """A number literal; one the stores could not write back (beyond 64 bits, or beyond a
    double) is a problem at its place, not a crash at save time."""
    if any(c in token for c in ".eE"):
        value = float(token)
        if not math.isfinite(value):
            raise problem_at(token, f"{token[:40]} is too large a number")
        return value
    whole = int(token)
    if not INT64_MIN <= whole <= INT64_MAX:
        raise problem_at(
            token, f"{token[:40]} does not fit in 64 bits", hint=f"at most {INT64_MAX:,}"
        )
    return whole


def _whole_number(token: Token, what: str, *, minimum: int | None) -> int:
    if any(c in token for c in ".eE") or (minimum is not None and int(token) < minimum):
        at_least = f" of at least {minimum}" if minimum is not None else ""
        raise problem_at(token, f"{what} takes a whole number{at_least}, not {token}")
    return int(_number(token))


def _literal_kind(value: _Value) -> str:
    if value.first.type == "DATE":
        return "date"
    if value.first.type == "NUMBER":
        return "number"
    return "text" if value.first.type == "STRING" else "boolean"
