"""Whether each provider's service answers, against the emulators: up, down (a 5xx, nobody
listening), throttled (a 429 with Retry-After, or a pause a run is waiting out), each check kept
a minute (counted, on an injected clock) and refreshed on demand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.net.pacing import HostPacer
from app.pipeline.enrichment.service import ProviderInfo, provider_status
from app.pipeline.services import Services
from app.providers.probe import ServiceChecks, ServiceStatus, probe_service
from tests.helpers.browser import free_port
from tests.helpers.provider_env import BASE, ProviderEnv


@pytest.fixture
def env(tmp_path: Path) -> ProviderEnv:
    return ProviderEnv.create(tmp_path, tracks=10, store_tracks=False)


def statuses(services: Services, refresh: bool = False) -> dict[str, ProviderInfo]:
    return {row.id: row for row in asyncio.run(provider_status(services, refresh=refresh))}


def test_every_enabled_provider_s_service_answers_up(env: ProviderEnv) -> None:
    rows = statuses(env.services)
    checked = {pid: row.service for pid, row in rows.items() if row.service is not None}
    assert set(checked) >= {"musicbrainz", "deezer", "reccobeats", "lastfm"}
    for pid, service in checked.items():
        assert service.state == "up", (pid, service)
        assert service.url.startswith(BASE)
    assert checked["deezer"].service == "Deezer"
    assert checked["deezer"].detail.startswith("Deezer answered (HTTP ")
    assert rows["manual"].service is None  # nothing to call


def test_a_service_answering_5xx_is_down_and_the_check_is_kept_until_refreshed(
    env: ProviderEnv,
) -> None:
    checks = env.services.service_checks
    statuses(env.services)
    probes = checks.probes
    env.emulators.providers.deezer.config.fail_rate = 1.0
    kept = statuses(env.services)  # within the minute: the kept answers, nothing sent
    assert kept["deezer"].service is not None and kept["deezer"].service.state == "up"
    assert checks.probes == probes
    fresh = statuses(env.services, refresh=True)
    deezer = fresh["deezer"].service
    assert deezer is not None and deezer.state == "down"
    assert deezer.detail.startswith("Deezer answered 50"), deezer.detail
    assert fresh["reccobeats"].service is not None
    assert fresh["reccobeats"].service.state == "up"
    assert checks.probes > probes


def test_a_check_is_kept_for_its_ttl_on_the_clock() -> None:
    now = [100.0]
    checks = ServiceChecks(ttl=60, clock=lambda: now[0])
    status = ServiceStatus(
        url="https://api.deezer.com",
        service="Deezer",
        state="up",
        detail="Deezer answered (HTTP 404)",
        checked_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    checks.remember(status)
    now[0] += 59
    assert checks.kept("https://api.deezer.com/") == status
    now[0] += 1
    assert checks.kept("https://api.deezer.com") is None


def test_a_service_nobody_answers_is_down(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the service is stopped
    env = ProviderEnv.create(
        tmp_path, tracks=5, store_tracks=False, deezer_url=f"http://127.0.0.1:{port}/deezer"
    )
    object.__setattr__(env.services, "provider_transport", None)  # the real network stack
    deezer = statuses(env.services)["deezer"].service
    assert deezer is not None and deezer.state == "down"
    assert deezer.detail.startswith("cannot reach Deezer (ConnectError"), deezer.detail


def test_a_service_asking_to_slow_down_is_throttled(env: ProviderEnv) -> None:
    listenbrainz = env.emulators.providers.listenbrainz.config
    listenbrainz.rate_limit, listenbrainz.rate_limit_window = 1, 3600.0
    url = env.settings.listenbrainz_url

    def probe() -> ServiceStatus:
        return asyncio.run(
            probe_service(env.settings, url, transport=env.services.provider_transport)
        )

    assert probe().state == "up"  # the one request the window allows
    again = probe()
    assert again.state == "throttled"
    assert again.detail.startswith("ListenBrainz is asking us to slow down (HTTP 429)")


def test_a_pause_a_run_waits_out_is_reported_without_asking(tmp_path: Path) -> None:
    # A host of its own: the pause stays in the process's pacer for this URL only.
    url = "http://paused.emulators.test/lastfm/2.0"
    env = ProviderEnv.create(tmp_path, tracks=5, store_tracks=False, lastfm_url=url)
    HostPacer.for_service(url, None).pause(30)
    lastfm = statuses(env.services)["lastfm"].service
    assert lastfm is not None and lastfm.state == "throttled"
    assert lastfm.detail == "Last.fm asked us to slow down; resuming in 30 s"
    assert env.emulators.providers.lastfm.requests == []
