"""Throttling is reported as it happens: a service's "slow down" (and another request's pause a
request waits out) reaches whoever listens, in plain words, and nobody else. Same scripted
services and injected clock as test_client.py."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from app.emulators.common.transport import emulator_transport
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import RetryPolicy
from app.net.throttling import Throttling, listening
from app.providers.http import provider_policy
from tests.net.test_client import BASE, OK, Clock, ScriptedService, answer, client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_429_is_reported_with_the_wait_it_asked_for() -> None:
    clock = Clock()
    service = ScriptedService([answer(429, retry_after="4"), OK], clock)
    heard: list[Throttling] = []
    with listening(heard.append):
        async with client(service, clock) as http:
            assert (await http.request("GET", "/things")).status_code == 200
    assert heard == [Throttling("service.test", 4.0, "asked")]
    assert heard[0].text() == "service.test asked us to slow down; resuming in 4 s"


async def test_a_request_waiting_for_another_ones_pause_is_reported_once() -> None:
    clock = Clock()
    pacer = HostPacer(0.0, clock=clock)
    refusing = ScriptedService([answer(429, retry_after="6"), OK], clock)
    other = ScriptedService([OK], clock)
    heard: list[Throttling] = []
    with listening(heard.append):
        async with client(refusing, clock, pacer=pacer) as first:
            pacer.pause(6.0)  # what the first one's 429 does, before the second one starts
            async with client(other, clock, pacer=pacer) as second:
                await second.request("GET", "/other-things")
            await first.request("GET", "/things")
    # The second client waited out the pause (reported as such); the first one's own 429 is
    # reported once, not again when it waits for the pause it caused.
    assert [(t.cause, t.seconds) for t in heard] == [("paused", 6.0), ("asked", 6.0)]


async def test_the_ordinary_pace_is_not_a_slowdown() -> None:
    clock = Clock()
    pacer = HostPacer(2.0, clock=clock)  # one request every 2 s: waits, but nobody asked
    service = ScriptedService([OK], clock)
    heard: list[Throttling] = []
    with listening(heard.append):
        async with client(service, clock, pacer=pacer) as http:
            for _ in range(3):
                await http.request("GET", "/things")
    assert clock.slept and heard == []


async def test_nobody_listening_and_a_failing_listener_change_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    service = ScriptedService([answer(429, retry_after="1"), OK], clock)
    async with client(service, clock) as http:
        assert (await http.request("GET", "/things")).status_code == 200

    def broken(_throttling: Throttling) -> None:
        raise ValueError("listener bug")

    service = ScriptedService([answer(429, retry_after="1"), OK], clock)
    with listening(broken):
        async with client(service, clock) as http:
            assert (await http.request("GET", "/things")).status_code == 200
    assert "could not note that service.test asked us to slow down" in caplog.text


def test_provider_services_are_named_as_people_name_them() -> None:
    settings = Settings(spotify_client_id="x", deezer_url="http://127.0.0.1:9/emulator/deezer")
    named = {
        settings.deezer_url: "Deezer",
        settings.musicbrainz_url: "MusicBrainz",
        settings.lastfm_url: "Last.fm",
        "https://elsewhere.example/api/": "elsewhere.example/api",
    }
    for url, name in named.items():
        assert provider_policy(settings, url).name == name


async def test_the_label_names_the_service_in_the_note() -> None:
    clock = Clock()
    service = ScriptedService([answer(429, retry_after="4"), OK], clock)
    policy = RetryPolicy(
        service="api.deezer.com",
        label="Deezer",
        code="provider_unavailable",
        attempts=2,
        throttled_attempts=3,
        max_wait=60,
        max_wait_setting="SAP_PROVIDER_MAX_RETRY_AFTER",
    )
    heard: list[Throttling] = []
    with listening(heard.append):
        async with ServiceClient(
            BASE,
            policy,
            pacer=HostPacer(0.0, clock=clock),
            transport=emulator_transport(service),
            sleep=clock.sleep,
        ) as http:
            await http.request("GET", "/track/1")
    assert [t.text() for t in heard] == ["Deezer asked us to slow down; resuming in 4 s"]
