"""Sync plans: one per rule set with a target, stored in plans.json (no playlist is written).

The rule set's tracks (the same evaluation as the preview) are the desired list; the target is
the playlist this tool already manages for the rule set, else `target_playlist_id`, else a
playlist of yours named `target_playlist_name` (created on first apply when there is none). The
live playlist is read, `sync_plan.plan_sync` computes adds, removes, moves, kept items and the
exact calls, and the plan is stored with its guards and the fingerprint of what was read (see
`sync_guards`). A new plan supersedes the pending plans of the same rule set or playlist; the
newest `PLANS_KEPT` plans are kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import utc_now
from app.core.rules import PlaylistRuleSet
from app.pipeline.context import Services
from app.pipeline.rules_manager import library_views, preview_library, stored_rule_sets
from app.pipeline.sync_guards import fingerprint, tripped_guards
from app.pipeline.sync_plan import LiveItem, SyncPlan, plan_sync
from app.spotify.client import SpotifyClient
from app.spotify.models import PlaylistEntry

PLANS_KEPT = 50  # plans hold their calls and result: keep plans.json small


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- reading the live playlist --------------------------------------------------------------------


async def read_live(
    client: SpotifyClient, playlist_id: str
) -> tuple[str | None, str | None, list[PlaylistEntry]]:
    """(snapshot id, name, entries in order) of a playlist the user can edit."""
    info = await client.get_playlist(playlist_id)
    entries = await client.get_playlist_tracks(playlist_id)
    return info.get("snapshot_id"), info.get("name"), entries


async def _find_by_name(client: SpotifyClient, name: str, user_id: str) -> str | None:
    for playlist in await client.list_user_playlists():
        owner = playlist.owner.id if playlist.owner is not None else None
        if playlist.name == name and owner == user_id:
            return playlist.id
    return None


# --- plans ----------------------------------------------------------------------------------------


def _summary(plan: SyncPlan) -> dict[str, int]:
    return {
        "adds": len(plan.adds),
        "removes": len(plan.removes),
        "moves": sum(len(move.uris) for move in plan.moves),
        "kept": len(plan.kept),
        "duplicates": len(plan.duplicates),
        "writes": len(plan.calls),
    }


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
    guards: list[dict[str, Any]],
    restore_of: str | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id("plan"),
        "created_at": utc_now().isoformat(),
        "rule_id": rule_id,
        "rule_name": rule_name,
        "playlist_id": playlist_id,
        "playlist_name": playlist_name,
        "create": create,
        "mode": plan.mode,
        "restore_of": restore_of,
        "fingerprint": fingerprint(snapshot_id, [item.uri for item in live]),
        "summary": _summary(plan),
        "guards": guards,
        "plan": plan.model_dump(mode="json"),
        "status": "planned",
        "report": None,
    }


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


async def plan_playlists(
    services: Services, rule_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Plan every enabled rule set with a target (or `rule_ids`); store and return the plans."""
    stores = services.stores
    targets = _targets(stored_rule_sets(stores), rule_ids)
    if not targets:
        return []
    preview = preview_library(stores, ids=[rs.id for rs in targets])
    desired = {p["rule_id"]: p["track_ids"] for p in preview["playlists"]}
    library = library_views(stores)  # the views the preview just used (cached): they hold URIs
    managed = stores.playlists.load()
    plans: list[dict[str, Any]] = []
    async with services.spotify.client() as client:
        user_id = (await client.get_me()).id
        for rule_set in targets:
            views = (library.view(track_id) for track_id in desired.get(rule_set.id, []))
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
    return plans


def save_plan(services: Services, stored: dict[str, Any]) -> None:
    """Store a new plan; older pending plans for the same rule set or playlist become
    ``superseded`` (only the newest plan of a playlist can be applied)."""
    with services.stores.plans.update() as plans:
        for other in plans.values():
            same_rule = stored["rule_id"] is not None and other["rule_id"] == stored["rule_id"]
            same_list = stored["playlist_id"] is not None and (
                other["playlist_id"] == stored["playlist_id"]
            )
            if other["status"] == "planned" and (same_rule or same_list):
                other["status"] = "superseded"
                other["superseded_by"] = stored["id"]
        plans[stored["id"]] = stored
        for old in list(plans)[: max(0, len(plans) - PLANS_KEPT)]:
            del plans[old]


def get_plan(services: Services, plan_id: str) -> dict[str, Any]:
    return services.stores.plans.get(plan_id)


def set_plan(services: Services, plan_id: str, **changes: Any) -> dict[str, Any]:
    with services.stores.plans.update() as plans:
        plans[plan_id].update(changes)
        return dict(plans[plan_id])


def plan_brief(plan: dict[str, Any]) -> dict[str, Any]:
    """A plan without its bulky parts (live items, calls)."""
    return {
        key: plan[key]
        for key in (
            "id",
            "rule_id",
            "rule_name",
            "playlist_id",
            "playlist_name",
            "create",
            "mode",
            "summary",
            "guards",
            "status",
        )
    }
