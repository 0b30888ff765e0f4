"""Ids that go into a Spotify URL have Spotify's id shape, or no request is made at all.

A playlist id is spliced into the request path (`playlists/{id}/items`): `..` would climb to
another endpoint, `abc?x=1` would add a query, a `/` another segment. The client refuses
anything but 22 letters and digits before building the path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from app.core.errors import AppError
from app.pipeline.sync.additions import TrackLookups
from app.spotify.client import SpotifyClient
from app.spotify.ids import is_spotify_id

from .conftest import SpotifyWorld

pytestmark = pytest.mark.anyio

BAD_IDS = [
    "..",
    "../me",
    "abc?x=1",
    "37i9dQZF1DXcBWIGoYBM5M/../../me",
    "37i9dQZF1DXcBWIGoYBM5M?fields=x",
    "37i9dQZF1DXcBWIGoYBM5M#",
    "%2e%2e",
    "37i9dQZF1DXcBWIGoYBM5",  # 21
    "37i9dQZF1DXcBWIGoYBM5MM",  # 23
    "37i9dQZF1DXcBWIGoYBM5\n",
    "37i9dQZF1DXcBWIGoYBM5\x00",
    "37i9dQZF1DXcBWIGoYBM5é",
    "",
]


@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_only_base62_ids_of_22_characters_are_ids(value: str) -> None:
    assert not is_spotify_id(value)


def test_real_ids_are_ids() -> None:
    assert is_spotify_id("37i9dQZF1DXcBWIGoYBM5M")
    assert is_spotify_id("0" * 22)


Call = Callable[[SpotifyClient, str], Awaitable[object]]
CALLS: dict[str, Call] = {
    "get_playlist": lambda c, pid: c.get_playlist(pid),
    "get_playlist_tracks": lambda c, pid: c.get_playlist_tracks(pid),
    "add_items": lambda c, pid: c.add_items(pid, ["spotify:track:" + "K" * 22]),
    "remove_items": lambda c, pid: c.remove_items(pid, ["spotify:track:" + "K" * 22], "snap"),
    "replace_items": lambda c, pid: c.replace_items(pid, []),
    "reorder_items": lambda c, pid: c.reorder_items(pid, 0, 2, 1, "snap"),
    # A plan looks up, one by one, the tracks it would add that were not read from Spotify.
    "get_track": lambda c, tid: c.get_track(tid),
}
NAMED = {"get_track": "track id"}  # what the refusal calls the id (else a playlist id)


@pytest.mark.parametrize("call", sorted(CALLS))
async def test_a_bad_id_never_reaches_the_request_path(
    world: SpotifyWorld, client: SpotifyClient, call: str
) -> None:
    world.forget_requests()
    for value in ("..", "abc?x=1", "../me/tracks", "../../me/tracks", "x" * 22 + "/../../me"):
        with pytest.raises(AppError) as caught:
            await CALLS[call](client, value)
        assert (caught.value.status_code, caught.value.code) == (422, "invalid_spotify_id")
        assert NAMED.get(call, "playlist id") in caught.value.detail
    assert world.api_log() == []


async def test_a_track_to_add_whose_id_is_not_an_id_is_left_out_as_unknown_unasked(
    world: SpotifyWorld, client: SpotifyClient
) -> None:
    world.forget_requests()
    bad = "spotify:track:../me/tracks"
    assert await TrackLookups(client).refused([bad]) == {bad: ("unknown", "")}
    assert world.api_log() == []
