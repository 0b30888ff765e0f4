"""The providers this release ships, under the seed's names.

list_feature_providers(settings)   # [{id, type, version, enabled, reason_if_disabled, …}]
get_feature_provider("deezer", settings)
"""

from __future__ import annotations

from typing import Any

from app.core.config import Settings
from app.core.errors import NotFoundError, UnprocessableError
from app.pipeline.enrichment.manual import ManualProvider
from app.providers.acousticbrainz import AcousticBrainzProvider
from app.providers.base import FeatureProvider
from app.providers.deezer import DeezerProvider
from app.providers.lastfm import LastfmProvider
from app.providers.llm import LlmProvider
from app.providers.musicbrainz.provider import MusicBrainzProvider
from app.providers.reccobeats import ReccoBeatsProvider

FEATURE_PROVIDERS: dict[str, type[FeatureProvider]] = {
    provider.id: provider
    for provider in (
        MusicBrainzProvider,
        DeezerProvider,
        ReccoBeatsProvider,
        LastfmProvider,
        AcousticBrainzProvider,
        LlmProvider,
        ManualProvider,
    )
}
"""Every provider by id, in the order `enrich` runs them (MusicBrainz before AcousticBrainz)."""


def get_feature_provider(provider_id: str, settings: Settings) -> FeatureProvider:
    """The provider `provider_id` configured by `settings` (404 naming the known ones)."""
    try:
        provider = FEATURE_PROVIDERS[provider_id]
    except KeyError:
        raise NotFoundError(
            f"unknown provider {provider_id!r}; known: {', '.join(FEATURE_PROVIDERS)}",
            code="provider_not_found",
        ) from None
    return provider(settings)


def list_feature_providers(settings: Settings) -> list[dict[str, Any]]:
    """One row per provider: id, type, version, enabled, reason_if_disabled, fields…"""
    return [provider(settings).describe() for provider in FEATURE_PROVIDERS.values()]


def runnable_provider(provider_id: str, settings: Settings) -> FeatureProvider:
    """A provider that `enrich` can run now, or a 4xx saying why not."""
    provider = get_feature_provider(provider_id, settings)
    if provider.type == "manual":
        raise UnprocessableError(
            "manual values are not fetched: set them with PATCH /data/enrichments/{track_id}, "
            "POST /data/enrichments/manual or `spotify-auto-playlists tag`",
            code="provider_not_runnable",
        )
    reason = provider.disabled_reason()
    if reason is not None:
        raise UnprocessableError(
            f"provider {provider_id!r} is disabled: {reason}", code="provider_disabled"
        )
    return provider


def default_provider_ids(settings: Settings) -> list[str]:
    """What `enrich` runs when no provider is named: every enabled, fetchable default one."""
    return [
        provider_id
        for provider_id, cls in FEATURE_PROVIDERS.items()
        if cls.type != "manual" and cls.default and cls(settings).disabled_reason() is None
    ]
