"""undo.json: the last edit of your own values, with what it changed, so that it can be undone.

One record (a list, to leave room for more steps): the JSON of an
`app.pipeline.enrichment.undo.EditRecord` — per track it changed, its manual entry before and
after. The store keeps plain JSON (the data layer does not import the pipeline's models); the
pipeline validates a record when it reads one. Each edit replaces the record in one locked write
taken *around* the edit of enrichments.json (`update()`), so two edits never interleave their
records; undoing empties it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.data.store import JsonStore

EditRecords = list[dict[str, Any]]  # the last edit's record (app.pipeline.enrichment.undo)


class UndoStore(JsonStore[EditRecords]):
    filename = "undo.json"
    schema_version = 1
    indent = False  # a bulk edit of 100,000 tracks records 100,000 entries
    adapter: ClassVar = TypeAdapter(EditRecords)

    def empty(self) -> EditRecords:
        return []
