"""Track sources: plan fetch jobs, run them, save complete reads, aggregate the library.

v2 flow: `plan_fetch(services, requests)` validates every requested source up front (unknown
type → 422, unknown or unreadable playlist → 404/403) and returns one job's metadata per source;
the `fetch_tracks` step reads one source and saves it only once it is complete; the aggregate
view joins tracks with the sources they came from. v1: the `tracks` step fetches liked songs.

This module reads sources and holds the fetch steps; planning is `planning`, saving complete
reads `commit`, the aggregate `aggregate`, Exportify files `exportify`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from app.core.errors import AppError, UnprocessableError
from app.core.fs import paused_gc
from app.core.models import JobError, TrackSourceType
from app.data.sources import SourceEntry, SourceMap, SourceRecord
from app.pipeline.jobs.steps import Shortfall, StepContext
from app.pipeline.library_gaps import lost_keys
from app.pipeline.services import Services
from app.pipeline.sources.commit import commit_read, commit_reads
from app.pipeline.sources.csv_files import csv_source_path, read_csv_file
from app.pipeline.sources.exportify.reader import parse_exportify_csv
from app.pipeline.sources.planning import (
    PlannedSource,
    PlaylistHint,
    SourceRequest,
    current_user_id,
)
from app.spotify.client import SpotifyClient
from app.spotify.library import (
    PlaylistInfo,
    ReadMode,
    SourceRead,
    playlist_info,
    read_liked,
    read_playlist,
)
from app.spotify.paging import ProgressFn

__all__ = [
    "FetchSourcesReport",
    "SourceFetchFailure",
    "SourceFetchReport",
    "fetch_many",
    "fetch_source",
    "fetch_sources_step",
    "fetch_tracks_step",
    "import_csv",
    "read_source",
    "tracks_step",
]

log = logging.getLogger(__name__)


class SourceRef(BaseModel):
    """Which source a fetch report is about (`name` is known once the source was read)."""

    source_type: TrackSourceType
    source_id: str | None
    label: str | None
    name: str | None = None
    key: str


class BadRow(BaseModel):
    """A row of an Exportify file that could not be read."""

    line: int
    message: str


class SourceFetchReport(BaseModel):
    """What reading one source gave: a `fetch_tracks` job's payload."""

    source: SourceRef
    mode: ReadMode = Field(description="full, incremental, or unchanged (nothing was read).")
    entries: int = Field(description="Entries kept, in source order, duplicates included.")
    tracks: int = Field(description="Distinct tracks among them.")
    new_entries: int
    skipped: dict[str, int] = Field(description="Entries left out, by kind (local, episode…).")
    snapshot_id: str | None
    requests: int | None = Field(
        description="Spotify requests made; null when sources shared one client."
    )
    bad_rows: list[BadRow] = Field(description="Unreadable CSV rows (the first 100).")

    @classmethod
    def of(cls, read: SourceRead, requests: int | None) -> SourceFetchReport:
        record = read.record
        return cls(
            source=SourceRef(
                source_type=record.source_type,
                source_id=record.source_id,
                label=record.label,
                name=record.name,
                key=record.key,
            ),
            mode=read.mode,
            entries=len(record.entries),
            tracks=len({entry.track_id for entry in record.entries}),
            new_entries=read.new_entries,
            skipped=record.skipped,
            snapshot_id=record.snapshot_id,
            requests=requests,
            bad_rows=[BadRow.model_validate(row) for row in read.errors[:100]],
        )


class SourceFetchFailure(BaseModel):
    """A source of a `fetch_sources` job that could not be read (nothing of it was saved)."""

    source: SourceRef
    error: JobError


class FetchSourcesReport(BaseModel):
    """A `fetch_sources` job's payload: one entry per planned source, in plan order.

    With failed sources the job ends "partial" (the others were saved) or "failed" (every
    source failed: nothing was saved), its error naming each failure (`shortfall`).
    """

    sources: list[SourceFetchReport | SourceFetchFailure]
    failed: int = Field(description="Sources that could not be read.")
    requests: int = Field(description="Spotify requests made for all of them together.")
    forgotten: list[SourceRef] = Field(
        default_factory=list,
        description=(
            "Sources dropped from the library: their tracks were lost from tracks.json and "
            "they cannot be read again (a playlist no longer in your library, a CSV file "
            "that is gone)."
        ),
    )

    def shortfall(self) -> Shortfall | None:
        """What the job could not do: each failed source, named with its error."""
        failures = [r for r in self.sources if isinstance(r, SourceFetchFailure)]
        if not failures:
            return None
        named = "; ".join(
            f"{failure.source.name or failure.source.key} "
            f"({failure.error.code}: {failure.error.message})"
            for failure in failures
        )
        partial = len(failures) < len(self.sources)
        outcome = (
            "the other sources were saved: fetch again to retry the failed ones"
            if partial
            else "nothing was saved: fetch again to retry"
        )
        message = f"{len(failures)} of {len(self.sources)} sources failed: {named}; {outcome}"
        return Shortfall(JobError(code="sources_failed", message=message), partial=partial)


async def read_source(
    services: Services,
    request: SourceRequest,
    hint: PlaylistHint | None,
    previous: SourceRecord | None,
    client: SpotifyClient,
    on_progress: ProgressFn,
) -> SourceRead:
    """Read one source completely (nothing is saved); `hint` is the planned playlist info."""
    if request.source_type == "csv":
        # Checked again here: a job's metadata may come from any client, unplanned.
        path = csv_source_path(services, request.source_id)
        read = import_csv(path, request.label, max_bytes=services.settings.csv_max_bytes)
        on_progress(len(read.record.entries), len(read.record.entries))
        return read
    if request.source_type == "liked":
        return await read_liked(client, previous, label=request.label, on_progress=on_progress)
    if hint is not None:
        user_id, info = hint.user_id, hint.info()
    else:
        user_id = await current_user_id(services)
        info = await playlist_info(client, request.source_id or "")
    return await read_playlist(
        client, info, user_id, previous, label=request.label, on_progress=on_progress
    )


def _progress_for(ctx: StepContext | None, report: ProgressFn | None) -> ProgressFn:
    def progress(done: int, total: int) -> None:
        if ctx is not None:
            ctx.check_cancelled()
        if report is not None:
            report(done, total)
        elif ctx is not None:
            ctx.progress(done, total, f"{done} of {total} items")

    return progress


def _usable_previous(services: Services, records: SourceMap) -> SourceMap:
    """The records a read may build on: not those whose tracks tracks.json lost since (a lost
    source is read in full, whatever its snapshot says; see `library_gaps`)."""
    if not records:
        return records
    lost = lost_keys(records, services.stores.tracks.keys())
    if lost:
        log.warning("reading again in full, tracks.json lost tracks of: %s", ", ".join(lost))
    return {key: record for key, record in records.items() if key not in lost}


async def fetch_source(
    services: Services,
    request: SourceRequest,
    hint: PlaylistHint | None = None,
    ctx: StepContext | None = None,
) -> SourceFetchReport:
    """Read one source completely, then save it; returns what was read (the job payload)."""
    stored = services.stores.sources.get(request.key)
    previous = _usable_previous(services, {request.key: stored} if stored else {})
    with paused_gc():  # until the read is saved and dropped, as in `fetch_many`
        async with services.spotify.client() as client:
            read = await read_source(
                services,
                request,
                hint,
                previous.get(request.key),
                client,
                _progress_for(ctx, None),
            )
            requests = client.requests_made
        if ctx is not None:
            ctx.check_cancelled()  # a cancelled job saves nothing
        commit_read(services.stores, read, warm=services.library if services.warm_up else None)
        report = SourceFetchReport.of(read, requests)
        del read
    return report


def _ref(request: SourceRequest, hint: PlaylistHint | None) -> SourceRef:
    """A planned source as a report names it before it was read."""
    if request.source_type == "liked":
        name: str | None = "Liked Songs"
    elif request.source_type == "csv":
        name = Path(request.source_id or "").name
    else:
        title = hint.name if hint is not None else request.source_id
        name = f"playlist {title!r}"
    return SourceRef(
        source_type=TrackSourceType(request.source_type),
        source_id=request.source_id,
        label=request.label,
        name=name,
        key=request.key,
    )


async def _unreachable(
    services: Services, client: SpotifyClient, records: Sequence[SourceRecord]
) -> list[SourceRecord]:
    """Of these lost records, those that can no longer be read: a playlist that left the
    user's library (or can no longer be read), a CSV file that is gone. One playlist listing,
    only when a lost playlist was not part of the fetch; when it fails, none is given up."""
    gone = [
        record
        for record in records
        if record.source_type is TrackSourceType.CSV and not Path(record.source_id or "").is_file()
    ]
    playlists = [record for record in records if record.source_type is TrackSourceType.PLAYLIST]
    if playlists:
        try:
            user_id = await current_user_id(services)
            listing = await client.list_user_playlists()
        except AppError as exc:
            log.warning("cannot tell whether lost playlists still exist: %s", exc.detail)
            return gone
        readable = {
            info.id for info in map(PlaylistInfo.from_listing, listing) if info.readable_by(user_id)
        }
        gone += [record for record in playlists if record.source_id not in readable]
    return gone


async def fetch_many(
    services: Services, planned: Sequence[PlannedSource], ctx: StepContext | None = None
) -> FetchSourcesReport:
    """Read several planned sources at once through one client (one concurrency bound).

    The sources that were read completely are saved together at the end (one write per
    store); a failing source is reported in its entry and does not stop the others. A source
    whose tracks tracks.json lost is read in full; one that lost them and cannot be read
    again (see `_unreachable`) is forgotten, and reported so.
    """
    totals: dict[int, tuple[int, int]] = {}

    def report_for(index: int) -> ProgressFn:
        def report(done: int, total: int) -> None:
            totals[index] = (done, total)
            if ctx is not None:
                done_all = sum(d for d, _ in totals.values())
                total_all = sum(t for _, t in totals.values())
                ctx.progress(done_all, total_all, f"reading {len(planned)} source(s)")

        return report

    stored = services.stores.sources.load()
    previous = _usable_previous(services, stored)
    planned_keys = {source.request().key for source in planned}
    lost_elsewhere = [
        record for key, record in stored.items() if key not in previous and key not in planned_keys
    ]

    async def one(
        index: int, source: PlannedSource, client: SpotifyClient
    ) -> SourceRead | SourceFetchFailure:
        request = source.request()
        try:
            return await read_source(
                services,
                request,
                source.playlist,
                previous.get(request.key),
                client,
                _progress_for(ctx, report_for(index)),
            )
        except AppError as exc:
            return SourceFetchFailure(
                source=_ref(request, source.playlist),
                error=JobError(code=exc.code, message=exc.detail),
            )

    # The collector stays paused until the reads are saved and dropped: what they hold (a
    # library of models, no cycles) is freed by reference counting, so re-enabling it finds
    # nothing to scan. Re-enabled earlier, it scanned every fetched object at least once, on
    # the critical path after the last page (see docs/performance.md).
    with paused_gc():
        async with services.spotify.client() as client:
            outcomes = await asyncio.gather(
                *(one(index, source, client) for index, source in enumerate(planned))
            )
            forget = await _unreachable(services, client, lost_elsewhere) if lost_elsewhere else []
            requests = client.requests_made
        if ctx is not None:
            ctx.check_cancelled()  # a cancelled job saves nothing
        reads = [outcome for outcome in outcomes if isinstance(outcome, SourceRead)]
        commit_reads(
            services.stores,
            reads,
            forget=[record.key for record in forget],
            warm=services.library if services.warm_up else None,
        )
        results = [
            # Sources share one client here: only the total request count is known.
            SourceFetchReport.of(outcome, None) if isinstance(outcome, SourceRead) else outcome
            for outcome in outcomes
        ]
        failed = len(outcomes) - len(reads)
        del outcomes, reads
    if forget:
        log.warning(
            "forgot %d source(s) whose tracks were lost and that cannot be read again: %s",
            len(forget),
            ", ".join(record.key for record in forget),
        )
    return FetchSourcesReport(
        sources=results,
        failed=failed,
        requests=requests,
        forgotten=[
            SourceRef(
                source_type=record.source_type,
                source_id=record.source_id,
                label=record.label,
                name=record.name,
                key=record.key,
            )
            for record in forget
        ],
    )


def _planned(metadata: Any) -> PlannedSource:
    """A job's metadata as the source it plans (keys other than the source's are ignored)."""
    try:
        source = PlannedSource.model_validate(metadata)
        source.request()  # a playlist or CSV without its id
    except ValidationError as exc:
        raise UnprocessableError(
            f"metadata is not a source to fetch: {exc.errors()[0]['msg']}", code="bad_metadata"
        ) from None
    return source


def import_csv(path: Path, label: str | None, *, max_bytes: int) -> SourceRead:
    """An Exportify CSV as a source; bad rows are reported in `skipped` and the summary.

    `path` is one `csv_files.csv_source_path` allowed; at most `max_bytes` are read."""
    result = parse_exportify_csv(read_csv_file(path, max_bytes), source_name=path.name)
    entries = [
        SourceEntry(track_id=track.id, added_at=added_at) for track, added_at in result.tracks
    ]
    skipped = Counter(
        {
            "local": result.skipped_local,
            "duplicates": result.duplicates,
            "bad_rows": len(result.errors),
        }
    )
    record = SourceRecord(
        key=f"csv:{path}",
        source_type=TrackSourceType.CSV,
        source_id=str(path),
        label=label,
        name=path.stem,
        total=result.total_rows,
        entries=entries,
        skipped={key: count for key, count in skipped.items() if count},
    )
    tracks = [track.model_copy(update={"added_at": added_at}) for track, added_at in result.tracks]
    errors = [{"line": error.line, "message": error.message} for error in result.errors]
    return SourceRead(
        record=record, tracks=tracks, mode="full", new_entries=len(entries), errors=errors
    )


async def fetch_tracks_step(ctx: StepContext) -> SourceFetchReport:
    """v2: fetch one source (metadata: source_type, source_id, label) into the library."""
    source = _planned(ctx.metadata)
    return await fetch_source(ctx.services, source.request(), source.playlist, ctx)


async def fetch_sources_step(ctx: StepContext) -> FetchSourcesReport:
    """Several planned sources in one job (metadata: sources), read concurrently."""
    planned = ctx.metadata.get("sources")
    if not isinstance(planned, list) or not planned:
        raise UnprocessableError(
            "metadata.sources must be a non-empty list of planned sources", code="no_sources"
        )
    return await fetch_many(ctx.services, [_planned(source) for source in planned], ctx)


async def tracks_step(ctx: StepContext) -> SourceFetchReport:
    """v1: fetch the liked songs into the tracks cache."""
    return await fetch_source(ctx.services, SourceRequest(source_type="liked"), None, ctx)
