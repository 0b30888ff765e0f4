"""The collaborators pipeline functions receive (instead of reaching for globals)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.config import Settings
from app.data import Stores
from app.spotify.access import SpotifyAccess


@dataclass(frozen=True)
class Services:
    """Everything a step may use. Later issues add the enrichment providers here."""

    settings: Settings
    stores: Stores
    spotify: SpotifyAccess

    @classmethod
    def from_settings(cls, settings: Settings, *, spotify: SpotifyAccess | None = None) -> Services:
        """Real services for `settings`; pass `spotify` to use another transport (demo, tests)."""
        stores = Stores.open(settings.cache_dir)
        return cls(
            settings=settings,
            stores=stores,
            spotify=spotify or SpotifyAccess.create(settings, stores.tokens),
        )
