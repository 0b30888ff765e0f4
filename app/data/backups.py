"""backups.json: the exact contents of playlists before each apply, newest last.

`add` keeps at most `retention` backups per playlist (the oldest go first); a restore reads one
back by id.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import TypeAdapter

from app.core.errors import NotFoundError
from app.core.models import PlaylistBackup
from app.data.store import JsonStore


class BackupStore(JsonStore[list[PlaylistBackup]]):
    filename = "backups.json"
    schema_version = 1
    indent = False
    adapter: ClassVar = TypeAdapter(list[PlaylistBackup])

    def empty(self) -> list[PlaylistBackup]:
        return []

    def add(self, backup: PlaylistBackup, *, retention: int) -> None:
        with self.update() as backups:
            backups.append(backup)
            same = [b for b in backups if b.playlist_id == backup.playlist_id]
            drop = {b.id for b in same[: max(0, len(same) - retention)]}
            backups[:] = [b for b in backups if b.id not in drop]

    def get(self, backup_id: str) -> PlaylistBackup:
        for backup in self.load():
            if backup.id == backup_id:
                return backup
        raise NotFoundError(f"no backup {backup_id!r}", code="backup_not_found")
