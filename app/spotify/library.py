"""Reading one track source from Spotify: liked songs or a playlist, full or incremental.

What comes back is a `SourceRead`: the tracks (deduplicated), the source's entries in order
(duplicates kept), and what was skipped — local files, episodes and unavailable items are counted,
never fatal. Nothing here writes anything; the pipeline saves a read once it is complete.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from app.core.errors import ForbiddenError
from app.core.models import Track, TrackSource, TrackSourceType, utc_now
from app.data.sources import SourceEntry, SourceRecord
from app.spotify.client import SpotifyClient
from app.spotify.models import PlaylistEntry, SavedTrack, SimplifiedPlaylist, TrackObject
from app.spotify.paging import PAGE_SIZE, ProgressFn

ReadMode = Literal["full", "incremental", "unchanged"]


@dataclass
class SourceRead:
    record: SourceRecord
    tracks: list[Track] = field(default_factory=list)
    mode: ReadMode = "full"
    new_entries: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # bad CSV rows: line, message


@dataclass(frozen=True)
class PlaylistInfo:
    """What the playlist listing tells us about one playlist."""

    id: str
    name: str
    owner_id: str
    owner_name: str | None
    collaborative: bool
    snapshot_id: str
    total: int

    @classmethod
    def from_listing(cls, playlist: SimplifiedPlaylist) -> PlaylistInfo:
        return cls(
            id=playlist.id,
            name=playlist.name,
            owner_id=playlist.owner.id,
            owner_name=playlist.owner.display_name,
            collaborative=playlist.collaborative,
            snapshot_id=playlist.snapshot_id,
            total=playlist.total,
        )

    def readable_by(self, user_id: str) -> bool:
        return self.owner_id == user_id or self.collaborative

    def unreadable_reason(self, user_id: str) -> str | None:
        if self.readable_by(user_id):
            return None
        owner = self.owner_name or self.owner_id
        return (
            f"followed playlist owned by {owner}: since 2026 Spotify lets personal apps read "
            "only playlists you own or collaborate on (ask the owner to make you a collaborator, "
            "or copy it into a playlist of your own)"
        )


Item = tuple[Track | TrackObject | None, datetime | None, bool, str | None]
"""(track, added_at, is_local, kind of a skipped non-track entry)"""


def _collect(items: Iterable[Item]) -> tuple[list[Track], list[SourceEntry], Counter[str]]:
    """Tracks (first occurrence wins), ordered entries, and skip counts."""
    tracks: dict[str, Track] = {}
    entries: list[SourceEntry] = []
    skipped: Counter[str] = Counter()
    for track, added_at, is_local, other_kind in items:
        if other_kind is not None:
            skipped[other_kind] += 1
            continue
        if track is None:
            skipped["unavailable"] += 1
            continue
        if is_local or track.is_local or track.id is None:
            skipped["local"] += 1
            continue
        if track.id in tracks:
            skipped["duplicates"] += 1
        else:
            tracks[track.id] = track.to_track(added_at) if isinstance(track, TrackObject) else track
        entries.append(SourceEntry(track_id=track.id, added_at=added_at))
    return list(tracks.values()), entries, skipped


def _liked_items(saved: Iterable[SavedTrack]) -> Iterable[Item]:
    for item in saved:
        yield item.spotify_track, item.added_at, False, None


def _playlist_items(entries: Iterable[PlaylistEntry]) -> Iterable[Item]:
    for entry in entries:
        content = entry.content
        if content is not None and not isinstance(content, TrackObject):
            yield None, entry.added_at, False, "episode"
        else:
            yield content, entry.added_at, entry.is_local, None


def liked_source() -> TrackSource:
    return TrackSource(type=TrackSourceType.LIKED, name="Liked Songs")


async def read_liked(
    client: SpotifyClient,
    previous: SourceRecord | None,
    *,
    label: str | None = None,
    on_progress: ProgressFn | None = None,
) -> SourceRead:
    """Liked songs; reads only the new ones when it can prove nothing else changed.

    Liked songs come newest first. If the previous read's newest entry is found at position k
    and the total grew by exactly k, the only change is k new likes at the top: those pages are
    enough. Anything else (an unlike, a re-like) falls back to a full read.
    """
    if previous is not None and previous.entries:
        read = await _read_liked_incrementally(client, previous, label, on_progress)
        if read is not None:
            return read
    saved = await client.get_all_liked_tracks(on_progress=on_progress)
    tracks, entries, skipped = _collect(_liked_items(saved))
    record = SourceRecord(
        key="liked",
        source_type=TrackSourceType.LIKED,
        label=label,
        name="Liked Songs",
        total=len(saved),
        entries=entries,
        skipped=dict(skipped),
    )
    return SourceRead(record=record, tracks=tracks, mode="full", new_entries=len(entries))


async def _read_liked_incrementally(
    client: SpotifyClient,
    previous: SourceRecord,
    label: str | None,
    on_progress: ProgressFn | None,
) -> SourceRead | None:
    anchor = previous.entries[0]
    fresh: list[SavedTrack] = []
    offset = 0
    while True:
        page, total = await client.get_liked_page(offset, PAGE_SIZE)
        position = next(
            (
                index
                for index, item in enumerate(page)
                if item.track is not None
                and item.track.id == anchor.track_id
                and item.added_at == anchor.added_at
            ),
            None,
        )
        if position is not None:
            fresh.extend(page[:position])
            break
        fresh.extend(page)
        offset += PAGE_SIZE
        if not page or offset >= total or len(fresh) > total - previous.total:
            return None  # the anchor is gone or too deep: something else changed
    if total != previous.total + len(fresh):
        return None
    if on_progress is not None:
        on_progress(total, total)
    tracks, new_entries, skipped = _collect(_liked_items(fresh))
    merged_skips = Counter(previous.skipped) + skipped
    record = SourceRecord(
        key="liked",
        source_type=TrackSourceType.LIKED,
        label=label or previous.label,
        name="Liked Songs",
        total=total,
        entries=new_entries + previous.entries,
        skipped=dict(merged_skips),
    )
    mode: ReadMode = "incremental" if fresh else "unchanged"
    return SourceRead(record=record, tracks=tracks, mode=mode, new_entries=len(new_entries))


async def playlist_info(client: SpotifyClient, playlist_id: str) -> PlaylistInfo:
    """Owner, collaborative flag and snapshot of one playlist (one request)."""
    return PlaylistInfo.from_listing(await client.get_playlist(playlist_id))


async def read_playlist(
    client: SpotifyClient,
    info: PlaylistInfo,
    user_id: str,
    previous: SourceRecord | None,
    *,
    label: str | None = None,
    on_progress: ProgressFn | None = None,
) -> SourceRead:
    """A playlist's entries; skipped entirely when its snapshot_id is unchanged."""
    reason = info.unreadable_reason(user_id)
    if reason is not None:
        raise ForbiddenError(
            f"cannot read playlist {info.name!r}: {reason}", code="playlist_unreadable"
        )
    key = f"playlist:{info.id}"
    if previous is not None and info.snapshot_id and previous.snapshot_id == info.snapshot_id:
        record = previous.model_copy(
            update={"label": label or previous.label, "name": info.name, "fetched_at": utc_now()}
        )
        return SourceRead(record=record, tracks=[], mode="unchanged")
    entries = await client.get_playlist_tracks(info.id, on_progress=on_progress)
    tracks, source_entries, skipped = _collect(_playlist_items(entries))
    record = SourceRecord(
        key=key,
        source_type=TrackSourceType.PLAYLIST,
        source_id=info.id,
        label=label,
        name=info.name,
        snapshot_id=info.snapshot_id,
        total=len(entries),
        entries=source_entries,
        skipped=dict(skipped),
    )
    return SourceRead(record=record, tracks=tracks, mode="full", new_entries=len(source_entries))
