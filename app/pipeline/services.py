"""The collaborators pipeline functions receive (instead of reaching for globals)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.config import Settings
from app.data import Stores
from app.pipeline.library_gaps import GapCache
from app.providers.http import ProviderNet, Transport
from app.providers.probe import ServiceChecks
from app.providers.registry import Precedence, configured_precedence
from app.spotify.access import SpotifyAccess

if TYPE_CHECKING:
    from app.pipeline.query.state import LibraryQueries
    from app.pipeline.rules.library.cache import LibraryCache


@dataclass(frozen=True)
class Services:
    """Everything a step may use.

    `provider_transport` leads every enrichment provider's HTTP to an in-process emulator
    (demo mode, tests); `provider_rates` overrides a service's pace by base URL (tests and
    benchmarks that run an emulator without its rate limit). `library` is the loaded library
    of `stores` (views merged by the configured enrichment precedence), built here and owned
    by these services: previews, explain, sync planning, classification and the warm-ups
    share it, and `queries` keeps what library queries reuse (sort orders). `gaps` says
    which fetched sources lost tracks from tracks.json (kept while the two files are
    unchanged). `service_checks` keeps the last health check of each provider service (GET
    /data/providers). An unknown provider in ``SAP_ENRICHMENT_PRECEDENCE`` raises
    here, at start.

    `local_paths` lets a CSV source name any file the user can read: the CLI's services, run
    in the user's own shell. The server's (the default) read CSV files only among uploads
    and in ``SAP_CSV_IMPORT_DIR`` (`app.pipeline.sources.csv_files`).

    `warm_up`: after a fetch changed the library, load it again in the background for the
    next preview (the server's services, the default). A CLI process ends with its command,
    which would cut that work short after it took the CPU from the command's own end: the
    CLI's services say False, and the next command loads what it needs.
    """

    settings: Settings
    stores: Stores
    spotify: SpotifyAccess
    provider_transport: Transport | None = None
    provider_rates: Mapping[str, float | None] = field(default_factory=dict)
    provider_retry_wait: tuple[float, float] = (0.5, 10.0)
    local_paths: bool = False
    warm_up: bool = True
    precedence: Precedence = field(init=False, repr=False, compare=False)
    gaps: GapCache = field(init=False, repr=False, compare=False)
    service_checks: ServiceChecks = field(init=False, repr=False, compare=False)
    _library: tuple[LibraryCache, LibraryQueries] | None = field(
        init=False, repr=False, compare=False, default=None
    )
    _library_lock: threading.Lock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A frozen dataclass sets its derived fields this way (dataclasses documentation).
        object.__setattr__(self, "precedence", configured_precedence(self.settings))
        object.__setattr__(self, "gaps", GapCache(self.stores))
        object.__setattr__(self, "service_checks", ServiceChecks())
        object.__setattr__(self, "_library_lock", threading.Lock())

    @property
    def library(self) -> LibraryCache:
        """The loaded library of `stores` (built on first use, then kept)."""
        return self._library_parts()[0]

    @property
    def queries(self) -> LibraryQueries:
        """What library queries reuse, over `library`."""
        return self._library_parts()[1]

    def _library_parts(self) -> tuple[LibraryCache, LibraryQueries]:
        parts = self._library
        if parts is not None:
            return parts
        # Imported on first use, not with this module: a command that never reads the library
        # as a whole (`sap fetch`, `sap login`) does not load the rules engine and
        # numpy at start (about 0.2 s of a `sap` process; docs/performance.md, "CLI start-up").
        from app.pipeline.query.state import LibraryQueries
        from app.pipeline.rules.fields.stored import load_stored_library, prepare_library
        from app.pipeline.rules.library.cache import LibraryCache

        with self._library_lock:
            parts = self._library
            if parts is None:
                library = LibraryCache(
                    self.stores, self.precedence, load=load_stored_library, prepare=prepare_library
                )
                parts = (library, LibraryQueries(self.stores, library))
                object.__setattr__(self, "_library", parts)
            return parts

    def provider_net(self) -> ProviderNet:
        """HTTP clients for one provider run (close with `async with`)."""
        return ProviderNet(
            self.settings,
            transport=self.provider_transport,
            retry_wait=self.provider_retry_wait,
            rates=self.provider_rates,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        spotify: SpotifyAccess | None = None,
        local_paths: bool = False,
        warm_up: bool = True,
    ) -> Services:
        """Real services for `settings`; pass `spotify` to use another transport (demo, tests)."""
        stores = Stores.open(settings.cache_dir)
        return cls(
            settings=settings,
            stores=stores,
            spotify=spotify or SpotifyAccess.create(settings, stores.tokens),
            local_paths=local_paths,
            warm_up=warm_up,
        )
