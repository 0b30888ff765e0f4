"""The types of the rules language's fields, the operators each takes, and the built-in fields.

Operators per type (`operators_for`), in the order of `RuleOperator`:

    text    eq ne in not_in contains not_contains starts_with not_starts_with ends_with
            not_ends_with regex not_regex exists not_exists
    number  eq ne gt gte lt lte between not_between in not_in exists not_exists
    date    eq ne gt gte lt lte between not_between before after in_last not_in_last
            exists not_exists
    bool    eq ne exists not_exists
    list of T   has_any has_all has_none + every operator of T (a scalar operator on a list
            matches when any element does; an empty list is a missing value)
    track   in_playlist not_in_playlist in_rule not_in_rule — only on the pseudo-field
            `TRACK_FIELD` ("track"): the text form `in playlist "x"` is the condition
            ``{"field": "track", "operator": "in_playlist", "value": "x"}``.

`FieldInfo` describes one field, built-in or found in the library's enrichments
(`discovery`); `BUILTIN_FIELDS` are the fields of the track itself and of where it
was found (sources, playlists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.core.rules import RuleOperator

FieldType = Literal["text", "number", "date", "bool"]
FieldOrigin = Literal["track", "source", "enrichment"]

TRACK_FIELD = "track"
"""The pseudo-field of the track-level operators (`in_playlist`, `in_rule` and negations)."""

Op = RuleOperator

_EXISTENCE = {Op.EXISTS, Op.NOT_EXISTS}
_EQUALITY = {Op.EQ, Op.NE}
_ORDER = {Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN, Op.NOT_BETWEEN}
_MEMBERSHIP = {Op.IN, Op.NOT_IN}
_TEXT_MATCH = {
    Op.CONTAINS,
    Op.NOT_CONTAINS,
    Op.STARTS_WITH,
    Op.NOT_STARTS_WITH,
    Op.ENDS_WITH,
    Op.NOT_ENDS_WITH,
    Op.REGEX,
    Op.NOT_REGEX,
}
_DATE_ONLY = {Op.BEFORE, Op.AFTER, Op.IN_LAST, Op.NOT_IN_LAST}
LIST_OPERATORS: frozenset[RuleOperator] = frozenset({Op.HAS_ANY, Op.HAS_ALL, Op.HAS_NONE})
TRACK_OPERATORS: tuple[RuleOperator, ...] = (
    Op.IN_PLAYLIST,
    Op.NOT_IN_PLAYLIST,
    Op.IN_RULE,
    Op.NOT_IN_RULE,
)


def _ordered(operators: set[RuleOperator] | frozenset[RuleOperator]) -> tuple[RuleOperator, ...]:
    return tuple(op for op in RuleOperator if op in operators)


SCALAR_OPERATORS: dict[FieldType, tuple[RuleOperator, ...]] = {
    "text": _ordered(_EQUALITY | _MEMBERSHIP | _TEXT_MATCH | _EXISTENCE),
    "number": _ordered(_EQUALITY | _ORDER | _MEMBERSHIP | _EXISTENCE),
    "date": _ordered(_EQUALITY | _ORDER | _DATE_ONLY | _EXISTENCE),
    "bool": _ordered(_EQUALITY | _EXISTENCE),
}
"""Operators a single-valued field of each type accepts."""


@dataclass(frozen=True)
class FieldInfo:
    """One field: `type` of its values; `is_list` when it holds several (genres, artists…)."""

    name: str
    type: FieldType
    is_list: bool = False
    origin: FieldOrigin = "enrichment"
    description: str = ""
    aliases: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()  # enrichment sources seen giving it
    examples: tuple[str, ...] = ()
    coverage: float | None = None  # share of library tracks with a value
    notes: tuple[str, ...] = ()  # e.g. a type conflict seen during discovery


def operators_for(info: FieldInfo) -> tuple[RuleOperator, ...]:
    """Operators valid on `info`, in `RuleOperator` order (see the module's table)."""
    allowed = set(SCALAR_OPERATORS[info.type])
    if info.is_list:
        allowed |= LIST_OPERATORS
    return _ordered(allowed)


def type_label(info: FieldInfo) -> str:
    """``a number``, ``text``, ``true/false``, ``a list of text``… as messages say it."""
    if info.is_list:
        return f"a list of {info.type}"
    return {"text": "text", "number": "a number", "date": "a date", "bool": "true/false"}[info.type]


BUILTIN_FIELDS: tuple[FieldInfo, ...] = (
    FieldInfo("name", "text", origin="track", description="track title", aliases=("title",)),
    FieldInfo(
        "artists",
        "text",
        is_list=True,
        origin="track",
        description="artist names",
        aliases=("artist",),
    ),
    FieldInfo("album", "text", origin="track", description="album name"),
    FieldInfo("release_date", "date", origin="track", description="album release date"),
    FieldInfo("year", "number", origin="track", description="release year"),
    FieldInfo(
        "added_at",
        "date",
        origin="track",
        description="when the track was liked (else first seen in a source)",
    ),
    FieldInfo("duration", "number", origin="track", description="length in seconds"),
    FieldInfo("duration_ms", "number", origin="track", description="length in milliseconds"),
    FieldInfo("explicit", "bool", origin="track", description="explicit lyrics"),
    FieldInfo("isrc", "text", origin="track", description="International Standard Recording Code"),
    FieldInfo("is_local", "bool", origin="track", description="a local file"),
    FieldInfo("id", "text", origin="track", description="Spotify track id", aliases=("track_id",)),
    FieldInfo("uri", "text", origin="track", description="Spotify URI"),
    FieldInfo(
        "sources",
        "text",
        is_list=True,
        origin="source",
        description="source keys the track came from (liked, playlist:<id>, csv:<name>)",
    ),
    FieldInfo(
        "playlists",
        "text",
        is_list=True,
        origin="source",
        description="names and ids of the fetched playlists holding the track",
    ),
    FieldInfo("liked", "bool", origin="source", description="in the liked songs"),
)
