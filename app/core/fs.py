"""Crash-safe JSON files.

`write_json` never leaves a half-written file: it writes a temporary file in the same directory,
flushes and fsyncs it, renames it over the target with `os.replace` (atomic on POSIX and Windows),
then fsyncs the directory so the rename itself survives a power cut.

`read_json` returns the default only when the file does not exist. A file that exists but does not
parse is moved aside to ``<name>.corrupt-<UTC timestamp>`` and logged, so the next save cannot
destroy what was in it; `list_quarantined` finds those files for the health report.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

log = logging.getLogger(__name__)

T = TypeVar("T")

QUARANTINE_MARKER = ".corrupt-"
_TEMP_SUFFIX = ".tmp"


class CorruptFileError(Exception):
    """A file exists but its bytes are not valid JSON (or not the shape its owner expects)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class QuarantinedFile:
    """A corrupt file that was moved aside, with the name it used to have."""

    path: Path
    original_name: str
    quarantined_at: datetime
    size_bytes: int


_gc_pauses = 0
_gc_was_enabled = False
_gc_guard = threading.Lock()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Suspend the cyclic garbage collector while building or dumping large JSON structures.

    Decoding a big file allocates millions of containers, which triggers collection after
    collection for nothing (the new objects form no cycles): pausing it makes loading a
    100,000-track library several times faster (see docs/performance.md). Nesting and
    concurrent use from several threads are safe.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_guard:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_guard:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""The integers every store can write (orjson's range, less its unsigned top half)."""


def dumps(data: Any, *, indent: bool = True) -> bytes:
    """Serialise with orjson; pydantic models, paths and sets are converted on the way."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(data, default=_default, option=option)


PRIVATE_DIR_MODE = 0o700


def make_private_dir(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700 (only the user may enter).

    `Path.mkdir(parents=True, mode=…)` gives the mode to the last directory only; its parents
    get the umask's default (often 0755). The data directory holds a login and the user's
    library, so every directory this program creates on the way is private. Existing
    directories are left as they are.
    """
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            path.mkdir(mode=PRIVATE_DIR_MODE)


def fsync_directory(directory: Path) -> None:
    """Make a rename inside `directory` durable (a no-op where directories cannot be opened)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:  # e.g. Windows: directories cannot be opened, rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the data file is already synced
    finally:
        os.close(fd)


def temp_prefix(path: Path) -> str:
    """Prefix of the temporary files `write_json` creates next to `path`."""
    return f".{path.name}."


def write_json(path: Path, data: Any, *, mode: int = 0o600, indent: bool = True) -> None:
    """Atomically replace `path` with `data` as JSON; the file gets permission bits `mode`.

    Serialisation happens before any file is touched, so bad data leaves the old file intact.
    """
    write_chunks(path, [dumps(data, indent=indent)], mode=mode)


def write_chunks(path: Path, chunks: Iterable[bytes], *, mode: int = 0o600) -> None:
    """Atomically replace `path` with the concatenated `chunks` (temp file, flush, fsync,
    rename, fsync of the directory). A generator may produce the chunks while the old file is
    still being read; if it raises, the old file is left as it was."""
    directory = path.parent
    make_private_dir(directory)
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=temp_prefix(path), suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:  # owns fd from here: closed on every path
            # mkstemp creates 0600; fchmod makes other modes explicit and ignores the umask.
            os.fchmod(handle.fileno(), mode)
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp_name).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temp_name).unlink()
        raise
    fsync_directory(directory)


def load_json_file(path: Path) -> Any:
    """Parse `path`; raises FileNotFoundError if absent and CorruptFileError if unparseable."""
    raw = path.read_bytes()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = "file is empty" if not raw.strip() else f"invalid JSON: {exc}"
        raise CorruptFileError(path, reason) from exc


def quarantine(path: Path, reason: str) -> Path:
    """Move a corrupt file aside (never delete it) and return where it went."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}{QUARANTINE_MARKER}{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}{QUARANTINE_MARKER}{stamp}-{counter}")
        counter += 1
    path.replace(target)
    fsync_directory(path.parent)
    log.warning(
        "corrupt file moved aside: %s -> %s (%s)",
        path,
        target.name,
        reason,
        extra={"event": "file_quarantined", "path": str(path), "quarantined_as": str(target)},
    )
    return target


def read_json(path: Path, default: T) -> Any | T:
    """Parsed contents of `path`, or `default` when it does not exist.

    A corrupt file is quarantined (see module docstring) and then `default` is returned.
    """
    try:
        return load_json_file(path)
    except FileNotFoundError:
        return default
    except CorruptFileError as exc:
        quarantine(path, exc.reason)
        return default


def list_quarantined(directory: Path) -> list[QuarantinedFile]:
    """Every file moved aside by `quarantine` in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    found: list[QuarantinedFile] = []
    for entry in directory.iterdir():
        name = entry.name
        if QUARANTINE_MARKER not in name or not entry.is_file():
            continue
        original, _, stamp = name.partition(QUARANTINE_MARKER)
        try:
            when = datetime.strptime(stamp[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
        except ValueError:
            when = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
        found.append(QuarantinedFile(entry, original, when, entry.stat().st_size))
    return sorted(found, key=lambda item: (item.quarantined_at, item.path.name))


def remove_stale_temp_files(path: Path) -> int:
    """Delete temp files a killed writer left beside `path`.

    Only safe while holding the file's lock, with every writer of that file taking the lock
    (the stores do): otherwise a live writer's temp file could vanish under it.
    """
    removed = 0
    if not path.parent.is_dir():
        return 0
    # Exactly `write_json`'s names: prefix, mkstemp's random part (no dots), suffix. This keeps
    # `.rules.json.bak.<random>.tmp` (a temp file of rules.json.bak) out of the sweep.
    pattern = re.compile(re.escape(temp_prefix(path)) + r"[^.]+" + re.escape(_TEMP_SUFFIX) + "$")
    for entry in path.parent.glob(f"{temp_prefix(path)}*{_TEMP_SUFFIX}"):
        if not pattern.match(entry.name):
            continue
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            removed += 1
    return removed
