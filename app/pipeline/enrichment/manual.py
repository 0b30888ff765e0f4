"""Manual enrichment: the user's own keys and tags, which always win over every provider.

    edit = ManualEdit(set={"mood": "summer"}, add_tags=["road trip"])
    apply_manual(stores, ["4uLU6hMCjMI75M1A2tKUQC"], edit)

A track's manual values are one `TrackEnrichment` with source ``manual``:

- `set` writes keys (text, number, boolean, or a list of those); `unset` removes them, so the
  providers' values show again;
- `add_tags` adds to the manual ``tags`` (merged with the providers' tags in the rule view);
  `remove_tags` takes tags off the track *whatever provider gave them*: a tag the user added is
  dropped, any other is remembered in ``tags_removed`` and hidden from the merged ``tags``;
  adding it again un-hides it;
- an edit that leaves nothing removes the manual entry.

Keys are field names (letters, digits, ``_`` and ``.``); built-in track fields (``name``,
``year``, ``artists``…) come from Spotify and cannot be overridden, so they are refused with a
clear message rather than silently ignored by the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import TrackEnrichment, utc_now
from app.data import Stores
from app.data.enrichments import entry_json
from app.pipeline.rules.fields.types import BUILTIN_FIELDS
from app.pipeline.rules.library.enrichment_view import REMOVED_TAGS_KEY
from app.providers.manual import MANUAL_SOURCE, MANUAL_VERSION

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
RESERVED_KEYS = frozenset({info.name for info in BUILTIN_FIELDS} | {"tags", REMOVED_TAGS_KEY})
MAX_KEY_LENGTH = 64
MAX_TEXT_LENGTH = 500
MAX_LIST_ITEMS = 100

Scalar = str | int | float | bool
Value = Scalar | list[Scalar]


def _check_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.match(key):
        raise ValueError(
            f"{key!r} is not a field name: use letters, digits, '_' and '.', "
            f"at most {MAX_KEY_LENGTH} characters"
        )
    if key in RESERVED_KEYS:
        if key == "tags":
            raise ValueError("change 'tags' with add_tags / remove_tags")
        raise ValueError(f"{key!r} is a built-in track field; manual values cannot replace it")
    return key


def _check_value(key: str, value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_LIST_ITEMS:
        raise ValueError(f"{key}: at most {MAX_LIST_ITEMS} list items")
    for item in items:
        if isinstance(item, str) and len(item) > MAX_TEXT_LENGTH:
            raise ValueError(f"{key}: text longer than {MAX_TEXT_LENGTH} characters")
        if isinstance(item, float) and item != item:  # NaN
            raise ValueError(f"{key}: NaN is not a value")
    return value


def _clean_tag(tag: str) -> str:
    text = " ".join(tag.split())
    if not text or len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"tag {tag!r} must be 1..{MAX_TEXT_LENGTH} characters")
    return text


class ManualEdit(BaseModel):
    """What to change in the manual values of one or more tracks."""

    model_config = ConfigDict(extra="forbid")

    set: dict[str, Value] = Field(default_factory=dict, description="Keys to set.")
    unset: list[str] = Field(default_factory=list, description="Keys to remove.")
    add_tags: list[str] = Field(default_factory=list, description="Tags to add.")
    remove_tags: list[str] = Field(default_factory=list, description="Tags to take off.")

    @field_validator("set")
    @classmethod
    def _check_set(cls, values: dict[str, Value]) -> dict[str, Value]:
        return {_check_key(key): _check_value(key, value) for key, value in values.items()}

    @field_validator("unset")
    @classmethod
    def _check_unset(cls, keys: list[str]) -> list[str]:
        return [_check_key(key) for key in keys]

    @field_validator("add_tags", "remove_tags")
    @classmethod
    def _check_tags(cls, tags: list[str]) -> list[str]:
        return [_clean_tag(tag) for tag in tags]

    @model_validator(mode="after")
    def _not_empty(self) -> ManualEdit:
        if not (self.set or self.unset or self.add_tags or self.remove_tags):
            raise ValueError("nothing to change: give set, unset, add_tags or remove_tags")
        both = set(self.set) & set(self.unset)
        if both:
            raise ValueError(f"{', '.join(sorted(both))}: both set and unset")
        return self


def _fold(items: Iterable[str]) -> set[str]:
    return {item.casefold() for item in items}


def edited_categories(current: Mapping[str, Any], edit: ManualEdit) -> dict[str, Any]:
    """The manual categories after `edit` (pure; see the module docstring)."""
    categories = {key: value for key, value in current.items() if key not in edit.unset}
    categories.update(edit.set)
    tags = [tag for tag in categories.get("tags", []) if isinstance(tag, str)]
    removed = [tag for tag in categories.get(REMOVED_TAGS_KEY, []) if isinstance(tag, str)]
    added = _fold(edit.add_tags)
    removing = _fold(edit.remove_tags)
    removed = [tag for tag in removed if tag.casefold() not in added]
    tags = [tag for tag in tags if tag.casefold() not in removing]
    for tag in edit.add_tags:
        if tag.casefold() not in _fold(tags) and tag.casefold() not in removing:
            tags.append(tag)
    for tag in edit.remove_tags:
        if tag.casefold() not in _fold(removed):
            removed.append(tag)
    categories.pop("tags", None)
    categories.pop(REMOVED_TAGS_KEY, None)
    if tags:
        categories["tags"] = tags
    if removed:
        categories[REMOVED_TAGS_KEY] = removed
    return categories


def apply_manual(
    stores: Stores, track_ids: Sequence[str], edit: ManualEdit
) -> dict[str, TrackEnrichment | None]:
    """Apply `edit` to every track (one streaming rewrite of the store); returns each track's
    new manual entry (None when no manual value is left)."""
    if not track_ids:
        raise UnprocessableError("no track ids given", code="no_tracks")
    wanted = set(track_ids)
    known = {track_id for track_id, _ in stores.tracks.iter_raw() if track_id in wanted}
    unknown = [track_id for track_id in track_ids if track_id not in known]
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise NotFoundError(
            f"{len(unknown)} track id(s) are not in the fetched library: {shown}",
            code="track_not_found",
        )
    results: dict[str, TrackEnrichment | None] = {}

    def change(track_id: str, stored: list[dict[str, Any]] | None, _: object) -> list[Any]:
        entries = stored or []
        others = [entry for entry in entries if entry.get("source") != MANUAL_SOURCE]
        current = next((e for e in entries if e.get("source") == MANUAL_SOURCE), None)
        categories = edited_categories((current or {}).get("categories") or {}, edit)
        entry = None
        if categories:
            entry = TrackEnrichment(
                source=MANUAL_SOURCE,
                version=MANUAL_VERSION,
                timestamp=utc_now(),
                categories=categories,
                match_method="manual",
                confidence=1.0,
            )
            others.append(entry_json(entry))
        results[track_id] = entry
        return others

    stores.enrichments.edit(dict.fromkeys(track_ids, edit), change)
    return {track_id: results.get(track_id) for track_id in dict.fromkeys(track_ids)}
