"""tracks.json: the fetched library, keyed by track id."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.core.models import Track
from app.data.store import LineStore


def _v0_to_v1(data: Any) -> Any:
    # The seed stored a bare list of tracks.
    if isinstance(data, list):
        return {item["id"]: item for item in data if isinstance(item, dict) and "id" in item}
    return data


class TrackStore(LineStore[Track]):
    """One track per line (see `LineStore`): the library is read a line at a time."""

    filename = "tracks.json"
    schema_version = 1
    indent = False
    migrations: ClassVar = {0: _v0_to_v1}
    adapter: ClassVar = TypeAdapter(dict[str, Track])

    def empty(self) -> dict[str, Track]:
        return {}

    def load_tracks(self) -> dict[str, Track]:
        return self.load()

    def find(self, track_ids: Collection[str]) -> dict[str, Track]:
        """Just these tracks (the file streamed a line at a time; unknown ids are left out)."""
        return {
            track_id: Track.model_validate(raw)
            for track_id, raw in self.iter_raw()
            if track_id in track_ids
        }

    def upsert(self, tracks: Iterable[Track]) -> int:
        """Insert or replace tracks by id (one streaming rewrite); returns how many."""
        changes = {track.id: self._item_json(track) for track in tracks}
        self.edit(changes, lambda _key, _stored, new: new)
        return len(changes)

    def _item_json(self, value: Track) -> dict[str, Any]:
        return value.model_dump(mode="json")
