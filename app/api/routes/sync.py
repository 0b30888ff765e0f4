"""/pipeline/playlists: sync plans, explicit apply, backups and restore (see pipeline.sync)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import JobsDep, PeriodicDep, ServicesDep
from app.api.schemas import (
    ERROR_RESPONSES,
    SERVER_ERROR_RESPONSES,
    SPOTIFY_ERROR_RESPONSES,
    PlanList,
)
from app.core.models import PipelineJob
from app.pipeline.sync.backups import BackupDiff, BackupSummary, diff_backup, list_backups
from app.pipeline.sync.guards import Guard
from app.pipeline.sync.model import SyncMode
from app.pipeline.sync.plans import StoredPlan
from app.pipeline.sync.service import PlanOptions, check_applicable, get_plan, plan_rule_sets
from app.pipeline.sync.status import RuleSetStanding, sync_states
from app.pipeline.sync.unattended import (
    RuleSetSync,
    UnattendedStatus,
    set_auto_apply,
    unattended_status,
)
from app.spotify.ids import SPOTIFY_ID_PATTERN

router = APIRouter(
    prefix="/pipeline/playlists",
    tags=["sync"],
    responses={**ERROR_RESPONSES, **SERVER_ERROR_RESPONSES},
)


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule_ids: list[str] | None = Field(
        default=None,
        max_length=500,
        description="Only these rule sets (default: every enabled one with a target).",
    )
    mode: SyncMode | None = Field(
        default=None,
        description="This plan's mode instead of the rule set's `sync_mode` (one rule set only; "
        "the stored rule set is not changed).",
    )
    new_playlist_name: str | None = Field(
        default=None,
        max_length=200,
        description="Write to a new playlist of this name instead of the rule set's (one rule "
        "set only): a one-off copy, created on apply and not managed afterwards; the rule set "
        "keeps its own playlist. 409 `playlist_name_taken` when you have one of that name.",
    )


class ApplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(max_length=64)
    force: list[Guard] = Field(
        default_factory=list, description="Guards to override: empty, remove_share, drift."
    )


class RestoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backup_id: str = Field(max_length=64)


@router.post(
    "/plan",
    summary="Plan the changes each rule set's playlist needs (reads Spotify, writes nothing)",
    responses=SPOTIFY_ERROR_RESPONSES,
    description=(
        "For each enabled rule set with a target (or `rule_ids`): adds, removes, moves, what is "
        "kept untouched (local files, unavailable items, episodes), duplicates, the exact API "
        "calls, the fingerprint of the live playlist, the guards that tripped, and the tracks "
        "left out because Spotify cannot add them (`excluded`, each with its reason). A rule set "
        "that cannot be evaluated (or refers to one that cannot) is not planned: it is listed "
        "under `broken` with its problems, and the others are planned. Refused (409 "
        "`library_incomplete`) while fetched sources lost tracks from tracks.json: fetch them "
        "again first (`GET /pipeline/health` names them)."
    ),
)
async def plan(body: PlanRequest, services: ServicesDep) -> PlanList:
    options = PlanOptions(mode=body.mode, new_playlist_name=body.new_playlist_name)
    planning = await plan_rule_sets(services, body.rule_ids, options)
    return PlanList(plans=planning.plans, broken=planning.broken)


@router.get("/plans/{plan_id}", summary="One stored plan")
def one_plan(plan_id: Annotated[str, Path(max_length=64)], services: ServicesDep) -> StoredPlan:
    return get_plan(services, plan_id)


@router.post(
    "/apply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Apply a plan (the only call that writes to Spotify), as a background job",
    description=(
        "Refused at once (409) when the plan was already applied, is being applied by a live "
        "job, or a guard tripped that `force` does not name; the job refuses a playlist that "
        "changed since the plan (re-plan). A backup of the playlist is saved before the first "
        "write (none when there is nothing to write); a write refused half-way puts the "
        "backup back and the job says so. Applying a plan whose apply was cut short (its "
        "process died) resumes it."
    ),
)
def apply(body: ApplyRequest, services: ServicesDep, jobs: JobsDep) -> PipelineJob:
    check_applicable(services, body.plan_id, body.force)
    return jobs.submit("apply", {"plan_id": body.plan_id, "force": list(body.force)})


@router.get("/backups", summary="Backups taken before each apply, newest first")
def backups(
    services: ServicesDep,
    playlist_id: Annotated[
        str | None, Query(pattern=SPOTIFY_ID_PATTERN, description="Only this playlist's.")
    ] = None,
) -> list[BackupSummary]:
    return list_backups(services, playlist_id)


@router.get(
    "/backups/{backup_id}/diff",
    summary="A backup against the playlist as it is now (reads Spotify, writes nothing)",
    responses=SPOTIFY_ERROR_RESPONSES,
    description=(
        "Reads the live playlist and plans what restoring the backup would do, exactly as "
        "`POST /restore` would plan it: adds, removes, moves, kept items, the write calls "
        "(none: the playlist equals the backup). Nothing is stored."
    ),
)
async def backup_diff(
    backup_id: Annotated[str, Path(max_length=64)], services: ServicesDep
) -> BackupDiff:
    return await diff_backup(services, backup_id)


@router.post(
    "/restore",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Put a backup's contents back (planned, backed up and applied like any change)",
)
def restore(body: RestoreRequest, services: ServicesDep, jobs: JobsDep) -> PipelineJob:
    services.stores.backups.get(body.backup_id)  # 404 now rather than a failed job
    return jobs.submit("restore", {"backup_id": body.backup_id})


class AutoApplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_apply: bool = Field(
        strict=True,  # a boolean, not 0/1 or "yes"
        description="True: unattended sync applies the plan when no guard trips; False: it "
        "holds the plan for review.",
    )


@router.get(
    "/unattended",
    summary="Unattended sync: the schedule in words, the next run, each rule set's choice, the "
    "last runs",
)
def unattended(services: ServicesDep, jobs: JobsDep, periodic: PeriodicDep) -> UnattendedStatus:
    return unattended_status(services, jobs, periodic)


@router.put(
    "/unattended/{rule_id}",
    summary="Whether unattended sync applies this rule set's plan by itself or holds it",
)
def auto_apply(
    rule_id: Annotated[str, Path(max_length=128)], body: AutoApplyRequest, services: ServicesDep
) -> RuleSetSync:
    return set_auto_apply(services, rule_id, body.auto_apply)


@router.get(
    "/sync-status",
    summary="Each rule set's standing with Spotify as of its latest plan, and its last apply",
    description=(
        "Read from the stored plans (nothing is asked of Spotify: `POST /plan` checks "
        "afresh): per rule set, in stored order, `status` (not checked, in sync, would change, "
        "drift, guard tripped, failed), when the latest plan read Spotify, that plan without "
        "its bulky parts, and the last apply with its backup."
    ),
)
def sync_status(services: ServicesDep) -> list[RuleSetStanding]:
    return sync_states(services.stores)
