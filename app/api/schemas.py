"""Request and response bodies of the HTTP API (strict on what users send)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.models import PipelineJob
from app.pipeline.sync.plans import StoredPlan


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code, e.g. `unknown_step`.")
    detail: str = Field(description="What went wrong, for people.")


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
    """What a manual edit of many tracks left."""

    updated: int = Field(description="Tracks edited.")
    manual: dict[str, dict[str, Any] | None] = Field(
        description="Per track, its manual values now (null: none left)."
    )


class PlanList(BaseModel):
    """The plans just made, one per rule set (stored; apply one by its id)."""

    plans: list[StoredPlan]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Bad request or Host not allowed",
        404: "Not found",
        409: "Conflict with the job's state",
        415: "Body is not JSON",
        422: "Invalid request body or parameters",
    }.items()
}
