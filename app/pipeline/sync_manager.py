"""Sync: plans for rule sets' playlists, explicit apply with guards, backups and restore.

    plans = await plan_playlists(services, rule_ids=["focus"])       # reads, writes nothing
    await apply_plan(services, plans[0]["id"], force={"drift"})      # the only writing call
    await restore_backup(services, backup_id)                        # undo, itself backed up

**Plan** (one per enabled rule set with a target): the rule set's tracks (the same evaluation
as the preview) are the desired list; the target is the playlist this tool already manages for
the rule set, else `target_playlist_id`, else a playlist of yours named `target_playlist_name`
(created on first apply when there is none). The live playlist is read, `sync_plan.plan_sync`
computes adds, removes, moves, kept items and the exact calls, and the plan is stored with the
fingerprint of what was read (`snapshot_id` and a hash of the URIs in order).

**Guards** are decided when planning and shown in the plan; each trips only with a reason and
is overridden only by naming it in `force`:

- ``empty``: the plan would leave no track in a playlist that has some;
- ``remove_share``: it would remove more than `SAP_SYNC_MAX_REMOVE_SHARE` of the tracks;
- ``drift``: the playlist was edited in Spotify since this tool's last apply (its contents are
  not what that apply left), so applying would undo someone's edits.

Local files, unavailable items and episodes are never removed or moved (the planner keeps them).

**Apply** refuses a plan already applied, a tripped guard not forced, and a playlist that
changed since the plan (fingerprint) — "re-plan". It saves a backup of the exact prior contents
(URIs in order with `added_at`), sends the calls chained on each returned `snapshot_id`, then
remembers the playlist (rule set ↔ playlist id, snapshot and URIs left). A failure midway
leaves the report of what was written on the plan; planning again and applying converges.

**Restore** plans the backup's contents (replace mode) against the playlist as it is now, plus
the moves that put local files and unavailable items back in their old places (moving them is
safe; only removing them is not), and applies that plan like any other — backed up first, so a
restore can be undone too.

This module is the entry point and holds the registered steps (`diff`, `apply`, `restore`):
plans are `sync_planning`, guards and fingerprints `sync_guards`, apply `sync_apply_plan`,
backups and restore `sync_backups`. `__all__` re-exports what callers use.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import UnprocessableError
from app.pipeline.steps import StepContext
from app.pipeline.sync_apply_plan import MANAGED_DESCRIPTION, apply_plan, check_applicable
from app.pipeline.sync_backups import list_backups, plan_restore, restore_backup
from app.pipeline.sync_guards import GUARDS, Guard, check_force, fingerprint
from app.pipeline.sync_planning import (
    PLANS_KEPT,
    get_plan,
    new_id,
    plan_brief,
    plan_playlists,
    read_live,
)

__all__ = [
    "GUARDS",
    "MANAGED_DESCRIPTION",
    "PLANS_KEPT",
    "Guard",
    "apply_plan",
    "apply_step",
    "check_applicable",
    "check_force",
    "diff_step",
    "fingerprint",
    "get_plan",
    "list_backups",
    "new_id",
    "plan_brief",
    "plan_playlists",
    "plan_restore",
    "read_live",
    "restore_backup",
    "restore_step",
]


async def apply_step(ctx: StepContext) -> dict[str, Any]:
    """Apply plans (metadata: plan_id or plan_ids, force); v1 `apply` without ids applies every
    pending plan of the latest `diff`."""
    meta = ctx.metadata
    force = meta.get("force") or []
    ids: list[str] = [meta["plan_id"]] if meta.get("plan_id") else list(meta.get("plan_ids") or [])
    if not ids:
        ids = [
            p["id"] for p in ctx.services.stores.plans.load().values() if p["status"] == "planned"
        ]
    results: list[dict[str, Any]] = []
    for plan_id in ids:
        ctx.check_cancelled()
        results.append(await apply_plan(ctx.services, plan_id, force, ctx=ctx))
    return {"applied": results}


async def diff_step(ctx: StepContext) -> dict[str, Any]:
    """v1 `diff`: plan every enabled rule set with a target (metadata.rule_ids to choose)."""
    plans = await plan_playlists(ctx.services, ctx.metadata.get("rule_ids"))
    return {"plans": [plan_brief(p) for p in plans]}


async def restore_step(ctx: StepContext) -> dict[str, Any]:
    """Restore a backup (metadata.backup_id)."""
    backup_id = ctx.metadata.get("backup_id")
    if not isinstance(backup_id, str):
        raise UnprocessableError("metadata.backup_id is required", code="bad_metadata")
    return await restore_backup(ctx.services, backup_id, ctx=ctx)
