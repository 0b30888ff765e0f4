"""Job changes, pushed to whoever watches: the job event stream's side of the `JobManager`.

    subscription = manager.events.subscribe(wake)     # `wake()` is called when there is news
    news = subscription.take()                        # News(job_ids, snapshot, closed)
    ...
    subscription.close()

The manager publishes a job's id every time the job is created or changes (status, progress,
message, note, error); a subscription keeps the ids of the jobs that changed since its reader
last took them, each once, in the order they first changed. So a reader that falls behind
reads each job's *latest* state once, not every intermediate one, and what a subscription holds
is bounded by the number of jobs that changed, not by how often they did. Beyond `max_pending`
distinct jobs, the subscription drops them and asks its reader for a fresh snapshot instead
(`News.snapshot`), so a stalled reader never grows the server's memory.

`wake` is called from the thread that published (a job's worker thread, a request's) at most
once per batch: when a subscription goes from holding nothing to holding something. It must not
block (the event stream hands it `loop.call_soon_threadsafe`). `close_all` ends every
subscription (the server is stopping): readers see `News.closed` and end their streams.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import NamedTuple

Wake = Callable[[], None]

MAX_PENDING = 256
"""Distinct changed jobs a subscription holds before it asks for a snapshot instead."""


class News(NamedTuple):
    """What changed since the last `take`."""

    job_ids: list[str]  # jobs to send, in the order they first changed
    snapshot: bool  # too much changed: send the whole list again
    closed: bool  # the server is stopping: end the stream


class Subscription:
    """One watcher's pending changes (see the module docstring)."""

    def __init__(self, hub: JobEvents, wake: Wake, max_pending: int) -> None:
        self._hub = hub
        self._wake = wake
        self._max_pending = max_pending
        self._pending: dict[str, None] = {}
        self._snapshot = False
        self._closed = False
        self._lock = threading.Lock()

    def _publish(self, job_id: str) -> None:
        with self._lock:
            if self._closed:
                return
            idle = not self._pending and not self._snapshot
            if self._snapshot:
                pass  # a snapshot is owed anyway: it will hold this change too
            elif len(self._pending) >= self._max_pending and job_id not in self._pending:
                self._pending.clear()
                self._snapshot = True
            else:
                self._pending[job_id] = None
        if idle:
            self._wake_safely()

    def _end(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake_safely()

    def _wake_safely(self) -> None:
        try:
            self._wake()
        except RuntimeError:  # the reader's event loop is gone: it will not read again
            self.close()

    def take(self) -> News:
        """The changes since the last call, and empty the subscription."""
        with self._lock:
            news = News(list(self._pending), self._snapshot, self._closed)
            self._pending.clear()
            self._snapshot = False
        return news

    def close(self) -> None:
        """Stop receiving changes (the reader has gone)."""
        with self._lock:
            self._closed = True
            self._pending.clear()
        self._hub._remove(self)


class JobEvents:
    """The subscriptions of one `JobManager`."""

    def __init__(self, *, max_pending: int = MAX_PENDING) -> None:
        self.max_pending = max_pending
        self._subscriptions: list[Subscription] = []
        self._closed = False
        self._lock = threading.Lock()

    def subscribe(self, wake: Wake) -> Subscription:
        """A new subscription; `wake` as the module docstring says. Once `close_all` ran, the
        subscription starts closed."""
        subscription = Subscription(self, wake, self.max_pending)
        with self._lock:
            closed = self._closed
            if not closed:
                self._subscriptions.append(subscription)
        if closed:
            subscription._end()
        return subscription

    def publish(self, job_id: str) -> None:
        """`job_id` was created or changed."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription._publish(job_id)

    def close_all(self) -> None:
        """End every subscription, now and to come (the server is stopping)."""
        with self._lock:
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription._end()

    def watching(self) -> int:
        """How many subscriptions are open."""
        with self._lock:
            return len(self._subscriptions)

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
