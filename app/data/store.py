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
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

import orjson
from filelock import FileLock, Timeout
from pydantic import TypeAdapter, ValidationError

from app.core.errors import StoreError, StoreVersionError
from app.core.fs import (
    CorruptFileError,
    load_json_file,
    make_private_dir,
    paused_gc,
    quarantine,
    remove_stale_temp_files,
    write_chunks,
    write_json,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

Migration = Callable[[Any], Any]
"""Turns the `data` of version N into the `data` of version N + 1."""

LOCK_DIR_NAME = ".locks"
LOCK_TIMEOUT_SECONDS = 60.0
"""How long a write waits for another process's lock before giving up with `store_locked`."""

# Process-wide on purpose, by file: every store object of one file (the server's, a job's, a
# test's second `Stores`) must take the same thread lock, as the OS file lock is shared
# across processes. It holds locks only, never data.
_thread_locks: dict[Path, threading.RLock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock_for(path: Path) -> threading.RLock:
    with _thread_locks_guard:
        lock = _thread_locks.get(path)
        if lock is None:
            lock = _thread_locks[path] = threading.RLock()
        return lock


@dataclass
class Draft(Generic[T]):
    """A store's value inside `JsonStore.draft`: saved on leaving the block unless discarded."""

    value: T
    kept: bool = True

    def discard(self) -> None:
        self.kept = False


@dataclass(frozen=True)
class StoreStatus:
    """What the health report says about one store file (from `stat` and its first bytes,
    without parsing it)."""

    name: str
    file: Path
    exists: bool
    size_bytes: int
    modified_at: datetime | None
    schema_version: int
    file_schema_version: int | None = None  # what the file says (None: absent, or bare)
    problem: str | None = None  # e.g. written by a newer release


_VERSION_HEAD = re.compile(rb'^\s*\{\s*"schema_version"\s*:\s*(\d{1,9})')
"""The envelope's version, which every writer puts first (`{"schema_version": N, …`)."""


class JsonStore(Generic[T]):
    """A typed JSON file; subclasses set `filename`, `schema_version`, `adapter`, `empty`."""

    filename: ClassVar[str]
    schema_version: ClassVar[int] = 1
    file_mode: ClassVar[int] = 0o600
    indent: ClassVar[bool] = True  # False for big machine-written files: smaller and faster
    dump_exclude_defaults: ClassVar[bool] = False  # True: fields at their default are left out
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

    def load_raw(self) -> Any:
        """Current contents as plain JSON data: migrated but not validated into models.

        For bulk read-only paths that build their own compact structures (the rules library
        over 100,000 tracks): pydantic models of a whole big file cost several times its JSON.
        A missing file gives `empty()`'s JSON form; a corrupt one is handled as by `load`.
        """
        try:
            with paused_gc():
                raw = load_json_file(self.path)
            version, data = self._unwrap(raw)
            return self._migrate(version, data)
        except FileNotFoundError:
            return self.adapter.dump_python(self.empty(), mode="json")
        except CorruptFileError:
            return self.adapter.dump_python(self.load(), mode="json")

    def _too_new(self, version: int) -> str:
        return (
            f"{self.path} has schema version {version}, newer than this release understands "
            f"({self.schema_version}); upgrade spotify-auto-playlists or restore a backup"
        )

    def _migrate(self, version: int, data: Any) -> Any:
        if version > self.schema_version:
            raise StoreVersionError(self._too_new(version))
        for step in range(version, self.schema_version):
            migrate = self.migrations.get(step)
            if migrate is not None:
                data = migrate(data)
        return data

    def _decode(self, raw: Any) -> T:
        version, data = self._unwrap(raw)
        data = self._migrate(version, data)
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
            make_private_dir(self.directory / LOCK_DIR_NAME)
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

    def _sweep_temp_files(self) -> None:
        if not self._temp_swept:
            # Temp files from a writer killed mid-write; safe to drop while we hold the lock.
            if removed := remove_stale_temp_files(self.path):
                log.info("removed %d stale temp file(s) beside %s", removed, self.path)
            self._temp_swept = True

    def _write(self, value: T) -> None:
        self._sweep_temp_files()
        with paused_gc():
            data: Any
            if self.indent:
                data = self.adapter.dump_python(
                    value, mode="json", exclude_defaults=self.dump_exclude_defaults
                )
            else:
                # Straight to JSON bytes in pydantic-core: no dict per model on the way (about
                # half the time for a big machine-written file).
                data = orjson.Fragment(
                    self.adapter.dump_json(value, exclude_defaults=self.dump_exclude_defaults)
                )
            envelope = {"schema_version": self.schema_version, "data": data}
            write_json(self.path, envelope, mode=self.file_mode, indent=self.indent)

    @contextmanager
    def draft(self) -> Iterator[Draft[T]]:
        """Locked read-modify-write that may find, inside the block, that nothing is worth a
        new file: `draft.value` is saved on exit unless `draft.discard()` was called (or the
        block raised). A file that is not rewritten keeps its stamp (`signature_of`), so what
        is kept for it elsewhere stays valid."""
        with self._locked():
            draft = Draft(self._read_or_quarantine())
            yield draft
            if draft.kept:
                self._write(draft.value)

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
            with self.path.open("rb") as file:
                head = file.read(256)
        except FileNotFoundError:
            return StoreStatus(self.name, self.path, False, 0, None, self.schema_version)
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        match = _VERSION_HEAD.match(head)
        version = int(match.group(1)) if match else None
        problem = self._too_new(version) if version and version > self.schema_version else None
        return StoreStatus(
            self.name,
            self.path,
            True,
            info.st_size,
            modified,
            self.schema_version,
            file_schema_version=version,
            problem=problem,
        )


FileStamp = tuple[int, int, int]
"""(inode, size, mtime ns) of a store's file: every save renames a new inode into place."""
Signature = tuple[FileStamp | None, ...]
"""The stamps of several stores' files (None: no file yet): equal while none of them changed."""


def signature_of(*stores: JsonStore[Any]) -> Signature:
    """The stamps of `stores`' files now, in order (what caches of their contents compare)."""
    return tuple(_stamp(store.path) for store in stores)


def _stamp(path: Path) -> FileStamp | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


V = TypeVar("V")
_FOOTER = b"}}\n"


class LineStore(JsonStore[dict[str, V]]):
    """A store of one big mapping, written **one item per line**::

        {"schema_version":1,"data":{
        "key1":{…},
        "key2":{…}
        }}

    It stays one valid JSON document (`load()` and older releases read it whole), while the
    big paths stream it a line at a time (`iter_raw`, `edit`): for 100,000 tracks the
    difference between a few hundred megabytes and gigabytes of memory. A file in another
    layout (older, hand-written) is read whole. Subclasses give `_item_json`.
    """

    def _header(self) -> bytes:
        return b'{"schema_version":%d,"data":{\n' % self.schema_version

    def _item_json(self, value: V) -> Any:
        """The stored JSON of one value; None or empty to leave the item out."""
        raise NotImplementedError

    def iter_raw(self) -> Iterator[tuple[str, Any]]:
        """(key, stored JSON value) in file order, one line at a time."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            if handle.readline() != self._header():
                handle.close()
                yield from self.load_raw().items()  # another layout: read it whole
                return
            for line in handle:
                if line == _FOOTER:
                    return
                yield self._parse_line(line)
        self._corrupt("the file ends before its last line (truncated?)")

    def keys(self) -> set[str]:
        """Every key, read from the start of each line without parsing its value (about
        50 ms for 100,000 tracks, a tenth of `iter_raw`). A corrupt file is moved aside, as
        `load` does, and has no keys."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return set()
        keys: set[str] = set()
        with handle:
            if handle.readline() != self._header():
                handle.close()
                return set(self.load_raw())  # another layout: read it whole
            for line in handle:
                if line == _FOOTER:
                    return keys
                end = line.find(b'"', 1)
                key = line[1:end]
                if line[:1] == b'"' and line[end + 1 : end + 2] == b":" and b"\\" not in key:
                    try:
                        keys.add(key.decode())
                        continue
                    except UnicodeDecodeError:
                        pass
                try:  # an escaped key, or a bad line: the careful way
                    keys.add(self._parse_line(line)[0])
                except StoreError:
                    return set()  # moved aside
        try:
            self._corrupt("the file ends before its last line (truncated?)")
        except StoreError:
            return set()  # moved aside

    def _parse_line(self, line: bytes) -> tuple[str, Any]:
        body = line.rstrip(b"\n").rstrip(b",")
        try:
            pair = orjson.loads(b"{" + body + b"}")
        except orjson.JSONDecodeError as exc:
            self._corrupt(f"invalid JSON: {exc}")
        if len(pair) != 1:
            self._corrupt("a line holds more than one item")
        ((key, value),) = pair.items()
        return key, value

    def _corrupt(self, reason: str) -> NoReturn:
        """Move the file aside (as `load` does for a corrupt file) and stop the reader."""
        with self._locked():
            if self.path.exists():
                quarantine(self.path, reason)
        raise StoreError(
            f"{self.filename} was corrupt ({reason}) and has been moved aside; see "
            "`spotify-auto-playlists status` to restore it",
            code="store_corrupt",
        )

    def edit(self, changes: Mapping[str, Any], apply: Callable[[str, Any, Any], Any]) -> None:
        """Rewrite the file a line at a time under the store lock: for each key in `changes`,
        ``apply(key, stored_json_or_None, change)`` gives its new JSON value, or an
        `orjson.Fragment` of JSON already encoded (empty or None:
        the item is dropped); keys not yet stored are added at the end."""
        pending = dict(changes)

        def lines() -> Iterator[tuple[str, Any]]:
            for key, stored in self.iter_raw():
                if key in pending:
                    stored = apply(key, stored, pending.pop(key))
                if stored:
                    yield key, stored
            for key, change in pending.items():
                added = apply(key, None, change)
                if added:
                    yield key, added

        with self._locked():
            self._write_lines(lines())

    def _write(self, value: dict[str, V]) -> None:
        self._write_lines(
            (key, item) for key, item in ((k, self._item_json(v)) for k, v in value.items()) if item
        )

    def _write_lines(self, items: Iterable[tuple[str, Any]]) -> None:
        self._sweep_temp_files()

        def chunks() -> Iterator[bytes]:
            yield self._header()
            previous: bytes | None = None
            for key, value in items:
                if previous is not None:
                    yield previous + b",\n"
                previous = orjson.dumps(key) + b":" + orjson.dumps(value)
            if previous is not None:
                yield previous + b"\n"
            yield _FOOTER

        with paused_gc():
            write_chunks(self.path, chunks(), mode=self.file_mode)
