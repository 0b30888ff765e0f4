"""What every enrichment provider is: a declaration (fields, matching, batch, rate, settings)
and one coroutine that enriches a batch of tracks.

    class DeezerProvider(FeatureProvider):
        id = "deezer"
        type = "external"
        version = "1"
        fields = (FieldSpec("tempo", "number"), FieldSpec("genres", "list"))
        match_methods = ("isrc",)
        batch_size = 25
        rate_limit = 9.0
        settings_used = ("deezer_url",)

        def applicable(self, item):
            return None if item.track.isrc else "no ISRC"

        async def enrich_batch(self, items, net):
            deezer = net.client(self.settings.deezer_url, rate=self.rate_limit)
            outcome = BatchOutcome()
            for item in items:
                ...
                outcome.found(item, self.entry({"tempo": 120.0}, method="isrc", confidence=1.0))
            return outcome

The runner (`runner.enrich_tracks`) decides which tracks to ask about (cache, versions,
not-found retry), cuts batches, paces and retries HTTP (`http.ProviderNet`), saves results and
reports progress; a provider only maps its service's answers to `TrackEnrichment` entries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from app.core.config import Settings
from app.core.errors import UpstreamError
from app.core.models import Track, TrackEnrichment, utc_now

if TYPE_CHECKING:
    from app.providers.http import ProviderNet

ProviderType = Literal["external", "dump", "llm", "manual"]
FieldKind = Literal["text", "number", "integer", "boolean", "list", "date"]
MatchMethod = Literal[
    "isrc", "spotify_id", "mbid", "artist_title", "artist", "title_artists", "manual"
]

FATAL_CODES = frozenset({"provider_key_rejected"})
"""`AppError.code`s after which a run stops at once (asking again cannot help)."""


@dataclass(frozen=True)
class FieldSpec:
    """One key a provider writes into `TrackEnrichment.categories`."""

    name: str
    type: FieldKind
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "description": self.description}


@dataclass(frozen=True)
class EnrichItem:
    """A track to enrich, with what every provider already said about it (AcousticBrainz needs
    MusicBrainz's recording id, for instance)."""

    track: Track
    entries: Mapping[str, TrackEnrichment] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.track.id

    def category(self, source: str, key: str) -> Any:
        entry = self.entries.get(source)
        return None if entry is None else entry.categories.get(key)


@dataclass
class BatchOutcome:
    """What a provider learnt about one batch: per track id, an entry, not found, or failed."""

    matched: dict[str, TrackEnrichment] = field(default_factory=dict)
    not_found: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # track id -> reason

    def found(self, item: EnrichItem | str, entry: TrackEnrichment) -> None:
        track_id = item if isinstance(item, str) else item.id
        self.matched[track_id] = entry
        self.not_found.discard(track_id)
        self.failed.pop(track_id, None)

    def missing(self, item: EnrichItem | str) -> None:
        track_id = item if isinstance(item, str) else item.id
        if track_id not in self.matched and track_id not in self.failed:
            self.not_found.add(track_id)

    def fail(self, item: EnrichItem | str, reason: str) -> None:
        track_id = item if isinstance(item, str) else item.id
        if track_id not in self.matched:
            self.not_found.discard(track_id)
            self.failed[track_id] = reason

    def merge(self, other: BatchOutcome) -> None:
        for track_id, entry in other.matched.items():
            self.found(track_id, entry)
        for track_id in other.not_found:
            self.missing(track_id)
        for track_id, reason in other.failed.items():
            self.fail(track_id, reason)


async def one_by_one(
    items: Sequence[EnrichItem],
    enrich_one: Callable[[EnrichItem, BatchOutcome], Awaitable[None]],
    on_error: Callable[[UpstreamError], None] | None = None,
) -> BatchOutcome:
    """A batch for a service asked one track at a time. When a track's retries run out
    (`UpstreamError`), the batch keeps what it learnt and leaves the rest failed, for the next
    run; if it learnt nothing, the error stops the run. `on_error` sees the error first."""
    outcome = BatchOutcome()
    for index, item in enumerate(items):
        try:
            await enrich_one(item, outcome)
        except UpstreamError as exc:
            if on_error is not None:
                on_error(exc)
            if not (outcome.matched or outcome.not_found):
                raise
            for rest in items[index:]:
                outcome.fail(rest, exc.detail)
            break
    return outcome


class FeatureProvider(ABC):
    """One enrichment source. Subclasses fill the class attributes and `enrich_batch`."""

    id: ClassVar[str]
    type: ClassVar[ProviderType] = "external"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    fields: ClassVar[tuple[FieldSpec, ...]] = ()
    match_methods: ClassVar[tuple[MatchMethod, ...]] = ()
    batch_size: ClassVar[int] = 25
    rate_limit: ClassVar[float | None] = None  # requests per second to its host; None: no pace
    concurrency: ClassVar[int] = 2  # batches in flight at once (the pace still holds)
    settings_used: ClassVar[tuple[str, ...]] = ()  # names of `Settings` fields it reads
    reads: ClassVar[tuple[str, ...]] = ()  # other providers' entries it needs (in `item.entries`)
    default: ClassVar[bool] = True  # run by `enrich` when no provider is named

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # --- declaration ---------------------------------------------------------------------

    def current_version(self) -> str:
        """The version stamped on new entries; a stored entry at another version is redone."""
        return self.version

    def disabled_reason(self) -> str | None:
        """Why this provider cannot run with these settings (missing key…), or None."""
        return None

    def batch_limit(self) -> int:
        """Tracks per batch (a provider may read it from a setting)."""
        return self.batch_size

    def batches(self, items: Sequence[EnrichItem]) -> list[Sequence[EnrichItem]]:
        """`items` cut into the batches `enrich_batch` is given: `batch_limit()` at a time, in
        order (a provider that looks tracks up in two ways may group them by way)."""
        size = max(1, self.batch_limit())
        return [items[start : start + size] for start in range(0, len(items), size)]

    def run_cap(self) -> int | None:
        """Most tracks one run may send (LLM cost control); None: no cap."""
        return None

    def applicable(self, item: EnrichItem) -> str | None:
        """None when this provider can look the track up, else why not (e.g. "no ISRC")."""
        return "local file" if item.track.is_local else None

    def describe(self) -> dict[str, Any]:
        """The seed's `list_feature_providers()` row."""
        reason = self.disabled_reason()
        return {
            "id": self.id,
            "type": self.type,
            "version": self.current_version(),
            "enabled": reason is None,
            "reason_if_disabled": reason,
            "fields": [spec.as_dict() for spec in self.fields],
            "description": self.description,
            "match_methods": list(self.match_methods),
            "batch_size": self.batch_limit(),
            "rate_limit": self.rate_limit,
            "settings": [f"SAP_{name.upper()}" for name in self.settings_used],
            "default": self.default,
        }

    # --- work ----------------------------------------------------------------------------

    def entry(
        self,
        categories: Mapping[str, Any],
        *,
        method: MatchMethod | None,
        confidence: float | None = None,
    ) -> TrackEnrichment:
        """A stored result of this provider (missing values dropped)."""
        kept = {
            key: value
            for key, value in categories.items()
            if value is not None and value != "" and value != [] and value != ()
        }
        return TrackEnrichment(
            source=self.id,
            version=self.current_version(),
            timestamp=utc_now(),
            categories=kept,
            match_method=method,
            confidence=confidence,
        )

    def not_found_entry(self) -> TrackEnrichment:
        return TrackEnrichment(
            source=self.id, version=self.current_version(), timestamp=utc_now(), not_found=True
        )

    @abstractmethod
    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        """Ask the service about `items`; every item ends matched, not found or failed.

        Raise `app.core.errors.UpstreamError`/`RateLimitedError` (what a `ServiceClient` of
        `app.net` raises when retries run out) to fail the whole batch; the runner counts it
        and goes on.
        """
