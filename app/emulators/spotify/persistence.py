"""The state file an emulated account's changes live in, shared by every process given its path.

The file holds only the *changes* to the generated library (compact JSON, mode 0600)::

    {"format": 1,
     "library": {"seed": 0, "user": "emuuser", "tracks": 120, "playlists": 6},
     "created": 1,                          # playlists created so far (new ids derive from it)
     "liked": [{"track_id": "…", "added_at": "…"}, …],         # left out: as generated
     "playlists": [{"id": "…", "name": "…", "description": "…", "owner_id": "…",
                    "collaborative": false, "public": true, "version": 3,
                    "entries": [{"kind": "track", "added_at": "…", "added_by": "…",
                                 "track_id": "…"}, …]}, …]}

`playlists` lists, in `/me/playlists` order, the playlists created here (they come first) and
the generated ones written since (`version` > 1), whole. Snapshot ids are not stored: a
playlist has had exactly those of versions 1 to `version`.

`StateFile` locks, reads and saves the file; `Changes` is its content, checked against the
library it must be laid over (`decode_changes`). A file that does not parse or belongs to
another library is moved aside (`app.core.fs.quarantine`) and read as no changes at all.
How an account uses the file (catch up, then write, under the lock) is in `state.py`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.fs import (
    CorruptFileError,
    load_json_file,
    make_private_dir,
    quarantine,
    remove_stale_temp_files,
    write_json,
)
from app.emulators.library.model import AccountEntry, GeneratedLibrary, LikedSong

log = logging.getLogger(__name__)

FORMAT: Literal[1] = 1
LOCK_TIMEOUT_SECONDS = 60.0
"""How long a write waits for another process's lock on the state file."""

Signature = tuple[int, int, int]
"""(inode, mtime ns, size) of the state file; every save renames a new inode into place."""

UNKNOWN_SIGNATURE: Signature = (-1, -1, -1)  # matches no file: the next look reloads


class LibraryKey(BaseModel):
    """Which generated library the changes were made to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int
    user: str
    tracks: int
    playlists: int

    @classmethod
    def of(cls, library: GeneratedLibrary) -> LibraryKey:
        return cls(
            seed=library.seed,
            user=library.user.id,
            tracks=len(library.tracks),
            playlists=len(library.playlists),
        )


class PlaylistRecord(BaseModel):
    """A playlist as the file holds it: whole, with its version instead of snapshot ids."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    description: str
    owner_id: str
    collaborative: bool
    public: bool
    version: int = Field(ge=1)
    entries: list[AccountEntry]


class Changes(BaseModel):
    """What the state file holds (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[1]
    library: LibraryKey
    created: int = Field(ge=0)
    liked: list[LikedSong] | None = None  # None: as generated
    playlists: list[PlaylistRecord] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        library: GeneratedLibrary,
        *,
        created: int,
        liked: Sequence[LikedSong],
        playlists: Iterable[object],
    ) -> Changes:
        """The changes to `library`: `liked` is left out when it is as generated; `playlists`
        (objects with a `PlaylistRecord`'s attributes) are the ones the file lists."""
        return cls(
            format=FORMAT,
            library=LibraryKey.of(library),
            created=created,
            liked=None if tuple(liked) == library.liked else list(liked),
            playlists=[PlaylistRecord.model_validate(p, from_attributes=True) for p in playlists],
        )


def decode_changes(raw: Any, path: Path, library: GeneratedLibrary) -> Changes:
    """The changes a parsed file holds; `CorruptFileError` when they cannot be laid over
    `library` (`path` names the file in the error)."""
    try:
        changes = Changes.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise CorruptFileError(path, f"unexpected content at {where}: {first['msg']}") from None
    problem = mismatch(changes, library)
    if problem is not None:
        raise CorruptFileError(path, problem)
    return changes


def mismatch(changes: Changes, library: GeneratedLibrary) -> str | None:
    """Why `changes` cannot be laid over `library`, if they cannot."""
    key = LibraryKey.of(library)
    if changes.library != key:
        return f"changes to another library ({changes.library}, not {key})"
    ids = [record.id for record in changes.playlists]
    if len(set(ids)) != len(ids):
        return "a playlist is listed twice"
    generated = {playlist.id for playlist in library.playlists}
    if sum(playlist_id not in generated for playlist_id in ids) > changes.created:
        return "more created playlists than `created` counts"
    for entry in (entry for record in changes.playlists for entry in record.entries):
        items = {"track": entry.track_id, "episode": entry.episode_id, "local": entry.local}
        present = [kind for kind, item in items.items() if item is not None]
        if present != ([] if entry.kind == "unavailable" else [entry.kind]):
            return f"a {entry.kind} entry holding {present or 'nothing'}"
        if entry.track_id is not None and entry.track_id not in library.tracks:
            return f"unknown track {entry.track_id}"
        if entry.episode_id is not None and entry.episode_id not in library.episodes:
            return f"unknown episode {entry.episode_id}"
    unknown = [s.track_id for s in changes.liked or () if s.track_id not in library.tracks]
    return f"unknown liked tracks {unknown}" if unknown else None


class StateFile:
    """The JSON file an account's changes live in, shared by every emulator given its path.

    `locked()` holds a thread lock and a cross-process file lock (``.locks/<name>.lock`` beside
    the file); whoever changes the file holds it from reading to saving.
    """

    def __init__(self, path: Path, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.path = path
        self._guard = threading.RLock()  # the file lock is shared by the process's threads
        self._lock = FileLock(
            path.parent / ".locks" / f"{path.name}.lock",
            mode=0o600,
            thread_local=False,
            preserve_lock_file=True,
            timeout=lock_timeout,
            poll_interval=0.005,
        )
        self._swept = False

    def signature(self) -> Signature | None:
        """What `stat` says about the file now; `None` when there is none."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold both locks (`filelock.Timeout` after `lock_timeout` seconds of waiting)."""
        with self._guard:
            make_private_dir(self.path.parent / ".locks")
            with self._lock:
                if not self._swept:  # temp files of a writer killed mid-save
                    remove_stale_temp_files(self.path)
                    self._swept = True
                yield

    def load(self) -> Any:
        """The parsed file (hold the lock); `FileNotFoundError` or `CorruptFileError`."""
        return load_json_file(self.path)

    def save(self, data: Any) -> Signature | None:
        """Replace the file atomically (hold the lock); the new file's signature."""
        write_json(self.path, data, mode=0o600, indent=False)
        return self.signature()

    def read_changes(self, library: GeneratedLibrary) -> Changes | None:
        """The changes to `library` the file holds (hold the lock); `None` when there is no
        file or it was unusable, in which case it has been moved aside."""
        try:
            return decode_changes(self.load(), self.path, library)
        except FileNotFoundError:
            return None
        except CorruptFileError as error:
            log.warning(
                "emulated Spotify account state unusable (%s); starting afresh",
                error.reason,
                extra={"event": "emulator_state_reset", "path": str(self.path)},
            )
            quarantine(self.path, error.reason)
            return None

    def save_changes(self, changes: Changes) -> Signature | None:
        """Save `changes` as the file's content (hold the lock); the new file's signature."""
        return self.save(changes.model_dump(mode="json", exclude_none=True))
