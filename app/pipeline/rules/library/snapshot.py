"""The loaded library kept on disk: a derived, versioned cache of the flattened library.

    key = SnapshotKey(signature, precedence.names)
    library = load_snapshot(path, key)     # None: absent, stale, of another format, unreadable
    save_snapshot(path, key, library)      # atomically (temp file, fsync, rename)
    save_indexes(indexes, key, library)    # the engine's per-field indexes, once built
    load_indexes(indexes, key)             # and back, onto the loaded library

Building the views of 100,000 tracks from the JSON stores (parse, merge each track's entries
by precedence) takes seconds; loading them back from this file takes well under one (see
docs/performance.md and docs/dependencies.md for the format: a pickle). The file is never the
source of truth: its key names the stat signature of tracks.json, sources.json and
enrichments.json, the provider precedence and `FORMAT_VERSION`, and a snapshot whose key is
not the wanted one is not used. A missing, truncated or corrupt file is the same as none: the
library is built from the stores and the file replaced.

The engine's per-field indexes (`Library.columns`: distinct values and their positions, sorted
keys, sort ranks — every entry a function of the views alone) are kept in a second file with
the same key, written when a preview or the warm-up built new ones, so the next process starts
with the indexes of the fields its rule sets use. Condition masks (`"masks"`) are not kept:
they are cheap once the indexes exist, and those of `in_last` change with the clock.

Each file starts with its key (a small pickle of its own), so a stale snapshot is recognised
without reading its body. Trust: the file lives in the user's own data directory (mode 0700,
the file 0600) and only this program writes it; unpickling it is no more trusting than reading
the stores beside it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import pickle
from pathlib import Path
from typing import Any, NamedTuple

from app.core.fs import paused_gc, write_chunks
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.views import Library

log = logging.getLogger(__name__)

__all__ = [
    "FORMAT_VERSION",
    "INDEXES_NAME",
    "SNAPSHOT_NAME",
    "SnapshotKey",
    "kept_indexes",
    "load_indexes",
    "load_snapshot",
    "save_indexes",
    "save_snapshot",
]

FORMAT_VERSION = 1
"""Raise it whenever the views, the provenance, the counts or this file's layout change."""

SNAPSHOT_NAME = "library.snapshot"
"""The views' file name in the data directory."""

INDEXES_NAME = "library.indexes"
"""The indexes' file name in the data directory."""

_NOT_KEPT = frozenset({"masks"})

_MAGIC = "sap library snapshot"


class SnapshotKey(NamedTuple):
    """What a snapshot was built from: the stores' stat signature and the precedence."""

    signature: tuple[tuple[int, int, int] | None, ...]
    precedence: tuple[str, ...]

    def header(self) -> tuple[Any, ...]:
        return (_MAGIC, FORMAT_VERSION, tuple(self.signature), tuple(self.precedence))


def load_snapshot(path: Path, key: SnapshotKey) -> Library | None:
    """The library saved at `path` if it was built from `key`'s inputs, else None.

    A file that cannot be read back (truncated, corrupt, another layout) is deleted and
    logged; the caller builds the library from the stores and saves a new one.
    """
    body = _load(path, key)
    if body is None:
        return None
    try:
        views, provenance, counts = body
        library = Library(views, provenance, counts=counts)
        if len(library.index) != len(views) or len(provenance) != len(views):
            raise ValueError("views and provenance disagree")
        if counts is not None and not isinstance(counts, EnrichmentCounts):
            raise TypeError("counts of another type")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _discard(path, exc)
        return None
    return library


def save_snapshot(path: Path, key: SnapshotKey, library: Library) -> None:
    """Write `library`'s views to `path` atomically (a failure is logged: it is a cache)."""
    _save(path, key, (library.views, library.provenance, library.counts))


def kept_indexes(library: Library) -> dict[Any, Any]:
    """The entries of `library.columns` an indexes file keeps (a copy: safe to write while
    previews add to the library's own)."""
    return {key: value for key, value in dict(library.columns).items() if key not in _NOT_KEPT}


def load_indexes(path: Path, key: SnapshotKey) -> dict[Any, Any] | None:
    """The indexes saved at `path` for `key`'s library, else None (unreadable: deleted)."""
    body = _load(path, key)
    if body is not None and not isinstance(body, dict):
        _discard(path, TypeError("not a mapping"))
        return None
    return body


def save_indexes(path: Path, key: SnapshotKey, library: Library) -> None:
    """Write `library`'s indexes (`kept_indexes`) to `path` atomically."""
    _save(path, key, kept_indexes(library))


def _load(path: Path, key: SnapshotKey) -> Any:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("library cache %s unreadable (%s): building from the stores", path, exc)
        return None
    with handle:
        try:
            header = pickle.load(handle)  # noqa: S301 — our own file: see the docstring
            if header != key.header():
                log.info("library cache %s is stale: building from the stores", path.name)
                return None
            with paused_gc():  # millions of containers, no cycles (see views.build_library)
                body = pickle.load(handle)  # noqa: S301
                # Out of the cyclic collector's sight before it runs again: its first young
                # collection would otherwise scan them all (see `LibraryCache.views`).
                gc.freeze()
                return body
        except Exception as exc:  # noqa: BLE001 — any unreadable file is a cache miss
            failure = exc
    _discard(path, failure)
    return None


def _discard(path: Path, reason: BaseException) -> None:
    log.warning("library cache %s unreadable (%s): rebuilding it", path, reason)
    with contextlib.suppress(OSError):
        path.unlink()


def _save(path: Path, key: SnapshotKey, body: Any) -> None:
    try:
        with paused_gc():
            data = pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL)
        header = pickle.dumps(key.header(), protocol=pickle.HIGHEST_PROTOCOL)
        write_chunks(path, [header, data])
    except (OSError, pickle.PicklingError, TypeError, ValueError, AttributeError) as exc:
        log.warning("library cache %s not saved (%s)", path, exc)
