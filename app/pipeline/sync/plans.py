"""Stored plans and what applying them reports: the records `service` keeps in plans.json and
the payloads of the ``diff``, ``apply`` and ``restore`` steps.

    stored = StoredPlan.model_validate(stores.plans.get(plan_id))   # plans.json holds its JSON
    stored.brief()                                                  # without the bulky parts

A plan's life: ``planned`` → ``applied``, or ``superseded`` (a newer plan for the same rule set
or playlist), ``stale`` (the playlist changed before the apply) or ``failed`` (a write was
refused midway: `report` says how far it got, `rollback` whether the playlist was put back as
its backup holds it). A plan whose apply was cut short (the process died) stays ``planned``
with its `attempt`: applying it again resumes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.pipeline.rules.previews import BrokenRuleSet
from app.pipeline.sync.additions import ExcludedTrack
from app.pipeline.sync.executor import ApplyReport
from app.pipeline.sync.guards import Fingerprint, TrippedGuard
from app.pipeline.sync.model import SyncMode, SyncPlan

PlanStatus = Literal["planned", "superseded", "stale", "failed", "applied"]


class PlanSummary(BaseModel):
    """How big a plan is: track counts and the number of write calls."""

    adds: int
    removes: int
    moves: int = Field(description="Tracks moved (not move calls).")
    kept: int = Field(description="Local files, unavailable items and episodes left alone.")
    duplicates: int
    writes: int = Field(description="API calls the apply will send.")
    excluded: int = Field(
        default=0, description="Tracks of the rule set left out: Spotify cannot add them."
    )

    @classmethod
    def of(cls, plan: SyncPlan, excluded: int = 0) -> PlanSummary:
        return cls(
            adds=len(plan.adds),
            removes=len(plan.removes),
            moves=sum(len(move.uris) for move in plan.moves),
            kept=len(plan.kept),
            duplicates=len(plan.duplicates),
            writes=len(plan.calls),
            excluded=excluded,
        )


class PlanBrief(BaseModel):
    """A plan without its bulky parts (live items, calls)."""

    id: str
    rule_id: str | None
    rule_name: str | None
    playlist_id: str | None
    playlist_name: str | None
    create: bool
    mode: SyncMode
    summary: PlanSummary
    guards: list[TrippedGuard]
    status: PlanStatus
    one_off: bool = False


class ApplyAttempt(BaseModel):
    """An apply under way, or cut short by the end of its process: enough to resume it."""

    started_at: datetime
    job_id: str | None = Field(default=None, description="The job applying it, if any.")
    backup_id: str | None = Field(default=None, description="The backup taken before it.")
    creating: bool = Field(default=False, description="It creates the playlist.")
    states: list[str] = Field(
        default_factory=list,
        description="Hashes of the contents each of its writes may leave (see `fingerprint`).",
    )


class Rollback(BaseModel):
    """What was done after a write was refused: the playlist put back as its backup holds it."""

    backup_id: str | None = Field(description="The backup put back (null: nothing to put back).")
    restored: bool = Field(description="The playlist equals the backup again, entry for entry.")
    writes: int = Field(default=0, description="API calls the roll-back sent.")
    error: str | None = Field(default=None, description="Why putting it back failed.")


class StoredPlan(BaseModel):
    """A plan as plans.json keeps it: the planner's plan, what it was computed against, the
    guards that tripped, and what became of it."""

    id: str
    created_at: datetime
    rule_id: str | None = Field(description="Null for a restore of a playlist no rule set owns.")
    rule_name: str | None
    playlist_id: str | None = Field(description="Null until the apply creates the playlist.")
    playlist_name: str | None
    create: bool = Field(description="The apply creates the playlist.")
    mode: SyncMode
    restore_of: str | None = Field(default=None, description="The backup a restore puts back.")
    fingerprint: Fingerprint
    summary: PlanSummary
    guards: list[TrippedGuard] = Field(description="Each stops the apply unless forced.")
    excluded: list[ExcludedTrack] = Field(
        default_factory=list,
        description="Tracks of the rule set left out of the plan, each with its reason.",
    )
    plan: SyncPlan
    status: PlanStatus
    report: ApplyReport | None = Field(
        default=None, description="What the apply wrote (how far it got, if it failed)."
    )
    superseded_by: str | None = Field(default=None, description="The plan that replaced it.")
    backup_id: str | None = Field(
        default=None, description="The backup taken before the apply (null: none was needed)."
    )
    attempt: ApplyAttempt | None = Field(
        default=None, description="The apply under way or cut short (null: none yet, or done)."
    )
    rollback: Rollback | None = Field(
        default=None, description="Set when a failed apply put the playlist back."
    )
    one_off: bool = Field(
        default=False,
        description="Written to a new playlist this once: the rule set keeps its own playlist, "
        "and this one is not managed afterwards.",
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="URI -> 'title — artists' for the tracks the plan adds, removes, moves, "
        "keeps, finds duplicated or leaves out, as far as the library knows them.",
    )

    def brief(self) -> PlanBrief:
        return PlanBrief.model_validate(self, from_attributes=True)


class ApplyResult(BaseModel):
    """What applying one plan did."""

    plan_id: str
    playlist_id: str
    created: bool = Field(description="The playlist was created by this apply.")
    writes: int = Field(description="API calls sent.")
    snapshot_id: str = Field(description="The playlist's snapshot after the last write.")
    backup_id: str | None = Field(description="The backup of the playlist before the apply.")
    resumed: bool = Field(
        default=False, description="It finished an apply that an ended process cut short."
    )


class RestoreResult(ApplyResult):
    """A ``restore`` job's payload: the apply that put a backup back."""

    restored: str = Field(description="The backup put back.")


class AppliedPlans(BaseModel):
    """An ``apply`` job's payload."""

    applied: list[ApplyResult]


class PlannedPlaylists(BaseModel):
    """A ``diff`` job's payload: the plans made, in brief."""

    plans: list[PlanBrief]
    broken: list[BrokenRuleSet] = Field(
        default_factory=list, description="Rule sets skipped because they could not be evaluated."
    )
