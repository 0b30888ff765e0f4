"""/pipeline: health, steps, and background jobs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import JobsDep, ServicesDep
from app.api.event_stream import (
    EVENT_HEADERS,
    EVENT_STREAM,
    first_id,
    job_events_stream,
    stream_responses,
)
from app.api.schemas import (
    ERROR_RESPONSES,
    SERVER_ERROR_RESPONSES,
    SPOTIFY_ERROR_RESPONSES,
    ErrorBody,
    JobPage,
    RunAsyncRequest,
    StepInfo,
)
from app.core.models import JobStatus, PipelineJob
from app.pipeline.enrichment.service import ENRICH_STEP, plan_enrich_job
from app.pipeline.health import HealthReport, health_report
from app.pipeline.sources.aggregate import LibraryView, aggregate
from app.pipeline.sources.csv_files import StoredUpload, store_upload, upload_bytes
from app.pipeline.sources.planning import SourceRequest, plan_fetch, plan_library

router = APIRouter(
    prefix="/pipeline", tags=["pipeline"], responses={**ERROR_RESPONSES, **SERVER_ERROR_RESPONSES}
)

JobId = Annotated[str, Path(description="Job id as returned by run-async.", max_length=64)]


@router.get("/health", summary="Version, cache directory, store files and quarantined files")
def get_health(services: ServicesDep, jobs: JobsDep) -> HealthReport:
    return health_report(
        services.stores, jobs=jobs.counts(), steps=jobs.registry.names(), gaps=services.gaps
    )


@router.get("/steps", summary="Registered pipeline steps")
def list_steps(jobs: JobsDep) -> list[StepInfo]:
    return [
        StepInfo(name=spec.name, description=spec.description) for spec in jobs.registry.specs()
    ]


@router.post(
    "/{step}/run-async",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a step as a background job",
    description="Returns the pending job at once; poll `GET /pipeline/jobs/{id}` for progress.",
)
def run_async(
    step: Annotated[str, Path(max_length=64)],
    jobs: JobsDep,
    request: Annotated[RunAsyncRequest | None, Body()] = None,
) -> PipelineJob:
    metadata = request.metadata if request is not None else {}
    return jobs.submit(step, metadata)


@router.get("/jobs", summary="Jobs, newest first")
def list_jobs(
    jobs: JobsDep,
    step: Annotated[str | None, Query(description="Only jobs of this step.")] = None,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobPage:
    items, total = jobs.list(step=step, status=status_, limit=limit, offset=offset)
    return JobPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/jobs/events",
    response_class=StreamingResponse,
    summary="Job changes as they happen (server-sent events)",
    description=(
        "A snapshot of the jobs, then every creation or change of a job as it happens (status, "
        "progress, message, throttling note, error), pushed by the job runner: what the web "
        "app's jobs drawer listens to instead of polling. Read only. See docs/api.md."
    ),
    responses=stream_responses(),
)
async def job_events(
    jobs: JobsDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Jobs in each snapshot.")] = 50,
    last_event_id: Annotated[
        str | None, Header(max_length=32, description="The last event id seen (reconnect).")
    ] = None,
) -> StreamingResponse:
    stream = job_events_stream(
        jobs,
        limit=limit,
        keepalive=services.settings.events_keepalive,
        start=first_id(last_event_id),
    )
    return StreamingResponse(stream, media_type=EVENT_STREAM, headers=EVENT_HEADERS)


@router.get("/jobs/{job_id}", summary="One job's state and progress (read only)")
def get_job(job_id: JobId, jobs: JobsDep) -> PipelineJob:
    return jobs.get(job_id)


@router.post("/jobs/{job_id}/cancel", summary="Cancel a pending job or ask a running one to stop")
def cancel_job(job_id: JobId, jobs: JobsDep) -> PipelineJob:
    return jobs.cancel(job_id)


@router.post(
    "/jobs/{job_id}/rerun",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a finished (e.g. interrupted) job again with the same step and metadata",
)
def rerun_job(job_id: JobId, jobs: JobsDep) -> PipelineJob:
    return jobs.rerun(job_id)


class FetchSourcesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceRequest] = Field(min_length=1, max_length=500)


class FetchSourcesResponse(BaseModel):
    jobs: list[PipelineJob]


@router.post(
    "/tracks/fetch-sources",
    status_code=status.HTTP_202_ACCEPTED,
    summary="v2: one background fetch_tracks job per source",
    responses=SPOTIFY_ERROR_RESPONSES,
    description=(
        "Every source is checked first (not logged in to Spotify → 401 with `auth_url`, unknown "
        "playlist → 404, playlist you neither own nor collaborate on → 403, a CSV path outside "
        "`SAP_CSV_IMPORT_DIR` and the uploads → 403, missing CSV → 404); "
        "then one job per source starts. A playlist whose snapshot_id did not change since the "
        "last fetch is not read again."
    ),
)
async def fetch_sources(
    body: FetchSourcesRequest, services: ServicesDep, jobs: JobsDep
) -> FetchSourcesResponse:
    if any(source.source_type != "csv" for source in body.sources):
        # Not logged in: answer 401 with auth_url now, as for playlists, not failed jobs later.
        await services.spotify.tokens.access_token()
    planned = await plan_fetch(services, body.sources)
    return FetchSourcesResponse(
        jobs=jobs.submit_many("fetch_tracks", [source.metadata() for source in planned])
    )


class CsvUpload(BaseModel):
    """An Exportify CSV file sent in a JSON body (the request guard's one rule: JSON only)."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(
        min_length=1,
        max_length=1000,
        description=(
            "The file's name on your machine. The server names the stored file from it "
            "(letters, digits, spaces and `-_.()[],&'+` kept; `.csv` added), so an upload of "
            "the same name replaces the earlier one and stays the same source."
        ),
    )
    content: str = Field(description="The file's text, or its bytes in base64 (`encoding`).")
    encoding: Literal["text", "base64"] = "text"
    label: str | None = Field(default=None, max_length=200)


class CsvImportResponse(BaseModel):
    file: StoredUpload
    job: PipelineJob = Field(description="The fetch_tracks job reading the stored file.")


@router.post(
    "/tracks/import-csv",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload an Exportify CSV file and fetch it as a source",
    responses={
        413: {"model": ErrorBody, "description": "The file is over SAP_CSV_MAX_BYTES"},
    },
    description=(
        "Stores the file in the data directory (`imports/`, mode 0600) and starts one "
        "`fetch_tracks` job reading it; the answer names the stored path, which fetch-sources "
        "accepts as a csv `source_id` later. Over HTTP this, or a file inside "
        "`SAP_CSV_IMPORT_DIR`, is how a CSV file arrives: other paths are refused with 403. "
        "Bad rows are reported in the job, by line and column, never by their text."
    ),
)
async def import_csv_upload(
    body: CsvUpload, services: ServicesDep, jobs: JobsDep
) -> CsvImportResponse:
    max_bytes = services.settings.csv_max_bytes
    data = upload_bytes(body.content, body.encoding, max_bytes)
    stored = await run_in_threadpool(store_upload, services.settings, body.filename, data)
    request = SourceRequest(source_type="csv", source_id=stored.path, label=body.label)
    [planned] = await plan_fetch(services, [request])
    return CsvImportResponse(file=stored, job=jobs.submit("fetch_tracks", planned.metadata()))


@router.post(
    "/tracks/fetch-library",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Fetch the whole library: liked songs and every playlist you can read",
    responses=SPOTIFY_ERROR_RESPONSES,
    description=(
        "One background `fetch_sources` job reads liked songs and every playlist you own or "
        "collaborate on, all through one concurrency bound; playlists whose snapshot_id did not "
        "change are not read again. Followed playlists of other users are left out (Spotify "
        "does not let personal apps read them). Not logged in → 401 with `auth_url`."
    ),
)
async def fetch_library(services: ServicesDep, jobs: JobsDep) -> PipelineJob:
    await services.spotify.tokens.access_token()
    planned = await plan_library(services)
    return jobs.submit("fetch_sources", {"sources": [source.metadata() for source in planned]})


@router.get("/tracks/aggregate", summary="Every fetched track once, with its sources")
def tracks_aggregate(
    services: ServicesDep,
    source: Annotated[str | None, Query(description="Only this source key, e.g. `liked`.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text search.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> LibraryView:
    return aggregate(services.stores, limit=limit, offset=offset, source=source, q=q)


class EnrichRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    providers: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Provider ids (GET /data/providers); default: every enabled provider.",
    )
    track_ids: list[str] | None = Field(
        default=None, max_length=200_000, description="Only these tracks."
    )
    source: str | None = Field(default=None, description="Only this source's tracks, e.g. liked.")
    refresh: bool = Field(
        default=False,
        strict=True,  # a boolean, not 0/1 or "no" (which lax mode reads as a boolean)
        description="Ask again about tracks already enriched (or not found).",
    )


class EnrichResponse(BaseModel):
    jobs: list[PipelineJob] = Field(
        description="The one enrich job running every provider asked for (a list, as when "
        "each provider had a job of its own)."
    )


@router.post(
    "/enrich",
    status_code=status.HTTP_202_ACCEPTED,
    summary="v2: one background enrich job, its providers running at the same time",
    description=(
        "Checks the request first (unknown provider → 404, disabled provider → 422 with the "
        "reason, unknown track ids or source → 404), then starts one job in which every "
        "provider asked for (default: every enabled one) runs at the same time, each within "
        "its own service's limits (AcousticBrainz after MusicBrainz, whose recording ids it "
        "reads). `progress.parts` holds each provider's state, done and total; "
        "`progress.done`/`total` add them up. A provider that fails does not stop the others: "
        "the job ends `partial` (or `failed` when none did its work) and its error and the "
        "payload's per-provider reports say which failed and why. Cancelling the job stops "
        "them all. Tracks already enriched at the provider's current version are skipped "
        "unless `refresh` is set. Results are saved as they come, and an interrupted job "
        "resumes when the server restarts."
    ),
)
def enrich(body: EnrichRequest, services: ServicesDep, jobs: JobsDep) -> EnrichResponse:
    planned = plan_enrich_job(
        services,
        providers=body.providers,
        track_ids=body.track_ids,
        source=body.source,
        refresh=body.refresh,
    )
    return EnrichResponse(jobs=[jobs.submit(ENRICH_STEP, planned.model_dump(mode="json"))])


@router.post(
    "/{step}",
    summary="v1: run a step and wait for it (bounded)",
    responses={
        **SPOTIFY_ERROR_RESPONSES,
        202: {
            "model": PipelineJob,
            "description": "Still running after `SAP_STEP_WAIT` seconds: the job goes on in "
            "the background; poll `GET /pipeline/jobs/{id}`.",
        },
    },
    description="Runs the step as a job and waits for it: the finished job (a step that "
    "failed with a domain error answers that error's status), or 202 with the running job "
    "once `SAP_STEP_WAIT` seconds have passed. `POST /pipeline/tracks` fetches the liked songs.",
)
async def run_sync(
    step: Annotated[
        str,
        Path(
            max_length=64,
            description="A step name (`GET /pipeline/steps`). `enrich` is not one here: "
            "`POST /pipeline/enrich` is the v2 route; run the v1 step with "
            "`POST /pipeline/enrich/run-async`.",
            json_schema_extra={"not": {"enum": [ENRICH_STEP]}},
        ),
    ],
    jobs: JobsDep,
    services: ServicesDep,
    response: Response,
    request: Annotated[RunAsyncRequest | None, Body()] = None,
) -> PipelineJob:
    metadata = request.metadata if request is not None else {}
    job, finished = await jobs.run_waiting(step, metadata, wait=services.settings.step_wait)
    if not finished:
        response.status_code = status.HTTP_202_ACCEPTED
    return job
