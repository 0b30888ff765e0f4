"""Apply: the only code that writes to a user's playlists — a stored plan sent to Spotify, and
what keeps a failure or a killed process from losing the playlist.

    result = await apply_plan(services, plan_id, force={"drift"})   # or resumes one cut short

An apply refuses a plan already applied, a tripped guard not forced, and a playlist that
changed since the plan (fingerprint) — "re-plan" (`service.check_applicable`). Before the first
write it saves a backup of the exact prior contents (URIs in order with `added_at`; none when
there is nothing to write) in backups.json, and records what it is about to write: on the plan
(`attempt`: the backup, the job, a hash of every state the writes pass through,
`write_states`) and on the rule set's playlist (`ManagedPlaylist.writing`, which the drift
guard reads). A playlist to create is recorded as being created, then created, then its id is
recorded, before any add. The calls are sent chained on each returned `snapshot_id`
(`executor.execute_plan`); then the playlist is remembered in playlists.json (rule set ↔
playlist id, snapshot and URIs left) and the plan is ``applied``.

**A refused write** (an error answer after the client's retries) rolls the playlist back
(`roll_back`): it is made exactly what the backup holds again (`exact.plan_exact`), read back
and compared; the plan is ``failed`` with the apply's report and the `rollback`, and the error
says whether the playlist was restored. **An apply cut short** (its process died) leaves the
plan ``planned`` with its `attempt`: applying it again — or rerunning its job — reads the
playlist, accepts it only in a state the cut-short apply could have left, and sends what is
left (into the playlist it created: by its recorded id, or by name when the process died
before recording it). The ``apply`` step is registered from here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from app.core.errors import AppError, ConflictError
from app.core.models import (
    BackupItem,
    ManagedPlaylist,
    PendingWrite,
    PlaylistBackup,
    utc_now,
)
from app.pipeline.jobs.steps import StepContext
from app.pipeline.services import Services
from app.pipeline.sync.exact import exactness, plan_exact
from app.pipeline.sync.executor import ApplyReport, SyncApplyError, execute_plan
from app.pipeline.sync.guards import contents_hash, fingerprint
from app.pipeline.sync.model import TRACK, ApiCall, LiveItem, SyncPlan
from app.pipeline.sync.planner import plan_sync
from app.pipeline.sync.plans import (
    AppliedPlans,
    ApplyAttempt,
    ApplyResult,
    Rollback,
    StoredPlan,
)
from app.pipeline.sync.replay import apply_calls_locally
from app.pipeline.sync.service import (
    check_applicable,
    find_by_name,
    new_id,
    read_live,
    set_plan,
)
from app.spotify.client import SpotifyClient

DEFAULT_NAME = "spotify-auto-playlists"  # a new playlist's name when the plan has none
MANAGED_DESCRIPTION = "Managed by spotify-auto-playlists (rule set {rule}): edits may be replaced."


@dataclass
class _Target:
    """The playlist an apply writes, as read (or created) just before its first write."""

    playlist_id: str
    snapshot_id: str | None
    live: list[LiveItem]


async def apply_plan(
    services: Services,
    plan_id: str,
    force: Collection[str] = (),
    *,
    ctx: StepContext | None = None,
) -> ApplyResult:
    """Apply a stored plan, or resume one cut short (see the module docstring); returns what
    was done."""
    stored = check_applicable(services, plan_id, force)
    resuming = stored.attempt is not None
    async with services.spotify.client() as client:
        target = await _open_target(services, client, stored, ctx)
        work = _resumed_plan(stored, target.live) if resuming else stored.plan
        backup_id = stored.attempt.backup_id if stored.attempt is not None else None
        if work.calls and backup_id is None and not stored.create:
            backup_id = _back_up(services, stored, target)
        report = ApplyReport(
            playlist_id=target.playlist_id,
            calls_total=0,
            snapshot_id=target.snapshot_id or "",
        )
        if work.calls:
            _begin(services, stored, target, work, backup_id, ctx)

            def progress(done: int, total: int) -> None:
                if ctx is not None:
                    ctx.progress(done, total, f"{done} of {total} writes")

            try:
                report = await execute_plan(
                    client, target.playlist_id, work, target.snapshot_id or "", progress
                )
            except SyncApplyError as failure:
                raise await _fail(services, client, stored, target, backup_id, failure) from None
    _remember(services, stored, target.playlist_id, report.snapshot_id, work.result)
    set_plan(
        services,
        plan_id,
        status="applied",
        playlist_id=target.playlist_id,
        report=report.model_dump(mode="json"),
        backup_id=backup_id,
        attempt=None,
    )
    return ApplyResult(
        plan_id=plan_id,
        playlist_id=target.playlist_id,
        created=stored.create,
        writes=report.calls_done,
        snapshot_id=report.snapshot_id,
        backup_id=backup_id,
        resumed=resuming,
    )


async def _open_target(
    services: Services, client: SpotifyClient, stored: StoredPlan, ctx: StepContext | None
) -> _Target:
    """The playlist to write, read now: created first when the plan says so (its id recorded
    before any add), or found again when an apply cut short created it. A playlist that
    changed since the plan — or, on a resume, is in no state the cut-short apply could have
    left — makes the plan stale."""
    attempt = stored.attempt
    playlist_id = stored.playlist_id
    if playlist_id is None:
        name = stored.playlist_name or stored.rule_name or DEFAULT_NAME
        playlist_id = await find_by_name(client, name, (await client.get_me()).id)
        if playlist_id is None:
            return await _create(services, client, stored, name, ctx)
        if attempt is None:  # someone made one since the plan: creating another would duplicate
            _stale(services, stored.id, f"a playlist named {name!r} exists now ({playlist_id})")
        # Else the cut-short apply created it and died before recording its id.
        set_plan(services, stored.id, playlist_id=playlist_id)
        _adopt(services, stored, playlist_id, None)
    snapshot_id, _name, entries = await read_live(client, playlist_id)
    live = [LiveItem.from_entry(entry) for entry in entries]
    uris = [item.uri for item in live]
    if attempt is None:
        if fingerprint(snapshot_id, uris) != stored.fingerprint:
            _stale(services, stored.id, f"playlist {playlist_id} changed since plan {stored.id}")
    elif contents_hash(uris) not in {stored.fingerprint.contents_hash, *attempt.states}:
        _stale(
            services,
            stored.id,
            f"playlist {playlist_id} changed since the apply of plan {stored.id} was cut short",
        )
    return _Target(playlist_id, snapshot_id, live)


async def _create(
    services: Services,
    client: SpotifyClient,
    stored: StoredPlan,
    name: str,
    ctx: StepContext | None,
) -> _Target:
    """Create the plan's playlist, having first recorded that it is being created (so a resume
    looks for it by name) and, at once after, its id (so nothing creates it twice)."""
    if stored.attempt is None:
        attempt = ApplyAttempt(started_at=utc_now(), job_id=_job_id(ctx), creating=True)
        set_plan(services, stored.id, attempt=attempt.model_dump(mode="json"))
    created = await client.create_playlist(
        name, MANAGED_DESCRIPTION.format(rule=stored.rule_id), public=False
    )
    set_plan(services, stored.id, playlist_id=created.id)
    _adopt(services, stored, created.id, created.snapshot_id or None)
    return _Target(created.id, created.snapshot_id or None, [])


def _adopt(services: Services, stored: StoredPlan, playlist_id: str, snapshot: str | None) -> None:
    """Remember the playlist a plan created as the rule set's, empty as it was created."""
    if stored.rule_id is None or stored.one_off:  # one-off: not the rule set's playlist
        return
    with services.stores.playlists.update() as managed:
        managed[stored.rule_id] = ManagedPlaylist(
            rule_id=stored.rule_id,
            playlist_id=playlist_id,
            name=stored.playlist_name,
            created_by_us=True,
            last_snapshot_id=snapshot,
            last_uris=[],
        )


def _stale(services: Services, plan_id: str, why: str) -> NoReturn:
    set_plan(services, plan_id, status="stale", attempt=None)
    raise ConflictError(f"{why}; re-plan", code="plan_stale")


def _resumed_plan(stored: StoredPlan, live: Sequence[LiveItem]) -> SyncPlan:
    """What is left of a plan whose apply was cut short, from the playlist as it is now: the
    plan's mode planned again (its write order with it) when that reaches the same result,
    else the exact list."""
    target = stored.plan.result
    if stored.restore_of is None:
        tracks = [uri for uri in target if uri is not None and uri.startswith(TRACK)]
        again = plan_sync(live, tracks, stored.mode)
        if again.result == target:
            return again
    return plan_exact(live, target)


def _back_up(services: Services, stored: StoredPlan, target: _Target) -> str:
    """Save the playlist's exact contents before the first write; the backup's id."""
    backup = PlaylistBackup(
        id=new_id("backup"),
        playlist_id=target.playlist_id,
        playlist_name=stored.playlist_name,
        rule_id=stored.rule_id,
        snapshot_id=target.snapshot_id,
        reason=f"before applying {stored.id}",
        items=[BackupItem(uri=item.uri, added_at=item.added_at) for item in target.live],
        # So that its diff names what it would put back, even tracks the library never held.
        names={
            item.uri: stored.names[item.uri]
            for item in target.live
            if item.uri is not None and item.uri in stored.names
        },
    )
    services.stores.backups.add(backup, retention=services.settings.backup_retention)
    return backup.id


def write_states(start: Sequence[str | None], calls: Sequence[ApiCall]) -> list[str]:
    """Hashes of the contents a playlist passes through as `calls` are applied to `start`
    (`start` included): a dead process may have left any of them."""
    current = list(start)
    states = [contents_hash(current)]
    for call in calls:
        current = apply_calls_locally(current, [call])
        states.append(contents_hash(current))
    return states


def _record_writing(
    services: Services,
    stored: StoredPlan,
    states: Sequence[str],
    **changes: Any,
) -> None:
    """Add `states` to what the plan's apply may leave — on the plan (its `attempt`, with
    `changes`) and on the rule set's playlist (`writing`, for the drift guard)."""
    with services.stores.plans.update() as plans:
        record = plans[stored.id]
        attempt = ApplyAttempt.model_validate(
            record.get("attempt") or {"started_at": utc_now().isoformat()}
        )
        attempt = attempt.model_copy(
            update={"states": list(dict.fromkeys([*attempt.states, *states])), **changes}
        )
        record["attempt"] = attempt.model_dump(mode="json")
    if stored.rule_id is None or stored.one_off:  # one-off: not the rule set's playlist
        return
    with services.stores.playlists.update() as managed:
        playlist = managed.get(stored.rule_id)
        if playlist is not None:
            writing = playlist.writing or PendingWrite(plan_id=stored.id)
            if writing.plan_id != stored.id:
                writing = PendingWrite(plan_id=stored.id, states=writing.states)
            writing.states = list(dict.fromkeys([*writing.states, *states]))
            playlist.writing = writing


def _begin(
    services: Services,
    stored: StoredPlan,
    target: _Target,
    work: SyncPlan,
    backup_id: str | None,
    ctx: StepContext | None,
) -> None:
    """Record, before the first write, what this apply is about to write (see `ApplyAttempt`)."""
    states = write_states([item.uri for item in target.live], work.calls)
    _record_writing(services, stored, states, job_id=_job_id(ctx), backup_id=backup_id)
    set_plan(services, stored.id, playlist_id=target.playlist_id, backup_id=backup_id)


async def _fail(
    services: Services,
    client: SpotifyClient,
    stored: StoredPlan,
    target: _Target,
    backup_id: str | None,
    failure: SyncApplyError,
) -> SyncApplyError:
    """A write was refused: put the playlist back as its backup holds it, record the plan as
    failed with both reports, and say what became of the playlist."""
    if backup_id is None:  # a playlist this apply created: nothing of the user's to put back
        rollback = Rollback(backup_id=None, restored=False)
        after = "the new playlist keeps what was written; plan and apply again to finish it"
    else:
        rollback = await roll_back(services, client, stored, target.playlist_id, backup_id)
        if rollback.restored:
            after = f"the playlist was restored from backup {backup_id}"
        else:
            after = (
                f"restoring backup {backup_id} failed: {rollback.error}; restore it with "
                f"`sap restore {backup_id}` (POST /pipeline/playlists/restore)"
            )
    if rollback.restored:
        _forget_writing(services, stored)
    set_plan(
        services,
        stored.id,
        status="failed",
        playlist_id=target.playlist_id,
        report=failure.report.model_dump(mode="json"),
        rollback=rollback.model_dump(mode="json"),
        backup_id=backup_id,
        attempt=None,
    )
    extra = {"rollback": rollback.model_dump(mode="json")}
    return SyncApplyError(failure.report, failure.cause, after, extra)


async def roll_back(
    services: Services,
    client: SpotifyClient,
    stored: StoredPlan,
    playlist_id: str,
    backup_id: str,
) -> Rollback:
    """Make the playlist exactly what backup `backup_id` holds (duplicates, local files and
    unavailable items in their places); whether it now does, read back."""
    writes = 0
    try:
        wanted = [item.uri for item in services.stores.backups.get(backup_id).items]
        snapshot_id, _name, entries = await read_live(client, playlist_id)
        live = [LiveItem.from_entry(entry) for entry in entries]
        plan = plan_exact(live, wanted)
        _record_writing(services, stored, write_states([i.uri for i in live], plan.calls))
        report = await execute_plan(client, playlist_id, plan, snapshot_id or "")
        writes = report.calls_done
        _snapshot, _name, entries = await read_live(client, playlist_id)
    except AppError as error:
        return Rollback(backup_id=backup_id, restored=False, writes=writes, error=error.detail)
    now = [LiveItem.from_entry(entry).uri for entry in entries]
    if now == wanted:
        return Rollback(backup_id=backup_id, restored=True, writes=writes)
    gap = exactness(now, wanted)
    why = f"{gap.missing} entries Spotify cannot put back, {gap.extra} it cannot remove"
    return Rollback(backup_id=backup_id, restored=False, writes=writes, error=why)


def _forget_writing(services: Services, stored: StoredPlan) -> None:
    if stored.rule_id is None or stored.one_off:  # one-off: not the rule set's playlist
        return
    with services.stores.playlists.update() as managed:
        playlist = managed.get(stored.rule_id)
        if playlist is not None and playlist.writing is not None:
            playlist.writing = None


def _remember(
    services: Services,
    stored: StoredPlan,
    playlist_id: str,
    snapshot_id: str,
    uris: Sequence[str | None],
) -> None:
    """The rule set's playlist as this apply left it (what the drift guard compares to)."""
    if stored.rule_id is None or stored.one_off:  # one-off: not the rule set's playlist
        return
    with services.stores.playlists.update() as managed:
        previous = managed.get(stored.rule_id)
        managed[stored.rule_id] = ManagedPlaylist(
            rule_id=stored.rule_id,
            playlist_id=playlist_id,
            name=stored.playlist_name,
            created_by_us=stored.create or bool(previous and previous.created_by_us),
            last_snapshot_id=snapshot_id,
            last_uris=list(uris),
            last_applied_at=utc_now(),
        )


def _job_id(ctx: StepContext | None) -> str | None:
    return ctx.job_id if ctx is not None else None


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
