"""The collaborators pipeline functions receive (instead of reaching for globals)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.config import Settings
from app.data import Stores


@dataclass(frozen=True)
class Services:
    """Everything a step may use. Later issues add the Spotify client and providers here."""

    settings: Settings
    stores: Stores

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(settings=settings, stores=Stores.open(settings.cache_dir))
