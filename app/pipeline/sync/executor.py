"""Send a `SyncPlan`'s calls to Spotify, in order, chaining snapshot ids.

    report = await execute_plan(spotify, playlist_id, plan, snapshot_id=read_snapshot)

Each write returns the playlist's new snapshot id; the next remove or reorder carries it in
place of the plan's `SNAPSHOT` placeholder (the first one carries `snapshot_id`, the version
the plan was computed from). Calls are sent one at a time: each one's positions assume the
previous ones were applied.

A failed call stops the run with `SyncApplyError`, whose `report` says how many calls were
applied and the last snapshot id. The failed call itself may or may not have been applied
when the connection broke or Spotify answered 5xx (the client does not replay adds or
reorders), so the way on is to read the playlist again: to plan afresh (the planner then
converges on the desired playlist) or to put the backup back (`applying.apply_plan` does, and
says so through `after`). Guards and backups are the caller's business.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.core.errors import AppError
from app.pipeline.sync.model import SNAPSHOT, ApiCall, SyncPlan
from app.spotify.client import SpotifyClient
from app.spotify.paging import ProgressFn


class ApplyReport(BaseModel):
    """How far a plan got: `calls_done` of `calls_total` applied, ending at `snapshot_id`."""

    playlist_id: str
    calls_total: int
    calls_done: int = 0
    snapshot_id: str  # the playlist's snapshot after the last applied call
    snapshots: list[str] = []  # one per applied call, in order
    failed_call: ApiCall | None = None
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.calls_done == self.calls_total


class SyncApplyError(AppError):
    """A call of the plan failed; `report` holds what was written before it. Status and code
    are those of the underlying error (403 for a playlist the user cannot edit…)."""

    def __init__(
        self,
        report: ApplyReport,
        cause: AppError,
        after: str = "read the playlist again before retrying",
        extra: dict[str, Any] | None = None,
    ) -> None:
        done = f"{report.calls_done} of {report.calls_total} calls were applied"
        super().__init__(
            f"{cause.detail} ({done}; {after})",
            code=cause.code,
            extra={"apply_report": report.model_dump(mode="json"), **(extra or {})},
        )
        self.status_code = cause.status_code
        self.report = report
        self.cause = cause


async def execute_plan(
    client: SpotifyClient,
    playlist_id: str,
    plan: SyncPlan,
    snapshot_id: str,
    on_progress: ProgressFn | None = None,
) -> ApplyReport:
    """Apply `plan.calls` to the playlist in order; `on_progress(done, total)` after each."""
    report = ApplyReport(
        playlist_id=playlist_id, calls_total=len(plan.calls), snapshot_id=snapshot_id
    )
    for call in plan.calls:
        try:
            snapshot = await send_call(client, playlist_id, call, report.snapshot_id)
        except AppError as error:
            report.failed_call, report.error = call, error.detail
            raise SyncApplyError(report, error) from error
        report.calls_done += 1
        report.snapshot_id = snapshot
        report.snapshots.append(snapshot)
        if on_progress is not None:
            on_progress(report.calls_done, report.calls_total)
    return report


async def send_call(client: SpotifyClient, playlist_id: str, call: ApiCall, snapshot: str) -> str:
    """Send one planned call through the client's checked write methods; its new snapshot."""
    body = call.body
    if call.path_suffix != "items":
        raise ValueError(f"a sync plan writes playlists/{{id}}/items, not {call.path_suffix!r}")
    given = body.get("snapshot_id")
    chained = snapshot if given in (None, SNAPSHOT) else str(given)
    if call.kind == "remove":
        return await client.remove_items(playlist_id, call.uris, chained)
    if call.kind == "add":
        return await client.add_items(playlist_id, call.uris, body.get("position"))
    if call.kind == "replace":
        return await client.replace_items(playlist_id, call.uris)
    return await client.reorder_items(
        playlist_id,
        body["range_start"],
        body["insert_before"],
        body.get("range_length", 1),
        chained,
    )
