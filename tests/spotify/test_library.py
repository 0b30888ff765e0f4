"""Reading liked songs and playlists into source records: full, incremental, unchanged."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from app.core.errors import ForbiddenError
from app.core.models import TrackSourceType
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.library.model import AccountEntry
from app.emulators.spotify.emulator import SpotifyEmulator
from app.spotify.client import SpotifyClient
from app.spotify.library import PlaylistInfo, SourceRead, playlist_info, read_liked, read_playlist
from app.spotify.models import SpotifyUser

from .conftest import SpotifyWorld, whole_seconds

pytestmark = pytest.mark.anyio


def liked_entries(emulator: SpotifyEmulator) -> list[SourceEntry]:
    return [
        SourceEntry(track_id=s.track_id, added_at=whole_seconds(s.added_at))
        for s in emulator.state.liked
    ]


def not_liked(emulator: SpotifyEmulator, count: int) -> list[str]:
    liked = set(emulator.saved_track_ids())
    return [track_id for track_id in emulator.library.tracks if track_id not in liked][:count]


def same_content(a: SourceRecord, b: SourceRecord) -> bool:
    """Equal apart from when each was fetched."""
    return a.model_dump(exclude={"fetched_at"}) == b.model_dump(exclude={"fetched_at"})


def playlist_with(emulator: SpotifyEmulator, user_id: str, *kinds: str) -> str:
    """A playlist the user can read holding every entry kind in `kinds` (and duplicates)."""
    for playlist_id in emulator.playlist_ids():
        entries = emulator.playlist_entries(playlist_id)
        tracks = [e.track_id for e in entries if e.track_id]
        if (
            emulator.playlist(playlist_id).editable_by(user_id)
            and set(kinds) <= {e.kind for e in entries}
            and len(tracks) > len(set(tracks))
        ):
            return playlist_id
    raise AssertionError(f"the test library has no readable playlist with {kinds} and duplicates")


def expected_skips(entries: list[AccountEntry]) -> dict[str, int]:
    kinds = Counter(e.kind for e in entries)
    tracks = [e.track_id for e in entries if e.track_id]
    counts = {
        "local": kinds["local"],
        "episode": kinds["episode"],
        "unavailable": kinds["unavailable"],
        "duplicates": len(tracks) - len(set(tracks)),
    }
    return {kind: count for kind, count in counts.items() if count}


async def full_liked(world: SpotifyWorld) -> SourceRead:
    async with world.client() as client:
        return await read_liked(client, None)


# --- liked songs ------------------------------------------------------------------------------


async def test_liked_songs_full_read(world: SpotifyWorld, client: SpotifyClient) -> None:
    progress: list[tuple[int, int]] = []
    read = await read_liked(
        client, None, label="my likes", on_progress=lambda *p: progress.append(p)
    )
    emulator = world.emulator
    assert read.mode == "full"
    assert read.record.entries == liked_entries(emulator)
    assert (read.record.key, read.record.source_type) == ("liked", TrackSourceType.LIKED)
    assert (read.record.label, read.record.name) == ("my likes", "Liked Songs")
    assert read.record.total == 260 and read.record.skipped == {}
    assert read.new_entries == 260
    assert [t.id for t in read.tracks] == emulator.saved_track_ids()
    assert [t.added_at for t in read.tracks] == [e.added_at for e in read.record.entries]
    assert progress[-1] == (260, 260)


async def test_unchanged_liked_songs_cost_one_request(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    first = await read_liked(client, None, label="likes")
    world.forget_requests()
    progress: list[tuple[int, int]] = []

    again = await read_liked(client, first.record, on_progress=lambda *p: progress.append(p))

    assert again.mode == "unchanged"
    assert (again.new_entries, again.tracks) == (0, [])
    assert same_content(again.record, first.record)
    assert [r.query["offset"] for r in world.api_log()] == ["0"]
    assert progress == [(260, 260)]


async def test_new_likes_are_read_incrementally(world: SpotifyWorld, client: SpotifyClient) -> None:
    emulator = world.emulator
    first = await read_liked(client, None)
    new = not_liked(emulator, 3)
    emulator.save_tracks(new[:2])
    emulator.clock.advance(5)
    emulator.save_tracks(new[2:])  # liked a little later: listed first
    world.forget_requests()

    read = await read_liked(client, first.record)

    assert read.mode == "incremental"
    assert read.new_entries == 3
    assert [e.track_id for e in read.record.entries[:3]] == [new[2], new[0], new[1]]
    assert read.record.entries[3:] == first.record.entries
    assert sorted(t.id for t in read.tracks) == sorted(new)
    assert len(world.api_log()) == 1
    assert same_content(read.record, (await full_liked(world)).record)


async def test_more_new_likes_than_a_page_are_read_incrementally(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    emulator = world.emulator
    first = await read_liked(client, None)
    emulator.save_tracks(not_liked(emulator, 60))
    world.forget_requests()

    read = await read_liked(client, first.record)

    assert (read.mode, read.new_entries, read.record.total) == ("incremental", 60, 320)
    assert [r.query["offset"] for r in world.api_log()] == ["0", "50"]
    assert read.record.entries == liked_entries(emulator)
    assert same_content(read.record, (await full_liked(world)).record)


@pytest.mark.parametrize("change", ["unlike", "unlike_and_like", "like_in_the_past"])
async def test_any_other_change_to_liked_songs_falls_back_to_a_full_read(
    world: SpotifyWorld, client: SpotifyClient, change: str
) -> None:
    emulator = world.emulator
    first = await read_liked(client, None)
    [new] = not_liked(emulator, 1)
    old = emulator.saved_track_ids()
    if change in {"unlike", "unlike_and_like"}:
        emulator.remove_saved_tracks([old[100]])
    if change == "unlike_and_like":
        emulator.save_tracks([new])  # the total is unchanged, the newest entry moved down
    if change == "like_in_the_past":  # sorted in among the old likes, not at the top
        emulator.save_tracks([new], added_at=emulator.state.liked[10].added_at - timedelta(1))

    read = await read_liked(client, first.record)

    assert read.mode == "full"
    assert read.record.entries == liked_entries(emulator)
    assert read.record.total == len(emulator.state.liked)
    assert [t.id for t in read.tracks] == emulator.saved_track_ids()


async def test_unliking_the_newest_song_falls_back_to_a_full_read(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    emulator = world.emulator
    first = await read_liked(client, None)
    emulator.remove_saved_tracks(emulator.saved_track_ids()[:1])

    read = await read_liked(client, first.record)

    assert read.mode == "full"
    assert read.record.entries == liked_entries(emulator) == first.record.entries[1:]


# --- playlists --------------------------------------------------------------------------------


async def test_a_playlist_keeps_duplicates_in_entries_and_counts_what_it_skips(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = playlist_with(emulator, me.id, "local", "episode", "unavailable")
    truth = emulator.playlist_entries(playlist_id)
    info = await playlist_info(client, playlist_id)
    assert (info.id, info.owner_id, info.snapshot_id, info.total) == (
        playlist_id,
        me.id,
        emulator.snapshot_id(playlist_id),
        len(truth),
    )

    read = await read_playlist(client, info, me.id, None, label="mix")

    record = read.record
    assert read.mode == "full"
    assert (record.key, record.source_type, record.source_id) == (
        f"playlist:{playlist_id}",
        TrackSourceType.PLAYLIST,
        playlist_id,
    )
    assert (record.label, record.name) == ("mix", emulator.playlist(playlist_id).name)
    assert record.snapshot_id == emulator.snapshot_id(playlist_id)
    assert record.total == len(truth)
    assert record.entries == [
        SourceEntry(track_id=e.track_id, added_at=whole_seconds(e.added_at))
        for e in truth
        if e.track_id
    ]
    unique = list(dict.fromkeys(e.track_id for e in truth if e.track_id))
    assert [t.id for t in read.tracks] == unique
    assert record.skipped == expected_skips(truth)
    assert read.new_entries == len(record.entries)


async def test_an_unchanged_playlist_is_not_read_again(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = playlist_with(emulator, me.id)
    listing = {p.id: p for p in await client.list_user_playlists()}
    info = PlaylistInfo.from_listing(listing[playlist_id])
    first = await read_playlist(client, info, me.id, None, label="mix")
    world.forget_requests()

    again = await read_playlist(client, info, me.id, first.record)

    assert again.mode == "unchanged"
    assert world.emulator.requests == []
    assert again.tracks == [] and again.new_entries == 0
    assert same_content(again.record, first.record)


async def test_a_playlist_edited_elsewhere_is_read_again(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = playlist_with(emulator, me.id)
    first = await read_playlist(client, await playlist_info(client, playlist_id), me.id, None)
    gone = first.record.entries[0].track_id
    [added] = not_liked(emulator, 1)
    snapshot = emulator.edit_playlist_as_other_user(
        playlist_id, add=[f"spotify:track:{added}"], remove=[f"spotify:track:{gone}"]
    )

    info = await playlist_info(client, playlist_id)
    assert info.snapshot_id == snapshot != first.record.snapshot_id
    read = await read_playlist(client, info, me.id, first.record)

    assert read.mode == "full"
    assert read.record.snapshot_id == snapshot
    ids = [e.track_id for e in read.record.entries]
    assert gone not in ids and ids[-1] == added
    assert ids == [e.track_id for e in emulator.playlist_entries(playlist_id) if e.track_id]


async def test_a_collaborative_playlist_of_someone_else_is_readable(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = next(
        pid
        for pid in emulator.playlist_ids()
        if emulator.playlist(pid).collaborative and emulator.playlist(pid).owner_id != me.id
    )
    info = await playlist_info(client, playlist_id)
    assert info.unreadable_reason(me.id) is None
    read = await read_playlist(client, info, me.id, None)
    truth = emulator.playlist_entries(playlist_id)
    assert [e.track_id for e in read.record.entries] == [e.track_id for e in truth if e.track_id]


async def test_a_followed_playlist_is_unreadable_and_says_why(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    listing = await client.list_user_playlists()
    followed = next(p for p in listing if p.owner.id != me.id and not p.collaborative)
    info = PlaylistInfo.from_listing(followed)
    assert info.total == len(emulator.playlist_entries(followed.id))  # listed, with its size
    reason = info.unreadable_reason(me.id)
    assert reason is not None
    assert (followed.owner.display_name or followed.owner.id) in reason
    assert "collaborat" in reason
    world.forget_requests()

    with pytest.raises(ForbiddenError) as caught:
        await read_playlist(client, info, me.id, None)

    assert caught.value.code == "playlist_unreadable"
    assert followed.name in caught.value.detail and reason in caught.value.detail
    assert world.emulator.requests == []  # refused without asking Spotify for a certain 403
