"""Request and response bodies of the HTTP API (strict on what users send)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.models import PipelineJob
from app.core.rules import RuleProblem


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


# --- rules -----------------------------------------------------------------------------------
# Responses of /pipeline/playlists/preview-from-rules (app/api/routes/rules.py).


class BrokenRuleSet(BaseModel):
    """A rule set a preview could not make, and why; the others are previewed."""

    rule_id: str = Field(description="Its id (`#3` for a stored one without a readable id).")
    rule_name: str
    problems: list[RuleProblem] = Field(
        description="What is wrong: e.g. a regex RE2 cannot compile, an unknown `in_rule` "
        "target, a cycle, or a reference to a broken rule set."
    )
    broken_references: list[str] = Field(
        default_factory=list,
        description="The broken rule sets it refers to (`in_rule`), when that is why; each is "
        "listed too.",
    )


class PreviewPlaylist(BaseModel):
    """Payload mode: one rule set's playlist, in the seed's shape."""

    rule_id: str
    rule_name: str
    track_ids: list[str]
    track_count: int


class LibraryPreviewPlaylist(PreviewPlaylist):
    """Library mode: one rule set's playlist and how it was chosen."""

    enabled: bool
    candidates: int = Field(description="Tracks from the rule set's sources.")
    matched: int = Field(description="Of those, tracks passing the rules.")
    dropped: dict[str, Literal["excluded", "deduped", "over limit", "artist cap"]] = Field(
        description="Track id → the stage that dropped it."
    )
    pinned: list[str]
    duration_ms: int
    minutes: float


class PreviewOverlap(BaseModel):
    rule_ids: list[str]
    tracks: int


class PreviewNowhere(BaseModel):
    count: int
    track_ids: list[str] = Field(description="The first of them.")


class PreviewPartition(BaseModel):
    """Where the library's tracks land: per track its rule sets, overlaps, the rest."""

    tracks: int
    placed: int
    track_rules: dict[str, list[str]]
    overlaps: list[PreviewOverlap]
    nowhere: PreviewNowhere


class LibraryPreview(BaseModel):
    playlists: list[LibraryPreviewPlaylist]
    partition: PreviewPartition
    broken: list[BrokenRuleSet] = Field(description="Rule sets that could not be previewed.")


class PayloadPreview(BaseModel):
    playlists: list[PreviewPlaylist]
    broken: list[BrokenRuleSet] = Field(
        default_factory=list,
        description="Rule sets that could not be previewed (absent when none: the seed's shape).",
    )
