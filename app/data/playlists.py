"""playlists.json: the playlists this tool manages (rule set ↔ Spotify playlist).

The sync issue fills in the record shape, backups and restore.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.data.store import JsonStore

ManagedPlaylists = dict[str, dict[str, Any]]  # rule set id -> managed playlist record


class PlaylistStore(JsonStore[ManagedPlaylists]):
    filename = "playlists.json"
    schema_version = 1
    adapter: ClassVar = TypeAdapter(ManagedPlaylists)

    def empty(self) -> ManagedPlaylists:
        return {}
