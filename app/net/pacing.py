"""Pacing the requests to one service for the whole process.

Background jobs run in worker threads, each with its own event loop, so a limit that must hold
across jobs cannot be an asyncio primitive (they belong to one loop): a `HostPacer` is a
thread-safe reservation of start times, and callers sleep in their own loop.

It is a virtual-scheduling rate limiter (the "generic cell rate algorithm"): requests start
`interval` seconds apart on average, and up to `burst` of them may start at once after a quiet
spell. `pause(seconds)` holds everyone back when the service asked for it (a 429 with
`Retry-After`): every job waits, not only the one that was refused.

    pacer = HostPacer.for_service("https://api.spotify.com/v1", rate=50, burst=50)
    await pacer.wait()  # then send
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import ClassVar


class HostPacer:
    """Start times for the requests to one service, shared by every thread of the process."""

    _registry: ClassVar[dict[str, HostPacer]] = {}
    _registry_lock = threading.Lock()

    def __init__(
        self, interval: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.burst = burst
        self.clock = clock
        self._due = 0.0  # when the next request would start if it came at a steady pace
        self._paused_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def for_service(
        cls, key: str, rate: float | None, *, burst: int = 1, margin: float = 1.0
    ) -> HostPacer:
        """The shared pacer of `key` (a base URL), created on first use, for `rate` requests
        per second (None or 0: no pacing, but pauses still apply) spaced `margin` times wider.
        Every client of a service asks for the same pace; a different one (a changed setting,
        a test) replaces it."""
        interval = margin / rate if rate else 0.0
        with cls._registry_lock:
            pacer = cls._registry.get(key.rstrip("/"))
            if pacer is None:
                pacer = cls._registry[key.rstrip("/")] = cls(interval, burst)
            pacer.interval, pacer.burst = interval, max(1, burst)
            return pacer

    @classmethod
    def existing(cls, key: str) -> HostPacer | None:
        """The shared pacer of `key` if a client of that service was made, else None (asking
        must not create or re-pace one)."""
        with cls._registry_lock:
            return cls._registry.get(key.rstrip("/"))

    def reserve(self) -> float:
        """Book the next start; returns how long to wait for it (0: go now)."""
        with self._lock:
            now = self.clock()
            start = max(now, self._paused_until)
            due = max(self._due, start)
            early = (self.burst - 1) * self.interval  # how far ahead of the pace a burst may run
            self._due = due + self.interval
            return max(start, due - early) - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0: none)."""
        with self._lock:
            return max(0.0, self._paused_until - self.clock())

    def pause(self, seconds: float) -> None:
        """Nobody starts a request to this service for `seconds` (it asked us to back off)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)
