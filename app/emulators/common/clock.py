"""A clock the emulators read instead of the system time, so tests can jump ahead.

`Clock.now()` is the real UTC time plus an offset that only grows: `advance()` moves every
emulator that shares the clock forward at once (token expiry, rate-limit windows, `added_at`
of new playlist entries) without sleeping. Emulated latency waits through `Clock.sleep`: a
`Clock(virtual_sleep=True)` advances instead of sleeping, so a test sees the wait on the clock
and does not spend it.

    >>> clock = Clock()
    >>> before = clock.now()
    >>> clock.advance(days=183)
    >>> (clock.now() - before).days
    183
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class Clock:
    """Real time plus an adjustable offset; always timezone-aware UTC."""

    def __init__(self, start: datetime | None = None, *, virtual_sleep: bool = False) -> None:
        """Start at the real time, or at `start` (which then keeps ticking in real time)."""
        self._offset = timedelta(0)
        self.virtual_sleep = virtual_sleep
        if start is not None:
            if start.tzinfo is None:
                raise ValueError("Clock start must be timezone-aware")
            self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        """The current emulated time (UTC)."""
        return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        """The current emulated time as POSIX seconds."""
        return self.now().timestamp()

    def advance(self, seconds: float | timedelta = 0, *, days: float = 0) -> None:
        """Jump forward by `seconds` (a number or a timedelta) plus `days`."""
        step = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        step += timedelta(days=days)
        if step < timedelta(0):
            raise ValueError("a clock only moves forward")
        self._offset += step

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of emulated time (really, unless the clock sleeps virtually)."""
        if self.virtual_sleep:
            self.advance(max(0.0, seconds))
            await asyncio.sleep(0)  # still a point where other requests may run
        else:
            await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return f"Clock(now={self.now().isoformat()})"
