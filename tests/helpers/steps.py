"""Steps for job tests: real step functions whose pace the test controls."""

from __future__ import annotations

import threading
from typing import Any

from app.pipeline.jobs.steps import StepContext


class Gate:
    """A step that reports one unit, then waits for the test to open the gate."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started = threading.Event()
        self.runs = 0
        self.running = 0
        self.max_running = 0
        self._lock = threading.Lock()

    def __call__(self, ctx: StepContext) -> dict[str, Any]:
        total = int(ctx.metadata.get("total", 3))
        with self._lock:
            self.runs += 1
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            ctx.progress(1, total, "first unit")
            self.started.set()
            while not self.open.wait(0.01):
                ctx.check_cancelled()
            ctx.progress(total, total, "all units")
            return {"units": total}
        finally:
            with self._lock:
                self.running -= 1
