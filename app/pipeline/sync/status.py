"""Where each rule set stands with Spotify, from what is stored: its latest plan (when it was
made, what it would change, the guards it tripped) and its last apply.

    states = sync_states(services.stores)
    states[0].status        # "in sync", "would change", "drift", "guard tripped", "failed",
                            # "not checked"
    states[0].last_apply    # when a plan of it was last applied, and the backup taken

Nothing is read from Spotify here: a plan reads the playlist when it is made
(`POST /pipeline/playlists/plan`); the status is as of that plan, and says how old it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from app.data import Stores
from app.pipeline.rules.rule_sets import stored_rule_sets
from app.pipeline.sync.plans import PlanBrief, StoredPlan

__all__ = ["LastApply", "RuleSetStanding", "SyncStatus", "sync_states"]

SyncStatus = Literal["not checked", "in sync", "would change", "drift", "guard tripped", "failed"]


class LastApply(BaseModel):
    plan_id: str
    at: datetime = Field(description="When the apply started.")
    playlist_id: str | None
    writes: int = Field(description="API calls it sent.")
    backup_id: str | None = Field(description="The backup taken before it (restore puts it back).")


class RuleSetStanding(BaseModel):
    """One rule set's standing with Spotify as of its latest plan."""

    rule_id: str
    status: SyncStatus = Field(
        description="`not checked` (no plan yet); from the latest plan: `in sync` (nothing to "
        "change, or it was applied), `would change` (see `plan.summary`), `drift` (the "
        "playlist changed on Spotify since our last apply), `guard tripped` (another guard), "
        "`failed` (its apply failed)."
    )
    checked_at: datetime | None = Field(description="When the latest plan read Spotify.")
    plan: PlanBrief | None = Field(description="The latest plan, without its bulky parts.")
    last_apply: LastApply | None


def _status(plan: StoredPlan) -> SyncStatus:
    if plan.status == "applied":
        return "in sync"
    if plan.status == "failed":
        return "failed"
    if plan.status == "stale" or any(guard.guard == "drift" for guard in plan.guards):
        return "drift"
    if plan.guards:
        return "guard tripped"
    summary = plan.summary
    if summary.adds or summary.removes or summary.moves or plan.create:
        return "would change"
    return "in sync"


def _plans(stored: dict[str, dict[str, Any]]) -> list[StoredPlan]:
    plans: list[StoredPlan] = []
    for raw in stored.values():
        try:
            plans.append(StoredPlan.model_validate(raw))
        except ValidationError:  # an unreadable old plan says nothing of today's standing
            continue
    return plans


def sync_states(stores: Stores, rule_ids: list[str] | None = None) -> list[RuleSetStanding]:
    """Each rule set's latest plan and last apply (default: every stored rule set, in stored
    order; restores of playlists no rule set owns are not listed)."""
    ids = rule_ids if rule_ids is not None else [rs.id for rs in stored_rule_sets(stores)]
    latest: dict[str, StoredPlan] = {}
    applied: dict[str, StoredPlan] = {}
    for plan in _plans(stores.plans.load()):
        if plan.rule_id is None:
            continue
        if plan.rule_id not in latest or plan.created_at > latest[plan.rule_id].created_at:
            latest[plan.rule_id] = plan
        if plan.status == "applied":
            known = applied.get(plan.rule_id)
            if known is None or _applied_at(plan) > _applied_at(known):
                applied[plan.rule_id] = plan
    states: list[RuleSetStanding] = []
    for rule_id in ids:
        last = latest.get(rule_id)
        done = applied.get(rule_id)
        states.append(
            RuleSetStanding(
                rule_id=rule_id,
                status="not checked" if last is None else _status(last),
                checked_at=None if last is None else last.created_at,
                plan=None if last is None else last.brief(),
                last_apply=None if done is None else _last_apply(done),
            )
        )
    return states


def _applied_at(plan: StoredPlan) -> datetime:
    return plan.attempt.started_at if plan.attempt is not None else plan.created_at


def _last_apply(plan: StoredPlan) -> LastApply:
    return LastApply(
        plan_id=plan.id,
        at=_applied_at(plan),
        playlist_id=plan.report.playlist_id if plan.report is not None else plan.playlist_id,
        writes=plan.report.calls_done if plan.report is not None else 0,
        backup_id=plan.backup_id,
    )
