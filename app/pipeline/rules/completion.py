"""What the rules editor offers while typing: fields, the values the library holds, rule sets.

`completion(stores, library)` answers `GET /data/rules/completion` from the loaded library:

* `fields`: every field rules may test (the rows of `GET /data/rules/fields`: type, operators
  valid for it, coverage, a few examples);
* `values`: per field whose values are a vocabulary — text fields and lists of texts (genres,
  tags, moods, artists, playlists…) — the values tracks hold, most common first, at most
  `per_field` of them, each with how many tracks hold it; a text field with more distinct
  values than `VOCABULARY_MAX`, named as an identifier (`…_id`, `…_mbid`), or whose every
  value is on one track only, is no vocabulary and gets none;
* `rule_sets`: the stored rule sets' ids and names (for `in rule`).

Values come from the field's postings (the distinct elements and the tracks holding each),
which the engine keeps with the library: counting them is one `bincount` per field.

    answer = completion(stores, services.library)
    answer.values["genres"][0]   # KnownValue(value="rock", tracks=812)
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel, Field

from app.data import Stores
from app.pipeline.rules.fields.registry import FieldRow
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.columns import Columns
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.rule_sets import field_registry, stored_rule_sets

__all__ = ["KnownValue", "RuleCompletion", "RuleSetName", "completion"]

VOCABULARY_MAX = 5000
"""A text field with more distinct values than this is not a vocabulary (titles, ids)."""
_IDENTIFIER = re.compile(r"(^|_)(m?b?id|uri|isrc)$")
"""Fields named as identifiers (`deezer_id`, `recording_mbid`): not words to pick from."""
_SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_NOT_VOCABULARY = frozenset({"id", "isrc", "name", "album", "track", "uri"})


class KnownValue(BaseModel):
    value: str
    tracks: int = Field(description="Library tracks holding it.")


class RuleSetName(BaseModel):
    id: str
    name: str
    enabled: bool


class RuleCompletion(BaseModel):
    """What the rules editor completes: fields, known values per field, rule sets."""

    fields: list[FieldRow]
    values: dict[str, list[KnownValue]] = Field(
        description="Per vocabulary field (texts and lists of texts), the values tracks hold, "
        "most common first (capped); `playlists` holds playlist names."
    )
    rule_sets: list[RuleSetName]


def completion(
    stores: Stores, library: LibraryCache | Library, *, per_field: int = 200
) -> RuleCompletion:
    """The editor's completion data (see the module docstring)."""
    views = library if isinstance(library, Library) else library.views()
    rows = field_registry(stores, library if isinstance(library, LibraryCache) else None).describe()
    columns = Columns.of(views)
    values: dict[str, list[KnownValue]] = {}
    for row in rows:
        if row.type != "text" or row.name in _NOT_VOCABULARY or _IDENTIFIER.search(row.name):
            continue
        if not row.coverage:
            continue
        known = _known_values(columns, views.key_for(row.name), per_field)
        if known:
            values[row.name] = known
    return RuleCompletion(
        fields=rows,
        values=values,
        rule_sets=[
            RuleSetName(id=rule_set.id, name=rule_set.name, enabled=rule_set.enabled)
            for rule_set in stored_rule_sets(stores)
        ],
    )


def _known_values(columns: Columns, name: str, limit: int) -> list[KnownValue]:
    postings = columns.postings(name)
    elements = postings.elements
    if not elements or len(elements) > VOCABULARY_MAX:
        return []
    codes = postings.codes[postings.codes >= 0]
    tracks = np.bincount(codes, minlength=len(elements))
    if len(elements) > 20 and int(tracks.max()) <= 1:
        return []  # every value on one track only: identifiers, whatever their name
    order = np.argsort(-tracks, kind="stable")
    found: list[KnownValue] = []
    for index in order:
        count = int(tracks[index])
        element = elements[index]
        if count == 0 or len(found) >= limit:
            break
        if not postings.valid[index] or not isinstance(element, str):
            continue
        if name == "playlists" and _SPOTIFY_ID.match(element):
            continue  # a playlist's id beside its name: the name is what a person types
        found.append(KnownValue(value=element, tracks=count))
    return found
