"""`HostPacer`: start times for one service's requests, shared by the whole process."""

from __future__ import annotations

from app.net.pacing import HostPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_requests_are_spaced_by_the_interval() -> None:
    clock = Clock()
    pacer = HostPacer(0.5, clock=clock)
    assert [pacer.reserve() for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]
    clock.now += 10  # a quiet spell: the next one goes at once
    assert pacer.reserve() == 0.0


def test_a_burst_goes_at_once_then_the_pace_holds() -> None:
    clock = Clock()
    pacer = HostPacer(0.25, burst=3, clock=clock)
    assert [pacer.reserve() for _ in range(5)] == [0.0, 0.0, 0.0, 0.25, 0.5]
    clock.now += 2.0  # quiet long enough: the whole burst is available again
    assert [pacer.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.25]


def test_a_pause_holds_everyone_back_even_without_a_pace() -> None:
    clock = Clock()
    pacer = HostPacer(0.0, clock=clock)
    assert pacer.reserve() == 0.0
    pacer.pause(5.0)
    pacer.pause(2.0)  # a shorter pause does not shorten the longer one
    assert pacer.reserve() == 5.0
    clock.now += 3.0
    assert pacer.reserve() == 2.0
    clock.now += 2.0
    assert pacer.reserve() == 0.0


def test_one_pacer_per_service_and_the_last_pace_asked_wins() -> None:
    first = HostPacer.for_service("http://pacing.test/api/", rate=4.0, burst=4)
    second = HostPacer.for_service("http://pacing.test/api", rate=10.0, margin=1.5)
    assert first is second
    assert (second.interval, second.burst) == (0.15, 1)
    assert HostPacer.for_service("http://pacing.test/api", rate=None).interval == 0.0
    assert HostPacer.for_service("http://other.test/api", rate=4.0) is not first
