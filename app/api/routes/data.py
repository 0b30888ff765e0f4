"""/data: the stored library."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.api.deps import ServicesDep
from app.api.schemas import ERROR_RESPONSES, SERVER_ERROR_RESPONSES, ManualEditReport
from app.core.errors import NotFoundError
from app.core.models import Classification, TrackEnrichment
from app.core.rules import MAX_RULE_TEXT_CHARS
from app.pipeline.classify import classifications, correct_labels
from app.pipeline.enrichment.manual import ManualEdit, apply_manual, edit_manual, undo_manual
from app.pipeline.enrichment.service import (
    Coverage,
    EnrichmentDetail,
    ProviderFeatures,
    ProviderInfo,
    all_enrichments,
    coverage,
    enrichment_detail,
    provider_features,
    provider_status,
)
from app.pipeline.enrichment.undo import UndoReport, UndoState, last_edit
from app.pipeline.query.distributions import (
    MAX_BINS,
    MAX_TOP,
    DistributionRequest,
    Distributions,
    library_distributions,
    restricted_distributions,
)
from app.pipeline.query.model import (
    LibraryFilter,
    LibraryIds,
    LibraryIdsRequest,
    LibraryPage,
    LibraryQuery,
)
from app.pipeline.query.service import library_ids, matching_ids, query_library
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


# --- the library table -----------------------------------------------------------------------


def _json(model: BaseModel) -> Response:
    """An answer built by the pipeline (constructed, not validated again), serialised once."""
    return Response(model.model_dump_json(), media_type="application/json")


@router.post(
    "/library/query",
    response_model=LibraryPage,
    summary="A page of the library: filtered (rules language), sorted, chosen columns",
    description=(
        "The library table's query over the loaded library. `filter` takes conditions in the "
        "rules language (as a rule set's text, without playlist clauses) and selects exactly "
        "the tracks `POST /pipeline/playlists/preview-from-rules` gives for a rule set with "
        "those rules; a problem is a 422 `rules_invalid` naming its line and column. `sort` "
        "orders the whole matching library by any field (missing values last, ties in library "
        "order). Each row has the requested values and, for each enriched value, the "
        "providers that gave it and when. Every field: `GET /data/rules/fields`."
    ),
)
def library_query(body: LibraryQuery, services: ServicesDep) -> Response:
    return _json(query_library(services.queries, body))


@router.post(
    "/library/ids",
    response_model=LibraryIds,
    summary="Every track id a filter matches, in the sort's order (select all that match)",
    description=(
        "The same `filter` and `sort` as `POST /data/library/query`, all the ids; with "
        "`offset` and `limit`, the ids of those rows of the table only (a range selected "
        "over rows not loaded yet). `total` counts every match."
    ),
)
def library_query_ids(body: LibraryIdsRequest, services: ServicesDep) -> Response:
    return _json(library_ids(services.queries, body))


@router.get(
    "/library/distributions",
    response_model=Distributions,
    summary="How the library's values spread: histograms and most frequent values",
    description=(
        "For each field (default: year, tempo, energy, duration, genres, tags), over the "
        "whole loaded library: number fields as a histogram of `bins` bins of a round width, "
        "other fields as their `top` most frequent values (a list field counts each value "
        "once per track). Every bin and value carries `filter`, its tracks in the rules "
        "language, for `POST /data/library/query`. An unknown field is a 422 `unknown_field`."
    ),
)
def library_distributions_route(
    services: ServicesDep,
    fields: Annotated[
        list[str] | None, Query(max_length=20, description="Field names (repeat the parameter).")
    ] = None,
    bins: Annotated[int, Query(ge=1, le=MAX_BINS, description="Histogram bins, at most.")] = 20,
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="Most frequent values kept.")] = 15,
) -> Response:
    return _json(library_distributions(services.queries, fields, bins=bins, top=top))


@router.post(
    "/library/distributions",
    response_model=Distributions,
    summary="How some tracks' values spread (a filter, a rule set's playlist)",
    description=(
        "As the GET, over the tracks `filter` matches and, with `rule`, that a rule set's "
        "playlist (saved or not) would hold; each histogram is cut on the whole library's "
        "range, so it compares bar for bar with the GET's. A problem in `filter` or `rule` is "
        "a 422 `rules_invalid`."
    ),
)
def restricted_distributions_route(body: DistributionRequest, services: ServicesDep) -> Response:
    return _json(restricted_distributions(services.queries, body))


# --- enrichment ------------------------------------------------------------------------------

TrackId = Annotated[str, Path(max_length=200, description="Spotify track id.")]


class BulkManualEdit(ManualEdit):
    track_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=100_000, description="Tracks to edit."
    )
    filter: str | None = Field(
        default=None,
        max_length=MAX_RULE_TEXT_CHARS,
        description="Instead of `track_ids`: every track matching this filter in the rules "
        "language (as `POST /data/library/query` takes it; empty: the whole library).",
    )

    @model_validator(mode="after")
    def _one_target(self) -> BulkManualEdit:
        if (self.track_ids is None) == (self.filter is None):
            raise ValueError("give either track_ids or filter (the tracks to edit)")
        return self


@router.get(
    "/providers",
    summary="Enrichment providers: fields, status, their service's health and what they need",
    description=(
        "Each provider with whether it can run: `enabled` / `reason_if_disabled` (settings, "
        "keys) and `service`, whether the service it calls answers now (`up`, `throttled`, "
        "`down`, with the reason in words). Services are checked together with one GET of "
        "their base URL (3 s timeout, no retry), each check kept a minute; `refresh=true` "
        'checks again now (docs/providers.md, "Can it run?").'
    ),
)
async def providers(
    services: ServicesDep,
    refresh: Annotated[bool, Query(description="Check every service again now.")] = False,
) -> list[ProviderInfo]:
    return await provider_status(services, refresh=refresh)


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
    summary="The same manual edit on many tracks at once: a selection, or all that match",
    description=(
        "The tracks are `track_ids`, or every track matching `filter` (rules language; a "
        "problem is a 422 `rules_invalid` naming its line and column, a filter matching no "
        "track a 404 `no_tracks_matched`). `updated` counts the tracks the edit changed, "
        "`unchanged` those it left as they were. An edit that changed something becomes the "
        "one `POST /data/enrichments/manual/undo` undoes (`undo`)."
    ),
)
def edit_enrichments(body: BulkManualEdit, services: ServicesDep) -> ManualEditReport:
    edit = ManualEdit.model_validate(body.model_dump(exclude={"track_ids", "filter"}))
    track_ids = body.track_ids
    if track_ids is None:
        track_ids = matching_ids(services.queries, LibraryFilter(filter=body.filter))
        if not track_ids:
            raise NotFoundError(
                "no track matches the filter: nothing to edit", code="no_tracks_matched"
            )
    outcome = edit_manual(services.stores, track_ids, edit)
    warm_library_in_background(services.stores, services.library)  # the next preview's
    return ManualEditReport(
        updated=len(outcome.changed),
        unchanged=len(outcome.unchanged),
        manual={
            track_id: entry.categories if entry is not None else None
            for track_id, entry in outcome.results.items()
        },
        undo=outcome.undo,
    )


@router.get(
    "/enrichments/manual/undo",
    summary="The last edit of your values, if there is one to undo",
)
def undo_state(services: ServicesDep) -> UndoState:
    return last_edit(services.stores)


@router.post(
    "/enrichments/manual/undo",
    summary="Undo the last edit of your values (one step), exactly",
    description=(
        "Puts back, as they were, the manual values of every track the last edit changed "
        "(a bulk edit, a track's PATCH, `sap tag`/`untag`), and says what it put back. 409 "
        "`nothing_to_undo` when no edit is recorded (or it was undone already); 409 "
        "`undo_unsafe`, restoring nothing, when some of those tracks' values changed since "
        "(the answer names them). See docs/api.md."
    ),
)
def undo_edit(services: ServicesDep) -> UndoReport:
    report = undo_manual(services.stores)
    warm_library_in_background(services.stores, services.library)  # the next preview's
    return report


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
