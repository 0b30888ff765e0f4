"""Applying a stored plan: the only call that writes to the user's playlists.

`apply_plan` refuses a plan already applied, a tripped guard not forced, and a playlist that
changed since the plan (fingerprint) — "re-plan". It saves a backup of the exact prior contents
(URIs in order with `added_at`) in backups.json, sends the calls chained on each returned
`snapshot_id` (`sync_apply.execute_plan`), then remembers the playlist in playlists.json (rule
set ↔ playlist id, snapshot and URIs left). A failure midway leaves the report of what was
written on the plan; planning again and applying converges.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from app.core.errors import ConflictError
from app.core.models import BackupItem, ManagedPlaylist, PlaylistBackup, utc_now
from app.pipeline.context import Services
from app.pipeline.steps import StepContext
from app.pipeline.sync_apply import ApplyReport, SyncApplyError, execute_plan
from app.pipeline.sync_guards import check_force, fingerprint
from app.pipeline.sync_plan import LiveItem, SyncPlan
from app.pipeline.sync_planning import get_plan, new_id, read_live, set_plan

MANAGED_DESCRIPTION = "Managed by spotify-auto-playlists (rule set {rule}): edits may be replaced."


def check_applicable(services: Services, plan_id: str, force: Collection[str]) -> dict[str, Any]:
    """The plan, if it may be applied with `force` (else 404/409/422 saying why)."""
    forced = check_force(force)
    stored = get_plan(services, plan_id)
    if stored["status"] != "planned":
        raise ConflictError(
            f"plan {plan_id} is {stored['status']}; make a new plan", code="plan_not_pending"
        )
    tripped = [g for g in stored["guards"] if g["guard"] not in forced]
    if tripped:
        reasons = "; ".join(f"{g['guard']}: {g['message']}" for g in tripped)
        names = " ".join(f"--force {g['guard']}" for g in tripped)
        raise ConflictError(
            f"guard(s) tripped — {reasons}. Apply anyway with {names}",
            code="guard_tripped",
            extra={"guards": tripped},
        )
    return stored


async def apply_plan(
    services: Services,
    plan_id: str,
    force: Collection[str] = (),
    *,
    ctx: StepContext | None = None,
) -> dict[str, Any]:
    """Apply a stored plan (see the module docstring); returns what was done."""
    stored = check_applicable(services, plan_id, force)
    plan = SyncPlan.model_validate(stored["plan"])
    stores = services.stores
    async with services.spotify.client() as client:
        backup_id: str | None = None
        playlist_id = stored["playlist_id"]
        if stored["create"]:
            name = stored["playlist_name"] or stored["rule_name"] or "spotify-auto-playlists"
            created = await client.create_playlist(
                name, MANAGED_DESCRIPTION.format(rule=stored["rule_id"]), public=False
            )
            playlist_id = created["id"]
            snapshot_id: str | None = str(created.get("snapshot_id") or "")
        else:
            snapshot_id, _name, entries = await read_live(client, playlist_id)
            live = [LiveItem.from_entry(entry) for entry in entries]
            if fingerprint(snapshot_id, [i.uri for i in live]) != stored["fingerprint"]:
                set_plan(services, plan_id, status="stale")
                raise ConflictError(
                    f"playlist {playlist_id} changed since plan {plan_id} was made; re-plan",
                    code="plan_stale",
                )
            backup = PlaylistBackup(
                id=new_id("backup"),
                playlist_id=playlist_id,
                playlist_name=stored["playlist_name"],
                rule_id=stored["rule_id"],
                snapshot_id=snapshot_id,
                reason=f"before applying {plan_id}",
                items=[
                    BackupItem(uri=e.content.uri if e.content else None, added_at=e.added_at)
                    for e in entries
                ],
            )
            stores.backups.add(backup, retention=services.settings.backup_retention)
            backup_id = backup.id

        def progress(done: int, total: int) -> None:
            if ctx is not None:
                ctx.progress(done, total, f"{done} of {total} writes")

        try:
            report: ApplyReport = await execute_plan(
                client, playlist_id, plan, snapshot_id or "", on_progress=progress
            )
        except SyncApplyError as exc:
            set_plan(
                services,
                plan_id,
                status="failed",
                report=exc.report.model_dump(mode="json"),
                playlist_id=playlist_id,
            )
            raise
    if stored["rule_id"] is not None:
        with stores.playlists.update() as managed:
            previous = managed.get(stored["rule_id"])
            managed[stored["rule_id"]] = ManagedPlaylist(
                rule_id=stored["rule_id"],
                playlist_id=playlist_id,
                name=stored["playlist_name"],
                created_by_us=stored["create"] or bool(previous and previous.created_by_us),
                last_snapshot_id=report.snapshot_id,
                last_uris=list(plan.result),
                last_applied_at=utc_now(),
            )
    set_plan(
        services,
        plan_id,
        status="applied",
        playlist_id=playlist_id,
        report=report.model_dump(mode="json"),
        backup_id=backup_id,
    )
    return {
        "plan_id": plan_id,
        "playlist_id": playlist_id,
        "created": stored["create"],
        "writes": report.calls_done,
        "snapshot_id": report.snapshot_id,
        "backup_id": backup_id,
    }
