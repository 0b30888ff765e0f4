"""Every request our real `SpotifyClient` sends, and every answer it gets, matches Spotify's
OpenAPI spec: the client is driven through a whole fetch and every kind of playlist write
against the emulator, and the traffic is recorded on the way."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from app.spotify.models import SpotifyUser
from tests.helpers.spotify_openapi import load_validator

from .conftest import SpotifyWorld

pytestmark = pytest.mark.anyio


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests on to the emulator and keeps each request with its response."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        recorded = httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )
        self.exchanges.append((request, recorded))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )


async def test_the_client_speaks_the_spec_for_a_fetch_and_every_write(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    validator = load_validator()
    recorder = RecordingTransport(world.transport)
    async with world.client(api_transport=recorder) as client:
        await client.get_me()
        liked = await client.get_all_liked_tracks()
        playlists = await client.list_user_playlists()
        owned = next(p for p in playlists if p.owner.id == me.id)
        await client.get_playlist(owned.id)
        entries = await client.get_playlist_tracks(owned.id)
        tracks = [item.track.uri for item in liked if item.track is not None][:3]
        created = await client.create_playlist("Spec check", "made by a test")
        snapshot = await client.add_items(created.id, tracks)
        snapshot = await client.add_items(created.id, tracks[:1], position=0)
        snapshot = await client.reorder_items(created.id, 0, 3, 1, snapshot)
        snapshot = await client.remove_items(created.id, tracks[1:2], snapshot)
        await client.replace_items(created.id, tracks[::-1])
        await client.replace_items(created.id, [])
    assert liked and entries  # the fetch really read something

    kinds = Counter(
        (r.method, r.url.path.rsplit("/v1", 1)[1].split("/")[1]) for r, _ in recorder.exchanges
    )
    assert kinds[("GET", "me")] >= 3  # /me, /me/tracks pages, /me/playlists
    assert {method for method, _ in kinds} == {"GET", "POST", "PUT", "DELETE"}
    filtered = 0
    for request, response in recorder.exchanges:
        assert response.status_code < 400, (request.method, request.url, response.text[:200])
        validator.validate_request(request)
        if "fields" in request.url.params:
            # A `fields` answer is the subset asked for, which the spec cannot describe; the
            # unfiltered pages are validated by tests/emulators/test_spotify_openapi.py.
            filtered += 1
            continue
        validator(response)
    assert 0 < filtered < len(recorder.exchanges)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/me/tracks?limit=500", None),  # above the spec's maximum
        ("POST", "/me/playlists", {"public": False}),  # no name
        ("PUT", "/playlists/abc/items", {"range_start": "x", "insert_before": 0}),
        ("GET", "/me/albums/tracks", None),  # not an endpoint at all
    ],
)
def test_the_request_oracle_rejects_what_the_spec_forbids(
    method: str, path: str, body: dict[str, object] | None
) -> None:
    """The check above is only worth something if a wrong request fails it."""
    validator = load_validator()
    request = httpx.Request(
        method,
        f"https://api.spotify.com/v1{path}",
        json=body,
        headers={"Authorization": "Bearer token"},
    )
    with pytest.raises((AssertionError, Exception)) as caught:
        validator.validate_request(request)
    assert caught.type.__name__ in {
        "AssertionError",
        "InvalidParameter",
        "InvalidRequestBody",
    }, caught.value
