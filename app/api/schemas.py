"""Request and response bodies of the HTTP API (strict on what users send)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.models import PipelineJob
from app.pipeline.enrichment.undo import LastEdit
from app.pipeline.rules.previews import BrokenRuleSet
from app.pipeline.sync.executor import ApplyReport
from app.pipeline.sync.guards import TrippedGuard
from app.pipeline.sync.plans import StoredPlan


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query`… then the path in it.")
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer (`app.api.errors`): a code and a message, plus context for some
    codes. Only the context of the error at hand is present; other keys may follow."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="Stable machine-readable code, e.g. `unknown_step`.")
    detail: str = Field(description="What went wrong, for people.")
    auth_url: str | None = Field(
        default=None, description="`login_required` (401): the URL that starts the login."
    )
    known_steps: list[str] | None = Field(
        default=None, description="`unknown_step` (404): the registered steps."
    )
    errors: list[ValidationIssue] | None = Field(
        default=None, description="`validation_error` (422): every problem of the request."
    )
    guards: list[TrippedGuard] | None = Field(
        default=None, description="`guard_tripped` (409): the guards `force` did not name."
    )
    problems: list[dict[str, Any]] | None = Field(
        default=None, description="`rules_invalid` (422): every problem of the rule set."
    )
    retry_after: float | None = Field(
        default=None, description="429: seconds the service asked to wait."
    )
    apply_report: ApplyReport | None = Field(
        default=None, description="An apply that stopped midway: how far it got."
    )


class RunAsyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Input of the step (e.g. the track source to fetch)."
    )


class JobPage(BaseModel):
    items: list[PipelineJob]
    total: int = Field(description="Jobs matching the filters, over all pages.")
    limit: int
    offset: int


class StepInfo(BaseModel):
    name: str
    description: str


class ManualEditReport(BaseModel):
    """What a manual edit of many tracks did, and what undoing it would undo."""

    updated: int = Field(description="Tracks the edit changed.")
    unchanged: int = Field(description="Tracks it left as they were (they already had it).")
    manual: dict[str, dict[str, Any] | None] = Field(
        description="Per track, its manual values now (null: none left)."
    )
    undo: LastEdit | None = Field(
        description="The edit as `POST /data/enrichments/manual/undo` would undo it (null: "
        "nothing changed, so the previous edit stays the one to undo)."
    )


class ServiceIndex(BaseModel):
    """`GET /`: what this server is and where to start."""

    name: str
    version: str
    docs: str
    health: str


class PlanList(BaseModel):
    """The plans just made, one per rule set (stored; apply one by its id), and the rule sets
    that could not be planned because they are broken."""

    plans: list[StoredPlan]
    broken: list[BrokenRuleSet] = Field(
        description="Rule sets skipped because they could not be evaluated, with their problems."
    )


def _errors(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorBody, "description": text} for status, text in descriptions.items()
    }


SERVER_ERROR_RESPONSES = _errors(
    {
        500: "Unexpected server error (the details are in the server log)",
        503: "A data file is locked by another process, corrupt, or from a newer release "
        "(`store_locked`, `store_too_new`…), or the job queue is full (`job_queue_full`)",
    }
)
"""What any route may answer when the server or its data files fail."""

SPOTIFY_ERROR_RESPONSES = _errors(
    {
        401: "Not logged in to Spotify, or the login expired (`auth_url` says where to log in)",
        403: "Spotify refused (e.g. a playlist you neither own nor collaborate on)",
        429: "Spotify asks to wait longer than this tool waits (`retry_after`)",
        502: "Spotify failed or could not be reached",
    }
)
"""What a route that talks to Spotify may answer too."""


ERROR_RESPONSES = _errors(
    {
        400: "Bad request or Host not allowed",
        404: "Not found",
        409: "Conflict with the job's state",
        422: "Invalid request body or parameters",
    }
)
"""What any route may answer to a request it cannot take."""

STATE_CHANGE_ERROR_RESPONSES = _errors(
    {
        403: "Refused: the request comes from a page of another origin "
        "(`cross_origin_refused`; `Origin`/`Sec-Fetch-Site` not this server's)",
        413: "The body is larger than SAP_MAX_REQUEST_BYTES (`request_too_large`)",
        415: "Not `Content-Type: application/json`, which every state-changing request needs "
        "even without a body (`unsupported_media_type`)",
        422: "Invalid request body or parameters; `unsupported_json` for values no store can "
        "keep (integers beyond 64 bits, lone surrogates, nesting beyond 64 levels)",
    }
)
"""What the request guard (app/api/middleware.py) and the body check (app/api/bodies.py) may
answer to any POST, PUT, PATCH or DELETE; `create_app` adds them to every such operation."""
