"""What every provider emulator (Deezer, ReccoBeats, Last.fm; MusicBrainz and ListenBrainz use
the window, the rate checks and `RandomFaults`) shares: settings, the request
log, injected latency/faults and a sliding-window rate limiter on the emulator clock.

`ProviderGate` wraps a service's ASGI app like the Spotify `Gateway`: it logs each request as a
`RequestRecord` (service, method, path below the mount point, query, clock time, status,
fault), sleeps `latency_ms`, and answers a `fail_rate` share of requests with a bare 5xx (what
a proxy in front of the real service gives) or hangs up on a `drop_rate` share. Rate limits are
the services' own business (their refusals have service-specific bodies), so handlers call
`SlidingWindow.hit` and mark the logged record with `mark_fault`.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from app.emulators.common.clock import Clock
from app.emulators.common.transport import ASGIApp, Message, Receive, Scope, Send, drop_connection
from app.emulators.spotify.gateway import RequestRecord, relative_path, remember

_RECORD_KEY = "emulator.record"
_SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class ProviderConfig:
    """Settings every provider emulator has; mutable, so tests can switch faults live.

    `rate_limit` requests per rolling `rate_window` seconds of the emulator clock (`None`: no
    limit); random faults come from `random.Random(fault_seed)`, one draw per request.
    """

    latency_ms: float = 0
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    fault_seed: int = 0
    rate_limit: int | None = None
    rate_window: float = 1.0
    request_log_size: int = 100_000

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise `ValueError` for impossible settings."""
        check_fault_rates(self.fail_rate, self.drop_rate)
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 (or None for no limit)")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be positive")


def check_fault_rates(fail_rate: float, drop_rate: float) -> None:
    """Raise `ValueError` unless both shares are in [0, 1] and together at most 1."""
    for name, value in (("fail_rate", fail_rate), ("drop_rate", drop_rate)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    if fail_rate + drop_rate > 1.0:
        raise ValueError("fail_rate + drop_rate must not exceed 1")


class SlidingWindow:
    """Counts requests per key over a rolling window of the emulator clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._windows: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int | None, window: float) -> int | None:
        """Count a request; over `limit`, refuse it (uncounted) and return whole seconds
        until a slot frees up."""
        if limit is None:
            return None
        now = self.clock.timestamp()
        times = self._windows.setdefault(key, deque())
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            return max(1, math.ceil(times[0] + window - now))
        times.append(now)
        return None

    def reset(self) -> None:
        self._windows.clear()


class RandomFaults:
    """Seeded random faults: every request draws the same two numbers whatever the rates,
    so changing a rate mid-test does not shift the sequence; a new seed restarts it."""

    STATUSES = tuple(sorted(_SERVER_ERRORS))  # (500, 502, 503)

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - reproducible, not secret

    def draw(self, seed: int, fail_rate: float, drop_rate: float) -> str | int | None:
        """ "drop", an HTTP status, or None."""
        if seed != self.seed:
            self.seed = seed
            self._rng.seed(seed)
        value = self._rng.random()
        status = self.STATUSES[self._rng.randrange(len(self.STATUSES))]
        if value < drop_rate:
            return "drop"
        if value < drop_rate + fail_rate:
            return status
        return None


def mark_fault(request: Request, kind: str) -> None:
    """Record on the logged request that the handler refused it (e.g. "rate_limit")."""
    record = request.scope.get(_RECORD_KEY)
    if isinstance(record, RequestRecord):
        record.fault = kind


class ProviderGate:
    """Outermost layer of a provider emulator: request log, latency, random faults."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        config: ProviderConfig,
        clock: Clock,
        log: list[RequestRecord],
    ) -> None:
        self.app = app
        self.service = service
        self.config = config
        self.clock = clock
        self.log = log
        self._faults = RandomFaults(config.fault_seed)

    def reset(self) -> None:
        """Restart the random fault sequence from `config.fault_seed`."""
        self._faults = RandomFaults(self.config.fault_seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        record = RequestRecord(
            self.service,
            scope["method"],
            relative_path(scope),
            dict(request.query_params),
            self.clock.now(),
        )
        record.headers = dict(request.headers)
        remember(self.log, record, self.config.request_log_size)
        if self.config.latency_ms > 0:
            await self.clock.sleep(self.config.latency_ms / 1000)
        config = self.config
        fault = self._faults.draw(config.fault_seed, config.fail_rate, config.drop_rate)
        if fault == "drop":
            record.fault = "drop"
            await drop_connection(scope, send)
            return

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        if isinstance(fault, int):
            record.fault = "error"
            response = PlainTextResponse(_SERVER_ERRORS[fault], status_code=fault)
            await response(scope, receive, logged_send)
            return
        scope = dict(scope)
        scope[_RECORD_KEY] = record
        await self.app(scope, receive, logged_send)


def stable_int(text: str, low: int, high: int) -> int:
    """A number in [low, high) derived from `text` alone (same in every process)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return low + int.from_bytes(digest, "big") % (high - low)
