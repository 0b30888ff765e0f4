"""/data: the stored library."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import ServicesDep
from app.api.schemas import ERROR_RESPONSES, SERVER_ERROR_RESPONSES, ManualEditReport
from app.core.models import Classification, TrackEnrichment
from app.pipeline.classify import classifications, correct_labels
from app.pipeline.enrichment.manual import ManualEdit, apply_manual
from app.pipeline.enrichment.service import (
    Coverage,
    EnrichmentDetail,
    ProviderFeatures,
    ProviderInfo,
    all_enrichments,
    coverage,
    describe_providers,
    enrichment_detail,
    provider_features,
)
from app.pipeline.rules.service import warm_library_in_background
from app.pipeline.sources.aggregate import TrackPage, aggregate

router = APIRouter(
    prefix="/data", tags=["data"], responses={**ERROR_RESPONSES, **SERVER_ERROR_RESPONSES}
)


@router.get("/tracks", summary="Fetched tracks, paginated, with text search")
def tracks(
    services: ServicesDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in title/artist/album.")
    ] = None,
    source: Annotated[str | None, Query(description="Only tracks of this source key.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TrackPage:
    view = aggregate(services.stores, limit=limit, offset=offset, source=source, q=q)
    return TrackPage(total=view.total, limit=view.limit, offset=view.offset, tracks=view.tracks)


# --- enrichment ------------------------------------------------------------------------------

TrackId = Annotated[str, Path(max_length=200, description="Spotify track id.")]


class BulkManualEdit(ManualEdit):
    track_ids: list[str] = Field(min_length=1, max_length=100_000, description="Tracks to edit.")


@router.get("/providers", summary="Enrichment providers: fields, status and what they need")
def providers(services: ServicesDep) -> list[ProviderInfo]:
    return describe_providers(services.settings)


@router.get(
    "/enrichments",
    summary="Every track's enrichment entries (seed mapping track_id → entries)",
)
def enrichments(
    services: ServicesDep,
    provider: Annotated[str | None, Query(description="Only this provider's entries.")] = None,
) -> dict[str, list[TrackEnrichment]]:
    return all_enrichments(services.stores, provider)


@router.get(
    "/enrichments/coverage",
    summary="Per field: how many library tracks have it, and from which providers",
)
def enrichment_coverage(services: ServicesDep) -> Coverage:
    return coverage(services.library)


@router.get(
    "/enrichments/{track_id}",
    summary="A track's entries, its merged view and each value's provider",
)
def enrichment(track_id: TrackId, services: ServicesDep) -> EnrichmentDetail:
    return enrichment_detail(services.stores, track_id, services.library.precedence)


@router.patch(
    "/enrichments/{track_id}",
    summary="Set or unset your own keys and tags on a track (they win over every provider)",
)
def edit_enrichment(track_id: TrackId, edit: ManualEdit, services: ServicesDep) -> EnrichmentDetail:
    apply_manual(services.stores, [track_id], edit)
    warm_library_in_background(services.stores, services.library)  # the next preview's
    return enrichment_detail(services.stores, track_id, services.library.precedence)


@router.post(
    "/enrichments/manual",
    summary="The same manual edit on many tracks at once (e.g. tag a selection)",
)
def edit_enrichments(body: BulkManualEdit, services: ServicesDep) -> ManualEditReport:
    edit = ManualEdit.model_validate(body.model_dump(exclude={"track_ids"}))
    results = apply_manual(services.stores, body.track_ids, edit)
    warm_library_in_background(services.stores, services.library)  # the next preview's
    return ManualEditReport(
        updated=len(results),
        manual={
            track_id: entry.categories if entry is not None else None
            for track_id, entry in results.items()
        },
    )


@router.get(
    "/features/{provider}",
    summary="Legacy: one provider's values per track (track_id → categories)",
)
def features(
    provider: Annotated[str, Path(max_length=64)], services: ServicesDep
) -> ProviderFeatures:
    return provider_features(services.stores, provider)


# --- classifications (v1) -------------------------------------------------------------------

Classifier = Annotated[str, Path(max_length=64, description="Classifier id, e.g. mood_v1.")]


class LabelCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: dict[str, str | int | None] = Field(
        min_length=1, description="Labels to set (mood, genre, year); null removes one."
    )


@router.get(
    "/classifications/{classifier}",
    summary="v1: the labels a classifier gave each track (track_id → classification)",
)
def get_classifications(classifier: Classifier, services: ServicesDep) -> dict[str, Classification]:
    return classifications(services.stores, classifier)


@router.patch(
    "/classifications/{classifier}/{track_id}",
    summary="v1: correct a track's labels by hand (kept by later classify runs)",
)
def patch_classification(
    classifier: Classifier, track_id: TrackId, body: LabelCorrection, services: ServicesDep
) -> Classification:
    return correct_labels(services.stores, classifier, track_id, body.labels)
