"""Which requests fail, and how: random faults and Spotify's rolling rate limit.

Random faults come from one `random.Random(config.fault_seed)` and every request draws the
same two numbers whatever the rates are, so a given seed and request order always give the
same faults, even when a test changes a rate half-way. Changing `config.fault_seed` restarts
the sequence.

The rate limit counts the requests each access token made in the last
`config.rate_limit_window` seconds of the emulator's clock; over `config.rate_limit` the
answer is 429 with `Retry-After` = whole seconds until the oldest counted request leaves the
window. Refused requests are not counted.

`front_door` puts both in front of a service's routes (`common.gateway.Gateway`): the API always,
the accounts service only when `config.faults_on_accounts` asks for it.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.emulators.common.clock import Clock
from app.emulators.common.gateway import Gateway, Refusal, RequestRecord
from app.emulators.common.transport import ASGIApp, Scope
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.responses import error_body

SERVER_ERRORS = {
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable",
}


@dataclass(frozen=True)
class Fault:
    """What to do instead of answering: `kind` is "drop", "error", "throttle", "rate_limit"
    or "garble" (200 with a body cut off mid-way); `status` and `retry_after` apply to all
    but "drop"."""

    kind: str
    status: int = 0
    message: str = ""
    retry_after: int | None = None

    def refusal(self) -> Refusal:
        """The answer the emulated service gives instead of its own."""
        if self.kind == "drop":
            return Refusal("drop")
        if self.kind == "garble":
            return Refusal("garble", 200, GARBLED)
        headers = {} if self.retry_after is None else {"retry-after": str(self.retry_after)}
        return Refusal(self.kind, self.status, error_body(self.status, self.message), headers)


GARBLED = b'{"href":"https://api.spotify.com/v1/me/tracks","items":[{"added_at":"2026-'
"""A success whose JSON stops half-way, as a broken proxy or cache may deliver it."""


class FaultInjector:
    """Decides, request by request, whether a fault replaces the real answer."""

    def __init__(self, config: SpotifyEmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._seed = config.fault_seed
        self._rng = random.Random(config.fault_seed)  # noqa: S311 - reproducible, not secret
        self._windows: dict[str, deque[float]] = {}

    def decide(self, client_key: str) -> Fault | None:
        """The fault for the next request made with `client_key` (its token), if any."""
        if self.config.fault_seed != self._seed:
            self._seed = self.config.fault_seed
            self._rng.seed(self._seed)
        draw = self._rng.random()
        status = sorted(SERVER_ERRORS)[self._rng.randrange(len(SERVER_ERRORS))]
        config = self.config
        if draw < config.drop_rate:
            return Fault("drop")
        if draw < config.drop_rate + config.fail_rate:
            return Fault("error", status, SERVER_ERRORS[status])
        if draw < config.drop_rate + config.fail_rate + config.throttle_rate:
            return Fault("throttle", 429, "API rate limit exceeded", config.throttle_retry_after)
        if draw < config.drop_rate + config.fail_rate + config.throttle_rate + config.garble_rate:
            return Fault("garble", 200)
        return self._rate_limited(client_key)

    def _rate_limited(self, client_key: str) -> Fault | None:
        limit = self.config.rate_limit
        if limit is None:
            return None
        now = self.clock.timestamp()
        window = self._windows.setdefault(client_key, deque())
        span = self.config.rate_limit_window
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) >= limit:
            wait = max(1, math.ceil(window[0] + span - now))
            return Fault("rate_limit", 429, "API rate limit exceeded", wait)
        window.append(now)
        return None

    def reset(self) -> None:
        """Restart the random sequence from `config.fault_seed`; forget counted requests."""
        self._seed = self.config.fault_seed
        self._rng.seed(self._seed)
        self._windows.clear()


def front_door(
    app: ASGIApp,
    *,
    service: str,
    config: SpotifyEmulatorConfig,
    clock: Clock,
    faults: FaultInjector,
    log: list[RequestRecord],
    faulty: Callable[[], bool],
) -> Gateway:
    """`app` behind the request log; latency and faults only while `faulty()` says so."""

    def latency() -> float:
        return config.latency_ms if faulty() else 0.0

    def refuse(scope: Scope, headers: Mapping[str, str]) -> Refusal | None:
        if not faulty():
            return None
        fault = faults.decide(headers.get("authorization", ""))
        return None if fault is None else fault.refusal()

    return Gateway(
        app,
        service=service,
        clock=clock,
        log=log,
        log_size=lambda: config.request_log_size,
        latency_ms=latency,
        refuse=refuse,
    )
