"""Enrichment as the API, the CLI and the job runner use it.

- `plan_enrich_job` checks a request (providers known and enabled, tracks or source known) and
  gives the metadata of its one ``enrich`` job; `enrich_step` is that job: every provider it
  names (or every enabled default one) at the same time (`parallel.enrich_together`), each
  provider's progress in the job's `progress.parts`, the payload an `EnrichRunReport`;
- `external_step` is the v1 ``external`` step: the same, named the seed's way;
- `enrichment_detail`, `coverage`, `provider_features` read the store for `/data/enrichments…`;
  `describe_providers` lists the providers for `/data/providers`; `provider_status` adds
  whether each one's service answers (`status.ServiceChecks`).

Jobs of step ``enrich`` are *resumable*: results are saved as they come, so when the server
restarts after a crash it reruns interrupted enrich jobs and they continue where they stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, RootModel

from app.core.config import Settings
from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import JobError, JobPartState, Track, TrackEnrichment, utc_now
from app.data import Stores
from app.pipeline.enrichment.parallel import ProviderPart, enrich_together, provider_order
from app.pipeline.enrichment.runner import EnrichReport, library_tracks
from app.pipeline.jobs.steps import Shortfall, StepContext
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.enrichment_view import (
    build_enrichment_view,
)
from app.pipeline.services import Services
from app.providers.base import FieldKind, ProviderType
from app.providers.http import service_label
from app.providers.probe import ServiceStatus, service_url
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
    """An ``enrich`` job's metadata: providers (run at the same time) over the library or a
    selection."""

    providers: list[str]
    track_ids: list[str] | None
    source: str | None
    refresh: bool


class ProviderRunReport(BaseModel):
    """Counts of one provider's run: of the `selected` tracks, `total` were asked about, the
    others cached, not applicable or capped."""

    provider: str
    state: JobPartState = Field(
        default=JobPartState.DONE,
        description="done, failed (`error` says why; the job's other providers went on) or "
        "cancelled.",
    )
    error: JobError | None = Field(default=None, description="Why the provider failed.")
    seconds: float | None = Field(
        default=None, description="How long it ran (null: it never started)."
    )
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

    @classmethod
    def of_part(cls, part: ProviderPart) -> ProviderRunReport:
        error = part.error
        return cls.model_validate(
            {
                **part.report.as_dict(),
                "state": part.state,
                "error": None if error is None else JobError(code=error.code, message=error.detail),
                "seconds": part.seconds,
            }
        )


class EnrichRunReport(BaseModel):
    """An ``enrich`` (or v1 ``external``) job's payload: one report per provider, in run
    order, and their counts added up (a track counts once per provider)."""

    providers: list[ProviderRunReport]
    selected: int = Field(description="Tracks of the selection (the library, a source, ids).")
    not_applicable: int
    cached: int
    capped: int
    total: int
    matched: int
    not_found: int
    failed: int
    requests: int
    done: int

    @classmethod
    def of(cls, parts: Sequence[ProviderPart], selected: int) -> EnrichRunReport:
        reports = [ProviderRunReport.of_part(part) for part in parts]

        def total(name: str) -> int:
            return sum(int(getattr(report, name)) for report in reports)

        return cls(
            providers=reports,
            selected=selected,
            **{
                name: total(name)
                for name in (
                    "not_applicable",
                    "cached",
                    "capped",
                    "total",
                    "matched",
                    "not_found",
                    "failed",
                    "requests",
                    "done",
                )
            },
        )

    def shortfall(self) -> Shortfall | None:
        """Failed providers make the job "partial" (others did their work) or "failed" (none
        did), with an error naming each and why."""
        failed = [r for r in self.providers if r.state is JobPartState.FAILED]
        if not failed:
            return None
        messages = "; ".join(
            f"{r.provider}: {r.error.message if r.error else 'failed'}" for r in failed
        )
        code = failed[0].error.code if len(failed) == 1 and failed[0].error else "providers_failed"
        return Shortfall(
            error=JobError(code=code, message=messages),
            partial=len(failed) < len(self.providers),
        )


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
    service: ServiceStatus | None = Field(
        default=None,
        description="Whether the service it calls answers (checked at most once a minute; "
        "`refresh=true` checks now). Null: it calls no service (manual values, a dump), it is "
        "disabled, or it was not checked.",
    )


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


def plan_enrich_job(
    services: Services,
    *,
    providers: Sequence[str] | None = None,
    track_ids: Sequence[str] | None = None,
    source: str | None = None,
    refresh: bool = False,
) -> EnrichJobPlan:
    """One ``enrich`` job for the providers (default: every enabled one), after checking the
    whole request: unknown provider 404, disabled 422, unknown tracks or source 404."""
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
    return EnrichJobPlan(
        providers=provider_order(chosen),
        track_ids=list(track_ids) if track_ids is not None else None,
        source=source,
        refresh=refresh,
    )


def _summary(parts: Sequence[ProviderPart]) -> str:
    """``musicbrainz 40/950 · deezer done · lastfm failed``: one line for a progress bar."""

    def one(part: ProviderPart) -> str:
        if part.state is JobPartState.RUNNING:
            return f"{part.provider} {part.report.done}/{part.report.total}"
        return f"{part.provider} {part.state.value}"

    return " · ".join(one(part) for part in parts)


async def enrich_providers(
    ctx: StepContext,
    providers: Sequence[str] | None,
    *,
    track_ids: Sequence[str] | None = None,
    source: str | None = None,
    refresh: bool = False,
) -> EnrichRunReport:
    """The providers (default: every enabled one) over the library or a selection, all at
    once, with each one's progress in the job (`progress.parts`)."""
    services = ctx.services
    chosen = list(providers) if providers else default_provider_ids(services.settings)
    if not chosen:
        raise UnprocessableError(
            "no provider is enabled; see GET /data/providers for what each one needs",
            code="no_provider_enabled",
        )
    tracks: list[Track] = library_tracks(services.stores, track_ids=track_ids, source=source)

    def show(parts: list[ProviderPart]) -> None:
        job_parts = [part.job_part() for part in parts]
        known = [part.total for part in job_parts if part.total is not None]
        ctx.progress(
            sum(part.done for part in job_parts),
            sum(known) if known else None,
            _summary(parts),
            parts=job_parts,
        )

    parts = await enrich_together(
        services,
        chosen,
        tracks=tracks,
        refresh=refresh,
        on_change=show,
        check_cancelled=ctx.check_cancelled,
    )
    _remember_unreachable(services, parts)
    return EnrichRunReport.of(parts, selected=len(tracks))


def _remember_unreachable(services: Services, parts: Sequence[ProviderPart]) -> None:
    """A provider that failed because its service did not answer marks that service down, so
    GET /data/providers says so at once (until the next check)."""
    for part in parts:
        error = part.error
        if error is None or error.code != "provider_unavailable":
            continue
        url = service_url(services.settings, part.provider)
        if url is not None:
            services.service_checks.remember(
                ServiceStatus(
                    url=url,
                    service=service_label(services.settings, url),
                    state="down",
                    detail=f"the last run failed: {error.detail}",
                    checked_at=utc_now(),
                )
            )


async def enrich_step(ctx: StepContext) -> EnrichRunReport:
    """v2: providers over the library or a selection, all at once (metadata: providers? —
    or one `provider` —, track_ids?, source?, refresh?); progress per provider."""
    meta = ctx.metadata
    one = meta.get("provider")
    return await enrich_providers(
        ctx,
        [one] if isinstance(one, str) else meta.get("providers"),
        track_ids=meta.get("track_ids"),
        source=meta.get("source"),
        refresh=bool(meta.get("refresh", False)),
    )


async def external_step(ctx: StepContext) -> EnrichRunReport:
    """v1: every enabled provider (or metadata.providers) in one job, all at once."""
    meta = ctx.metadata
    return await enrich_providers(
        ctx,
        meta.get("providers"),
        track_ids=meta.get("track_ids"),
        source=meta.get("source"),
        refresh=bool(meta.get("refresh", False)),
    )


# --- reading the store ---------------------------------------------------------------------


def describe_providers(settings: Settings) -> list[ProviderInfo]:
    """Every provider, in the order `enrich` runs them: fields, status and what it needs."""
    return [ProviderInfo.model_validate(row) for row in list_feature_providers(settings)]


async def provider_status(services: Services, *, refresh: bool = False) -> list[ProviderInfo]:
    """`describe_providers`, with the health of each enabled provider's service (services
    checked together, each kept a minute: `ServiceChecks`)."""
    settings = services.settings
    rows = describe_providers(settings)
    urls = {row.id: service_url(settings, row.id) for row in rows if row.enabled}
    found = await services.service_checks.check(
        settings,
        [url for url in urls.values() if url is not None],
        transport=services.provider_transport,
        refresh=refresh,
    )
    for row in rows:
        url = urls.get(row.id)
        row.service = found.get(url) if url is not None else None
    return rows


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
