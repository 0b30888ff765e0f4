"""Whether a provider's service answers now: one GET of its base URL, no retry, a short timeout.

    status = await probe_service(settings, "https://api.deezer.com")
    status.state, status.detail   # ("down", "Deezer answered 503 Service Unavailable")

- **up**: any answer below 500 but 429 (an API's root often answers 404 or 400: the server is
  there and talking);
- **throttled**: a 429, or a 503 with `Retry-After` (the service is there, asking us to slow
  down), or a pause one of our runs is waiting out for that service (then nothing is sent:
  a probe must not add to the load a service refused);
- **down**: any other 5xx, a timeout, a refused connection or a name that does not resolve.

The probe sends no credentials (an API key has no business in a health check) and goes
through the provider run's transport (demo mode and tests reach the emulators in process).
Which URL a provider calls is `service_setting`: the first of its settings that names a
service (`SERVICE_LABELS`).

`ServiceChecks` keeps the last check of each service (one per process: `Services.service_checks`)
`ttl` seconds (default `SERVICE_CHECK_TTL`), whatever it found: a page that lists providers (the
Enrichment screen, read again after every job) must not send a request to every service each
time; `refresh` checks again now. What a run learns is kept too: a provider that failed because
its service did not answer (`provider_unavailable`) marks that service down until the next check
(`app.pipeline.enrichment.service`), so the screen says so at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal, NamedTuple

import httpx
from pydantic import BaseModel, Field

from app.core.config import Settings
from app.core.models import utc_now
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import retry_after_seconds
from app.providers.base import FeatureProvider
from app.providers.http import SERVICE_LABELS, provider_policy, service_label, user_agent
from app.providers.registry import get_feature_provider

PROBE_TIMEOUT = 3.0
"""Seconds a probe waits for an answer: a service slower than this to say anything at all is
reported down (its requests during a run wait up to ``SAP_PROVIDER_TIMEOUT``)."""

ServiceState = Literal["up", "throttled", "down"]


class ServiceStatus(BaseModel):
    """What the last check of a provider's service found."""

    url: str = Field(description="The service's base URL (the provider's URL setting).")
    service: str = Field(description='The service as people name it ("Deezer").')
    state: ServiceState = Field(
        description="`up`: it answered; `throttled`: it asked us to slow down (429, or a 503 "
        "with Retry-After, or a pause a run is waiting out); `down`: a 5xx, a timeout or no "
        "connection."
    )
    detail: str = Field(description="What was found, in words.")
    retry_after: float | None = Field(
        default=None, description="For `throttled`: seconds the service asked us to wait."
    )
    checked_at: datetime = Field(description="When it was checked.")


def service_setting(provider: FeatureProvider) -> str | None:
    """The setting naming the service `provider` calls (None: it calls none, or it is not
    set, as AcousticBrainz reading a dump)."""
    for name in provider.settings_used:
        if name in SERVICE_LABELS and getattr(provider.settings, name, None):
            return name
    return None


async def probe_service(
    settings: Settings,
    base_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = PROBE_TIMEOUT,
    now: Callable[[], datetime] = utc_now,
) -> ServiceStatus:
    """One GET of `base_url`, classified as the module docstring says."""
    url = base_url.rstrip("/")
    label = service_label(settings, url)

    def status(state: ServiceState, detail: str, wait: float | None = None) -> ServiceStatus:
        return ServiceStatus(
            url=url, service=label, state=state, detail=detail, retry_after=wait, checked_at=now()
        )

    pacer = HostPacer.existing(url)
    paused = pacer.paused_for() if pacer is not None else 0.0
    if paused > 0:
        return status(
            "throttled", f"{label} asked us to slow down; resuming in {paused:.0f} s", paused
        )
    client = ServiceClient(
        url,
        provider_policy(settings, url),
        pacer=HostPacer(0.0),
        transport=transport,
        timeout=timeout,
        headers={"User-Agent": user_agent(settings)},
    )
    try:
        async with client:
            response = await client.send_once("GET", "")
    except httpx.TimeoutException:
        return status("down", f"{label} did not answer within {timeout:.0f} s")
    except httpx.TransportError as exc:
        return status("down", f"cannot reach {label} ({type(exc).__name__}: {exc or 'no answer'})")
    code = response.status_code
    asked = "retry-after" in response.headers
    wait = retry_after_seconds(response) if code == 429 or asked else None
    if code == 429 or (code == 503 and asked):
        after = f"; it asks us to wait {wait:.0f} s" if wait is not None else ""
        return status("throttled", f"{label} is asking us to slow down (HTTP {code}){after}", wait)
    if code >= 500:
        return status("down", f"{label} answered {code} {response.reason_phrase}".rstrip())
    return status("up", f"{label} answered (HTTP {code})")


SERVICE_CHECK_TTL = 60.0
"""Seconds a service check is kept (`refresh` checks again at once)."""


class _Kept(NamedTuple):
    at: float  # the clock's time of the check
    status: ServiceStatus


class ServiceChecks:
    """The last check of each provider service (by base URL), kept `ttl` seconds."""

    def __init__(
        self, ttl: float = SERVICE_CHECK_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.probes = 0  # requests sent so far (what a test counts to see the cache at work)
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def kept(self, url: str) -> ServiceStatus | None:
        """The check of `url` if it is younger than `ttl`."""
        with self._lock:
            found = self._kept.get(url.rstrip("/"))
        if found is None or self.clock() - found.at >= self.ttl:
            return None
        return found.status

    def remember(self, status: ServiceStatus) -> None:
        with self._lock:
            self._kept[status.url] = _Kept(self.clock(), status)

    async def check(
        self,
        settings: Settings,
        urls: Sequence[str],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        refresh: bool = False,
    ) -> dict[str, ServiceStatus]:
        """The status of each of `urls`: kept ones as they are, the others probed together."""
        found: dict[str, ServiceStatus] = {}
        stale: list[str] = []
        for url in dict.fromkeys(u.rstrip("/") for u in urls):
            status = None if refresh else self.kept(url)
            if status is None:
                stale.append(url)
            else:
                found[url] = status
        if stale:
            with self._lock:
                self.probes += len(stale)
            fresh = await asyncio.gather(
                *(probe_service(settings, url, transport=transport) for url in stale)
            )
            for status in fresh:
                self.remember(status)
                found[status.url] = status
        return found


def service_url(settings: Settings, provider_id: str) -> str | None:
    """The base URL of the service `provider_id` calls, or None."""
    setting = service_setting(get_feature_provider(provider_id, settings))
    return None if setting is None else str(getattr(settings, setting)).rstrip("/")
