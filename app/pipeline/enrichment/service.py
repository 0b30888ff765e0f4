"""Enrichment as the API, the CLI and the job runner use it.

- `plan_enrich_jobs` checks a request (providers known and enabled, tracks or source known) and
  gives one job's metadata per provider; `enrich_step` is that job (step ``enrich``);
- `external_step` is the v1 ``external`` step: every enabled provider, one after the other, in
  one job;
- `enrichment_detail`, `coverage`, `provider_features` read the store for `/data/enrichments…`;
  `describe_providers` lists the providers for `/data/providers`.

Jobs of step ``enrich`` are *resumable*: results are saved as they come, so when the server
restarts after a crash it reruns interrupted enrich jobs and they continue where they stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, RootModel

from app.core.config import Settings
from app.core.errors import NotFoundError, UnprocessableError, UpstreamError
from app.core.models import Track, TrackEnrichment
from app.data import Stores
from app.pipeline.enrichment.runner import EnrichReport, enrich_tracks, library_tracks
from app.pipeline.jobs.steps import StepContext
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.enrichment_view import (
    build_enrichment_view,
)
from app.pipeline.services import Services
from app.providers.base import FeatureProvider, FieldKind, ProviderType
from app.providers.registry import (
    PROVIDERS,
    Precedence,
    default_provider_ids,
    list_feature_providers,
    runnable_provider,
)

ENRICH_STEP = "enrich"
EXTERNAL_STEP = "external"
RESUMABLE_STEPS = frozenset({ENRICH_STEP, EXTERNAL_STEP})


class EnrichJobPlan(BaseModel):
    """One ``enrich`` job's metadata: a provider over the library or a selection."""

    provider: str
    track_ids: list[str] | None
    source: str | None
    refresh: bool


class ProviderRunReport(BaseModel):
    """Counts of one provider run (an ``enrich`` job's payload): of the `selected` tracks,
    `total` were asked about, the others cached, not applicable or capped."""

    provider: str
    version: str
    selected: int
    not_applicable: int
    cached: int
    capped: int = Field(description="Left for a later run by the provider's cap.")
    total: int
    matched: int
    not_found: int
    failed: int
    requests: int
    stopped: str | None = Field(description="Why the run ended early, if it did.")
    errors: list[str] = Field(description="Distinct batch failures (the first few).")
    done: int = Field(description="matched + not_found + failed")

    @classmethod
    def of(cls, report: EnrichReport) -> ProviderRunReport:
        return cls.model_validate(report.as_dict())


class ExternalReport(BaseModel):
    """The v1 ``external`` job's payload: one report per provider, in run order."""

    providers: list[ProviderRunReport]


class ProviderField(BaseModel):
    """A key a provider writes into its entries' `categories`."""

    name: str
    type: FieldKind
    description: str


class ProviderInfo(BaseModel):
    """One provider: what it gives, whether it can run, and what it needs."""

    id: str
    type: ProviderType
    version: str
    enabled: bool
    reason_if_disabled: str | None
    fields: list[ProviderField]
    description: str
    match_methods: list[str]
    batch_size: int
    rate_limit: float | None = Field(description="Requests per second to its service.")
    settings: list[str] = Field(description="The settings (environment variables) it reads.")
    default: bool = Field(description="Run by `enrich` when no provider is named.")


class EnrichmentDetail(BaseModel):
    """A track's entries, its merged view (what rules read) and each value's provider."""

    track_id: str
    track: Track | None = Field(description="Null when the track is not in the library.")
    entries: list[TrackEnrichment]
    view: dict[str, Any] = Field(description="Merged values: key → value.")
    provenance: dict[str, str] = Field(
        description="Key → the provider(s) its value came from (comma-separated for lists)."
    )


class FieldCoverage(BaseModel):
    field: str
    tracks: int = Field(description="Library tracks with a value in the merged view.")
    share: float = Field(description="tracks / library size, rounded to 4 places.")
    providers: dict[str, int] = Field(description="Provider → tracks it gave a value, most first.")


class ProviderCoverage(BaseModel):
    matched: int
    not_found: int


class Coverage(BaseModel):
    """Per field: how many library tracks have it and from which providers; per provider:
    tracks matched and not found."""

    tracks: int = Field(description="Library size.")
    fields: list[FieldCoverage] = Field(description="Most covered first.")
    providers: dict[str, ProviderCoverage]


class ProviderFeatures(RootModel[dict[str, dict[str, Any]]]):
    """Legacy: one provider's values per track, ``track_id → categories`` (matched tracks)."""


def plan_enrich_jobs(
    services: Services,
    *,
    providers: Sequence[str] | None = None,
    track_ids: Sequence[str] | None = None,
    source: str | None = None,
    refresh: bool = False,
) -> list[EnrichJobPlan]:
    """One ``enrich`` job per provider, after checking the whole request."""
    if track_ids is not None and source is not None:
        raise UnprocessableError("give track_ids or source, not both", code="bad_selection")
    if track_ids is not None and not track_ids:
        raise UnprocessableError("track_ids is empty", code="bad_selection")
    settings = services.settings
    chosen = list(dict.fromkeys(providers)) if providers else default_provider_ids(settings)
    if not chosen:
        raise UnprocessableError(
            "no provider is enabled; see GET /data/providers for what each one needs",
            code="no_provider_enabled",
        )
    for provider_id in chosen:
        runnable_provider(provider_id, settings)  # 404 unknown, 422 disabled/manual
    library_tracks(services.stores, track_ids=track_ids, source=source)  # 404 unknown ids/source
    order = list(PROVIDERS.ids())
    chosen.sort(key=order.index)  # MusicBrainz before AcousticBrainz, which needs its MBIDs
    return [
        EnrichJobPlan(
            provider=provider_id,
            track_ids=list(track_ids) if track_ids is not None else None,
            source=source,
            refresh=refresh,
        )
        for provider_id in chosen
    ]


def _report_progress(ctx: StepContext, report: EnrichReport) -> None:
    ctx.progress(
        report.done,
        report.total,
        f"{report.matched} matched, {report.not_found} not found, {report.failed} failed",
    )


async def run_provider(
    services: Services,
    provider: FeatureProvider,
    *,
    track_ids: Sequence[str] | None = None,
    source: str | None = None,
    refresh: bool = False,
    ctx: StepContext | None = None,
    progress: Any = None,
) -> EnrichReport:
    """One provider over the library (or a selection), with progress to `ctx` or `progress`."""

    def report(current: EnrichReport) -> None:
        if ctx is not None:
            _report_progress(ctx, current)
        if progress is not None:
            progress(current)

    async with services.provider_net() as net:
        return await enrich_tracks(
            provider,
            services.stores,
            net,
            track_ids=track_ids,
            source=source,
            refresh=refresh,
            progress=report,
            check_cancelled=ctx.check_cancelled if ctx is not None else None,
        )


async def enrich_step(ctx: StepContext) -> ProviderRunReport:
    """v2: one provider over the library or a selection (metadata: provider, track_ids?,
    source?, refresh?); progress counts matched / not found / failed."""
    meta = ctx.metadata
    provider_id = meta.get("provider")
    if not isinstance(provider_id, str):
        raise UnprocessableError("metadata.provider is required", code="bad_metadata")
    provider = runnable_provider(provider_id, ctx.services.settings)
    result = await run_provider(
        ctx.services,
        provider,
        track_ids=meta.get("track_ids"),
        source=meta.get("source"),
        refresh=bool(meta.get("refresh", False)),
        ctx=ctx,
    )
    if result.failed and not (result.matched or result.not_found):
        # Nothing got through: a failed job says why better than a "done" full of failures.
        raise UpstreamError(
            f"{provider_id}: every request failed ({result.errors[0] if result.errors else '?'})",
            code="provider_unavailable",
        )
    return ProviderRunReport.of(result)


async def external_step(ctx: StepContext) -> ExternalReport:
    """v1: every enabled provider (or metadata.providers) in turn, in one job."""
    meta = ctx.metadata
    planned = plan_enrich_jobs(
        ctx.services,
        providers=meta.get("providers"),
        track_ids=meta.get("track_ids"),
        source=meta.get("source"),
        refresh=bool(meta.get("refresh", False)),
    )
    reports: list[ProviderRunReport] = []
    for job in planned:
        ctx.check_cancelled()
        provider = runnable_provider(job.provider, ctx.services.settings)
        result = await run_provider(
            ctx.services,
            provider,
            track_ids=job.track_ids,
            source=job.source,
            refresh=job.refresh,
            ctx=ctx,
        )
        reports.append(ProviderRunReport.of(result))
    return ExternalReport(providers=reports)


# --- reading the store ---------------------------------------------------------------------


def describe_providers(settings: Settings) -> list[ProviderInfo]:
    """Every provider, in the order `enrich` runs them: fields, status and what it needs."""
    return [ProviderInfo.model_validate(row) for row in list_feature_providers(settings)]


def all_enrichments(
    stores: Stores, provider: str | None = None
) -> dict[str, list[TrackEnrichment]]:
    """The seed mapping ``track_id → entries`` (optionally one provider's entries only)."""
    return stores.enrichments.entries_for(None, sources=None if provider is None else {provider})


def enrichment_detail(stores: Stores, track_id: str, precedence: Precedence) -> EnrichmentDetail:
    """A track's entries, its merged view (by `precedence`, the library's: `Services.library`)
    and where each value came from."""
    entries = stores.enrichments.entries_for({track_id}).get(track_id, [])
    track = stores.tracks.find({track_id}).get(track_id)
    if track is None and not entries:
        raise NotFoundError(f"no track {track_id!r} in the library", code="track_not_found")
    view = build_enrichment_view(entries, precedence)
    return EnrichmentDetail(
        track_id=track_id,
        track=track,
        entries=entries,
        view=dict(view),
        provenance=dict(view.provenance),
    )


def coverage(library: LibraryCache) -> Coverage:
    """Per field: how many library tracks have it and from which providers; per provider:
    tracks matched and not found. From the counts the loaded library carries (gathered while
    its views were built, kept in its snapshot: no pass over enrichments.json once loaded);
    views merged by the library's precedence."""
    counts = library.views().counts
    if counts is None:  # built by the validating path (files of an unexpected shape)
        counts = _count_store(library.stores, library.precedence)
    size = counts.tracks
    totals = counts.totals
    return Coverage(
        tracks=size,
        fields=[
            FieldCoverage(
                field=key,
                tracks=totals[key],
                share=round(totals[key] / size, 4) if size else 0.0,
                providers=dict(counts.fields.get(key, Counter()).most_common()),
            )
            for key in sorted(totals, key=lambda name: (-totals[name], name))
        ],
        providers={
            provider_id: ProviderCoverage(
                matched=counts.matched[provider_id], not_found=counts.not_found[provider_id]
            )
            for provider_id in sorted(set(counts.matched) | set(counts.not_found))
        },
    )


def _count_store(stores: Stores, precedence: Precedence) -> EnrichmentCounts:
    """`EnrichmentCounts` streamed from the store (no models)."""
    library = {
        entry.track_id for record in stores.sources.load().values() for entry in record.entries
    }
    counts = EnrichmentCounts(tracks=len(library))
    for track_id, entries in stores.enrichments.iter_raw():
        if track_id in library and entries:
            counts.add(entries, build_enrichment_view(entries, precedence))
    return counts


def provider_features(stores: Stores, provider_id: str) -> ProviderFeatures:
    """Legacy `/data/features/{provider}`: ``track_id → categories`` of one provider."""
    PROVIDERS.provider(provider_id)  # 404 naming the known ones
    return ProviderFeatures(
        {
            track_id: entry.get("categories") or {}
            for track_id, entries in stores.enrichments.iter_raw()
            for entry in entries
            if entry["source"] == provider_id and not entry.get("not_found")
        }
    )
