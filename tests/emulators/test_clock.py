"""The emulators' clock: real time plus an offset that tests move forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.emulators.common.clock import Clock


def test_advance_moves_now_forward_by_seconds_days_or_a_timedelta() -> None:
    clock = Clock()
    start = clock.now()
    clock.advance(3600)
    clock.advance(timedelta(minutes=30))
    clock.advance(days=2)
    elapsed = clock.now() - start
    assert (
        timedelta(days=2, hours=1, minutes=30) <= elapsed < timedelta(days=2, hours=1, minutes=31)
    )
    assert clock.now().tzinfo is UTC


def test_a_clock_can_start_at_a_given_moment_and_keeps_ticking() -> None:
    clock = Clock(start=datetime(2030, 1, 1, tzinfo=UTC))
    assert datetime(2030, 1, 1, tzinfo=UTC) <= clock.now() < datetime(2030, 1, 1, 0, 1, tzinfo=UTC)
    assert abs(clock.timestamp() - clock.now().timestamp()) < 1


def test_a_clock_never_goes_back_and_wants_aware_starts() -> None:
    with pytest.raises(ValueError, match="forward"):
        Clock().advance(-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock(start=datetime(2030, 1, 1))  # a naive datetime: the mistake under test
