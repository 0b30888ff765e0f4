"""`SpotifyClient` against the Spotify emulator: paging, concurrency, faults, limits, parsing."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from app.core.errors import ConflictError, ForbiddenError, RateLimitedError, UpstreamError
from app.emulators.library.account import generate_library
from app.emulators.spotify.emulator import SpotifyEmulator
from app.net.pacing import HostPacer
from app.spotify.auth.login import headless_login
from app.spotify.client import SpotifyClient
from app.spotify.models import EpisodeObject, SpotifyUser, TrackObject
from app.spotify.paging import PAGE_SIZE

from .conftest import InFlightTransport, SpotifyWorld, build_world, whole_seconds

pytestmark = pytest.mark.anyio


def liked_now(emulator: SpotifyEmulator) -> list[tuple[str, object]]:
    """(track id, added_at) of every liked song, newest first, as the emulator holds them."""
    return [(s.track_id, whole_seconds(s.added_at)) for s in emulator.state.liked]


def not_liked(emulator: SpotifyEmulator, count: int) -> list[str]:
    liked = set(emulator.saved_track_ids())
    return [track_id for track_id in emulator.library.tracks if track_id not in liked][:count]


def readable_ids(emulator: SpotifyEmulator, user_id: str) -> list[str]:
    return [pid for pid in emulator.playlist_ids() if emulator.playlist(pid).editable_by(user_id)]


def followed_id(emulator: SpotifyEmulator, user_id: str) -> str:
    return next(
        pid for pid in emulator.playlist_ids() if not emulator.playlist(pid).editable_by(user_id)
    )


# --- basics ---------------------------------------------------------------------------------


async def test_get_me_is_the_emulated_user_with_our_stored_token(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    me = await client.get_me()
    assert (me.id, me.display_name) == (world.library.user.id, world.library.user.display_name)
    [request] = world.api_log("/me")
    stored = world.access().tokens.load()
    assert stored is not None
    assert request.headers["authorization"] == f"Bearer {stored.access_token}"
    assert request.status == 200


async def test_liked_songs_are_complete_and_in_order(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    progress: list[tuple[int, int]] = []
    liked = await client.get_all_liked_tracks(on_progress=lambda *p: progress.append(p))

    assert len(world.library.liked) == 260
    assert [(s.track.id if s.track else None, s.added_at) for s in liked] == liked_now(
        world.emulator
    )
    first = liked[0].track
    assert first is not None
    truth = world.library.tracks[first.id or ""]
    assert first.name == truth.name
    assert [a.id for a in first.artists] == list(truth.artist_ids)
    assert first.album.id == truth.album_id
    assert first.duration_ms == truth.duration_ms
    assert first.isrc == truth.isrc
    assert first.added_at == liked[0].added_at  # the liked date travels with the track

    assert progress[-1] == (260, 260)
    assert progress[0] == (PAGE_SIZE, 260)
    counts = [done for done, _ in progress]
    assert counts == sorted(counts)
    assert all(total == 260 for _, total in progress)


async def test_pages_after_the_first_are_requested_once_each_and_concurrently(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.config.latency_ms = 2  # every request waits, so overlapping ones show
    counting = InFlightTransport(world.transport)
    async with world.client(api_transport=counting, spotify_concurrency=4) as client:
        liked = await client.get_all_liked_tracks()

    assert len(liked) == 260
    requests = world.api_log("/me/tracks")
    assert len(requests) == math.ceil(260 / PAGE_SIZE)
    assert requests[0].query["offset"] == "0"  # the first page comes first: it tells the total
    assert sorted(int(r.query["offset"]) for r in requests) == list(range(0, 260, PAGE_SIZE))
    assert {r.query["limit"] for r in requests} == {str(PAGE_SIZE)}
    assert counting.most_in_flight == 4  # the 5 remaining pages overlap, bounded by 4


async def test_concurrency_setting_of_one_reads_page_by_page(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.config.latency_ms = 2
    counting = InFlightTransport(world.transport)
    async with world.client(api_transport=counting, spotify_concurrency=1) as client:
        liked = await client.get_all_liked_tracks()
    assert len(liked) == 260
    assert counting.most_in_flight == 1


async def test_a_rate_limit_below_one_request_per_second_is_allowed(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    async with world.client(spotify_rate_limit=0.5) as client:  # one request every 2 s
        assert (await client.get_me()).id == me.id
    assert len(world.api_log("/me")) == 1


async def test_user_playlists_are_listed_completely(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    playlists = await client.list_user_playlists()
    emulator = world.emulator
    assert [p.id for p in playlists] == emulator.playlist_ids()
    for playlist in playlists:
        state = emulator.playlist(playlist.id)
        assert playlist.name == state.name
        assert playlist.owner.id == state.owner_id
        assert playlist.collaborative == state.collaborative
        assert playlist.snapshot_id == state.snapshot_id
        assert playlist.total == len(state.entries)


async def test_one_playlist_is_read_as_a_typed_object(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    playlist_id = world.emulator.playlist_ids()[0]
    state = world.emulator.playlist(playlist_id)
    playlist = await client.get_playlist(playlist_id)
    assert (playlist.id, playlist.name, playlist.snapshot_id) == (
        playlist_id,
        state.name,
        state.snapshot_id,
    )
    assert (playlist.owner.id, playlist.collaborative) == (state.owner_id, state.collaborative)
    assert playlist.total == len(state.entries)


# --- faults ---------------------------------------------------------------------------------


async def test_with_faults_and_429_bursts_the_fetched_library_is_still_exact(
    tmp_path: Path,
) -> None:
    world = build_world(generate_library(seed=11, tracks=2000, playlists=12), tmp_path / "c")
    me = await headless_login(world.access())
    config = world.emulator.config
    config.fail_rate, config.throttle_rate, config.drop_rate = 0.10, 0.05, 0.02
    config.throttle_retry_after = 0
    # Each request draws the next fault of the seeded sequence, whatever the request, so the
    # mix of faults met is fixed by the seed; this one holds every kind (see the last check).
    config.fault_seed = 7
    config.validate()

    # Ten attempts: a request failing ten times in a row (0.17 ** 10) never happens in practice.
    async with world.client(spotify_max_attempts=10) as client:
        liked = await client.get_all_liked_tracks()
        playlists = await client.list_user_playlists()
        readable = [p for p in playlists if p.owner.id == me.id or p.collaborative]
        entries = {p.id: await client.get_playlist_tracks(p.id) for p in readable}

    emulator = world.emulator
    assert [(s.track.id if s.track else None, s.added_at) for s in liked] == liked_now(emulator)
    assert [p.id for p in playlists] == emulator.playlist_ids()
    assert sorted(entries) == sorted(readable_ids(emulator, me.id))
    assert len(entries) >= 8
    for playlist_id, read in entries.items():
        uris = [e.content.uri if e.content is not None else None for e in read]
        assert uris == emulator.playlist_uris(playlist_id), playlist_id

    faults = Counter(r.fault for r in world.api_log())
    assert faults["error"] >= 5 and faults["throttle"] >= 3 and faults["drop"] >= 1, faults


async def test_retry_after_beyond_the_cap_fails_at_once_naming_the_wait(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.config.rate_limit = 1  # one request per rolling 30 s, then 429 for ~30 s
    async with world.client(spotify_max_retry_after=5) as client:
        await client.get_me()
        with pytest.raises(RateLimitedError) as caught:
            await client.get_me()

    assert "asked to wait 30s" in caught.value.detail
    assert "SAP_SPOTIFY_MAX_RETRY_AFTER" in caught.value.detail
    assert caught.value.extra["retry_after"] == 30
    assert [r.status for r in world.api_log("/me")] == [200, 429]  # no retry, no sleep


async def test_retry_after_within_the_cap_is_waited_out_until_attempts_run_out(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    config = world.emulator.config
    config.throttle_rate, config.throttle_retry_after = 1.0, 0
    async with world.client(spotify_max_attempts=3) as client:
        with pytest.raises(RateLimitedError, match="after 3 attempts"):
            await client.get_me()
    assert [r.status for r in world.api_log("/me")] == [429, 429, 429]


async def test_a_429_holds_back_every_client_of_the_process(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    """Jobs run in threads with their own clients: one refused request must slow them all."""
    api = "http://paused.spotify.test/v1"  # its own pacer, whatever other tests did
    config = world.emulator.config
    config.throttle_rate, config.throttle_retry_after = 1.0, 40
    async with world.client(spotify_api_url=api, spotify_max_attempts=1) as client:
        with pytest.raises(RateLimitedError, match="after 1 attempt"):
            await client.get_me()
    # Any other client of this API now waits out the Retry-After before sending.
    assert HostPacer.for_service(api, None).reserve() > 30

    beyond = "http://beyond.spotify.test/v1"
    config.throttle_retry_after = 500  # above SAP_SPOTIFY_MAX_RETRY_AFTER: we give up instead
    async with world.client(spotify_api_url=beyond) as client:
        with pytest.raises(RateLimitedError, match="asked to wait 500s"):
            await client.get_me()
    assert HostPacer.for_service(beyond, None).reserve() == 0.0  # and hold nobody for it


async def test_server_errors_beyond_max_attempts_give_upstream_error(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.config.fail_rate = 1.0
    async with world.client(spotify_max_attempts=4) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.get_all_liked_tracks()
    assert caught.value.code == "spotify_unavailable"
    assert "after 4 attempts" in caught.value.detail
    requests = world.api_log("/me/tracks")
    assert len(requests) == 4
    assert {r.status for r in requests} <= {500, 502, 503}


async def test_dropped_connections_beyond_max_attempts_give_upstream_error(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.config.drop_rate = 1.0
    async with world.client(spotify_max_attempts=2) as client:
        with pytest.raises(UpstreamError, match="cannot reach Spotify") as caught:
            await client.get_me()
    assert caught.value.code == "spotify_unavailable"
    assert [r.fault for r in world.api_log("/me")] == ["drop", "drop"]


async def test_a_cut_off_page_is_a_clear_upstream_error_not_a_crash(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.config.garble_rate = 1.0
    async with world.client() as client:
        with pytest.raises(UpstreamError) as caught:
            await client.get_all_liked_tracks()
    assert caught.value.code == "spotify_bad_response"
    assert "unexpected page for GET me/tracks" in caught.value.detail
    assert [r.fault for r in world.api_log("/me/tracks")] == ["garble"]


# --- a collection changing while it is read --------------------------------------------------


async def test_a_like_added_mid_read_restarts_the_read(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    emulator = world.emulator
    [new] = not_liked(emulator, 1)
    changed: list[bool] = []

    def like_once(done: int, total: int) -> None:
        if not changed:  # after the first page: the other pages now see one more song
            emulator.save_tracks([new])
            changed.append(True)

    liked = await client.get_all_liked_tracks(on_progress=like_once)

    assert [(s.track.id if s.track else None, s.added_at) for s in liked] == liked_now(emulator)
    assert len(liked) == 261
    assert liked[0].track is not None and liked[0].track.id == new
    offsets = [r.query["offset"] for r in world.api_log("/me/tracks")]
    assert offsets.count("0") == 2  # read again from the start


async def test_a_collection_that_keeps_changing_gives_a_conflict(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    emulator = world.emulator
    fresh = iter(not_liked(emulator, 10))

    def like_every_round(done: int, total: int) -> None:
        if done == PAGE_SIZE:  # the first page of every round
            emulator.save_tracks([next(fresh)])

    with pytest.raises(ConflictError) as caught:
        await client.get_all_liked_tracks(on_progress=like_every_round)
    assert caught.value.code == "source_changing"
    offsets = [r.query["offset"] for r in world.api_log("/me/tracks")]
    assert offsets.count("0") == 3


# --- development-mode limits ------------------------------------------------------------------


async def test_items_of_a_followed_playlist_are_forbidden(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    playlist_id = followed_id(world.emulator, me.id)
    with pytest.raises(ForbiddenError) as caught:
        await client.get_playlist_tracks(playlist_id)
    assert caught.value.code == "spotify_forbidden"
    assert f"playlists/{playlist_id}/items" in caught.value.detail
    assert [r.status for r in world.api_log(f"/playlists/{playlist_id}/items")] == [403]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("playlists/{playlist}/tracks", None),
        ("tracks", {"ids": "{track}"}),
        ("audio-features", {"ids": "{track}"}),
        ("recommendations", {"seed_tracks": "{track}"}),
        ("users/{user}/playlists", None),
    ],
)
async def test_endpoints_removed_for_development_mode_are_forbidden(
    world: SpotifyWorld,
    me: SpotifyUser,
    client: SpotifyClient,
    path: str,
    params: dict[str, str] | None,
) -> None:
    names = {
        "playlist": world.emulator.playlist_ids()[0],
        "track": next(iter(world.library.tracks)),
        "user": me.id,
    }
    with pytest.raises(ForbiddenError, match="Spotify refused GET"):
        await client.request(
            "GET",
            path.format(**names),
            params={k: v.format(**names) for k, v in (params or {}).items()},
        )
    assert [r.status for r in world.api_log()] == [403]  # refused, so never retried


# --- parsing --------------------------------------------------------------------------------


async def test_episodes_local_files_and_unavailable_items_are_parsed(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = next(
        pid
        for pid in readable_ids(emulator, me.id)
        if {"local", "episode", "unavailable"} <= {e.kind for e in emulator.playlist_entries(pid)}
    )
    truth = emulator.playlist_entries(playlist_id)
    entries = await client.get_playlist_tracks(playlist_id)

    assert len(entries) == len(truth)
    for entry, expected in zip(entries, truth, strict=True):
        assert entry.added_at == whole_seconds(expected.added_at)
        assert entry.added_by is not None and entry.added_by.id == expected.added_by
        content = entry.content
        if expected.kind == "track":
            assert isinstance(content, TrackObject) and content.id == expected.track_id
            assert not entry.is_local
        elif expected.kind == "episode":
            assert isinstance(content, EpisodeObject) and content.id == expected.episode_id
        elif expected.kind == "local":
            assert expected.local is not None
            assert entry.is_local and isinstance(content, TrackObject)
            assert (content.id, content.is_local) == (None, True)
            assert content.uri == expected.local.uri
            assert content.name == expected.local.name
        else:
            assert content is None
