"""Faults the emulator injects, in process: rate limits, throttling, server errors, dropped
connections, latency; all reproducible from `fault_seed`. Plus the request log."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.model import GeneratedLibrary
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator

from .conftest import API

pytestmark = pytest.mark.anyio


async def statuses(client: httpx.AsyncClient, count: int) -> list[int]:
    return [(await client.get("/me")).status_code for _ in range(count)]


async def test_rolling_rate_limit_per_token_with_retry_after(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, anonymous: httpx.AsyncClient, clock: Clock
) -> None:
    emulator.config.rate_limit = 3
    assert await statuses(api, 3) == [200, 200, 200]
    limited = await api.get("/me")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "30"
    assert limited.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}

    other = emulator.grant_tokens()["access_token"]
    assert (await anonymous.get("/me", headers={"Authorization": f"Bearer {other}"})).is_success

    clock.advance(10.5)
    assert (await api.get("/me")).headers["retry-after"] == "20"  # whole seconds, rounded up
    clock.advance(20)
    assert await statuses(api, 4) == [200, 200, 200, 429]


async def test_random_throttling_uses_the_configured_retry_after(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    emulator.config.throttle_rate = 1.0
    emulator.config.throttle_retry_after = 7
    response = await api.get("/me/tracks")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    emulator.config.throttle_rate = 0.0
    assert (await api.get("/me/tracks")).status_code == 200


async def test_server_errors_have_spotify_bodies(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    emulator.config.fail_rate = 1.0
    for _ in range(10):
        response = await api.get("/me")
        assert response.status_code in {500, 502, 503}
        error = response.json()["error"]
        assert error["status"] == response.status_code
        assert error["message"]
    assert emulator.requests[-1].fault == "error"


async def _fault_pattern(library: GeneratedLibrary, seed: int) -> list[int]:
    config = SpotifyEmulatorConfig(fail_rate=0.3, throttle_rate=0.2, fault_seed=seed)
    emulator = SpotifyEmulator(library, config)
    token = emulator.grant_tokens()["access_token"]
    transport = emulator_transport(emulator.api_app, root_path="/v1")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as client:
        return await statuses(client, 40)


async def test_faults_are_reproducible_from_the_seed(library: GeneratedLibrary) -> None:
    first = await _fault_pattern(library, seed=7)
    assert first == await _fault_pattern(library, seed=7)
    assert first != await _fault_pattern(library, seed=8)
    assert {500, 502, 503} & set(first) and 429 in first and 200 in first


async def test_changing_the_seed_live_restarts_the_sequence(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    emulator.config.fail_rate = 0.5
    emulator.config.fault_seed = 11
    first = await statuses(api, 20)
    emulator.config.fault_seed = 12
    assert await statuses(api, 20) != first
    emulator.config.fault_seed = 11  # back to the start of seed 11's sequence
    assert await statuses(api, 20) == first
    emulator.reset_faults()  # the same, without changing the seed
    assert await statuses(api, 20) == first


async def test_dropped_connection_is_a_remote_protocol_error(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    emulator.config.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await api.get("/me/tracks")
    record = emulator.requests[-1]
    assert (record.path, record.status, record.fault) == ("/me/tracks", None, "drop")
    emulator.config.drop_rate = 0.0
    assert (await api.get("/me/tracks")).status_code == 200


async def test_latency_delays_every_api_request(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, clock: Clock
) -> None:
    clock.virtual_sleep = True  # the wait shows on the emulator's clock instead of taking time
    emulator.config.latency_ms = 60
    for path in ("/me", "/me/tracks"):
        before = clock.now()
        assert (await api.get(path)).status_code == 200
        assert clock.now() - before >= timedelta(milliseconds=60)


async def test_accounts_are_spared_unless_asked(
    emulator: SpotifyEmulator, accounts: httpx.AsyncClient
) -> None:
    emulator.config.fail_rate = 1.0
    form = {"grant_type": "refresh_token", "refresh_token": "nope", "client_id": "test-client"}
    assert (await accounts.post("/api/token", data=form)).status_code == 400  # a real answer
    emulator.config.faults_on_accounts = True
    assert (await accounts.post("/api/token", data=form)).status_code in {500, 502, 503}


async def test_request_log_records_what_the_client_did(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    emulator.requests.clear()
    before = emulator.clock.now()
    await api.get("/me/tracks", params={"limit": 2, "offset": 1})
    await anonymous.get("/me")
    await api.post("/me/playlists", json={"name": "Logged"})

    assert [(r.method, r.path, r.status) for r in emulator.requests] == [
        ("GET", "/me/tracks", 200),
        ("GET", "/me", 401),
        ("POST", "/me/playlists", 201),
    ]
    first = emulator.requests[0]
    assert first.query == {"limit": "2", "offset": "1"}
    assert first.service == "api"
    assert before <= first.time <= emulator.clock.now()
    assert first.headers["authorization"].startswith("Bearer ")
    assert [r.path for r in emulator.api_requests("/me")] == ["/me"]


def test_config_refuses_impossible_rates() -> None:
    with pytest.raises(ValueError, match="fail_rate"):
        SpotifyEmulatorConfig(fail_rate=1.5)
    with pytest.raises(ValueError, match="must not exceed 1"):
        SpotifyEmulatorConfig(fail_rate=0.6, drop_rate=0.6)
    with pytest.raises(ValueError, match="rate_limit"):
        SpotifyEmulatorConfig(rate_limit=0)


async def test_a_long_running_log_keeps_the_recent_requests(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    emulator.config.request_log_size = 3
    emulator.requests.clear()
    for offset in range(7):
        await api.get("/me/tracks", params={"offset": offset})
    kept = [record.query["offset"] for record in emulator.requests]
    assert kept == ["3", "4", "5", "6"]  # trimmed to 3 at the 7th, then appended
