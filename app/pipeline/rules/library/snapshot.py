"""The loaded library kept on disk: a derived, versioned cache of the flattened library.

    key = SnapshotKey(signature, precedence.names)
    library = load_snapshot(path, key)     # None: absent, stale, of another format, unreadable
    save_snapshot(path, key, library)      # atomically (temp file, fsync, rename)

Building the views of 100,000 tracks from the JSON stores (parse, merge each track's entries
by precedence) takes seconds; loading them back from this file takes well under one (see
docs/performance.md and docs/dependencies.md for the format: a pickle). The file is never the
source of truth: its key names the stat signature of tracks.json, sources.json and
enrichments.json, the provider precedence and `FORMAT_VERSION`, and a snapshot whose key is
not the wanted one is not used. A missing, truncated or corrupt file is the same as none: the
library is built from the stores and the file replaced.

The file starts with its key (a small pickle of its own), so a stale snapshot is recognised
without reading its body. Trust: the file lives in the user's own data directory (mode 0700,
the file 0600) and only this program writes it; unpickling it is no more trusting than reading
the stores beside it.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
from pathlib import Path
from typing import Any, NamedTuple

from app.core.fs import paused_gc, write_chunks
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.views import Library

log = logging.getLogger(__name__)

__all__ = ["FORMAT_VERSION", "SNAPSHOT_NAME", "SnapshotKey", "load_snapshot", "save_snapshot"]

FORMAT_VERSION = 1
"""Raise it whenever the views, the provenance, the counts or this file's layout change."""

SNAPSHOT_NAME = "library.snapshot"
"""The file's name in the data directory."""

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
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("library snapshot %s unreadable (%s): building from the stores", path, exc)
        return None
    with handle:
        try:
            header = pickle.load(handle)
            if header != key.header():
                log.info("library snapshot %s is stale: building from the stores", path.name)
                return None
            with paused_gc():  # millions of containers, no cycles (see views.build_library)
                views, provenance, counts = pickle.load(handle)
            library = Library(views, provenance, counts=counts)
            if len(library.index) != len(views) or (
                counts is not None and not isinstance(counts, EnrichmentCounts)
            ):
                raise ValueError("inconsistent contents")
            return library
        except Exception as exc:  # noqa: BLE001 — any unreadable file is a cache miss
            log.warning("library snapshot %s unreadable (%s): rebuilding it", path, exc)
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def save_snapshot(path: Path, key: SnapshotKey, library: Library) -> None:
    """Write `library` to `path` atomically (a failure is logged: the snapshot is a cache)."""
    try:
        with paused_gc():
            body = pickle.dumps(
                (library.views, library.provenance, library.counts),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        header = pickle.dumps(key.header(), protocol=pickle.HIGHEST_PROTOCOL)
        write_chunks(path, [header, body])
    except (OSError, pickle.PicklingError, TypeError, ValueError) as exc:
        log.warning("library snapshot %s not saved (%s)", path, exc)
