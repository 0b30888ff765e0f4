"""The loaded library: track views and the engine's indexes, kept while the stores are unchanged.

    library = LibraryCache(stores, precedence)   # one per `Services`: `services.library`
    views = library.views()                      # built once, then reused
    library.is_warm()                            # loaded, and its files unchanged since
    library.keep_indexes()                       # save the engine's new indexes (after a run)
    library.derived(key, compute)                # kept with the views (the discovered fields)

`LibraryCache.views` builds the views of the stored library (merging enrichments by the cache's
`precedence`) once per change of the tracks, sources or enrichments files (their stat signature),
one build at a time, and freezes each build out of the cyclic garbage collector (`gc.freeze`). Each
build is saved as the library's snapshot (`snapshot`: a cache file in the data directory, keyed on
the same signature and the precedence), which the next process loads instead of building while the
files are unchanged; `keep_indexes` saves the engine's per-field indexes (which it keeps on the
`Library` it is given) beside it (`snapshot.save_indexes`), loaded with the views. Running the rule
sets ahead of the first preview (the warm-up at server start and after a fetch) is the rules
service's (`rules.service.warm_library`): this module knows nothing of the engine.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar, cast

from app.data import Stores
from app.pipeline.rules.library.snapshot import (
    INDEXES_NAME,
    SNAPSHOT_NAME,
    SnapshotKey,
    kept_indexes,
    load_indexes,
    load_snapshot,
    save_indexes,
    save_snapshot,
)
from app.pipeline.rules.library.views import Library, load_library_views
from app.providers.registry import Precedence

Signature = tuple[tuple[int, int, int] | None, ...]
"""(inode, size, mtime) of tracks.json, sources.json and enrichments.json (None: missing)."""

Loader = Callable[[Stores, Precedence], Library]
T = TypeVar("T")


def _load(stores: Stores, precedence: Precedence) -> Library:
    return load_library_views(stores, precedence=precedence)


class LibraryCache:
    """The track views of one library (`stores`), reused while its files are unchanged.

    Building views for 100,000 tracks takes seconds and the engine's per-field indexes live on
    the `Library`, so previews after the first are fast (see docs/performance.md). `load`
    builds the views (default: `load_library_views` by `precedence`); `snapshot` is the file
    that keeps them between processes (default: `library.snapshot` in the data directory).
    """

    def __init__(
        self,
        stores: Stores,
        precedence: Precedence,
        *,
        load: Loader = _load,
        snapshot: Path | None = None,
    ) -> None:
        self.stores = stores
        self.precedence = precedence
        self.snapshot = snapshot or stores.directory / SNAPSHOT_NAME
        self._load = load
        self._loaded: tuple[Signature, Library] | None = None
        self._indexes_kept = 0  # entries of the loaded library's indexes already on disk
        self._guard = threading.Lock()  # around `_loaded`
        # One build at a time: a preview arriving while the background warm-up builds waits for
        # it instead of building a second copy (twice the memory, for nothing).
        self._build = threading.Lock()

    def views(self) -> Library:
        """The library's views: the loaded ones if its files are unchanged, else built now."""
        with self._build:
            signature = self._signature()
            with self._guard:
                loaded = self._loaded
                if loaded is not None and loaded[0] == signature:
                    return loaded[1]
                self._loaded = None  # let the old views go before building
            del loaded
            library = self._snapshot_or_build(signature)
            # Millions of containers that live until the library changes and hold no cycles:
            # out of the cyclic collector's sight, no full collection ever scans them again
            # (the first one after a build took ~1.7 s for 100,000 tracks, paid by whatever
            # request ran next). They are still freed by reference counting when replaced.
            gc.freeze()
            with self._guard:
                self._loaded = (signature, library)
            return library

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """What `compute` derives from the library's stores (e.g. the discovered fields),
        kept with the loaded views under `key` and saved with their indexes (`keep_indexes`):
        computed once per change of the library, loaded with the snapshot."""
        library = self.views()
        found = library.columns.get(key)
        if found is None:
            found = library.columns[key] = compute()
            self.keep_indexes()
        return cast(T, found)

    def keep_indexes(self) -> None:
        """Save the loaded library's per-field indexes if a run built new ones since they
        were loaded or saved (a no-op otherwise)."""
        with self._build:
            with self._guard:
                loaded = self._loaded
            if loaded is None or loaded[0][0] is None or loaded[0] != self._signature():
                return  # nothing loaded, or the files changed since (those indexes are stale)
            signature, library = loaded
            indexes = kept_indexes(library)
            if len(indexes) <= self._indexes_kept:
                return
            path = self.snapshot.with_name(INDEXES_NAME)
            save_indexes(path, SnapshotKey(signature, self.precedence.names), library)
            self._indexes_kept = len(indexes)

    def _snapshot_or_build(self, signature: Signature) -> Library:
        self._indexes_kept = 0
        key = SnapshotKey(signature, self.precedence.names)
        library = load_snapshot(self.snapshot, key)
        if library is None:
            library = self._load(self.stores, self.precedence)
            if signature[0] is not None:  # no tracks fetched yet: nothing worth keeping
                save_snapshot(self.snapshot, key, library)
        else:
            indexes = load_indexes(self.snapshot.with_name(INDEXES_NAME), key)
            if indexes:
                library.columns.update(indexes)
                self._indexes_kept = len(indexes)
        return library

    def is_warm(self) -> bool:
        """Whether the library is loaded and its files unchanged since."""
        with self._guard:
            loaded = self._loaded
        return loaded is not None and loaded[0] == self._signature()

    def has_library(self) -> bool:
        """Whether there is a library to load at all (tracks were fetched)."""
        return self.stores.tracks.path.exists()

    def _signature(self) -> Signature:
        stores = self.stores
        return tuple(
            _stat(store.path) for store in (stores.tracks, stores.sources, stores.enrichments)
        )


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)
