"""Sync guards and plan fingerprints: what stops an apply, and what a plan was computed against.

Guards are decided when planning and shown in the plan; each trips only with a reason and is
overridden only by naming it in `force`:

- ``empty``: the plan would leave no track in a playlist that has some;
- ``remove_share``: it would remove more than `SAP_SYNC_MAX_REMOVE_SHARE` of the tracks;
- ``drift``: the playlist was edited in Spotify since this tool's last apply (its contents are
  not what that apply left, nor a state an apply under way or cut short was writing — see
  `ManagedPlaylist.writing`), so applying would undo someone's edits.

The fingerprint (`snapshot_id` and a hash of the URIs in order) is stored with the plan, so that
applying can refuse a playlist that changed since the plan was made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Literal

import orjson
from pydantic import BaseModel

from app.core.errors import UnprocessableError
from app.core.models import ManagedPlaylist
from app.pipeline.sync.model import LiveItem, SyncPlan

Guard = Literal["empty", "remove_share", "drift"]
GUARDS: tuple[Guard, ...] = ("empty", "remove_share", "drift")


class TrippedGuard(BaseModel):
    """A guard that stops an apply unless forced, and why it tripped."""

    guard: Guard
    message: str


class Fingerprint(BaseModel):
    """What a plan was computed against: the playlist's snapshot id and a hash of its URIs in
    order (null snapshot: the playlist does not exist yet)."""

    snapshot_id: str | None
    contents_hash: str


def contents_hash(uris: Sequence[str | None]) -> str:
    """A hash of a playlist's URIs in order (None: an unavailable entry)."""
    return hashlib.sha256(orjson.dumps(list(uris))).hexdigest()[:32]


def fingerprint(snapshot_id: str | None, uris: Sequence[str | None]) -> Fingerprint:
    """What a plan was computed against: the snapshot id and a hash of the URIs in order."""
    return Fingerprint(snapshot_id=snapshot_id, contents_hash=contents_hash(uris))


def check_force(force: Collection[str]) -> set[str]:
    unknown = set(force) - set(GUARDS)
    if unknown:
        raise UnprocessableError(
            f"unknown guard(s) {', '.join(sorted(unknown))}; guards: {', '.join(GUARDS)}",
            code="bad_force",
        )
    return set(force)


def tripped_guards(
    live: Sequence[LiveItem],
    plan: SyncPlan,
    managed: ManagedPlaylist | None,
    snapshot_id: str | None,
    max_remove_share: float,
) -> list[TrippedGuard]:
    tracks = [item.uri for item in live if item.kind == "track"]
    result_tracks = [
        uri for uri in plan.result if uri is not None and uri.startswith("spotify:track:")
    ]
    removed_uris = set(plan.removes)
    collapsed = {d.uri for d in plan.duplicates if d.resolution == "collapsed"}
    removed = sum(1 for uri in tracks if uri in removed_uris and uri not in collapsed)
    guards: list[TrippedGuard] = []
    if tracks and not result_tracks:
        guards.append(
            TrippedGuard(
                guard="empty", message=f"this would empty a playlist of {len(tracks)} track(s)"
            )
        )
    if tracks and removed / len(tracks) > max_remove_share:
        guards.append(
            TrippedGuard(
                guard="remove_share",
                message=(
                    f"this would remove {removed} of {len(tracks)} tracks "
                    f"({removed / len(tracks):.0%}, more than the "
                    f"{max_remove_share:.0%} of SAP_SYNC_MAX_REMOVE_SHARE)"
                ),
            )
        )
    if managed is not None and snapshot_id != managed.last_snapshot_id:
        live_uris = [item.uri for item in live]
        writing = managed.writing
        ours = writing is not None and contents_hash(live_uris) in writing.states
        if live_uris != managed.last_uris and not ours:
            guards.append(
                TrippedGuard(
                    guard="drift",
                    message=(
                        "the playlist was edited in Spotify since this tool last applied to it; "
                        "applying would replace those edits"
                    ),
                )
            )
    return guards
