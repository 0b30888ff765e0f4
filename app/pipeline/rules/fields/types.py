"""The types of the rules language's fields, the operators each takes, and the built-in fields.

Each operator declares what it applies to in the operator registry
(`app.pipeline.rules.operators`; docs/rules.md has the table), and `operators_for` reads it, in
the order of `RuleOperator`: a field of type text, number, date or bool; a list of T takes the
list operators (`has_any` …) plus every operator of T (a scalar operator on a list matches when
any element does; an empty list is a missing value); the track operators (`in_playlist`,
`in_rule` and their negations) apply only to the pseudo-field `TRACK_FIELD` ("track"): the text
form `in playlist "x"` is the condition
``{"field": "track", "operator": "in_playlist", "value": "x"}``.

`FieldInfo` describes one field, built-in or found in the library's enrichments
(`discovery`); `BUILTIN_FIELDS` are the fields of the track itself and of where it
was found (sources, playlists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.core.rules import RuleOperator
from app.pipeline.rules.operators import applying_to

FieldType = Literal["text", "number", "date", "bool"]
FieldOrigin = Literal["track", "source", "enrichment"]

TRACK_FIELD = "track"
"""The pseudo-field of the track-level operators (`in_playlist`, `in_rule` and negations)."""

LIST_OPERATORS: frozenset[RuleOperator] = frozenset(applying_to("list"))
"""Operators of list fields only (`has_any` …), whatever their elements."""
TRACK_OPERATORS: tuple[RuleOperator, ...] = applying_to("track")
"""Operators of the track itself, on `TRACK_FIELD`."""
SCALAR_OPERATORS: dict[FieldType, tuple[RuleOperator, ...]] = {
    field_type: applying_to(field_type) for field_type in ("text", "number", "date", "bool")
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
    declared_by: tuple[str, ...] = ()  # providers that would give it, in run order (`declared`)
    examples: tuple[str, ...] = ()
    coverage: float | None = None  # share of library tracks with a value
    notes: tuple[str, ...] = ()  # e.g. a type conflict seen during discovery


def operators_for(info: FieldInfo) -> tuple[RuleOperator, ...]:
    """Operators valid on `info`, in `RuleOperator` order (see the module's table)."""
    allowed = set(SCALAR_OPERATORS[info.type])
    if info.is_list:
        allowed |= LIST_OPERATORS
    return tuple(op for op in RuleOperator if op in allowed)


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
