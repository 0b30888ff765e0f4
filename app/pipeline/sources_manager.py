"""Track sources: plan fetch jobs, run them, save complete reads, aggregate the library.

v2 flow: `plan_fetch(services, requests)` validates every requested source up front (unknown
type → 422, unknown or unreadable playlist → 404/403) and returns one job's metadata per source;
the `fetch_tracks` step reads one source and saves it only once it is complete; the aggregate
view joins tracks with the sources they came from. v1: the `tracks` step fetches liked songs.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.errors import AppError, ForbiddenError, NotFoundError, UnprocessableError
from app.core.fs import paused_gc
from app.core.models import Track, TrackSourceType, utc_now
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.pipeline.context import Services
from app.pipeline.rules_manager import warm_library_in_background
from app.pipeline.steps import StepContext
from app.spotify.client import ProgressFn, SpotifyClient
from app.spotify.csv_import import read_exportify_csv
from app.spotify.sources import PlaylistInfo, SourceRead, playlist_info, read_liked, read_playlist

log = logging.getLogger(__name__)


class SourceRequest(BaseModel):
    """One source to fetch, as the API and CLI accept it."""

    model_config = ConfigDict(extra="forbid")

    source_type: Literal["liked", "playlist", "csv"]
    source_id: str | None = Field(
        default=None, description="Playlist id, or the CSV file's path on this machine."
    )
    label: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _needs_id(self) -> SourceRequest:
        if self.source_type != "liked" and not (self.source_id or "").strip():
            raise ValueError(f"source_id is required for a {self.source_type} source")
        return self

    @property
    def key(self) -> str:
        return "liked" if self.source_type == "liked" else f"{self.source_type}:{self.source_id}"


async def current_user_id(services: Services) -> str:
    """The logged-in user's id (remembered in the token after the first lookup)."""
    token = services.spotify.tokens.load()
    if token is not None and token.user_id:
        return token.user_id
    async with services.spotify.client() as client:
        me = await client.get_me()
    services.spotify.tokens.record_user(me.id, me.display_name)
    return me.id


async def list_playlists(services: Services) -> tuple[str, list[PlaylistInfo]]:
    """The user's id and every playlist in their library."""
    async with services.spotify.client() as client:
        user_id = await current_user_id(services)
        listing = await client.list_user_playlists()
    return user_id, [PlaylistInfo.from_listing(playlist) for playlist in listing]


async def plan_fetch(
    services: Services,
    requests: list[SourceRequest],
    *,
    listing: tuple[str, list[PlaylistInfo]] | None = None,
) -> list[dict[str, Any]]:
    """Validate all requested sources and return one job's metadata per source.

    `listing` is a playlist listing the caller already has (saves its requests).
    """
    if not requests:
        raise UnprocessableError("give at least one source to fetch", code="no_sources")
    playlists: dict[str, PlaylistInfo] = {}
    user_id = ""
    if any(request.source_type == "playlist" for request in requests):
        user_id, infos = listing or await list_playlists(services)
        playlists = {info.id: info for info in infos}
    planned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for request in requests:
        if request.key in seen:
            continue  # the same source twice: one job is enough
        seen.add(request.key)
        metadata: dict[str, Any] = request.model_dump(exclude_none=True)
        if request.source_type == "playlist":
            info = playlists.get(request.source_id or "")
            if info is None:
                raise NotFoundError(
                    f"playlist {request.source_id!r} is not in your library "
                    "(see GET /spotify/playlists)",
                    code="playlist_not_found",
                )
            reason = info.unreadable_reason(user_id)
            if reason is not None:
                raise ForbiddenError(
                    f"cannot read playlist {info.name!r}: {reason}", code="playlist_unreadable"
                )
            # The listing already says whether it changed: the job may not need a request.
            metadata["playlist"] = {**info.__dict__, "user_id": user_id}
        elif request.source_type == "csv":
            path = Path(request.source_id or "").expanduser()
            if not path.is_file():
                raise NotFoundError(f"CSV file {str(path)!r} does not exist", code="csv_not_found")
            metadata["source_id"] = str(path.resolve())
        planned.append(metadata)
    return planned


async def plan_library(services: Services, *, liked: bool = True) -> list[dict[str, Any]]:
    """Plan the whole library: liked songs and every playlist the user can read.

    One playlist listing serves both the plan and the unchanged-snapshot checks, so refreshing
    an unchanged library costs 1 + ceil(playlists / 50) requests.
    """
    user_id, infos = await list_playlists(services)
    requests = [SourceRequest(source_type="liked")] if liked else []
    requests += [
        SourceRequest(source_type="playlist", source_id=info.id)
        for info in infos
        if info.readable_by(user_id)
    ]
    return await plan_fetch(services, requests, listing=(user_id, infos))


def commit_reads(stores: Stores, reads: list[SourceRead]) -> None:
    """Save complete reads: their tracks first, then the source records that point at them.

    One locked update per store whatever the number of reads, so saving 20 playlists costs
    what saving one does. The collector is paused meanwhile: tens of thousands of new small
    objects and no cycles, while the whole fetched library is alive (collecting over and
    over doubled the time of this step; see docs/performance.md).
    """
    if not reads:
        return
    with paused_gc():
        if any(read.tracks for read in reads):
            # track id -> (track, whether a liked read brought it): streamed into the store.
            changes: dict[str, tuple[Track, bool]] = {}
            for read in reads:
                liked = read.record.source_type is TrackSourceType.LIKED
                for track in read.tracks:
                    seen = changes.get(track.id)
                    if seen is not None and not liked and seen[0].added_at is not None:
                        track = track.model_copy(update={"added_at": seen[0].added_at})
                    changes[track.id] = (track, liked or (seen is not None and seen[1]))
            stores.tracks.edit(changes, _merge_track)
        with stores.sources.update() as sources:
            for read in reads:
                sources[read.record.key] = read.record
    if any(read.mode != "unchanged" for read in reads):
        warm_library_in_background(stores)  # the next preview finds the new library loaded


def _merge_track(
    _track_id: str, stored: dict[str, Any] | None, change: tuple[Track, bool]
) -> dict[str, Any] | orjson.Fragment:
    track, liked = change
    if stored is not None and not liked and stored.get("added_at"):
        # A track's own added_at is when it was liked (else its first sighting).
        data = track.model_dump(mode="json")
        data["added_at"] = stored["added_at"]
        return data
    # Serialised straight to JSON by pydantic: no intermediate dict per track.
    return orjson.Fragment(track.model_dump_json())


def commit_read(stores: Stores, read: SourceRead) -> None:
    """Save one complete read (see `commit_reads`)."""
    commit_reads(stores, [read])


def _summary(read: SourceRead, requests: int | None) -> dict[str, Any]:
    record = read.record
    return {
        "source": {
            "source_type": record.source_type.value,
            "source_id": record.source_id,
            "label": record.label,
            "name": record.name,
            "key": record.key,
        },
        "mode": read.mode,
        "entries": len(record.entries),
        "tracks": len({entry.track_id for entry in record.entries}),
        "new_entries": read.new_entries,
        "skipped": record.skipped,
        "snapshot_id": record.snapshot_id,
        "requests": requests,
        "bad_rows": read.errors[:100],
    }


async def read_source(
    services: Services,
    request: SourceRequest,
    hint: dict[str, Any] | None,
    previous: SourceRecord | None,
    client: SpotifyClient,
    on_progress: ProgressFn,
) -> SourceRead:
    """Read one source completely (nothing is saved); `hint` is the planned playlist info."""
    if request.source_type == "csv":
        read = import_csv(Path(request.source_id or ""), request.label)
        on_progress(len(read.record.entries), len(read.record.entries))
        return read
    if request.source_type == "liked":
        return await read_liked(client, previous, label=request.label, on_progress=on_progress)
    if hint is not None:
        user_id = str(hint.get("user_id", ""))
        info = PlaylistInfo(**{k: v for k, v in hint.items() if k != "user_id"})
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


async def fetch_source(
    services: Services,
    request: SourceRequest,
    hint: dict[str, Any] | None = None,
    ctx: StepContext | None = None,
) -> dict[str, Any]:
    """Read one source completely, then save it; returns a summary for the job payload."""
    previous = services.stores.sources.get(request.key)
    with paused_gc():  # until the read is saved and dropped, as in `fetch_many`
        async with services.spotify.client() as client:
            read = await read_source(
                services, request, hint, previous, client, _progress_for(ctx, None)
            )
            requests = client.requests_made
        if ctx is not None:
            ctx.check_cancelled()  # a cancelled job saves nothing
        commit_read(services.stores, read)
        summary = _summary(read, requests)
        del read
    return summary


async def fetch_many(
    services: Services, planned: list[dict[str, Any]], ctx: StepContext | None = None
) -> dict[str, Any]:
    """Read several planned sources at once through one client (one concurrency bound).

    The sources that were read completely are saved together at the end (one write per
    store); a failing source is reported in its entry and does not stop the others.
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

    previous = services.stores.sources.load()

    async def one(
        index: int, metadata: dict[str, Any], client: SpotifyClient
    ) -> SourceRead | dict[str, Any]:
        request = _request_of(metadata)
        try:
            return await read_source(
                services,
                request,
                metadata.get("playlist"),
                previous.get(request.key),
                client,
                _progress_for(ctx, report_for(index)),
            )
        except AppError as exc:
            return {
                "source": {
                    "source_type": request.source_type,
                    "source_id": request.source_id,
                    "label": request.label,
                    "key": request.key,
                },
                "error": {"code": exc.code, "message": exc.detail},
            }

    # The collector stays paused until the reads are saved and dropped: what they hold (a
    # library of models, no cycles) is freed by reference counting, so re-enabling it finds
    # nothing to scan. Re-enabled earlier, it scanned every fetched object at least once, on
    # the critical path after the last page (see docs/performance.md).
    with paused_gc():
        async with services.spotify.client() as client:
            outcomes = await asyncio.gather(
                *(one(index, metadata, client) for index, metadata in enumerate(planned))
            )
            requests = client.requests_made
        if ctx is not None:
            ctx.check_cancelled()  # a cancelled job saves nothing
        reads = [outcome for outcome in outcomes if isinstance(outcome, SourceRead)]
        commit_reads(services.stores, reads)
        results = [
            # Sources share one client here: only the total request count is known.
            _summary(outcome, None) if isinstance(outcome, SourceRead) else outcome
            for outcome in outcomes
        ]
        failed = len(outcomes) - len(reads)
        del outcomes, reads
    return {"sources": results, "failed": failed, "requests": requests}


def _request_of(metadata: dict[str, Any]) -> SourceRequest:
    return SourceRequest.model_validate(
        {
            key: metadata[key]
            for key in ("source_type", "source_id", "label")
            if metadata.get(key) is not None
        }
    )


def import_csv(path: Path, label: str | None) -> SourceRead:
    """An Exportify CSV as a source; bad rows are reported in `skipped` and the summary."""
    result = read_exportify_csv(path)
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


async def fetch_tracks_step(ctx: StepContext) -> dict[str, Any]:
    """v2: fetch one source (metadata: source_type, source_id, label) into the library."""
    return await fetch_source(
        ctx.services, _request_of(ctx.metadata), ctx.metadata.get("playlist"), ctx
    )


async def fetch_sources_step(ctx: StepContext) -> dict[str, Any]:
    """Several planned sources in one job (metadata: sources), read concurrently."""
    planned = ctx.metadata.get("sources")
    if not isinstance(planned, list) or not planned:
        raise UnprocessableError(
            "metadata.sources must be a non-empty list of planned sources", code="no_sources"
        )
    return await fetch_many(ctx.services, planned, ctx)


async def tracks_step(ctx: StepContext) -> dict[str, Any]:
    """v1: fetch the liked songs into the tracks cache."""
    return await fetch_source(ctx.services, SourceRequest(source_type="liked"), None, ctx)


# --- reading the library --------------------------------------------------------------------


def _matches(track: Track, needle: str) -> bool:
    haystack = " ".join([track.name, track.album.name, *(a.name for a in track.artists)])
    return needle in haystack.casefold()


def aggregate(
    stores: Stores,
    *,
    limit: int = 100,
    offset: int = 0,
    source: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    """Every fetched track once, with the sources it came from, plus per-source counts."""
    tracks = stores.tracks.load_tracks()
    sources = stores.sources.load()
    membership: dict[str, list[dict[str, Any]]] = {}
    for record in sources.values():
        seen: set[str] = set()
        for entry in record.entries:
            if entry.track_id in seen:
                continue
            seen.add(entry.track_id)
            membership.setdefault(entry.track_id, []).append(
                {
                    "source_type": record.source_type.value,
                    "source_id": record.source_id,
                    "key": record.key,
                    "added_at": entry.added_at,
                }
            )
    if source is not None and source not in sources:
        raise NotFoundError(
            f"no fetched source {source!r}; known: {', '.join(sorted(sources))}",
            code="source_not_found",
        )
    selected = [tid for tid in tracks if tid in membership]
    if source is not None:
        selected = [
            tid for tid in selected if any(member["key"] == source for member in membership[tid])
        ]
    if q:
        needle = q.casefold()
        selected = [tid for tid in selected if _matches(tracks[tid], needle)]
    page = selected[offset : offset + limit]
    return {
        "total": len(selected),
        "limit": limit,
        "offset": offset,
        "tracks": [
            {**tracks[tid].model_dump(mode="json"), "sources": membership[tid]} for tid in page
        ],
        "sources": [
            {
                "key": record.key,
                "source_type": record.source_type.value,
                "source_id": record.source_id,
                "label": record.label,
                "name": record.name,
                "entries": len(record.entries),
                "tracks": len({entry.track_id for entry in record.entries}),
                "skipped": record.skipped,
                "snapshot_id": record.snapshot_id,
                "fetched_at": record.fetched_at,
            }
            for record in sources.values()
        ],
        "generated_at": utc_now(),
    }
