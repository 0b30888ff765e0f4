"""The providers this release ships: the one list of their ids, run order and precedence.

    PROVIDERS.ids()                            # run order: musicbrainz, deezer, …, manual
    PROVIDERS.precedence()                     # trust order: manual, llm, musicbrainz, deezer, …
    PROVIDERS.precedence(["deezer", "llm"])    # deezer, llm, then the others in trust order
    configured_precedence(settings)            # the same, from SAP_ENRICHMENT_PRECEDENCE
    list_feature_providers(settings)           # [{id, type, version, enabled, …}] (the seed's)
    get_feature_provider("deezer", settings)

A provider class says what it is (id, fields, matching, batch size, pace, the settings it
reads: `app.providers.base.FeatureProvider`); its `ProviderEntry` here adds how far its values
are trusted when two providers give the same key (`rank`). The entries' order is the order
`enrich` runs them in (MusicBrainz before AcousticBrainz, which reads its recording ids).
Adding a provider is one module under `app/providers/` and one entry here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.config import Settings
from app.core.errors import NotFoundError, UnprocessableError
from app.providers.acousticbrainz import AcousticBrainzProvider
from app.providers.base import FeatureProvider
from app.providers.deezer import DeezerProvider
from app.providers.lastfm import LastfmProvider
from app.providers.llm import LlmProvider
from app.providers.manual import MANUAL_SOURCE, ManualProvider
from app.providers.musicbrainz.provider import MusicBrainzProvider
from app.providers.reccobeats import ReccoBeatsProvider

PRECEDENCE_SETTING = "SAP_ENRICHMENT_PRECEDENCE"


class Precedence:
    """Provider ids, most trusted first, and the rank of an entry's source under them.

        order = Precedence(["llm", "deezer"])
        order.rank("llm:gpt-4o")   # 0: a source ``llm:model`` ranks as ``llm``
        order.rank("lastfm")       # 2: unlisted sources rank after every listed one
        order.rank("manual")       # -1: the user's own values win whatever the order

    The registry builds the one a library uses (`configured_precedence`).
    """

    __slots__ = ("_ranks", "names")

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(names)
        self._ranks: dict[str, int] = {}  # per source met; a library has a handful

    def rank(self, source: str) -> int:
        """Where entries of `source` come in the merge (lower wins)."""
        found = self._ranks.get(source)
        if found is None:
            found = self._ranks[source] = self._position(source)
        return found

    def _position(self, source: str) -> int:
        if source == MANUAL_SOURCE:
            return -1
        for index, name in enumerate(self.names):
            if source == name or source.startswith(name + ":"):
                return index
        return len(self.names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Precedence) and other.names == self.names

    def __hash__(self) -> int:
        return hash(self.names)

    def __repr__(self) -> str:
        return f"Precedence({list(self.names)!r})"


@dataclass(frozen=True)
class ProviderEntry:
    """One provider of the registry: its class, and its rank in the default precedence."""

    provider: type[FeatureProvider]
    rank: int
    """0 is the most trusted: its value of a key wins over those of higher ranks (lists such as
    genres are merged whatever the ranks; the user's manual values always win)."""

    @property
    def id(self) -> str:
        return self.provider.id

    @property
    def settings(self) -> tuple[str, ...]:
        """The `Settings` fields the provider reads (as the provider class declares them)."""
        return self.provider.settings_used


class ProviderRegistry:
    """Providers by id, in run order, each with its default rank."""

    def __init__(self, entries: Iterable[ProviderEntry]) -> None:
        self._entries: dict[str, ProviderEntry] = {}
        for entry in entries:
            if entry.id in self._entries:
                raise ValueError(f"two providers have the id {entry.id!r}")
            self._entries[entry.id] = entry
        ranks = [entry.rank for entry in self._entries.values()]
        if len(set(ranks)) != len(ranks):
            raise ValueError("two providers have the same rank: the precedence must be total")

    def ids(self) -> tuple[str, ...]:
        """Every provider id, in the order `enrich` runs them."""
        return tuple(self._entries)

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._entries

    def __iter__(self) -> Iterator[type[FeatureProvider]]:
        return (entry.provider for entry in self._entries.values())

    def provider(self, provider_id: str) -> type[FeatureProvider]:
        """The class of `provider_id` (404 naming the known ones)."""
        entry = self._entries.get(provider_id)
        if entry is None:
            raise NotFoundError(
                f"unknown provider {provider_id!r}; known: {', '.join(self._entries)}",
                code="provider_not_found",
            )
        return entry.provider

    def precedence(self, override: Sequence[str] = ()) -> Precedence:
        """The merge order: the names of `override` first, in its order, then every provider
        it does not name by rank; without an override, the ranks alone.

        A name is a provider id, or ``llm:<model>`` to rank one model's answers on their own.
        An unknown name raises (422 ``unknown_provider``) rather than being ignored.
        """
        unknown = [name for name in override if name.partition(":")[0] not in self._entries]
        if unknown:
            raise UnprocessableError(
                f"unknown provider {', '.join(map(repr, unknown))} in the enrichment "
                f"precedence; known: {', '.join(self._entries)}",
                code="unknown_provider",
            )
        ranked = sorted(self._entries.values(), key=lambda entry: entry.rank)
        named = list(dict.fromkeys(override))
        return Precedence([*named, *(entry.id for entry in ranked if entry.id not in named)])


PROVIDERS = ProviderRegistry(
    [
        ProviderEntry(MusicBrainzProvider, rank=2),
        ProviderEntry(DeezerProvider, rank=3),  # its BPM is measured on the full track
        ProviderEntry(ReccoBeatsProvider, rank=4),
        ProviderEntry(LastfmProvider, rank=6),
        ProviderEntry(AcousticBrainzProvider, rank=5),
        ProviderEntry(LlmProvider, rank=1),
        ProviderEntry(ManualProvider, rank=0),
    ]
)
"""Every provider this release ships, in the order `enrich` runs them."""


def configured_precedence(settings: Settings) -> Precedence:
    """The precedence `settings` ask for (``SAP_ENRICHMENT_PRECEDENCE``; empty: the ranks).

    Raises `UnprocessableError` (``unknown_provider``) naming the setting and the unknown
    names: checked when `Services` are built, so a typo stops the server and every command at
    start, in one line, like any other invalid setting.
    """
    try:
        return PROVIDERS.precedence(settings.enrichment_precedence)
    except UnprocessableError as exc:
        raise UnprocessableError(f"{PRECEDENCE_SETTING}: {exc.detail}", code=exc.code) from None


def get_feature_provider(provider_id: str, settings: Settings) -> FeatureProvider:
    """The provider `provider_id` configured by `settings` (404 naming the known ones)."""
    return PROVIDERS.provider(provider_id)(settings)


def list_feature_providers(settings: Settings) -> list[dict[str, Any]]:
    """One row per provider: id, type, version, enabled, reason_if_disabled, fields…"""
    return [provider(settings).describe() for provider in PROVIDERS]


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
        cls.id
        for cls in PROVIDERS
        if cls.type != "manual" and cls.default and cls(settings).disabled_reason() is None
    ]
