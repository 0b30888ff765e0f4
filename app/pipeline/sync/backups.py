"""Backups and restore: the backups `apply_plan` saved, and putting one back.

A restore plans the backup's exact contents against the playlist as it is now
(`exact.plan_exact`: every entry in its place, duplicates included; local files and unavailable
items are moved back, never removed) and applies that plan like any other — backed up first,
so a restore can be undone too. The roll-back of a failed apply is the same plan, sent at once
(`applying.roll_back`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.errors import UnprocessableError
from app.core.models import PlaylistBackup
from app.pipeline.jobs.steps import StepContext
from app.pipeline.services import Services
from app.pipeline.sync.applying import apply_plan
from app.pipeline.sync.exact import plan_exact
from app.pipeline.sync.model import LiveItem, SyncPlan
from app.pipeline.sync.plans import PlanSummary, RestoreResult, StoredPlan
from app.pipeline.sync.service import (
    entry_names,
    plan_uris,
    read_live,
    save_plan,
    stored_plan,
    track_names,
)


class BackupSummary(BaseModel):
    """A backup without its items (how many it holds instead)."""

    id: str
    playlist_id: str
    playlist_name: str | None
    rule_id: str | None
    taken_at: datetime
    snapshot_id: str | None
    reason: str
    items: int = Field(description="Entries the playlist held, unavailable ones included.")

    @classmethod
    def of(cls, backup: PlaylistBackup) -> BackupSummary:
        return cls(**backup.model_dump(exclude={"items", "names"}), items=len(backup.items))


def list_backups(services: Services, playlist_id: str | None = None) -> list[BackupSummary]:
    """Backups, newest first, without their items."""
    backups = [b for b in services.stores.backups.load() if playlist_id in (None, b.playlist_id)]
    return [BackupSummary.of(b) for b in reversed(backups)]


class BackupDiff(BaseModel):
    """What restoring a backup would change in the playlist as it is now (read just now)."""

    backup: BackupSummary
    playlist_name: str | None = Field(description="The playlist's name now.")
    live_items: int = Field(description="Entries the playlist holds now.")
    summary: PlanSummary
    plan: SyncPlan = Field(description="The restore's plan: adds, removes, moves, kept items.")
    names: dict[str, str] = Field(
        description="URI -> 'title — artists' for the tracks in the plan the library knows."
    )


@dataclass(frozen=True)
class _Restore:
    snapshot_id: str | None
    name: str | None
    live: list[LiveItem]
    plan: SyncPlan
    names: dict[str, str]


async def _restore_plan(services: Services, backup: PlaylistBackup) -> _Restore:
    async with services.spotify.client() as client:
        snapshot_id, name, entries = await read_live(client, backup.playlist_id)
    live = [LiveItem.from_entry(entry) for entry in entries]
    plan = plan_exact(live, [item.uri for item in backup.items])
    known = {**backup.names, **entry_names(entries)}  # named when it was taken, or now
    names = track_names(plan_uris(plan), services.library.views(), known)
    return _Restore(snapshot_id, name, live, plan, names)


async def diff_backup(services: Services, backup_id: str) -> BackupDiff:
    """The backup against the playlist now: the plan a restore would make, not stored."""
    backup = services.stores.backups.get(backup_id)
    restore = await _restore_plan(services, backup)
    return BackupDiff(
        backup=BackupSummary.of(backup),
        playlist_name=restore.name,
        live_items=len(restore.live),
        summary=PlanSummary.of(restore.plan),
        plan=restore.plan,
        names=restore.names,
    )


async def plan_restore(services: Services, backup_id: str) -> StoredPlan:
    """A plan that makes the playlist exactly what the backup holds, entry for entry."""
    backup = services.stores.backups.get(backup_id)
    restore = await _restore_plan(services, backup)
    stored = stored_plan(
        rule_id=backup.rule_id,
        rule_name=None,
        playlist_id=backup.playlist_id,
        playlist_name=restore.name or backup.playlist_name,
        create=False,
        plan=restore.plan,
        live=restore.live,
        snapshot_id=restore.snapshot_id,
        guards=[],  # asking for a restore is the confirmation
        restore_of=backup_id,
        names=restore.names,
    )
    save_plan(services, stored)
    return stored


async def restore_backup(
    services: Services, backup_id: str, *, ctx: StepContext | None = None
) -> RestoreResult:
    """Plan and apply a restore (itself backed up first)."""
    stored = await plan_restore(services, backup_id)
    result = await apply_plan(services, stored.id, ctx=ctx)
    return RestoreResult(**dict(result), restored=backup_id)


async def restore_step(ctx: StepContext) -> RestoreResult:
    """Restore a backup (metadata.backup_id)."""
    backup_id = ctx.metadata.get("backup_id")
    if not isinstance(backup_id, str):
        raise UnprocessableError("metadata.backup_id is required", code="bad_metadata")
    return await restore_backup(ctx.services, backup_id, ctx=ctx)
