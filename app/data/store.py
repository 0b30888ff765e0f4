"""The base of every store: one JSON file, an envelope with a schema version, and locking.

On disk a store file looks like ``{"schema_version": N, "data": ...}``. A file without that
envelope (the seed's bare shape) loads as version 0. Loading runs the store's migrations one
version at a time up to its current `schema_version`; saving always writes the current version.
A file whose version is newer than ours is never read or overwritten (`StoreVersionError`).

Concurrency: readers never lock (a rename is atomic, so they see a whole old or new file).
`update()` holds a per-file thread lock and a cross-process file lock for the whole
read-modify-write, so the CLI and the server can change the same store at once without
losing each other's updates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from filelock import FileLock, Timeout
from pydantic import TypeAdapter, ValidationError

from app.core.errors import StoreError, StoreVersionError
from app.core.fs import (
    CorruptFileError,
    load_json_file,
    paused_gc,
    quarantine,
    remove_stale_temp_files,
    write_json,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

Migration = Callable[[Any], Any]
"""Turns the `data` of version N into the `data` of version N + 1."""

LOCK_DIR_NAME = ".locks"
LOCK_TIMEOUT_SECONDS = 60.0
"""How long a write waits for another process's lock before giving up with `store_locked`."""

_thread_locks: dict[Path, threading.RLock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock_for(path: Path) -> threading.RLock:
    with _thread_locks_guard:
        lock = _thread_locks.get(path)
        if lock is None:
            lock = _thread_locks[path] = threading.RLock()
        return lock


@dataclass(frozen=True)
class StoreStatus:
    """What the health report says about one store file (from `stat`, without parsing)."""

    name: str
    file: Path
    exists: bool
    size_bytes: int
    modified_at: datetime | None
    schema_version: int


class JsonStore(Generic[T]):
    """A typed JSON file; subclasses set `filename`, `schema_version`, `adapter`, `empty`."""

    filename: ClassVar[str]
    schema_version: ClassVar[int] = 1
    file_mode: ClassVar[int] = 0o600
    indent: ClassVar[bool] = True  # False for big machine-written files: smaller and faster
    migrations: ClassVar[dict[int, Migration]] = {}
    adapter: ClassVar[TypeAdapter[Any]]

    def __init__(self, directory: Path, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.directory = directory
        self.path = directory / self.filename
        self._thread_lock = _thread_lock_for(self.path.resolve())
        lock_path = directory / LOCK_DIR_NAME / f"{self.filename}.lock"
        self._file_lock = FileLock(
            lock_path,
            mode=0o600,
            thread_local=False,
            preserve_lock_file=True,
            timeout=lock_timeout,
            poll_interval=0.005,  # short polls let a waiting process in between another's bursts
        )
        self._temp_swept = False

    @property
    def name(self) -> str:
        return self.filename.removesuffix(".json")

    def empty(self) -> T:
        """The value of a store whose file does not exist yet."""
        raise NotImplementedError

    # --- reading ------------------------------------------------------------------------

    def load(self) -> T:
        """Current contents; a missing file gives `empty()`, a corrupt one is quarantined."""
        try:
            return self._read()
        except FileNotFoundError:
            return self.empty()
        except CorruptFileError:
            # Re-check under the lock: a writer may have replaced the file meanwhile, and we
            # must never move a good file aside.
            with self._locked():
                return self._read_or_quarantine()

    def _read(self) -> T:
        with paused_gc():
            return self._decode(load_json_file(self.path))

    def _read_or_quarantine(self) -> T:
        try:
            return self._read()
        except FileNotFoundError:
            return self.empty()
        except CorruptFileError as exc:
            quarantine(self.path, exc.reason)
            return self.empty()

    def _decode(self, raw: Any) -> T:
        version, data = self._unwrap(raw)
        if version > self.schema_version:
            raise StoreVersionError(
                f"{self.path} has schema version {version}, newer than this release understands "
                f"({self.schema_version}); upgrade spotify-auto-playlists or restore a backup"
            )
        for step in range(version, self.schema_version):
            migrate = self.migrations.get(step)
            if migrate is not None:
                data = migrate(data)
        try:
            return self.adapter.validate_python(data)  # type: ignore[no-any-return]
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise CorruptFileError(
                self.path, f"unexpected content at {where}: {first['msg']}"
            ) from exc

    def _unwrap(self, raw: Any) -> tuple[int, Any]:
        if isinstance(raw, dict) and set(raw) == {"schema_version", "data"}:
            version = raw["schema_version"]
            if not isinstance(version, int) or isinstance(version, bool) or version < 0:
                raise CorruptFileError(self.path, f"bad schema_version {version!r}")
            return version, raw["data"]
        return 0, raw  # the seed's bare shape

    # --- writing ------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            (self.directory / LOCK_DIR_NAME).mkdir(exist_ok=True)
            try:
                self._file_lock.acquire()
            except Timeout:
                raise StoreError(
                    f"{self.filename} is locked by another process for more than "
                    f"{self._file_lock.timeout:.0f}s (lock file {self._file_lock.lock_file}); "
                    "is a stuck spotify-auto-playlists process still running?",
                    code="store_locked",
                ) from None
            try:
                yield
            finally:
                self._file_lock.release()

    def _write(self, value: T) -> None:
        if not self._temp_swept:
            # Temp files from a writer killed mid-write; safe to drop while we hold the lock.
            if removed := remove_stale_temp_files(self.path):
                log.info("removed %d stale temp file(s) beside %s", removed, self.path)
            self._temp_swept = True
        with paused_gc():
            data = self.adapter.dump_python(value, mode="json")
            envelope = {"schema_version": self.schema_version, "data": data}
            write_json(self.path, envelope, mode=self.file_mode, indent=self.indent)

    def save(self, value: T) -> None:
        """Replace the whole contents (atomically)."""
        with self._locked():
            self._write(value)

    @contextmanager
    def update(self) -> Iterator[T]:
        """Locked read-modify-write: mutate the yielded value in place; it is saved on exit.

        Nothing is written if the block raises.
        """
        with self._locked():
            value = self._read_or_quarantine()
            yield value
            self._write(value)

    # --- reporting ----------------------------------------------------------------------

    def status(self) -> StoreStatus:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return StoreStatus(self.name, self.path, False, 0, None, self.schema_version)
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        return StoreStatus(self.name, self.path, True, info.st_size, modified, self.schema_version)
