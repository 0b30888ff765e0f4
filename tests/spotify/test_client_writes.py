"""`SpotifyClient` playlist writes against the Spotify emulator: what each call does to the
playlist, the snapshot ids it returns, the limits checked before sending, and which failed
writes are replayed (only those Spotify certainly did not act on)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from app.core.errors import BadRequestError, ForbiddenError, RateLimitedError, UpstreamError
from app.emulators.spotify.emulator import SpotifyEmulator
from app.spotify.client import SpotifyClient
from app.spotify.models import SpotifyUser

from .conftest import SpotifyWorld

pytestmark = pytest.mark.anyio

WRITES = ("POST", "PUT", "DELETE")


def owned_with_local_file(emulator: SpotifyEmulator, user_id: str) -> str:
    """An owned playlist holding a local file, a duplicate and an unavailable item."""
    return next(
        pid
        for pid in emulator.playlist_ids()
        if emulator.playlist(pid).owner_id == user_id
        and {"local", "unavailable"} <= {e.kind for e in emulator.playlist_entries(pid)}
    )


def fresh_tracks(emulator: SpotifyEmulator, playlist_id: str, count: int) -> list[str]:
    """Track URIs of the library that are not in the playlist."""
    present = set(emulator.playlist_uris(playlist_id))
    uris = (f"spotify:track:{track_id}" for track_id in emulator.library.tracks)
    return [uri for uri in uris if uri not in present][:count]


def writes_to(world: SpotifyWorld, playlist_id: str) -> list[tuple[str, int | None]]:
    return [
        (r.method, r.status)
        for r in world.api_log(f"/playlists/{playlist_id}/items")
        if r.method in WRITES
    ]


class LoseWriteAnswers(httpx.AsyncBaseTransport):
    """Delivers every request, then loses the answer of the first `count` writes: what a
    client sees when the connection breaks after Spotify has acted."""

    def __init__(self, inner: httpx.AsyncBaseTransport, count: int = 1) -> None:
        self.inner = inner
        self.count = count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method in WRITES and self.count > 0:
            self.count -= 1
            await response.aclose()
            raise httpx.ReadError("connection reset before the answer", request=request)
        return response


# --- what each write does ---------------------------------------------------------------------


async def test_add_items_appends_or_inserts_and_returns_the_new_snapshot(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    before = emulator.playlist_uris(playlist_id)
    first, second, third = fresh_tracks(emulator, playlist_id, 3)

    appended = await client.add_items(playlist_id, [first, second])
    assert emulator.playlist_uris(playlist_id) == [*before, first, second]
    assert appended == emulator.snapshot_id(playlist_id)

    inserted = await client.add_items(playlist_id, [third], position=1)
    assert emulator.playlist_uris(playlist_id) == [before[0], third, *before[1:], first, second]
    assert inserted == emulator.snapshot_id(playlist_id) != appended
    assert writes_to(world, playlist_id) == [("POST", 201), ("POST", 201)]


async def test_remove_items_removes_every_occurrence_and_nothing_else(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    [extra] = fresh_tracks(emulator, playlist_id, 1)
    await client.add_items(playlist_id, [extra], position=0)
    snapshot = await client.add_items(playlist_id, [extra])
    before = emulator.playlist_uris(playlist_id)
    local = next(uri for uri in before if uri and uri.startswith("spotify:local:"))

    after = await client.remove_items(playlist_id, [extra, local], snapshot)

    assert before.count(extra) == 2
    assert emulator.playlist_uris(playlist_id) == [u for u in before if u not in (extra, local)]
    assert after == emulator.snapshot_id(playlist_id)


async def test_replace_items_sets_the_list_and_an_empty_list_clears_it(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    uris = fresh_tracks(emulator, playlist_id, 100)

    snapshot = await client.replace_items(playlist_id, uris)
    assert emulator.playlist_uris(playlist_id) == uris
    assert snapshot == emulator.snapshot_id(playlist_id)

    await client.replace_items(playlist_id, [])
    assert emulator.playlist_uris(playlist_id) == []
    assert writes_to(world, playlist_id) == [("PUT", 200), ("PUT", 200)]


async def test_reorder_items_moves_a_range_before_an_entry(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    uris = fresh_tracks(emulator, playlist_id, 6)
    snapshot = await client.replace_items(playlist_id, uris)

    snapshot = await client.reorder_items(playlist_id, 4, 1, 2, snapshot)  # e, f before b
    assert emulator.playlist_uris(playlist_id) == [uris[i] for i in (0, 4, 5, 1, 2, 3)]
    await client.reorder_items(playlist_id, 0, 6, 1, snapshot)  # a to the end
    assert emulator.playlist_uris(playlist_id) == [uris[i] for i in (4, 5, 1, 2, 3, 0)]


async def test_a_snapshot_the_playlist_never_had_is_refused(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    playlist_id = owned_with_local_file(world.emulator, me.id)
    before = world.emulator.playlist_uris(playlist_id)
    with pytest.raises(BadRequestError, match="Invalid snapshot id"):
        await client.reorder_items(playlist_id, 0, 2, 1, "not-a-snapshot")
    assert world.emulator.playlist_uris(playlist_id) == before


async def test_create_playlist_makes_a_private_playlist_of_the_user_listed_first(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    created = await client.create_playlist("Auto: Calm", "made by rules")

    assert (created.name, created.description, created.public) == (
        "Auto: Calm",
        "made by rules",
        False,
    )
    assert created.owner.id == me.id
    emulator = world.emulator
    assert emulator.playlist_ids()[0] == created.id
    assert emulator.playlist_uris(created.id) == []
    [listed] = [p for p in await client.list_user_playlists() if p.id == created.id]
    assert (listed.public, listed.collaborative, listed.total) == (False, False, 0)
    assert [(r.method, r.status) for r in world.api_log("/me/playlists")] == [
        ("POST", 201),
        ("GET", 200),
    ]


# --- limits, checked before sending -----------------------------------------------------------

TRACK = "spotify:track:4iV5W9uYEdYUVa79Axb7Rh"
MANY = [TRACK] * 101
Write = Callable[[SpotifyClient, str], Awaitable[object]]


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda c, p: c.add_items(p, MANY), "at most 100 URIs"),
        (lambda c, p: c.add_items(p, []), "no URIs"),
        (lambda c, p: c.add_items(p, ["spotify:local:a:b:c:1"]), "cannot add"),
        (lambda c, p: c.add_items(p, [TRACK], position=-1), "position"),
        (lambda c, p: c.remove_items(p, MANY, "s"), "at most 100 URIs"),
        (lambda c, p: c.remove_items(p, [], "s"), "no URIs"),
        (lambda c, p: c.replace_items(p, MANY), "at most 100 URIs"),
        (lambda c, p: c.replace_items(p, ["spotify:album:x"]), "cannot replace"),
        (lambda c, p: c.reorder_items(p, 0, 1, 0, "s"), "range_length >= 1"),
        (lambda c, p: c.create_playlist(" ", ""), "needs a name"),
    ],
)
async def test_out_of_limit_writes_are_refused_before_anything_is_sent(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient, write: Write, message: str
) -> None:
    playlist_id = owned_with_local_file(world.emulator, me.id)
    with pytest.raises(ValueError, match=message):
        await write(client, playlist_id)
    assert world.api_log() == []


async def test_writes_to_a_followed_playlist_are_forbidden(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = next(
        pid for pid in emulator.playlist_ids() if not emulator.playlist(pid).editable_by(me.id)
    )
    before = emulator.playlist_uris(playlist_id)
    with pytest.raises(ForbiddenError) as caught:
        await client.add_items(playlist_id, fresh_tracks(emulator, playlist_id, 1))
    assert caught.value.code == "spotify_forbidden"
    assert emulator.playlist_uris(playlist_id) == before
    assert writes_to(world, playlist_id) == [("POST", 403)]


# --- which failures are replayed --------------------------------------------------------------


async def test_an_add_is_not_replayed_after_a_server_error_but_a_remove_is(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    [uri] = fresh_tracks(emulator, playlist_id, 1)
    snapshot = emulator.snapshot_id(playlist_id)
    emulator.config.fail_rate = 1.0
    async with world.client(spotify_max_attempts=3) as client:
        with pytest.raises(UpstreamError, match=r"after 1 attempt$"):
            await client.add_items(playlist_id, [uri])
        with pytest.raises(UpstreamError, match="after 3 attempts"):
            await client.remove_items(playlist_id, [uri], snapshot)
    assert [method for method, _status in writes_to(world, playlist_id)] == ["POST"] + [
        "DELETE"
    ] * 3


async def test_an_add_is_replayed_after_a_429_which_spotify_did_not_act_on(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    [uri] = fresh_tracks(emulator, playlist_id, 1)
    emulator.config.throttle_rate, emulator.config.throttle_retry_after = 1.0, 0
    async with world.client(spotify_max_attempts=2) as throttled:
        with pytest.raises(RateLimitedError, match="after 2 attempts"):
            await throttled.add_items(playlist_id, [uri])
    emulator.config.throttle_rate = 0.0
    assert writes_to(world, playlist_id) == [("POST", 429), ("POST", 429)]
    assert uri not in emulator.playlist_uris(playlist_id)


async def test_an_add_whose_answer_is_lost_is_applied_once_and_reported(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    [uri] = fresh_tracks(emulator, playlist_id, 1)
    lossy = LoseWriteAnswers(world.transport)
    async with world.client(api_transport=lossy) as client:
        with pytest.raises(UpstreamError, match="cannot reach Spotify for POST"):
            await client.add_items(playlist_id, [uri])
    assert emulator.playlist_uris(playlist_id).count(uri) == 1  # applied, never replayed
    assert writes_to(world, playlist_id) == [("POST", 201)]


async def test_a_remove_whose_answer_is_lost_is_replayed_harmlessly(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    emulator = world.emulator
    playlist_id = owned_with_local_file(emulator, me.id)
    before = emulator.playlist_uris(playlist_id)
    uri = next(u for u in before if u and u.startswith("spotify:track:"))
    lossy = LoseWriteAnswers(world.transport)
    async with world.client(api_transport=lossy) as client:
        snapshot = await client.remove_items(playlist_id, [uri], emulator.snapshot_id(playlist_id))
    assert emulator.playlist_uris(playlist_id) == [u for u in before if u != uri]
    assert snapshot == emulator.snapshot_id(playlist_id)
    assert writes_to(world, playlist_id) == [("DELETE", 200), ("DELETE", 200)]
