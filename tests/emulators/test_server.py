"""The combined emulator server: its index, the mount points, and dropped connections over a
real uvicorn server on a loopback port."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from app.emulators.common.transport import ASGIApp, emulator_transport
from app.emulators.library.model import GeneratedLibrary
from app.emulators.server import EmulatorServer, create_emulator_server
from app.emulators.spotify.config import SpotifyEmulatorConfig

from .conftest import BIG, REDIRECT

pytestmark = pytest.mark.anyio


@pytest.fixture
def server(library: GeneratedLibrary) -> EmulatorServer:
    return create_emulator_server(library=library, config=SpotifyEmulatorConfig(), latency_ms=0)


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """`app` under uvicorn on a free loopback port, in this event loop; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="off", log_level="info"
    )
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    while not running.started:
        await asyncio.sleep(0.01)
    port = running.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        await task


@pytest.fixture
async def served(server: EmulatorServer) -> AsyncIterator[str]:
    async with serve(server) as url:
        yield url


async def raw_get(base: str, path: str, headers: dict[str, str]) -> bytes:
    """Everything a server sends back to one raw HTTP/1.1 request, until it hangs up."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()


def bearer(server: EmulatorServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.spotify.grant_tokens()['access_token']}"}


async def test_index_lists_services_from_the_request_url(server: EmulatorServer) -> None:
    transport = emulator_transport(server)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu.test:8899") as client:
        index = (await client.get("/")).json()
    assert index == {
        "services": {
            "spotify_api": "http://emu.test:8899/spotify/v1",
            "spotify_accounts": "http://emu.test:8899/spotify/accounts",
            "musicbrainz": "http://emu.test:8899/musicbrainz/ws/2",
            "listenbrainz": "http://emu.test:8899/listenbrainz/1",
            "deezer": "http://emu.test:8899/deezer",
            "reccobeats": "http://emu.test:8899/reccobeats/v1",
            "lastfm": "http://emu.test:8899/lastfm/2.0",
            "llm": "http://emu.test:8899/llm/v1",
            "acousticbrainz": "http://emu.test:8899/acousticbrainz",
        }
    }


async def test_index_can_announce_a_public_base_url(library: GeneratedLibrary) -> None:
    server = create_emulator_server(library=library, base_url="https://emu.example/")
    transport = emulator_transport(server)
    async with httpx.AsyncClient(transport=transport, base_url="http://internal") as client:
        index = (await client.get("/")).json()
    assert index["services"]["spotify_api"] == "https://emu.example/spotify/v1"


async def test_keyword_faults_override_the_config(library: GeneratedLibrary) -> None:
    config = SpotifyEmulatorConfig(latency_ms=5, fault_seed=3)
    server = create_emulator_server(library=library, config=config, fail_rate=0.25, rate_limit=9)
    settings = server.spotify.config
    assert (settings.latency_ms, settings.fail_rate, settings.rate_limit) == (5, 0.25, 9)
    assert settings.fault_seed == 3
    assert config.fail_rate == 0.0  # the caller's config is left alone


async def test_mounted_services_link_to_their_own_prefix(server: EmulatorServer) -> None:
    transport = emulator_transport(server)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu.test") as client:
        page = (
            await client.get(f"/spotify/v1/playlists/{BIG}/items", headers=bearer(server))
        ).json()
        assert (
            page["next"] == f"http://emu.test/spotify/v1/playlists/{BIG}/items?offset=20&limit=20"
        )
        follow = await client.get(page["next"], headers=bearer(server))
        assert follow.json()["offset"] == 20
        authorize = await client.get(
            "/spotify/accounts/authorize", params={"client_id": "x", "redirect_uri": REDIRECT}
        )
    assert authorize.headers["location"].startswith(f"{REDIRECT}?error=unsupported_response_type")
    assert [r.path for r in server.spotify.requests] == [
        f"/playlists/{BIG}/items",
        f"/playlists/{BIG}/items",
        "/authorize",
    ]


async def test_a_dropped_connection_in_process_through_the_mount(server: EmulatorServer) -> None:
    server.spotify.config.drop_rate = 1.0
    transport = emulator_transport(server)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu.test") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/spotify/v1/me", headers=bearer(server))


async def test_real_server_answers_and_drops_connections_without_a_byte(
    server: EmulatorServer, served: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        me = await client.get("/spotify/v1/me", headers=bearer(server))
        assert me.status_code == 200
        assert me.json()["href"] == f"{served}/spotify/v1/users/emuuser"

        server.spotify.config.drop_rate = 1.0
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/spotify/v1/me", headers=bearer(server))

    # At the socket level: the request goes out, the connection closes, nothing comes back.
    assert await raw_get(served, "/spotify/v1/me", bearer(server)) == b""

    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert problems == []  # uvicorn neither crashed nor tried to answer 500
    assert [r.status for r in server.spotify.api_requests("/me")] == [200, None, None]


async def test_the_api_app_alone_under_uvicorn_also_drops_cleanly(server: EmulatorServer) -> None:
    spotify = server.spotify
    spotify.config.drop_rate = 1.0
    async with serve(spotify.api_app) as url:
        assert await raw_get(url, "/me", bearer(server)) == b""
        spotify.config.drop_rate = 0.0
        answer = await raw_get(url, "/me", bearer(server))
    assert answer.startswith(b"HTTP/1.1 200 OK")


async def test_the_provider_emulators_serve_the_same_library(server: EmulatorServer) -> None:
    track = next(t for t in server.library.tracks.values() if t.isrc and t.truth.in_deezer)
    transport = emulator_transport(server)
    headers = {"User-Agent": "spotify-auto-playlists-tests/1.0 ( tests@example.org )"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emu.test:8899", headers=headers
    ) as client:
        deezer = (await client.get(f"/deezer/track/isrc:{track.isrc}")).json()
        stats = (await client.get("/_stats")).json()
    assert deezer["isrc"] == track.isrc
    assert stats["requests"]["deezer"] == 1
