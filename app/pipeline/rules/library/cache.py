"""The loaded library: its typed columns, kept while the stores are unchanged.

    library = LibraryCache(stores, precedence)   # one per `Services`: `services.library`
    views = library.views()                      # built (or loaded) once, then reused
    library.is_warm()                            # loaded, and its files unchanged since
    library.refresh()                            # after a change: build and save it now
    library.derived(key, compute)                # kept with the loaded library

`LibraryCache.views` builds the library of the stored tracks (merging enrichments by the cache's
`precedence`) once per change of the tracks, sources or enrichments files (their stat signature),
one build at a time, and freezes each build out of the cyclic garbage collector (`gc.freeze`).
Each build is saved as the library's snapshot (`snapshot`: a cache file in the data directory,
keyed on the same signature and the precedence), which the next process loads instead of
building while the files are unchanged. The jobs that change the stores build it once they have
committed (`jobs.runner`), so the first preview after a change finds it ready. Running the rule
sets ahead of the first preview (the warm-up at server start and after a fetch) is the rules
service's (`rules.service.warm_library`): this module knows nothing of the engine.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import NamedTuple, TypeVar, cast

from filelock import FileLock

from app.core.fs import make_private_dir
from app.data import Stores
from app.data.store import LOCK_DIR_NAME, Signature
from app.pipeline.rules.library.build import load_library_views
from app.pipeline.rules.library.snapshot import load_snapshot, save_snapshot
from app.pipeline.rules.library.stamp import (
    SNAPSHOT_NAME,
    SnapshotKey,
    has_snapshot,
    store_signature,
)
from app.pipeline.rules.library.views import Library
from app.providers.registry import Precedence


class _Loaded(NamedTuple):
    signature: Signature  # of tracks.json, sources.json and enrichments.json when loaded
    library: Library


Loader = Callable[[Stores, Precedence], Library]
T = TypeVar("T")


def _load(stores: Stores, precedence: Precedence) -> Library:
    return load_library_views(stores, precedence=precedence)


class LibraryCache:
    """The library of one data directory (`stores`), reused while its files are unchanged.

    Building the library of 100,000 tracks takes seconds and what the engine derives from it
    is cached on the `Library`, so previews after the first are fast (see
    docs/performance.md). `load` builds it (default: `load_library_views` by `precedence`) and
    `prepare` computes ahead what every preview of it needs first, kept with it (`Services`
    gives both from `fields.stored`: the build with field discovery, the sort ranks and dedupe
    markers); `snapshot` is the file that keeps them between processes (default:
    `library.snapshot` in the data directory).
    """

    def __init__(
        self,
        stores: Stores,
        precedence: Precedence,
        *,
        load: Loader = _load,
        snapshot: Path | None = None,
        prepare: Callable[[Library], None] | None = None,
    ) -> None:
        self.stores = stores
        self.precedence = precedence
        self.snapshot = snapshot or stores.directory / SNAPSHOT_NAME
        self._load = load
        self._prepare = prepare
        self._loaded: _Loaded | None = None
        self._guard = threading.Lock()  # around `_loaded`
        # One build at a time: a preview arriving while the background warm-up builds waits for
        # it instead of building a second copy (twice the memory, for nothing).
        self._build = threading.Lock()
        self._file_lock_dir = stores.directory / LOCK_DIR_NAME
        self._file_lock = FileLock(self._file_lock_dir / f"{SNAPSHOT_NAME}.lock")

    def views(self) -> Library:
        """The library's views: the loaded ones if its files are unchanged, else built now."""
        with self._build:
            signature = self._signature()
            with self._guard:
                loaded = self._loaded
                if loaded is not None and loaded.signature == signature:
                    return loaded.library
                self._loaded = None  # let the old views go before building
            del loaded
            library = self._snapshot_or_build(signature)
            # Millions of containers that live until the library changes and hold no cycles:
            # out of the cyclic collector's sight, no full collection ever scans them again
            # (the first one after a build took ~1.7 s for 100,000 tracks, paid by whatever
            # request ran next). They are still freed by reference counting when replaced.
            gc.freeze()
            with self._guard:
                self._loaded = _Loaded(signature, library)
            return library

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """What `compute` derives from the library's stores, kept with the loaded library
        under `key`: computed once per change of the library."""
        library = self.views()
        found = library.columns.get(key)
        if found is None:
            found = library.columns[key] = compute()
        return cast(T, found)

    def _snapshot_or_build(self, signature: Signature) -> Library:
        key = SnapshotKey(signature, self.precedence.names)
        library = load_snapshot(self.snapshot, key)
        if library is not None:
            return library
        # One build per data directory at a time, across processes too: a preview that starts
        # while `sap library refresh` (or the server) builds the same library waits for it and
        # loads what it saved, instead of building a second copy beside it.
        make_private_dir(self._file_lock_dir)
        with self._file_lock:
            # Built by another process while this one waited?
            library = load_snapshot(self.snapshot, key)
            if library is None:
                library = self._load(self.stores, self.precedence)
                if self._prepare is not None:
                    self._prepare(library)
                if signature[0] is not None:  # no tracks fetched yet: nothing worth keeping
                    save_snapshot(self.snapshot, key, library)
        return library

    def refresh(self) -> bool:
        """Bring the library's snapshot up to date with the stores: built and saved now if
        they changed since it was (what the jobs that change them call once they have
        committed, so that the next preview, in any process, loads it instead of building).
        Cheap when it is current (its header is read); True when it was built."""
        if not self.has_library() or self.is_warm():
            return False
        signature = self._signature()
        if has_snapshot(self.snapshot, SnapshotKey(signature, self.precedence.names)):
            return False
        self.views()
        return True

    def is_warm(self) -> bool:
        """Whether the library is loaded and its files unchanged since."""
        with self._guard:
            loaded = self._loaded
        return loaded is not None and loaded.signature == self._signature()

    def has_library(self) -> bool:
        """Whether there is a library to load at all (tracks were fetched)."""
        return self.stores.tracks.path.exists()

    def _signature(self) -> Signature:
        return store_signature(self.stores)
