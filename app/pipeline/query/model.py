"""What a library query asks and answers (`POST /data/library/query`, `sap library query`).

    LibraryQuery(filter='genres has any ["jazz"] and tempo > 100',
                 sort=[SortSpec(field="tempo", direction="desc"), SortSpec(field="name")],
                 fields=["name", "artists", "tempo"], offset=0, limit=100)

The answer (`LibraryPage`) has the number of matching tracks, the requested columns with their
types, and one `LibraryRow` per track of the page: its id, each requested value, and for each
enriched value who said it and when (`ValueSource`), so that a table cell can show
"tempo 121 — deezer, 2026-11-30" without another request. `LibraryIds` is every matching id,
for "select all that match", or those of rows `offset`… of the table (`LibraryIdsRequest`: a
shift-click range over rows the browser has not loaded).
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.rules import MAX_RULE_TEXT_CHARS
from app.pipeline.rules.fields.types import FieldOrigin, FieldType
from app.pipeline.rules.rule_sets import RenderedWarning

MAX_PAGE = 500
"""The most rows one page holds (a virtualised table asks for what it shows, and a little)."""
MAX_SORT_KEYS = 8
MAX_FIELDS = 100

DEFAULT_FIELDS = ("name", "artists", "album", "duration", "added_at")
"""The columns a query returns when it names none, before the enrichment fields of
`DEFAULT_ENRICHED` that the library has."""
DEFAULT_ENRICHED = ("genres", "tags", "tempo", "energy", "mood")

Scalar = str | int | float | bool
CellValue = Scalar | list[Scalar] | None
"""A value as the table shows it: dates are ISO 8601 text; a missing value is null."""


class _StrictQuery(BaseModel):
    # Strict: `"offset": false` or `"limit": "5"` is a mistake to say, not to guess at.
    model_config = ConfigDict(extra="forbid", strict=True)


class SortSpec(_StrictQuery):
    """One sort column: any field of the library (built-in or enrichment)."""

    field: str = Field(min_length=1, max_length=100, examples=["tempo"])
    direction: Literal["asc", "desc"] = "asc"


class LibraryFilter(_StrictQuery):
    """Which tracks: a filter in the rules language and a sort (for `ids` in that order)."""

    filter: str | None = Field(
        default=None,
        max_length=MAX_RULE_TEXT_CHARS,
        description="Conditions in the rules language (docs/rules.md), as a rule set's text "
        "without its clauses; `from …` (sources) is allowed. Empty or absent: every track. A "
        "problem is a 422 `rules_invalid` naming its line and column, as "
        "`/data/rules/validate` does.",
        examples=['genres has any ["jazz"] and tempo > 100'],
    )
    rule: dict[str, Any] | None = Field(
        default=None,
        description="A rule set (JSON, or JSON whose `text` holds its rules and clauses), "
        "saved or not: only the tracks its playlist would hold, in the playlist's order "
        "when there is no `sort` (the rule set preview's table). With `filter` too: those of "
        "them the filter matches. A problem is a 422 `rules_invalid`, as for `filter`.",
        examples=[{"id": "fast", "name": "Fast", "text": "tempo > 140\nlimit 50"}],
    )
    sort: list[SortSpec] = Field(
        default_factory=list,
        max_length=MAX_SORT_KEYS,
        description="Columns to sort by, first the main one, over the whole matching library; "
        "the order is stable (ties keep library order) and missing values come last in either "
        "direction. A list field sorts by its first value. Empty: library order.",
    )


class LibraryIdsRequest(LibraryFilter):
    """Which tracks' ids: every match, or those of rows `offset`…`offset + limit` of the table."""

    offset: int = Field(default=0, ge=0, le=100_000_000, description="The first row (0-based).")
    limit: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="How many rows from `offset`. Absent: every row to the end.",
    )


class LibraryQuery(LibraryFilter):
    """One page of the library table."""

    fields: list[str] | None = Field(
        default=None,
        max_length=MAX_FIELDS,
        description="The columns to return (field names or aliases, as `/data/rules/fields` "
        "lists them). Absent: name, artists, album, duration, added_at and the enrichment "
        "fields genres, tags, tempo, energy and mood that the library has.",
    )
    offset: int = Field(default=0, ge=0, le=100_000_000)
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)


class ValueSource(BaseModel):
    """Who gave a value, and when they said it."""

    provider: str = Field(description="The provider id (`manual` for your own values).")
    at: datetime | None = Field(description="When that provider's entry was written.")


class LibraryRow(BaseModel):
    """One track of the page."""

    id: str = Field(description="Spotify track id.")
    values: dict[str, CellValue] = Field(
        description="Each requested field's value (null: the track has none)."
    )
    provenance: dict[str, builtins.list[ValueSource]] = Field(
        description="For each enriched value present: the providers that gave it (several "
        "for a list merged from several providers), best first. Track fields (from Spotify) "
        "have none."
    )
    links: dict[str, builtins.list[str]] = Field(
        default_factory=dict,
        description="The Spotify ids behind the `album` and `artists` values when those "
        "columns are shown (artists in the order of `artists`): open.spotify.com/album/ID, "
        "/artist/ID.",
    )


class QueryColumn(BaseModel):
    """A requested column and what its values are."""

    name: str = Field(description="The field's canonical name (the key in `values`).")
    type: FieldType
    list: bool = Field(description="It holds several values (genres, artists…).")
    origin: FieldOrigin


class LibraryPage(BaseModel):
    """A page of the (filtered, sorted) library; `/data/rules/fields` lists every field."""

    total: int = Field(description="Tracks matching the filter (the whole library without).")
    library_tracks: int = Field(description="Tracks in the library.")
    offset: int
    limit: int
    sort: builtins.list[SortSpec] = Field(description="The sort applied, fields canonical.")
    columns: builtins.list[QueryColumn]
    rows: builtins.list[LibraryRow]
    warnings: builtins.list[RenderedWarning] = Field(
        description="Fields the filter reads that no track has yet, each naming the providers "
        "that would give them (the filter matches nothing through them until one has run)."
    )


class LibraryIds(BaseModel):
    """Every track matching a filter, in the query's order ("select all that match"), or those
    of the rows asked for."""

    total: int = Field(description="How many tracks match (all of them, whatever the range).")
    ids: builtins.list[str]
