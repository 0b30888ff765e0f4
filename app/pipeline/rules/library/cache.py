"""The loaded library: track views and the engine's indexes, kept while the stores are unchanged.

`library_views` builds the views of the stored library (with the enrichment precedence set by
`configure_precedence`) once per change of the tracks, sources or enrichments files (their
`_signature`), one build at a time per library; `warm_library` builds them, and runs the enabled
rule sets once to build the engine's field indexes, ahead of the first preview (in the
background at server start and after a fetch: `warm_library_in_background`). Each build is
frozen out of the cyclic garbage collector (`gc.freeze`). The cache is this module's
`_library_cache`, one entry per cache directory.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from pathlib import Path
from typing import Any

from app.core.errors import AppError
from app.core.models import utc_now
from app.data import Stores
from app.pipeline.enrichment.registry import PROVIDERS
from app.pipeline.rules.engine.evaluate import evaluate_rule_sets
from app.pipeline.rules.library.enrichment_view import Precedence
from app.pipeline.rules.library.views import Library, load_library_views
from app.pipeline.rules.rule_sets import stored_rule_sets

log = logging.getLogger(__name__)

_library_cache: dict[Path, tuple[tuple[Any, ...], Library]] = {}
_library_lock = threading.Lock()
_precedence: dict[Path, Precedence] = {}  # per cache directory, from the settings
_build_locks: dict[Path, threading.Lock] = {}


def configure_precedence(directory: Path, precedence: Precedence) -> None:
    """Use `precedence` (the registry's, or ``SAP_ENRICHMENT_PRECEDENCE``) for the library of
    `directory`."""
    with _library_lock:
        if _precedence.get(directory) != precedence:
            _precedence[directory] = precedence
            _library_cache.pop(directory, None)


def precedence_for(directory: Path) -> Precedence:
    with _library_lock:
        return _precedence.get(directory) or PROVIDERS.precedence()


def library_views(stores: Stores) -> Library:
    """The library's track views, reused while tracks, sources and enrichments are unchanged.

    Building views for 100,000 tracks takes seconds and the engine's per-field indexes live on
    the `Library`, so previews after the first are fast (see docs/performance.md).
    """
    # One build at a time per library: a preview arriving while the background warm-up builds
    # waits for it instead of building a second copy (twice the memory, for nothing).
    with _build_lock_for(stores.directory):
        signature = _signature(stores)
        with _library_lock:
            cached = _library_cache.get(stores.directory)
            if cached is not None and cached[0] == signature:
                return cached[1]
            _library_cache.pop(stores.directory, None)  # let the old views go before building
        library = load_library_views(stores, precedence=precedence_for(stores.directory))
        # Millions of containers that live until the library changes and hold no cycles: out
        # of the cyclic collector's sight, no full collection ever scans them again (the first
        # one after a build took ~1.7 s for 100,000 tracks, paid by whatever request ran
        # next). They are still freed by reference counting when the library is replaced.
        gc.freeze()
        with _library_lock:
            _library_cache[stores.directory] = (signature, library)
        return library


def _build_lock_for(directory: Path) -> threading.Lock:
    with _library_lock:
        return _build_locks.setdefault(directory, threading.Lock())


def warm_library(stores: Stores) -> bool:
    """Load the library and build the engine's field indexes ahead of the first preview.

    Run in the background at server start and after a fetch, so that a user's first preview
    takes the fast path. Returns False (and logs) when there is nothing to do or it failed.
    """
    if not stores.tracks.path.exists():
        return False
    try:
        library = library_views(stores)
        rule_sets = [rs for rs in stored_rule_sets(stores) if rs.enabled]
        if rule_sets:
            evaluate_rule_sets(rule_sets, library, now=utc_now())
    except AppError as exc:  # a bad file or rule: previews will report it properly
        log.info("library warm-up skipped: %s", exc.detail)
        return False
    return True


def warm_library_in_background(stores: Stores) -> threading.Thread:
    thread = threading.Thread(
        target=warm_library, args=(stores,), name="sap-warm-library", daemon=True
    )
    thread.start()
    return thread


def is_warm(stores: Stores) -> bool:
    """Whether the current library is loaded (its files unchanged since)."""
    with _library_lock:
        cached = _library_cache.get(stores.directory)
    return cached is not None and cached[0] == _signature(stores)


def _signature(stores: Stores) -> tuple[Any, ...]:
    return tuple(
        (info.st_ino, info.st_size, info.st_mtime_ns) if info else None
        for info in (
            _stat(store.path) for store in (stores.tracks, stores.sources, stores.enrichments)
        )
    )


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None
