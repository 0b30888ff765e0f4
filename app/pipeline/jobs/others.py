"""Jobs other processes run, on this server's job event stream.

A `sap` command in a terminal runs its job in its own process, beside the server, and records
it in the same jobs.json; the server's `JobManager` hears only of its own jobs. `OtherJobs`
watches the file for the rest: every `interval` seconds it compares the file's stamp (size and
modification time) with the last one, and when it moved, reads the jobs and publishes, on the
manager's `JobEvents`, each job another manager owns whose `updated_at` changed since the last
read (a new one included). The first read (as the watcher's thread starts, off the server's
start path) only takes note of what is there; while no one watches, the file is not read, and
the first look someone watches publishes what changed since the last read (a new watcher's
snapshot may hold some of it already: a job sent twice costs nothing). The web app's jobs
drawer then shows a `sap fetch` started in a terminal as it goes, a second or so behind.

    watcher = OtherJobs(store, instance, events)
    watcher.start()   # a daemon thread
    watcher.stop()    # the server stops: the thread ends within a wait
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from app.core.errors import StoreError
from app.data.jobs import JobStore
from app.pipeline.jobs.events import JobEvents

log = logging.getLogger(__name__)

OTHERS_INTERVAL = 1.0
"""Seconds between two looks at jobs.json's stamp."""


class OtherJobs:
    """Publishes the changes of jobs other processes run (see the module docstring)."""

    def __init__(
        self,
        store: JobStore,
        instance: str,
        events: JobEvents,
        *,
        interval: float = OTHERS_INTERVAL,
    ) -> None:
        self.store = store
        self.instance = instance
        self.events = events
        self.interval = interval
        self._stop = threading.Event()
        self.ready = threading.Event()  # the first read is done: changes from here are news
        self._thread: threading.Thread | None = None
        self._stamp: tuple[int, int] | None = None
        self._seen: dict[str, datetime] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sap-other-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def look(self, *, baseline: bool = False) -> list[str]:
        """One look: the ids published (the jobs of other owners that changed). Nobody
        watching, nothing is read (what changed meanwhile is published at the first look
        someone watches, against the jobs as last read); `baseline`: read anyway (at start)."""
        if not baseline and not self.events.watching():
            return []
        try:
            status = self.store.path.stat()
        except FileNotFoundError:  # no jobs yet
            self._stamp, self._seen = None, {}
            return []
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp == self._stamp:
            return []
        self._stamp = stamp
        try:
            jobs = self.store.load_jobs()
        except StoreError:  # unreadable or from a newer release: the stream says so itself
            return []
        current = {
            job.id: job.updated_at
            for job in jobs
            if job.owner is not None and job.owner.instance != self.instance
        }
        seen, self._seen = self._seen, current
        if seen is None:
            return []
        changed = [job_id for job_id, updated in current.items() if seen.get(job_id) != updated]
        for job_id in changed:
            self.events.publish(job_id)
        return changed

    def _run(self) -> None:
        try:
            self.look(baseline=True)  # other processes' jobs now (here: off the start path)
        except Exception:  # logged; the first watched look takes the baseline instead
            log.exception("could not look at the jobs of other processes")
        self.ready.set()
        while not self._stop.wait(self.interval):
            try:
                self.look()
            except Exception:  # logged; the next look tries again
                log.exception("could not look at the jobs of other processes")
