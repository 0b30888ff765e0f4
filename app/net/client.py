"""The HTTP client of one outside service: every request paced, retried and named by policy.

    pacer = HostPacer.for_service("https://api.deezer.com", rate=9.0)
    async with ServiceClient("https://api.deezer.com", policy, pacer=pacer) as deezer:
        response = await deezer.request("GET", "/track/isrc:GBAAA2600001", check=check_deezer)

Spotify, its accounts service and every enrichment provider talk through one of these; apart
from the emulators, nothing else in `app/` builds an httpx client. Per request:

- a concurrency slot, when the client has a bound (Spotify reads pages eight at a time);
- the service's pace (`HostPacer`, shared by every thread of the process), for every request
  on the wire: retries, and the one an `httpx.Auth` sends again after a 401, wait their turn;
- the `RetryPolicy`'s budgets: throttling answers are waited out on the pacer (everyone
  waits), server and transport errors are retried by stamina, each within its own count;
- each throttling wait (and each wait for another request's pause) reported as a
  `Throttling` to whoever listens (`app.net.throttling`: a job shows it as a note).

What is service-specific stays out of the loop: `check(response)` reads a service's own
signals (raise `Throttled` or `Transient`), `auth` adds credentials (`httpx.Auth`), and the
answer is returned as it came for the caller to map (any status below 500 but throttling).
`transport` lets tests and demo mode reach in-process emulators; `sleep` lets a test wait on
its own clock.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import stamina

from app.core.errors import BadRequestError
from app.net.pacing import HostPacer
from app.net.policy import (
    RetryPolicy,
    Throttled,
    Transient,
    never_sent,
    replayable,
    retry_after_seconds,
)
from app.net.throttling import REPORTED_PAUSE, Throttling, report
from app.net.tls import tls_context

CheckFn = Callable[[httpx.Response], None]
SleepFn = Callable[[float], Awaitable[None]]

_ASKED = "sap.throttled"  # a request extension: this request's wait was reported
_UNPACED = "sap.unpaced"  # a request extension: a probe, outside the service's pace

THROTTLE_JITTER = 0.25
"""Up to this many seconds added to a throttling wait, so that the requests one pause held
back do not all start in the same instant when it ends."""


@dataclass
class _Tally:
    """What one request has cost so far, against the policy's two budgets."""

    sent: int = 0
    throttled: int = 0


class ServiceClient:
    """An httpx client for one service, sending every request under its `RetryPolicy`."""

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        *,
        pacer: HostPacer,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        concurrency: int | None = None,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.pacer = pacer
        self.requests = 0  # requests sent on the wire, retries included
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency) if concurrency else None
        limits = (
            httpx.Limits(max_connections=concurrency * 2)
            if concurrency
            else httpx.Limits(max_connections=100, max_keepalive_connections=20)
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            transport=transport,
            verify=tls_context(),
            timeout=timeout,
            limits=limits,
            headers=headers,
            auth=auth,
            event_hooks={"request": [self._pace]},
        )

    @property
    def service(self) -> str:
        return self.policy.service

    async def __aenter__(self) -> ServiceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        replay_safe: bool = True,
        check: CheckFn | None = None,
    ) -> httpx.Response:
        """Send one request (`path` relative to the base URL, or absolute) under the policy;
        the answer, unless it is throttling or a server error (`RateLimitedError` or
        `UpstreamError` once their budget is spent).

        `replay_safe=False` for writes that must not happen twice (see `app.net.policy`).
        `check(response)` may raise `Throttled` or `Transient` for a service's own signals;
        it sees every answer below 500 that is not a 429.
        """
        try:
            request = self._http.build_request(
                method, path.lstrip("/"), params=params, json=json, data=data
            )
        except httpx.InvalidURL as exc:
            # A value that cannot be part of a URL (a control character in an id) is the
            # caller's mistake: said as such, never sent.
            raise BadRequestError(
                f"cannot ask {self.policy.service} for {path[:80]!r}: {exc}",
                code="invalid_request_url",
            ) from None
        policy = self.policy
        tally = _Tally()
        try:
            async for attempt in stamina.retry_context(
                on=replayable if replay_safe else never_sent,
                attempts=policy.attempts,
                timeout=None,
                wait_initial=policy.backoff[0],
                wait_max=policy.backoff[1],
            ):
                with attempt:
                    response = await self._until_served(request, tally, replay_safe, check)
        except (Throttled, Transient, httpx.TransportError) as exc:
            raise policy.failure(exc, method, path, tally.sent) from None
        return response

    async def send_once(self, method: str, path: str) -> httpx.Response:
        """Send one request outside the policy: no retry, no throttling wait, no pacing (a
        health probe must not queue behind a paused service, nor pause it). Transport errors
        (`httpx.TransportError`, timeouts included) reach the caller as they are."""
        request = self._http.build_request(method, path.lstrip("/"))
        request.extensions[_UNPACED] = True
        return await self._http.send(request)

    async def _until_served(
        self, request: httpx.Request, tally: _Tally, replay_safe: bool, check: CheckFn | None
    ) -> httpx.Response:
        """Send `request` again after each throttling answer, within the throttling budget;
        a server error raises `Transient` for stamina to retry within the other one."""
        while True:
            tally.sent += 1
            if self._slots is None:
                response = await self._http.send(request)
            else:
                async with self._slots:
                    response = await self._http.send(request)
            wait = _asked_wait(response, replay_safe, check)
            if wait is None:
                return response
            if wait > self.policy.max_wait:
                raise Throttled(wait)  # we will not wait that long: nor should anyone else
            self.pacer.pause(wait)  # we wait, and so does every client of the service
            tally.throttled += 1
            if tally.throttled >= self.policy.throttled_attempts:
                raise Throttled(wait)
            report(Throttling(self.policy.name, wait, "asked"))
            request.extensions[_ASKED] = True  # its own wait is reported: not again in `_pace`
            await self._sleep(random.uniform(0.0, THROTTLE_JITTER))  # noqa: S311 - jitter only

    async def _pace(self, request: httpx.Request) -> None:
        """Before each request on the wire: wait for the service's pace (and any pause,
        reported when it is another request's: see `app.net.throttling`)."""
        if request.extensions.pop(_UNPACED, False):
            return
        delay = self.pacer.reserve()
        asked = request.extensions.pop(_ASKED, False)
        if delay > 0:
            if delay >= REPORTED_PAUSE and not asked and self.pacer.paused_for() > 0:
                report(Throttling(self.policy.name, delay, "paused"))
            await self._sleep(delay)
        self.requests += 1


def _asked_wait(response: httpx.Response, replay_safe: bool, check: CheckFn | None) -> float | None:
    """The wait a throttling answer asks for; None for any other answer below 500.

    A 503 with `Retry-After` is throttling only for a request that may be replayed: for a
    write, a 503 does not prove that nothing was done."""
    status = response.status_code
    if status == 429 or (status == 503 and replay_safe and "retry-after" in response.headers):
        return retry_after_seconds(response)
    if status >= 500:
        raise Transient(f"HTTP {status}")
    if check is not None:
        try:
            check(response)
        except Throttled as exc:
            return exc.retry_after
    return None
