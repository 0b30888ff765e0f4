"""Undoing the last edit of your own values (one step), exactly.

    edit_manual(stores, track_ids, ManualEdit(add_tags=["summer"]))   # records the edit
    last_edit(stores)              # UndoState: what undo would undo, if anything
    undo_last_edit(stores)         # UndoReport: the tracks put back as they were

Every edit of manual values that changes something (`manual.edit_manual`: the bulk edit, a
track's PATCH, `sap tag` / `sap untag`) replaces the record in undo.json with an `EditRecord`:
the edit itself and, per track it changed, its manual entry as it was before (stored JSON, or
null when it had none). What the edit left is not stored: it is the edit applied to what was
before (`edited_categories` is pure), so a bulk tag of 100,000 untagged tracks records a few
megabytes. An edit that changes nothing keeps the previous record (nothing to undo in it).

Undo puts every changed track's manual entry back exactly as it was (timestamp included) in
one rewrite of enrichments.json, then empties the record (no redo). It is refused (409), and
nothing is written:

- `nothing_to_undo` — no edit recorded (never, or already undone);
- `undo_unsafe` — some track's manual values are no longer what the edit left (edited by hand
  in enrichments.json, by an older release, or by a process that stopped between its two
  writes): putting back the old values would lose that change, so nothing is restored and the
  answer names how many tracks and a few ids.

Provider entries are never touched: the record and the undo concern your values only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from app.core.errors import ConflictError
from app.core.models import utc_now
from app.data import Stores
from app.providers.manual import MANUAL_SOURCE

__all__ = [
    "EditRecord",
    "LastEdit",
    "UndoReport",
    "UndoState",
    "last_edit",
    "new_record",
    "undo_last_edit",
]

Entry = dict[str, Any]
Categories = dict[str, Any]


class EditRecord(BaseModel):
    """What undo needs of an edit: the edit, and each changed track's manual entry before."""

    id: str
    at: datetime
    summary: str = Field(description="The edit in words: `added the tag 'summer' to 3 tracks`.")
    edit: dict[str, Any] = Field(description="The edit as made (`ManualEdit` JSON).")
    before: dict[str, Entry | None] = Field(
        description="Per changed track, its stored manual entry before (null: none)."
    )


class LastEdit(BaseModel):
    """The last edit, as an undo button names it."""

    id: str
    at: datetime
    summary: str
    tracks: int = Field(description="Tracks it changed (and undo would put back).")


class UndoState(BaseModel):
    """Whether there is an edit to undo, and which."""

    available: bool
    last: LastEdit | None


class UndoReport(BaseModel):
    """What undo put back."""

    undone: LastEdit
    restored: int = Field(description="Tracks whose manual values were put back.")
    manual: dict[str, Categories | None] = Field(
        description="Per track, its manual values now (null: none left)."
    )


def new_record(summary: str, edit: Mapping[str, Any], before: Mapping[str, Entry | None]) -> Entry:
    """The JSON of a new `EditRecord` (what undo.json holds)."""
    record = EditRecord(
        id=uuid.uuid4().hex[:12], at=utc_now(), summary=summary, edit=dict(edit), before=before
    )
    return record.model_dump(mode="json")


def _brief(record: EditRecord) -> LastEdit:
    return LastEdit(id=record.id, at=record.at, summary=record.summary, tracks=len(record.before))


def _recorded(records: list[Entry]) -> EditRecord | None:
    if not records:
        return None
    try:
        return EditRecord.model_validate(records[-1])
    except ValidationError:  # written by another release, or by hand: not something to undo
        return None


def last_edit(stores: Stores) -> UndoState:
    """What `undo_last_edit` would undo now, if anything."""
    record = _recorded(stores.undo.load())
    return UndoState(available=record is not None, last=None if record is None else _brief(record))


def undo_last_edit(
    stores: Stores, after: Callable[[Categories, Mapping[str, Any]], Categories]
) -> UndoReport:
    """Put back the manual values the last edit changed (see the module docstring);
    `after(before, edit)` is what the edit made of a track's values (`edited_categories`)."""
    with stores.undo.update() as records:
        record = _recorded(records)
        if record is None:
            raise ConflictError(
                "nothing to undo: no edit of your values is recorded (or it was undone)",
                code="nothing_to_undo",
            )
        now = _manual_now(stores, set(record.before))
        changed = [
            track_id
            for track_id, entry in record.before.items()
            if now.get(track_id) != (after(_categories(entry), record.edit) or None)
        ]
        if changed:
            shown = ", ".join(changed[:5]) + (" …" if len(changed) > 5 else "")
            raise ConflictError(
                f"cannot undo {record.summary!r}: the values of {len(changed)} of its "
                f"{len(record.before)} tracks changed since ({shown}); putting the old ones back "
                "would lose that change, so nothing was restored",
                code="undo_unsafe",
                extra={"changed": changed[:100]},
            )

        def restore(_track_id: str, stored: list[Entry] | None, previous: Entry | None) -> Any:
            others = [entry for entry in stored or [] if entry.get("source") != MANUAL_SOURCE]
            if previous:
                others.append(previous)
            return others

        stores.enrichments.edit(record.before, restore)
        records.clear()
    return UndoReport(
        undone=_brief(record),
        restored=len(record.before),
        manual={track_id: _categories(entry) or None for track_id, entry in record.before.items()},
    )


def _categories(entry: Entry | None) -> Categories:
    categories = (entry or {}).get("categories")
    return dict(categories) if isinstance(categories, dict) else {}


def _manual_now(stores: Stores, track_ids: set[str]) -> dict[str, Categories | None]:
    """Each track's manual values as stored now (absent: none)."""
    found: dict[str, Categories | None] = {}
    for track_id, entries in stores.enrichments.iter_raw():
        if track_id in track_ids and isinstance(entries, list):
            manual = next(
                (e for e in entries if isinstance(e, dict) and e.get("source") == MANUAL_SOURCE),
                None,
            )
            if manual is not None:
                found[track_id] = _categories(manual) or None
    return found
