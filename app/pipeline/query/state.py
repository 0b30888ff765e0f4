"""What library queries keep per loaded library: its field registry, sort orders and entry times.

    queries = LibraryQueries(stores, services.library)   # one per `Services`: `services.queries`
    views, kept = queries.current()                      # the loaded library and what is kept
    kept.order(views, (("tempo", "desc"), ("name", "asc")))  # the library in that order

A sort over the whole library is computed once per loaded library and sort (the engine's own
multi-key order, `order_positions`, over every position: the same order a rule set's `sort`
gives, from the per-field ranks the engine caches on the library), then kept with its inverse
(`SortOrder.place`), so that a page of any filter in that order is one sort of small ints.
The last `orders_kept` sorts are kept (two arrays of 4 bytes a track each: 0.8 MB per sort at
100,000 tracks), and what the last `FILTERS_KEPT` filters matched (`matched`: the next page of
a filter, or the same filter sorted another way, does not evaluate it again; the service keys
them on the stored rule sets and the minute, which `in rule` and `in last` read), and the last
`DISTRIBUTIONS_KEPT` distributions asked for (the Charts screen: ~2 s at 100,000 tracks to
compute, then each request is a dictionary look-up; `distributions_computed` counts the
computations, for tests and logs). Everything
is dropped when the library changes (a fetch, an enrichment run, an edit): `current()` notices
that the `LibraryCache` holds another `Library`.
"""

from __future__ import annotations

import logging
import threading
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar, cast

from app.core.errors import AppError
from app.core.rules import SortKey
from app.data import Stores
from app.pipeline.query.links import Links
from app.pipeline.query.stamps import Stamps
from app.pipeline.rules.engine.compile import registry_types
from app.pipeline.rules.engine.stages import order_positions
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.views import Library

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from app.pipeline.query.filter import FilterMatch

T = TypeVar("T")

FILTERS_KEPT = 8
"""Filters whose matches are kept per library (a list of positions each: 0.8 MB at most)."""

DISTRIBUTIONS_KEPT = 8
"""Distributions (a set of fields, bins, top) kept per library: a few KB each."""

SortFields = tuple[tuple[str, Literal["asc", "desc"]], ...]
"""((canonical field, "asc" | "desc"), …), the main sort first."""


class SortOrder(NamedTuple):
    """Library positions in a sort's order, and each position's place in it."""

    order: array[int]
    place: array[int]


class KeptForLibrary:
    """What queries keep for one loaded library (see the module docstring)."""

    def __init__(
        self, stores: Stores, views: Library, registry: FieldRegistry, orders_kept: int
    ) -> None:
        self.stores = stores
        self.registry = registry
        self._views = weakref.ref(views)  # the LibraryCache owns it; a new one replaces this
        self._orders: OrderedDict[SortFields, SortOrder] = OrderedDict()
        self._orders_kept = orders_kept
        self._stamps: Stamps | None = None
        self._links: Links | None = None
        self._matched: OrderedDict[Hashable, FilterMatch] = OrderedDict()
        self._distributions: OrderedDict[Hashable, object] = OrderedDict()
        self.distributions_computed = 0
        self._lock = threading.Lock()  # one build at a time; reads of built ones take it too
        self._distributing = threading.Lock()  # one distributions computation at a time

    def is_for(self, views: Library) -> bool:
        return self._views() is views

    def order(self, views: Library, fields: SortFields) -> SortOrder:
        """The whole library in the order of `fields` (built on first use, then kept)."""
        with self._lock:
            found = self._orders.get(fields)
            if found is not None:
                self._orders.move_to_end(fields)
                return found
            keys = [SortKey(field=name, order=direction) for name, direction in fields]
            ordered = order_positions(range(len(views)), keys, views, registry_types(None, views))
            order = array("i", ordered)
            place = array("i", bytes(4 * len(order)))
            for index, position in enumerate(order):
                place[position] = index
            found = self._orders[fields] = SortOrder(order, place)
            while len(self._orders) > self._orders_kept:
                self._orders.popitem(last=False)
            return found

    def matched(self, key: Hashable, compute: Callable[[], FilterMatch]) -> FilterMatch:
        """What a filter matched, kept under `key` for the next pages (the last
        `FILTERS_KEPT`); `compute` runs outside the lock (it may raise: nothing is kept)."""
        with self._lock:
            found = self._matched.get(key)
            if found is not None:
                self._matched.move_to_end(key)
                return found
        found = compute()
        with self._lock:
            self._matched[key] = found
            while len(self._matched) > FILTERS_KEPT:
                self._matched.popitem(last=False)
        return found

    def distributions(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The distributions asked for as `key` (`query.distributions`, which knows what they
        are: this module must not import it), computed once for this library (the last
        `DISTRIBUTIONS_KEPT`). Two requests at once compute them once: the second waits for
        the first (a separate lock: pages are not held up meanwhile)."""
        with self._distributing:
            with self._lock:
                found = self._distributions.get(key)
                if found is not None:
                    self._distributions.move_to_end(key)
                    return cast("T", found)  # what `compute` gave for this key before
            computed = compute()
            with self._lock:
                self.distributions_computed += 1
                self._distributions[key] = computed
                while len(self._distributions) > DISTRIBUTIONS_KEPT:
                    self._distributions.popitem(last=False)
            return computed

    def stamps(self, views: Library) -> Stamps:
        """When each provider wrote each track's entry (read once per library)."""
        with self._lock:
            if self._stamps is None:
                self._stamps = Stamps.read(self.stores.enrichments, views.index)
            return self._stamps

    def links(self, views: Library) -> Links:
        """The album and artist ids of each track (read once per library)."""
        with self._lock:
            if self._links is None:
                self._links = Links.read(self.stores.tracks, views.index)
            return self._links

    def ready(self) -> bool:
        """Whether the provider times and the links are read (a page needs no file read)."""
        with self._lock:
            return self._stamps is not None and self._links is not None


class LibraryQueries:
    """The library queries of one `LibraryCache`: the loaded library, and what is kept for it."""

    def __init__(self, stores: Stores, library: LibraryCache, *, orders_kept: int = 16) -> None:
        self.stores = stores
        self.library = library
        self.orders_kept = orders_kept
        self._kept: KeptForLibrary | None = None
        self._guard = threading.Lock()

    def current(self) -> tuple[Library, KeptForLibrary]:
        """The loaded library (built now if its files changed) and what is kept for it."""
        views = self.library.views()
        with self._guard:
            kept = self._kept
            if kept is None or not kept.is_for(views):
                # Imported here: the services hold these queries, and a process that runs one
                # step (`sap fetch`) must not load the rules text parser (lark) for them.
                from app.pipeline.rules.rule_sets import field_registry

                registry = field_registry(self.stores, self.library)
                kept = self._kept = KeptForLibrary(self.stores, views, registry, self.orders_kept)
            return views, kept

    def warm(self) -> bool:
        """Read ahead what the library table's first page needs (the loaded library, the field
        registry, when each provider wrote, the album and artist ids), so that the first
        query after the server starts answers at warm speed. False without a library or when
        one of its files is bad (the query will report it)."""
        if not self.library.has_library():
            return False
        try:
            views, kept = self.current()
            kept.stamps(views)
            kept.links(views)
        except AppError as exc:
            log.info("library queries not warmed: %s", exc.detail)
            return False
        return True
