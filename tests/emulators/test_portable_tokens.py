"""Signed ("portable") tokens: what lets every demo process honour the same login."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.model import GeneratedLibrary
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator
from tests.emulators.conftest import ACCOUNTS, API

pytestmark = pytest.mark.anyio


def _emulator(
    library: GeneratedLibrary, secret: str | None, clock: Clock | None = None
) -> SpotifyEmulator:
    config = SpotifyEmulatorConfig(client_id="demo", token_secret=secret)
    return SpotifyEmulator(library, config, clock or Clock())


async def _me(emulator: SpotifyEmulator, access: str) -> int:
    transport = emulator_transport(emulator.api_app, root_path="/v1")
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        response = await http.get("/me", headers={"Authorization": f"Bearer {access}"})
    return response.status_code


async def _refresh(emulator: SpotifyEmulator, refresh: str) -> httpx.Response:
    transport = emulator_transport(emulator.accounts_app)
    async with httpx.AsyncClient(transport=transport, base_url=ACCOUNTS) as http:
        return await http.post(
            "/api/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "demo"},
        )


async def test_a_token_from_one_emulator_works_in_another_with_the_same_secret(
    library: GeneratedLibrary,
) -> None:
    first, second = _emulator(library, "s3cret"), _emulator(library, "s3cret")
    tokens = first.grant_tokens(client_id="demo")
    assert await _me(second, str(tokens["access_token"])) == 200
    refreshed = await _refresh(second, str(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    assert await _me(first, refreshed.json()["access_token"]) == 200


async def test_other_secrets_and_plain_emulators_refuse_it(library: GeneratedLibrary) -> None:
    tokens = _emulator(library, "s3cret").grant_tokens(client_id="demo")
    for other in (_emulator(library, "another"), _emulator(library, None)):
        assert await _me(other, str(tokens["access_token"])) == 401
        refused = await _refresh(other, str(tokens["refresh_token"]))
        assert refused.json()["error"] == "invalid_grant"


async def test_a_forged_token_is_refused(library: GeneratedLibrary) -> None:
    emulator = _emulator(library, "s3cret")
    access = str(emulator.grant_tokens(client_id="demo")["access_token"])
    body, _, signature = access.rpartition(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    assert await _me(_emulator(library, "s3cret"), forged) == 401


async def test_rotation_and_the_six_month_limit_still_hold(library: GeneratedLibrary) -> None:
    clock = Clock()
    first = _emulator(library, "s3cret", clock)
    second = _emulator(library, "s3cret", clock)
    refresh = str(first.grant_tokens(client_id="demo")["refresh_token"])
    assert (await _refresh(second, refresh)).status_code == 200
    reused = await _refresh(second, refresh)
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    later = str(first.grant_tokens(client_id="demo")["refresh_token"])
    clock.advance(timedelta(days=184))
    expired = await _refresh(second, later)
    assert expired.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token revoked",
    }


async def test_access_tokens_still_expire(library: GeneratedLibrary) -> None:
    clock = Clock()
    access = str(_emulator(library, "s3cret", clock).grant_tokens(client_id="demo")["access_token"])
    clock.advance(timedelta(hours=2))
    assert await _me(_emulator(library, "s3cret", clock), access) == 401
