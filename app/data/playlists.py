"""playlists.json: the playlists this tool manages (rule set id → `ManagedPlaylist`).

Each record remembers the playlist's id and what the last apply left in it (snapshot id and
URIs in order), which is how a later plan notices the playlist was edited in Spotify since
("drift").
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.core.models import ManagedPlaylist
from app.data.store import JsonStore

ManagedPlaylists = dict[str, ManagedPlaylist]


def _v1_to_v2(data: Any) -> Any:
    # Version 1 was a placeholder of free-form dicts; keep the records that fit the new shape.
    if not isinstance(data, dict):
        return {}
    return {
        key: {**value, "rule_id": value.get("rule_id", key)}
        for key, value in data.items()
        if isinstance(value, dict) and "playlist_id" in value
    }


class PlaylistStore(JsonStore[ManagedPlaylists]):
    filename = "playlists.json"
    schema_version = 2
    migrations: ClassVar = {1: _v1_to_v2}
    adapter: ClassVar = TypeAdapter(ManagedPlaylists)

    def empty(self) -> ManagedPlaylists:
        return {}
