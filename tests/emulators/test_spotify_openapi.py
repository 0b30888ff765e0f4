"""Every response our client relies on validates against Spotify's OpenAPI spec
(`tests/helpers/spotify_openapi.py` says how and with which relaxations)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator
from tests.helpers.spotify_openapi import SpecValidator, load_validator

from .conftest import API, ARTISTS, BIG, COLLAB, EPISODE, MINE, THEIRS, TRACKS, uri

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def validate() -> SpecValidator:
    return load_validator()


@pytest.fixture(scope="module")
def generated() -> GeneratedLibrary:
    return generate_library(seed=3, tracks=300, playlists=20)


async def client_for(emulator: SpotifyEmulator) -> httpx.AsyncClient:
    token = emulator.grant_tokens()["access_token"]
    return httpx.AsyncClient(
        transport=emulator_transport(emulator.api_app, root_path="/v1"),
        base_url=API,
        headers={"Authorization": f"Bearer {token}"},
    )


Call = Callable[[httpx.AsyncClient], Any]
EPISODES = {"additional_types": "track,episode"}
CALLS: dict[str, tuple[Call, int]] = {
    "me": (lambda c: c.get("/me"), 200),
    "liked songs": (lambda c: c.get("/me/tracks", params={"limit": 50}), 200),
    "my playlists": (lambda c: c.get("/me/playlists", params={"limit": 50}), 200),
    "owned playlist": (lambda c: c.get(f"/playlists/{MINE}", params=EPISODES), 200),
    "followed playlist": (lambda c: c.get(f"/playlists/{THEIRS}"), 200),
    "collaborative playlist": (lambda c: c.get(f"/playlists/{COLLAB}"), 200),
    "items: local, episode, null": (
        lambda c: c.get(f"/playlists/{MINE}/items", params=EPISODES),
        200,
    ),
    "items, second page": (
        lambda c: c.get(f"/playlists/{BIG}/items", params={"offset": 50, "limit": 50}),
        200,
    ),
    "track": (lambda c: c.get(f"/tracks/{TRACKS['t1']}"), 200),
    "track without isrc": (lambda c: c.get(f"/tracks/{TRACKS['t6']}"), 200),
    "artist": (lambda c: c.get(f"/artists/{ARTISTS['artist2']}"), 200),
    "create playlist": (
        lambda c: c.post("/me/playlists", json={"name": "New", "public": False}),
        201,
    ),
    "add items": (
        lambda c: c.post(
            f"/playlists/{MINE}/items", json={"uris": [uri("t4"), f"spotify:episode:{EPISODE}"]}
        ),
        201,
    ),
    "replace items": (
        lambda c: c.put(f"/playlists/{MINE}/items", json={"uris": [uri("t4"), uri("t5")]}),
        200,
    ),
    "reorder items": (
        lambda c: c.put(f"/playlists/{BIG}/items", json={"range_start": 3, "insert_before": 0}),
        200,
    ),
    "remove items": (
        lambda c: c.request(
            "DELETE", f"/playlists/{MINE}/items", json={"items": [{"uri": uri("t1")}]}
        ),
        200,
    ),
    "401": (lambda c: c.get("/me", headers={"Authorization": "Bearer expired"}), 401),
    "403 unreadable": (lambda c: c.get(f"/playlists/{THEIRS}/items"), 403),
    "403 removed": (lambda c: c.get("/tracks", params={"ids": TRACKS["t1"]}), 403),
    "400 limit": (lambda c: c.get("/me/tracks", params={"limit": 51}), 400),
    "404 id": (lambda c: c.get("/tracks/0000000000000000000000"), 404),
}


@pytest.mark.parametrize("name", list(CALLS))
async def test_response_matches_the_spec(
    name: str, validate: SpecValidator, library: GeneratedLibrary, config: SpotifyEmulatorConfig
) -> None:
    call, status = CALLS[name]
    async with await client_for(SpotifyEmulator(library, config)) as client:
        response = await call(client)
    assert response.status_code == status, response.text
    validate(response)


async def test_fault_responses_match_the_spec(
    validate: SpecValidator, library: GeneratedLibrary
) -> None:
    emulator = SpotifyEmulator(library, SpotifyEmulatorConfig(rate_limit=1))
    async with await client_for(emulator) as client:
        assert (await client.get("/me")).status_code == 200
        limited = await client.get("/me")
        emulator.config.fail_rate = 1.0
        failed = await client.get("/me")
    assert (limited.status_code, failed.status_code // 100) == (429, 5)
    validate(limited)
    validate(failed)


@pytest.fixture(scope="module")
async def generated_client(generated: GeneratedLibrary) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(SpotifyEmulator(generated)) as client:
        yield client


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


async def test_a_generated_library_matches_the_spec_everywhere(
    validate: SpecValidator, generated: GeneratedLibrary, generated_client: httpx.AsyncClient
) -> None:
    """Every page of every readable playlist, every liked song, of a generated library."""
    checked = 0
    urls: list[str] = ["/me", "/me/tracks?limit=50", "/me/playlists?limit=50"]
    for playlist in generated.playlists:
        urls.append(f"/playlists/{playlist.id}?additional_types=track,episode")
        if playlist.readable_by(generated.user.id):
            urls.append(f"/playlists/{playlist.id}/items?limit=50&additional_types=track,episode")
    while urls:
        response = await generated_client.get(urls.pop())
        assert response.status_code == 200, response.text
        validate(response)
        checked += 1
        body = response.json()
        if isinstance(body.get("next"), str):
            urls.append(body["next"])
    assert checked > 40


def test_the_legacy_episode_shape_is_outside_the_spec(validate: SpecValidator) -> None:
    """Without `additional_types=episode`, episodes come as Spotify's legacy track-like
    objects (`type: "episode"`, album/artists from the show), which the spec does not
    describe: our client always asks for episodes, so only that form must validate."""
    legacy = json.loads(json.dumps({"type": "episode", "episode": True, "track": False}))
    page = {"href": "h", "limit": 1, "next": None, "offset": 0, "previous": None, "total": 1}
    body = {**page, "items": [{"is_local": False, "item": legacy, "track": legacy}]}
    request = httpx.Request("GET", f"{API}/playlists/{MINE}/items")
    response = httpx.Response(200, json=body, request=request)
    with pytest.raises(Exception, match="not valid"):
        validate(response)
