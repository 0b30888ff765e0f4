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

Values are checked against their field's type in the field registry of the stored library
(built-in, found in the library, or declared by a provider): `energy` takes a number, so
``"abc"`` is refused (422 ``manual_value_invalid``, naming each key and the type it takes); a
key the registry does not know is free. Removing nothing is refused too (404
``manual_value_not_found``): a key to unset that is none of the tracks' own values, or a tag
to take off that none of them shows. Nothing is written unless the whole edit is fine.

Keys are field names (letters, digits, ``_`` and ``.``); built-in track fields (``name``,
``year``, ``artists``…) come from Spotify and cannot be overridden, so they are refused with a
clear message rather than silently ignored by the rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import TrackEnrichment, utc_now
from app.data import Stores
from app.data.enrichments import entry_json
from app.pipeline.enrichment.undo import (
    LastEdit,
    UndoReport,
    last_edit,
    new_record,
    undo_last_edit,
)
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import BUILTIN_FIELDS, FieldInfo, FieldType
from app.pipeline.rules.library.enrichment_view import REMOVED_TAGS_KEY, build_enrichment_view
from app.pipeline.rules.rule_sets import field_registry
from app.pipeline.rules.validation.conditions import short_value
from app.pipeline.rules.values import is_date_like
from app.providers.manual import MANUAL_SOURCE, MANUAL_VERSION
from app.providers.registry import PROVIDERS

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
        if isinstance(item, float) and not math.isfinite(item):  # NaN, or Infinity from JSON
            raise ValueError(f"{key}: {item} is not a value")
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


def type_problem(key: str, value: Value, info: FieldInfo) -> str | None:
    """Why `value` does not fit the field `info` (``'energy' takes a number (got 'abc')``),
    or None. A list field takes one value or a list; a single-valued field, one value."""
    expected = {"text": "text", "number": "a number", "date": "a date", "bool": "true/false"}[
        info.type
    ]
    if info.is_list:
        expected = f"{expected} or a list of {info.type}"
    elif isinstance(value, list):
        return f"{key!r} takes {expected}, not a list (got {short_value(value)})"
    items = value if isinstance(value, list) else [value]
    if all(_fits(item, info.type) for item in items):
        return None
    return f"{key!r} takes {expected} (got {short_value(value)})"


def _fits(item: Scalar, field_type: FieldType) -> bool:
    if field_type == "number":
        return isinstance(item, int | float) and not isinstance(item, bool)
    if field_type == "bool":
        return isinstance(item, bool)
    if field_type == "date":
        return isinstance(item, str) and is_date_like(item)
    return isinstance(item, str)


def check_types(values: Mapping[str, Value], registry: FieldRegistry) -> None:
    """Every value of `values` against its field's type in `registry` (a key it does not
    know is free); one 422 naming each key that does not fit and the type it takes."""
    problems = []
    for key, value in values.items():
        info = registry.resolve(key)
        problem = None if info is None else type_problem(key, value, info)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise UnprocessableError("; ".join(problems), code="manual_value_invalid")


def check_removals(stores: Stores, track_ids: Sequence[str], edit: ManualEdit) -> None:
    """404 when a key to unset or a tag to take off is on none of the tracks: removing
    nothing is a mistake to say (a typo, or a provider's value, which only it can change)."""
    if not (edit.unset or edit.remove_tags):
        return
    keys: set[str] = set()
    tags: set[str] = set()
    precedence = PROVIDERS.precedence()
    for entries in stores.enrichments.entries_for(set(track_ids)).values():
        manual = next((e for e in entries if e.source == MANUAL_SOURCE), None)
        if manual is not None:
            keys.update(manual.categories)
        view = build_enrichment_view(entries, precedence)
        shown = view.get("tags")
        if isinstance(shown, list):
            tags.update(_fold(tag for tag in shown if isinstance(tag, str)))
    missing_keys = [key for key in edit.unset if key not in keys]
    missing_tags = [tag for tag in edit.remove_tags if tag.casefold() not in tags]
    parts = []
    if missing_keys:
        noun = "your value" if len(missing_keys) == 1 else "your values"
        parts.append(
            f"no track given has {noun} {', '.join(map(repr, missing_keys))} (only your own "
            "values can be removed; providers' values stay)"
        )
    if missing_tags:
        noun = "the tag" if len(missing_tags) == 1 else "the tags"
        parts.append(f"no track given has {noun} {', '.join(map(repr, missing_tags))}")
    if parts:
        raise NotFoundError("nothing to remove: " + "; ".join(parts), code="manual_value_not_found")


@dataclass(frozen=True)
class ManualOutcome:
    """What `edit_manual` did: each track's manual entry now, the tracks it changed and those
    it left as they were, and the edit recorded for undo (None: nothing changed)."""

    results: dict[str, TrackEnrichment | None]
    changed: list[str]
    unchanged: list[str]
    undo: LastEdit | None


def apply_manual(
    stores: Stores,
    track_ids: Sequence[str],
    edit: ManualEdit,
    *,
    registry: FieldRegistry | None = None,
) -> dict[str, TrackEnrichment | None]:
    """`edit_manual`, answering each track's new manual entry (None when none is left)."""
    return edit_manual(stores, track_ids, edit, registry=registry).results


def edit_manual(
    stores: Stores,
    track_ids: Sequence[str],
    edit: ManualEdit,
    *,
    registry: FieldRegistry | None = None,
) -> ManualOutcome:
    """Apply `edit` to every track (one streaming rewrite of the store) and record it as the
    edit to undo (`undo`), when it changed anything.

    Checked first, and nothing is written unless all is well: the tracks exist, each value
    set fits its field's type (`registry`: default, the field registry of the stored library;
    `check_types`), and each key unset or tag taken off is on one of the tracks
    (`check_removals`). A track the edit does not change keeps its entry as it was (its time
    included) and is reported `unchanged`."""
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
    if edit.set:
        check_types(edit.set, registry if registry is not None else field_registry(stores))
    check_removals(stores, track_ids, edit)
    results: dict[str, TrackEnrichment | None] = {}
    before: dict[str, dict[str, Any] | None] = {}
    now = utc_now()

    def change(track_id: str, stored: list[dict[str, Any]] | None, _: object) -> list[Any]:
        entries = stored or []
        others = [entry for entry in entries if entry.get("source") != MANUAL_SOURCE]
        current = next((e for e in entries if e.get("source") == MANUAL_SOURCE), None)
        previous = (current or {}).get("categories") or {}
        categories = edited_categories(previous, edit)
        if categories == previous:  # nothing to change: the entry stays as it was
            results[track_id] = None if current is None else TrackEnrichment.model_validate(current)
            return entries
        before[track_id] = current
        entry = None
        if categories:
            entry = TrackEnrichment(
                source=MANUAL_SOURCE,
                version=MANUAL_VERSION,
                timestamp=now,
                categories=categories,
                match_method="manual",
                confidence=1.0,
            )
            others.append(entry_json(entry))
        results[track_id] = entry
        return others

    ordered = list(dict.fromkeys(track_ids))
    # The undo record's lock is taken around the edit: two edits never interleave their
    # records, and an undo never runs between an edit and its record.
    with stores.undo.update() as records:
        stores.enrichments.edit(dict.fromkeys(ordered, edit), change)
        record = None
        if before:
            record = new_record(
                describe_edit(edit, len(before)), edit.model_dump(mode="json"), before
            )
            records[:] = [record]
    undo = None if record is None else last_edit(stores).last
    return ManualOutcome(
        results={track_id: results.get(track_id) for track_id in ordered},
        changed=[track_id for track_id in ordered if track_id in before],
        unchanged=[track_id for track_id in ordered if track_id not in before],
        undo=undo,
    )


def describe_edit(edit: ManualEdit, tracks: int) -> str:
    """An edit in words, as an undo button says it: ``added the tag 'summer' to 3 tracks``."""
    parts = []
    if edit.set:
        parts.append("set " + ", ".join(f"{key}={value!r}" for key, value in edit.set.items()))
    if edit.unset:
        parts.append("removed your " + ", ".join(map(repr, edit.unset)))
    if edit.add_tags:
        noun = "the tag" if len(edit.add_tags) == 1 else "the tags"
        parts.append(f"added {noun} " + ", ".join(map(repr, edit.add_tags)))
    if edit.remove_tags:
        noun = "the tag" if len(edit.remove_tags) == 1 else "the tags"
        parts.append(f"took off {noun} " + ", ".join(map(repr, edit.remove_tags)))
    where = "1 track" if tracks == 1 else f"{tracks} tracks"
    return f"{'; '.join(parts)} on {where}"


def undo_manual(stores: Stores) -> UndoReport:
    """Undo the last edit of manual values (`undo.undo_last_edit`)."""
    return undo_last_edit(
        stores, lambda before, edit: edited_categories(before, ManualEdit.model_validate(edit))
    )
