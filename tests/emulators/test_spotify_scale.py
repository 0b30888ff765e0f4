"""A 100,000-song library pages without touching more than the page asked for."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from app.emulators.common.transport import emulator_transport
from app.emulators.library.model import GeneratedLibrary, LikedSong
from app.emulators.spotify.emulator import SpotifyEmulator
from app.emulators.spotify.state import spotify_id

from .conftest import API, NOW, TRACKS

pytestmark = pytest.mark.anyio

SIZE = 100_000


def huge_library(library: GeneratedLibrary) -> GeneratedLibrary:
    template = library.tracks[TRACKS["t1"]]
    tracks = {}
    for index in range(SIZE):
        track_id = spotify_id(f"huge:{index}")
        tracks[track_id] = replace(template, id=track_id, name=f"Song {index}")
    liked = tuple(
        LikedSong(track_id, NOW - timedelta(minutes=i)) for i, track_id in enumerate(tracks)
    )
    return replace(library, tracks=tracks, liked=liked)


async def test_the_last_page_of_100k_liked_songs_renders_only_that_page(
    library: GeneratedLibrary,
) -> None:
    big = huge_library(library)
    emulator = SpotifyEmulator(big)
    token = emulator.grant_tokens()["access_token"]
    transport = emulator_transport(emulator.api_app, root_path="/v1")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as client:
        page = (await client.get("/me/tracks", params={"offset": SIZE - 50, "limit": 50})).json()

    assert page["total"] == SIZE
    assert [item["track"]["name"] for item in page["items"]] == [
        f"Song {i}" for i in range(SIZE - 50, SIZE)
    ]
    assert page["next"] is None
    assert page["previous"] == f"{API}/me/tracks?offset={SIZE - 100}&limit=50"
    (renderer,) = emulator.context.renderers.values()
    assert len(renderer._tracks) == 50  # track objects are built lazily, once each
