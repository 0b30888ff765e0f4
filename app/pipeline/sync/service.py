"""Sync plans as the API and the CLI use them: planned per rule set, stored, checked before an
apply (`applying.apply_plan` is the only writing call).

    planning = await plan_rule_sets(services, rule_ids=["focus"])    # reads, writes nothing

**Plan** (one per enabled rule set with a target): the rule set's tracks (the same evaluation
as the preview) are the desired list, less the tracks Spotify cannot add (`additions`: unknown
ids, tracks not playable in the user's market, local files — each left out with its reason in
`excluded`); the target is the playlist this tool already manages for the rule set, else
`target_playlist_id`, else a playlist of yours named `target_playlist_name` (created on first
apply when there is none). The live playlist is read, `planner.plan_sync` computes adds,
removes, moves, kept items and the exact calls, and the plan is stored in plans.json (a
`plans.StoredPlan`) with its guards (`guards`) and the fingerprint of what was read
(`snapshot_id` and a hash of the URIs in order). A new plan supersedes the pending plans of the
same rule set or playlist; the newest `PLANS_KEPT` plans are kept. A rule set that cannot be
evaluated is not planned: `plan_rule_sets` returns it under `broken`, with its problems,
beside the plans of the others. Nothing is planned while fetched sources lost tracks from
tracks.json (409 ``library_incomplete``, see `library_gaps`): the lost tracks would look like
tracks the user removed.

`check_applicable` says whether a plan may be applied now. Apply is `applying`, restore is
`backups`; the unattended sync (fetch, enrich, plan, apply what is safe) is `unattended`. The
`diff` step is registered from here.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import ConflictError, NotFoundError, UnprocessableError
from app.core.models import utc_now
from app.core.rules import PlaylistRuleSet
from app.pipeline.jobs.recovery import owner_alive
from app.pipeline.jobs.steps import StepContext
from app.pipeline.library_gaps import require_complete
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.previews import BrokenRuleSet
from app.pipeline.rules.rule_sets import stored_rule_sets
from app.pipeline.rules.service import preview_library
from app.pipeline.services import Services
from app.pipeline.sync.additions import (
    ExcludedTrack,
    TrackLookups,
    excluded_track,
    track_name,
    wanted_tracks,
)
from app.pipeline.sync.guards import TrippedGuard, check_force, fingerprint, tripped_guards
from app.pipeline.sync.model import TRACK, LiveItem, SyncMode, SyncPlan
from app.pipeline.sync.planner import plan_sync
from app.pipeline.sync.plans import PlanBrief, PlannedPlaylists, PlanSummary, StoredPlan
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


async def find_by_name(client: SpotifyClient, name: str, user_id: str) -> str | None:
    """The id of the user's own playlist called `name`, if there is one."""
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
    excluded: Sequence[ExcludedTrack] = (),
    names: dict[str, str] | None = None,
    one_off: bool = False,
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
        summary=PlanSummary.of(plan, len(excluded)),
        guards=guards,
        excluded=list(excluded),
        plan=plan,
        status="planned",
        report=None,
        names=names or {},
        one_off=one_off,
    )


def plan_uris(plan: SyncPlan) -> list[str]:
    """Every URI a plan adds, removes, moves, keeps or finds duplicated, once each."""
    uris = [add.uri for add in plan.adds] + list(plan.removes)
    uris += [uri for move in plan.moves for uri in move.uris]
    uris += [item.uri for item in plan.kept if item.uri is not None]
    uris += [duplicate.uri for duplicate in plan.duplicates]
    return list(dict.fromkeys(uris))


def entry_names(entries: Sequence[PlaylistEntry]) -> dict[str, str]:
    """URI -> 'title — artists' of a live playlist's entries, as Spotify named them."""
    names: dict[str, str] = {}
    for entry in entries:
        content = entry.content
        if content is None or not content.uri or not content.name:
            continue
        artists = ", ".join(a.name for a in getattr(content, "artists", ()) if a.name)
        names[content.uri] = f"{content.name} — {artists}" if artists else content.name
    return names


def track_names(
    uris: Sequence[str | None], library: Library, live: Mapping[str, str] | None = None
) -> dict[str, str]:
    """URI -> 'title — artists' for the entries of `uris` that the library holds or the live
    playlist named (`live`, from `entry_names`): what a plan shows instead of bare ids."""
    names: dict[str, str] = {}
    for uri in uris:
        if uri is None or uri in names:
            continue
        view = library.view(uri.removeprefix(TRACK)) if uri.startswith(TRACK) else None
        name = (track_name(view) if view is not None else None) or (live or {}).get(uri)
        if name:
            names[uri] = name
    return names


@dataclass(frozen=True)
class PlanOptions:
    """Choices for one plan that leave the stored rule set as it is: its `mode` for this apply,
    or a new playlist to write instead of the rule set's (a one-off copy, not managed after)."""

    mode: SyncMode | None = None
    new_playlist_name: str | None = None

    @property
    def given(self) -> bool:
        return self.mode is not None or self.new_playlist_name is not None


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


async def plan_rule_sets(
    services: Services,
    rule_ids: Sequence[str] | None = None,
    options: PlanOptions | None = None,
) -> Planning:
    """Plan every enabled rule set with a target (or `rule_ids`); store the plans. A rule set
    that cannot be evaluated is skipped with its problems; the others are planned. `options`
    (one rule set only) choose the mode or a new playlist for this plan alone."""
    stores = services.stores
    options = options or PlanOptions()
    if options.given and (rule_ids is None or len(set(rule_ids)) != 1):
        raise UnprocessableError(
            "a mode or a new playlist is chosen for one rule set at a time: name exactly one",
            code="options_need_one_rule_set",
        )
    new_name = (options.new_playlist_name or "").strip() or None
    if options.new_playlist_name is not None and new_name is None:
        raise UnprocessableError("the new playlist needs a name", code="bad_playlist_name")
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
        lookups = TrackLookups(client)
        for rule_set in targets:
            if rule_set.id not in desired:
                continue  # broken: reported in `preview.broken`
            wanted = wanted_tracks(desired[rule_set.id], library)
            record = managed.get(rule_set.id)
            playlist_id = record.playlist_id if record is not None else rule_set.target_playlist_id
            if new_name is not None:  # a one-off copy: the rule set's own playlist is left alone
                if await find_by_name(client, new_name, user_id) is not None:
                    raise ConflictError(
                        f"you already have a playlist named {new_name!r}: choose another name",
                        code="playlist_name_taken",
                    )
                record = playlist_id = None
            elif playlist_id is None and rule_set.target_playlist_name:
                playlist_id = await find_by_name(client, rule_set.target_playlist_name, user_id)
            live: list[LiveItem] = []
            live_names: dict[str, str] = {}
            snapshot_id = name = None
            if playlist_id is not None:
                snapshot_id, name, entries = await read_live(client, playlist_id)
                live = [LiveItem.from_entry(entry) for entry in entries]
                live_names = entry_names(entries)
            # What the plan would add and the library did not get from Spotify is looked up.
            present = {item.uri for item in live}
            unverified = [u for u in wanted.uris if u in wanted.unverified and u not in present]
            refused = await lookups.refused(unverified)
            excluded = wanted.excluded + [
                excluded_track(uri, uri.removeprefix(TRACK), reason, wanted.names.get(uri), why)
                for uri, (reason, why) in refused.items()
            ]
            uris = [uri for uri in wanted.uris if uri not in refused]
            plan = plan_sync(live, uris, options.mode or rule_set.sync_mode)
            guards = tripped_guards(
                live, plan, record, snapshot_id, services.settings.sync_max_remove_share
            )
            stored = stored_plan(
                rule_id=rule_set.id,
                rule_name=rule_set.name,
                playlist_id=playlist_id,
                playlist_name=new_name or name or rule_set.target_playlist_name,
                create=playlist_id is None,
                plan=plan,
                live=live,
                snapshot_id=snapshot_id,
                guards=guards,
                excluded=excluded,
                names=track_names(plan_uris(plan), library, live_names),
                one_off=new_name is not None,
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


def check_applicable(services: Services, plan_id: str, force: Collection[str]) -> StoredPlan:
    """The plan, if it may be applied with `force` (else 404/409/422 saying why)."""
    forced = check_force(force)
    stored = get_plan(services, plan_id)
    if stored.status != "planned":
        raise ConflictError(
            f"plan {plan_id} is {stored.status}; make a new plan", code="plan_not_pending"
        )
    running = _applying_job(services, stored)
    if running is not None:
        raise ConflictError(
            f"plan {plan_id} is being applied by job {running}; wait for it, or cancel it",
            code="plan_being_applied",
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


def _applying_job(services: Services, stored: StoredPlan) -> str | None:
    """The job still applying the plan in a live process, if any (a dead one's job is not)."""
    job_id = stored.attempt.job_id if stored.attempt is not None else None
    if job_id is None:
        return None
    try:
        job = services.stores.jobs.get(job_id)
    except NotFoundError:
        return None
    return job_id if not job.status.finished and owner_alive(job.owner) else None


async def diff_step(ctx: StepContext) -> PlannedPlaylists:
    """v1 `diff`: plan every enabled rule set with a target (metadata.rule_ids to choose);
    broken rule sets are listed with their problems."""
    planning = await plan_rule_sets(ctx.services, ctx.metadata.get("rule_ids"))
    return PlannedPlaylists(plans=[plan_brief(p) for p in planning.plans], broken=planning.broken)
