"""Telling whoever runs the work that a service asked us to slow down, as it happens.

    def note(throttling: Throttling) -> None:
        print(throttling.text())          # "Deezer asked us to slow down; resuming in 4 s"

    with listening(note):
        ...                               # every `ServiceClient` request made in here reports

`ServiceClient` reports a `Throttling` when a service answers with throttling (a 429, a 503 with
`Retry-After`, a `check` hook's `Throttled`) and it is about to wait, and when a request waits
for a pause another request of the same service was asked for (`HostPacer.pause`) — the
ordinary spacing of requests is not reported: it is the pace, not a slowdown.

Who listens is set for a piece of work with `listening` (the job runner does, around each step,
and turns each report into the running job's progress note). It is a context variable, not an
argument: the clients are built deep inside steps, providers and the Spotify client, and a
variable set around the step reaches all of them, in the step's thread and in the asyncio tasks
it starts (tasks copy the context), without every constructor on the way carrying a callback.
Nobody listening costs one lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Cause = Literal["asked", "paused"]
"""`asked`: the service answered this request with throttling; `paused`: another request to it
was, and every request to the service waits out the pause."""


@dataclass(frozen=True)
class Throttling:
    """A wait a service imposed on a request: who, how long, and why."""

    service: str  # as people name it: "Deezer", "Spotify"
    seconds: float  # how long the request waits before going again
    cause: Cause = "asked"

    def text(self) -> str:
        """The plain-words note: ``Deezer asked us to slow down; resuming in 4 s``."""
        seconds = max(1, round(self.seconds))
        return f"{self.service} asked us to slow down; resuming in {seconds} s"


Listener = Callable[[Throttling], None]

_listener: ContextVar[Listener | None] = ContextVar("sap_throttling_listener", default=None)

REPORTED_PAUSE = 1.0
"""A wait for another request's pause is reported from this many seconds (shorter ones pass
unnoticed next to the ordinary pace)."""


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every `Throttling` of the requests made inside the block to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def report(throttling: Throttling) -> None:
    """Tell the current listener, if any (its failure is not the request's)."""
    listener = _listener.get()
    if listener is None:
        return
    try:
        listener(throttling)
    except Exception:  # a note must never fail the request it is about: logged, not raised
        log.exception("could not note that %s asked us to slow down", throttling.service)
