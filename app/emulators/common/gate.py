"""What the provider emulators share (Deezer, ReccoBeats, Last.fm, AcousticBrainz, the LLM;
MusicBrainz and ListenBrainz use the window and `RandomFaults`): their settings, seeded random
faults and a sliding-window rate limiter on the emulator clock.

`ProviderFaults.gateway` puts a service behind the common `Gateway` (request log, latency) and
answers a `fail_rate` share of requests with a bare 5xx (what a proxy in front of the real
service gives) or hangs up on a `drop_rate` share. Rate limits are the services' own business
(their refusals have service-specific bodies), so handlers call `SlidingWindow.hit` and mark the
logged record with `gateway.mark_fault`.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from app.emulators.common.clock import Clock
from app.emulators.common.gateway import Gateway, Refusal, RequestRecord
from app.emulators.common.transport import ASGIApp, Scope

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


class ProviderFaults:
    """A provider emulator's front door: seeded random 5xx answers and dropped connections."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._faults = RandomFaults(config.fault_seed)

    def reset(self) -> None:
        """Restart the random fault sequence from `config.fault_seed`."""
        self._faults = RandomFaults(self.config.fault_seed)

    def refuse(self, _scope: Scope, _headers: Mapping[str, str]) -> Refusal | None:
        config = self.config
        fault = self._faults.draw(config.fault_seed, config.fail_rate, config.drop_rate)
        if fault == "drop":
            return Refusal("drop")
        if isinstance(fault, int):
            text = _SERVER_ERRORS[fault].encode()
            return Refusal("error", fault, text, content_type="text/plain; charset=utf-8")
        return None

    def gateway(
        self, app: ASGIApp, *, service: str, clock: Clock, log: list[RequestRecord]
    ) -> Gateway:
        """`app` behind the request log, the configured latency and these faults."""
        return Gateway(
            app,
            service=service,
            clock=clock,
            log=log,
            log_size=lambda: self.config.request_log_size,
            latency_ms=lambda: self.config.latency_ms,
            refuse=self.refuse,
        )


def stable_int(text: str, low: int, high: int) -> int:
    """A number in [low, high) derived from `text` alone (same in every process)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return low + int.from_bytes(digest, "big") % (high - low)
