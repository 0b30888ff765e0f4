"""Sync as the API and the CLI use it: plans for rule sets' playlists, stored; explicit apply.

    planning = await plan_rule_sets(services, rule_ids=["focus"])    # reads, writes nothing
    await apply_plan(services, planning.plans[0].id, force={"drift"})   # the only writing call

**Plan** (one per enabled rule set with a target): the rule set's tracks (the same evaluation
as the preview) are the desired list; the target is the playlist this tool already manages for
the rule set, else `target_playlist_id`, else a playlist of yours named `target_playlist_name`
(created on first apply when there is none). The live playlist is read, `planner.plan_sync`
computes adds, removes, moves, kept items and the exact calls, and the plan is stored in
plans.json (a `plans.StoredPlan`) with its guards (`guards`) and the fingerprint of what was
read (`snapshot_id` and a hash of the URIs in order). A new plan supersedes the pending plans
of the same rule set or playlist; the newest `PLANS_KEPT` plans are kept. A rule set that
cannot be evaluated is not planned: `plan_rule_sets` returns it under `broken`, with its
problems, beside the plans of the others. Nothing is planned while fetched sources lost tracks
from tracks.json (409 ``library_incomplete``, see `library_gaps`): the lost tracks would look
like tracks the user removed.

**Apply** refuses a plan already applied, a tripped guard not forced, and a playlist that
changed since the plan (fingerprint) — "re-plan". It saves a backup of the exact prior contents
(URIs in order with `added_at`) in backups.json, sends the calls chained on each returned
`snapshot_id` (`executor.execute_plan`), then remembers the playlist in playlists.json (rule
set ↔ playlist id, snapshot and URIs left). A failure midway leaves the report of what was
written on the plan; planning again and applying converges.

Restore is `backups`; the unattended sync (fetch, enrich, plan, apply what is safe) is
`unattended`. The `diff` and `apply` steps are registered from here.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import ConflictError, NotFoundError, UnprocessableError
from app.core.models import BackupItem, ManagedPlaylist, PlaylistBackup, utc_now
from app.core.rules import PlaylistRuleSet
from app.pipeline.jobs.steps import StepContext
from app.pipeline.library_gaps import require_complete
from app.pipeline.rules.previews import BrokenRuleSet
from app.pipeline.rules.rule_sets import stored_rule_sets
from app.pipeline.rules.service import preview_library
from app.pipeline.services import Services
from app.pipeline.sync.executor import ApplyReport, SyncApplyError, execute_plan
from app.pipeline.sync.guards import TrippedGuard, check_force, fingerprint, tripped_guards
from app.pipeline.sync.model import LiveItem, SyncPlan
from app.pipeline.sync.planner import plan_sync
from app.pipeline.sync.plans import (
    AppliedPlans,
    ApplyResult,
    PlanBrief,
    PlannedPlaylists,
    PlanSummary,
    StoredPlan,
)
from app.spotify.client import SpotifyClient
from app.spotify.models import PlaylistEntry

PLANS_KEPT = 50  # plans hold their calls and result: keep plans.json small


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def read_live(
    client: SpotifyClient, playlist_id: str
) -> tuple[str | None, str | None, list[PlaylistEntry]]:
    """(snapshot id, name, entries in order) of a playlist the user can edit."""
    info = await client.get_playlist(playlist_id)
    entries = await client.get_playlist_tracks(playlist_id)
    return info.snapshot_id or None, info.name or None, entries


async def _find_by_name(client: SpotifyClient, name: str, user_id: str) -> str | None:
    for playlist in await client.list_user_playlists():
        owner = playlist.owner.id if playlist.owner is not None else None
        if playlist.name == name and owner == user_id:
            return playlist.id
    return None


def stored_plan(
    *,
    rule_id: str | None,
    rule_name: str | None,
    playlist_id: str | None,
    playlist_name: str | None,
    create: bool,
    plan: SyncPlan,
    live: Sequence[LiveItem],
    snapshot_id: str | None,
    guards: list[TrippedGuard],
    restore_of: str | None = None,
) -> StoredPlan:
    return StoredPlan(
        id=new_id("plan"),
        created_at=utc_now(),
        rule_id=rule_id,
        rule_name=rule_name,
        playlist_id=playlist_id,
        playlist_name=playlist_name,
        create=create,
        mode=plan.mode,
        restore_of=restore_of,
        fingerprint=fingerprint(snapshot_id, [item.uri for item in live]),
        summary=PlanSummary.of(plan),
        guards=guards,
        plan=plan,
        status="planned",
        report=None,
    )


def _targets(
    rule_sets: Sequence[PlaylistRuleSet], rule_ids: Sequence[str] | None
) -> list[PlaylistRuleSet]:
    by_id = {rule_set.id: rule_set for rule_set in rule_sets}
    if rule_ids:
        unknown = [rule_id for rule_id in rule_ids if rule_id not in by_id]
        if unknown:
            raise NotFoundError(
                f"no rule set {', '.join(map(repr, unknown))}", code="rule_set_not_found"
            )
        chosen = [by_id[rule_id] for rule_id in dict.fromkeys(rule_ids)]
        untargeted = [
            rs.id for rs in chosen if not (rs.target_playlist_id or rs.target_playlist_name)
        ]
        if untargeted:
            raise UnprocessableError(
                f"rule set(s) {', '.join(untargeted)} have no target playlist: set "
                "target_playlist_id or target_playlist_name",
                code="no_target",
            )
        return chosen
    return [
        rs for rs in rule_sets if rs.enabled and (rs.target_playlist_id or rs.target_playlist_name)
    ]


@dataclass(frozen=True)
class Planning:
    """What planning made: the stored plans, and the rule sets skipped because they are
    broken (as previews list them)."""

    plans: list[StoredPlan]
    broken: list[BrokenRuleSet]


async def plan_rule_sets(services: Services, rule_ids: Sequence[str] | None = None) -> Planning:
    """Plan every enabled rule set with a target (or `rule_ids`); store the plans. A rule set
    that cannot be evaluated is skipped with its problems; the others are planned."""
    stores = services.stores
    targets = _targets(stored_rule_sets(stores), rule_ids)
    if not targets:
        return Planning([], [])
    require_complete(services.gaps.current(), "plan")  # lost tracks would be planned away
    library = services.library.views()  # the preview's views (cached): they hold the URIs
    preview = preview_library(stores, library, ids=[rs.id for rs in targets])
    desired = {p.rule_id: p.track_ids for p in preview.playlists}
    managed = stores.playlists.load()
    plans: list[StoredPlan] = []
    async with services.spotify.client() as client:
        user_id = (await client.get_me()).id
        for rule_set in targets:
            if rule_set.id not in desired:
                continue  # broken: reported in `preview.broken`
            views = (library.view(track_id) for track_id in desired[rule_set.id])
            uris = [view["uri"] for view in views if view is not None]
            record = managed.get(rule_set.id)
            playlist_id = record.playlist_id if record is not None else rule_set.target_playlist_id
            if playlist_id is None and rule_set.target_playlist_name:
                playlist_id = await _find_by_name(client, rule_set.target_playlist_name, user_id)
            live: list[LiveItem] = []
            snapshot_id = name = None
            if playlist_id is not None:
                snapshot_id, name, entries = await read_live(client, playlist_id)
                live = [LiveItem.from_entry(entry) for entry in entries]
            plan = plan_sync(live, uris, rule_set.sync_mode)
            guards = tripped_guards(
                live, plan, record, snapshot_id, services.settings.sync_max_remove_share
            )
            stored = stored_plan(
                rule_id=rule_set.id,
                rule_name=rule_set.name,
                playlist_id=playlist_id,
                playlist_name=name or rule_set.target_playlist_name,
                create=playlist_id is None,
                plan=plan,
                live=live,
                snapshot_id=snapshot_id,
                guards=guards,
            )
            save_plan(services, stored)
            plans.append(stored)
    return Planning(plans, preview.broken)


def save_plan(services: Services, stored: StoredPlan) -> None:
    """Store a new plan; older pending plans for the same rule set or playlist become
    ``superseded`` (only the newest plan of a playlist can be applied)."""
    with services.stores.plans.update() as plans:
        for other in plans.values():  # stored JSON, changed in place: older plans stay as saved
            same_rule = stored.rule_id is not None and other["rule_id"] == stored.rule_id
            same_list = stored.playlist_id is not None and (
                other["playlist_id"] == stored.playlist_id
            )
            if other["status"] == "planned" and (same_rule or same_list):
                other["status"] = "superseded"
                other["superseded_by"] = stored.id
        plans[stored.id] = stored.model_dump(mode="json")
        for old in list(plans)[: max(0, len(plans) - PLANS_KEPT)]:
            del plans[old]


def get_plan(services: Services, plan_id: str) -> StoredPlan:
    """A stored plan (404 `plan_not_found`)."""
    return StoredPlan.model_validate(services.stores.plans.get(plan_id))


def set_plan(services: Services, plan_id: str, **changes: Any) -> StoredPlan:
    """Change fields of a stored plan (`changes` as JSON values); returns the plan."""
    with services.stores.plans.update() as plans:
        plans[plan_id].update(changes)
        return StoredPlan.model_validate(plans[plan_id])


def plan_brief(plan: StoredPlan) -> PlanBrief:
    """A plan without its bulky parts (live items, calls)."""
    return plan.brief()


MANAGED_DESCRIPTION = "Managed by spotify-auto-playlists (rule set {rule}): edits may be replaced."


def check_applicable(services: Services, plan_id: str, force: Collection[str]) -> StoredPlan:
    """The plan, if it may be applied with `force` (else 404/409/422 saying why)."""
    forced = check_force(force)
    stored = get_plan(services, plan_id)
    if stored.status != "planned":
        raise ConflictError(
            f"plan {plan_id} is {stored.status}; make a new plan", code="plan_not_pending"
        )
    tripped = [g for g in stored.guards if g.guard not in forced]
    if tripped:
        reasons = "; ".join(f"{g.guard}: {g.message}" for g in tripped)
        names = " ".join(f"--force {g.guard}" for g in tripped)
        raise ConflictError(
            f"guard(s) tripped — {reasons}. Apply anyway with {names}",
            code="guard_tripped",
            extra={"guards": [g.model_dump(mode="json") for g in tripped]},
        )
    return stored


async def apply_plan(
    services: Services,
    plan_id: str,
    force: Collection[str] = (),
    *,
    ctx: StepContext | None = None,
) -> ApplyResult:
    """Apply a stored plan (see the module docstring); returns what was done."""
    stored = check_applicable(services, plan_id, force)
    plan = stored.plan
    stores = services.stores
    async with services.spotify.client() as client:
        backup_id: str | None = None
        playlist_id = stored.playlist_id
        if stored.create:
            name = stored.playlist_name or stored.rule_name or "spotify-auto-playlists"
            created = await client.create_playlist(
                name, MANAGED_DESCRIPTION.format(rule=stored.rule_id), public=False
            )
            playlist_id = created.id
            snapshot_id: str | None = created.snapshot_id
        else:
            assert playlist_id is not None  # only a plan that creates its playlist has none
            snapshot_id, _name, entries = await read_live(client, playlist_id)
            live = [LiveItem.from_entry(entry) for entry in entries]
            if fingerprint(snapshot_id, [i.uri for i in live]) != stored.fingerprint:
                set_plan(services, plan_id, status="stale")
                raise ConflictError(
                    f"playlist {playlist_id} changed since plan {plan_id} was made; re-plan",
                    code="plan_stale",
                )
            backup = PlaylistBackup(
                id=new_id("backup"),
                playlist_id=playlist_id,
                playlist_name=stored.playlist_name,
                rule_id=stored.rule_id,
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
    if stored.rule_id is not None:
        with stores.playlists.update() as managed:
            previous = managed.get(stored.rule_id)
            managed[stored.rule_id] = ManagedPlaylist(
                rule_id=stored.rule_id,
                playlist_id=playlist_id,
                name=stored.playlist_name,
                created_by_us=stored.create or bool(previous and previous.created_by_us),
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
    return ApplyResult(
        plan_id=plan_id,
        playlist_id=playlist_id,
        created=stored.create,
        writes=report.calls_done,
        snapshot_id=report.snapshot_id,
        backup_id=backup_id,
    )


async def apply_step(ctx: StepContext) -> AppliedPlans:
    """Apply plans (metadata: plan_id or plan_ids, force); v1 `apply` without ids applies every
    pending plan of the latest `diff`."""
    meta = ctx.metadata
    force = meta.get("force") or []
    ids: list[str] = [meta["plan_id"]] if meta.get("plan_id") else list(meta.get("plan_ids") or [])
    if not ids:
        ids = [
            p["id"] for p in ctx.services.stores.plans.load().values() if p["status"] == "planned"
        ]
    results: list[ApplyResult] = []
    for plan_id in ids:
        ctx.check_cancelled()
        results.append(await apply_plan(ctx.services, plan_id, force, ctx=ctx))
    return AppliedPlans(applied=results)


async def diff_step(ctx: StepContext) -> PlannedPlaylists:
    """v1 `diff`: plan every enabled rule set with a target (metadata.rule_ids to choose);
    broken rule sets are listed with their problems."""
    planning = await plan_rule_sets(ctx.services, ctx.metadata.get("rule_ids"))
    return PlannedPlaylists(plans=[plan_brief(p) for p in planning.plans], broken=planning.broken)
