"""The loaded library kept on disk: a derived, versioned cache of the flattened library.

    library = load_snapshot(path, key)     # None: absent, stale, of another format, unreadable
    save_snapshot(path, key, library)      # atomically (temp file, fsync, rename)

Building the library of 100,000 tracks from the JSON stores (parse, merge each track's entries
by precedence) takes seconds; loading it back from this file well under one (see
docs/performance.md and docs/dependencies.md for the format: the typed columns of
`table`, numpy arrays, in a pickle). The file is never the source of truth: its key names the
stat signature of tracks.json, sources.json and enrichments.json, the provider precedence and
`FORMAT_VERSION` (`stamp`, which tells without reading further whether a snapshot is
current), and a snapshot whose key is not the wanted one is not used. A missing,
truncated or corrupt file is the same as none: the library is built from the stores and the
file replaced.

It holds the columns (which are the engine's field indexes: a condition reads them directly),
the provenance, the coverage counts, the discovered fields and what was prepared for the
engine when the library was built (`LibraryCache(prepare=…)`: each field's sort ranks, the
tracks dedupe may drop). Condition masks are never kept: those of `in_last` change with the
clock, and the others cost milliseconds from the columns.

Each file starts with its key (a small pickle of its own), so a stale snapshot is recognised
without reading its body; then the provenance, counts, discovered fields, prepared indexes and
column names, then each column as a pickle of its own (written one at a time: saving never
holds a second copy of the whole library in memory). Trust: the file lives in the user's own
data directory (mode 0700, the file 0600) and only this program writes it; unpickling it is no
more trusting than reading the stores beside it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.core.fs import paused_gc, write_chunks
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.stamp import SnapshotKey
from app.pipeline.rules.library.table import Column
from app.pipeline.rules.library.views import TRANSIENT_IDS, Library

log = logging.getLogger(__name__)

__all__ = ["STALE_NAMES", "load_snapshot", "save_snapshot"]

STALE_NAMES = ("library.indexes",)
"""Files earlier formats kept beside the snapshot (deleted when a new one is written)."""


def load_snapshot(path: Path, key: SnapshotKey) -> Library | None:
    """The library saved at `path` if it was built from `key`'s inputs, else None.

    A file that cannot be read back (truncated, corrupt, another layout) is deleted and
    logged; the caller builds the library from the stores and saves a new one.
    """
    body = _load(path, key)
    if body is None:
        return None
    try:
        (provenance, counts, discovered, prepared, names), *columns = body
        table = dict(zip(names, columns, strict=True))
        if "id" not in table:
            raise TypeError("no table of columns")
        if not all(isinstance(column, Column) for column in table.values()):
            raise TypeError("a column of another type")
        if counts is not None and not isinstance(counts, EnrichmentCounts):
            raise TypeError("counts of another type")
        if not isinstance(prepared, dict):
            raise TypeError("prepared indexes of another type")
        library = Library.of_table(table, provenance, counts=counts, discovered=discovered)
        library.columns.update(prepared)
        if {len(column) for column in table.values()} != {len(library)} or len(provenance) != len(
            library
        ):
            raise ValueError("columns and provenance disagree")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _discard(path, exc)
        return None
    return library


def save_snapshot(path: Path, key: SnapshotKey, library: Library) -> None:
    """Write `library`'s columns to `path` atomically (a failure is logged: it is a cache);
    only a library held as columns (`Library.of_table`) is kept."""
    if library.table is None:
        return
    prepared = {
        key: value for key, value in library.columns.items() if key not in ("masks", TRANSIENT_IDS)
    }
    names = list(library.table)
    head = (library.provenance, library.counts, library.discovered, prepared, names)
    _save(path, key, [head, *library.table.values()])
    for name in STALE_NAMES:
        with contextlib.suppress(OSError):
            path.with_name(name).unlink(missing_ok=True)


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
                head = pickle.load(handle)  # noqa: S301
                body = [head, *(pickle.load(handle) for _ in head[-1])]  # noqa: S301
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


def _save(path: Path, key: SnapshotKey, parts: list[Any]) -> None:
    """The header, then each part as a pickle of its own, made as the file is written (one
    column at a time in memory, not the whole library twice)."""

    def chunks() -> Iterator[bytes]:
        yield pickle.dumps(key.header(), protocol=pickle.HIGHEST_PROTOCOL)
        for part in parts:
            with paused_gc():
                data = pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
            yield data

    try:
        write_chunks(path, chunks())
    except (OSError, pickle.PicklingError, TypeError, ValueError, AttributeError) as exc:
        log.warning("library cache %s not saved (%s)", path, exc)
