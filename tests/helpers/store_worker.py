"""Child process for tests/data/test_store_concurrency.py; its builders are shared with the test.

usage: store_worker.py DIRECTORY WORKER THREADS COUNT READY_FILE GO_FILE

Creates READY_FILE once imported, waits for GO_FILE to appear, then runs THREADS threads that each
append COUNT rules (`rule_for`) through `store.update()` of their own `Stores.open(DIRECTORY)`.
Exits 0 only if every update succeeded; otherwise writes the tracebacks to stderr and exits 1.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from app.data import Stores
from app.data.rules import RuleStore

WAIT_SECONDS = 60.0


def rule_for(worker: str, thread: int, seq: int) -> dict[str, Any]:
    """The rule that `worker`'s thread `thread` appends in its update number `seq`."""
    return {"id": f"{worker}-{thread}-{seq}", "worker": worker, "thread": thread, "seq": seq}


def append_rules(store: RuleStore, worker: str, thread: int, count: int) -> None:
    """`count` separate read-modify-write updates, each appending one rule."""
    for seq in range(count):
        with store.update() as rules:
            rules.append(rule_for(worker, thread, seq))


def wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def main(argv: list[str]) -> int:
    directory, worker = Path(argv[1]), argv[2]
    threads, count = int(argv[3]), int(argv[4])
    ready_file, go_file = Path(argv[5]), Path(argv[6])
    errors: list[str] = []

    def run(thread: int) -> None:
        try:
            append_rules(Stores.open(directory).rules, worker, thread, count)
        except BaseException:
            errors.append(traceback.format_exc())

    ready_file.touch()
    if not wait_for(go_file, WAIT_SECONDS):
        sys.stderr.write(f"{worker}: no go file after {WAIT_SECONDS}s\n")
        return 1
    workers = [threading.Thread(target=run, args=(t,), daemon=True) for t in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(WAIT_SECONDS)
    if stuck := [thread.name for thread in workers if thread.is_alive()]:
        errors.append(f"threads still running after {WAIT_SECONDS}s: {stuck}")
    if errors:
        sys.stderr.write("\n".join(errors))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
