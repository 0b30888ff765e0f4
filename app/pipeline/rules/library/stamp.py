"""What a library snapshot was built from, and whether the one on disk is current.

    key = snapshot_key(stores, precedence)   # the stores' stat signature and the precedence
    has_snapshot(path, key)                  # the file's header names `key` (a cheap read)
    snapshot_is_current(stores, precedence)  # the same, for the data directory's snapshot

Kept apart from `snapshot` (which reads and writes the columns) so that a process can tell
whether the snapshot needs building without loading the library's code and numpy: a `sap
fetch` decides this way whether to start `sap library refresh` behind it.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, NamedTuple

from app.data import Stores
from app.data.store import Signature, signature_of
from app.providers.registry import Precedence

FORMAT_VERSION = 3
"""Raise it whenever the columns, the provenance, the counts or the snapshot's layout change."""

SNAPSHOT_NAME = "library.snapshot"
"""The snapshot's file name in the data directory."""

_MAGIC = "sap library snapshot"


class SnapshotKey(NamedTuple):
    """What a snapshot was built from: the stores' stat signature and the precedence."""

    signature: Signature
    precedence: tuple[str, ...]

    def header(self) -> tuple[Any, ...]:
        return (_MAGIC, FORMAT_VERSION, tuple(self.signature), tuple(self.precedence))


def store_signature(stores: Stores) -> Signature:
    """The stamps of the files a library is built from: tracks, sources, enrichments."""
    return signature_of(stores.tracks, stores.sources, stores.enrichments)


def has_snapshot(path: Path, key: SnapshotKey) -> bool:
    """Whether the file at `path` is a snapshot built from `key`'s inputs (its header only:
    whether it loads is known when it is loaded)."""
    try:
        with path.open("rb") as handle:
            return bool(pickle.load(handle) == key.header())  # noqa: S301 — our own file
    except Exception:  # noqa: BLE001 — absent or unreadable: no snapshot
        return False


def snapshot_is_current(stores: Stores, precedence: Precedence) -> bool:
    """Whether the data directory's snapshot was built from its stores as they are now (True
    too when no track was fetched yet: there is nothing to build)."""
    signature = store_signature(stores)
    if signature[0] is None:
        return True
    key = SnapshotKey(signature, precedence.names)
    return has_snapshot(stores.directory / SNAPSHOT_NAME, key)
