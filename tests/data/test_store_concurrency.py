"""`JsonStore.update()` loses no update and readers never see a torn file under real concurrency.

Threads in this process and child processes (tests/helpers/store_worker.py, each with its own
`Stores.open(directory)`) append rules to one rules.json through `store.update()` at the same
time. Every rule any of them appended must be there exactly once, in each writer's own order.
Readers that never lock (`store.load()`, and a raw `load_json_file` that, unlike `load()`, cannot
fall back to a locked re-read) must only ever see whole files: every item intact, and each
snapshot an extension of the one before.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from app.core.fs import list_quarantined, load_json_file
from app.data import Stores
from app.data.rules import RuleStore
from tests.helpers.store_worker import append_rules, rule_for

HELPER = Path(__file__).resolve().parents[1] / "helpers" / "store_worker.py"
WAIT = 60.0  # seconds for any single wait, so a deadlock fails the test instead of hanging


class Children:
    """Child writer processes that start appending together once `go()` is called."""

    def __init__(self, tmp_path: Path, directory: Path) -> None:
        self.sync = tmp_path / "sync"
        self.sync.mkdir()
        self.directory = directory
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, worker: str, threads: int, count: int) -> None:
        args = [str(self.directory), worker, str(threads), str(count)]
        args += [str(self.sync / f"ready-{worker}"), str(self.sync / "go")]
        self.procs[worker] = subprocess.Popen(
            [sys.executable, str(HELPER), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT
        for worker, proc in self.procs.items():
            while not (self.sync / f"ready-{worker}").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    _, err = proc.communicate(timeout=WAIT)
                    pytest.fail(f"child {worker} never got ready ({proc.returncode}):\n{err}")
                time.sleep(0.005)

    def go(self) -> None:
        (self.sync / "go").touch()

    def finish(self) -> None:
        for worker, proc in self.procs.items():
            _, err = proc.communicate(timeout=WAIT)
            assert proc.returncode == 0, f"child {worker} exited {proc.returncode}:\n{err}"

    def kill_leftovers(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=WAIT)


def spawn(targets: list[Callable[[], None]], errors: list[str]) -> list[threading.Thread]:
    """Start one daemon thread per target; a target that raises adds its traceback to `errors`."""

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread]) -> None:
    deadline = time.monotonic() + WAIT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert stuck == 0, f"{stuck} thread(s) still running after {WAIT}s (deadlock?)"


def run_writers(targets: list[Callable[[], None]], children: Children, errors: list[str]) -> None:
    """Release the writer threads and the children together; return when all have finished."""
    barrier = threading.Barrier(len(targets) + 1, timeout=WAIT)

    def released(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            target()

        return run

    threads = spawn([released(target) for target in targets], errors)
    children.go()
    barrier.wait()
    join_all(threads)
    children.finish()


def expected_rules(writers: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """Every rule the writers {worker: (threads, count)} append, grouped by writer."""
    return [
        rule_for(worker, thread, seq)
        for worker, (threads, count) in writers.items()
        for thread in range(threads)
        for seq in range(count)
    ]


def assert_all_present_once(stored: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    ids = [rule["id"] for rule in stored]
    duplicated = sorted(rule_id for rule_id, n in Counter(ids).items() if n > 1)
    missing = sorted({rule["id"] for rule in expected} - set(ids))
    unknown = sorted(set(ids) - {rule["id"] for rule in expected})
    assert duplicated == [], f"{len(duplicated)} ids stored twice, e.g. {duplicated[:10]}"
    assert missing == [], f"{len(missing)} updates lost, e.g. {missing[:10]}"
    assert unknown == [], f"unexpected ids {unknown[:10]}"
    assert len(stored) == len(expected)
    # Each rule is stored whole, and each writer's updates landed in the order it made them.
    for rule in stored:
        assert rule == rule_for(rule["worker"], rule["thread"], rule["seq"])
    by_writer: dict[tuple[str, int], list[int]] = {}
    for rule in stored:
        by_writer.setdefault((rule["worker"], rule["thread"]), []).append(rule["seq"])
    for writer, seqs in by_writer.items():
        assert seqs == sorted(seqs), f"{writer} appended out of order: {seqs}"


def process_switches(stored: list[dict[str, Any]]) -> int:
    """How often consecutive rules come from different processes (a measure of interleaving)."""
    owners = [rule["worker"] if rule["worker"].startswith("proc-") else "main" for rule in stored]
    return sum(a != b for a, b in pairwise(owners))


@pytest.mark.timeout(120)
def test_concurrent_updates_from_threads_and_processes_lose_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    children = Children(tmp_path, directory)
    writers = {"proc-a": (2, 60), "proc-b": (2, 60), "main-shared": (4, 40)}
    writers |= {f"main-own{n}": (1, 40) for n in range(4)}
    # Four threads share one store object; four more each open their own, like the children do.
    shared = RuleStore(directory)
    targets: list[Callable[[], None]] = [
        partial(append_rules, shared, "main-shared", thread, 40) for thread in range(4)
    ]
    targets += [
        partial(append_rules, Stores.open(directory).rules, f"main-own{n}", 0, 40) for n in range(4)
    ]
    errors: list[str] = []
    try:
        children.start("proc-a", *writers["proc-a"])
        children.start("proc-b", *writers["proc-b"])
        children.wait_ready()
        run_writers(targets, children, errors)
    finally:
        children.kill_leftovers()
    assert errors == [], "\n".join(errors)

    stored = RuleStore(directory).load()
    expected = expected_rules(writers)
    assert len(expected) == 8 * 40 + 2 * 2 * 60
    assert_all_present_once(stored, expected)
    assert load_json_file(directory / "rules.json") == {"schema_version": 1, "data": stored}
    assert list_quarantined(directory) == []
    assert list(directory.glob(".rules.json.*.tmp")) == []
    print(f"{len(stored)} updates, {process_switches(stored)} switches between processes")


def check_snapshots(name: str, read: Callable[[], Any], done: threading.Event) -> int:
    """Read until `done` (plus once more); every read must extend the previous one intact."""
    previous: list[str] = []
    reads = 0
    while True:
        finished = done.is_set()  # checked before reading, so the last read sees the final file
        rules = read()
        reads += 1
        assert isinstance(rules, list), f"{name} read {type(rules).__name__}"
        for rule in rules:
            assert isinstance(rule, dict), f"{name} read item {rule!r}"
            assert rule == rule_for(rule["worker"], rule["thread"], rule["seq"]), f"{name}: {rule}"
        ids = [rule["id"] for rule in rules]
        assert len(ids) >= len(previous), f"{name}: {len(previous)} rules, then {len(ids)}"
        assert ids[: len(previous)] == previous, f"{name}: rules read earlier changed"
        previous = ids
        if finished:
            print(f"{name}: {reads} reads")
            return len(ids)
        time.sleep(0.0002)  # leave the writers some CPU; still thousands of reads per run


@pytest.mark.timeout(120)
def test_readers_never_see_a_partial_file_while_writers_run(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    path = directory / "rules.json"
    RuleStore(directory).save([])  # from here on the file must always exist
    children = Children(tmp_path, directory)
    writers = {"proc-a": (2, 60)} | {f"main-{n}": (1, 40) for n in range(4)}
    total = len(expected_rules(writers))

    def read_raw() -> Any:
        document = load_json_file(path)  # raises on a torn or missing file, never retries
        assert set(document) == {"schema_version", "data"}, document
        assert document["schema_version"] == 1
        return document["data"]

    done = threading.Event()
    final_lengths: dict[str, int] = {}

    def reader(name: str, read: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            final_lengths[name] = check_snapshots(name, read, done)

        return run

    reader_errors: list[str] = []
    readers = spawn(
        [reader("store.load", RuleStore(directory).load), reader("raw", read_raw)], reader_errors
    )
    targets: list[Callable[[], None]] = [
        partial(append_rules, Stores.open(directory).rules, f"main-{n}", 0, 40) for n in range(4)
    ]
    errors: list[str] = []
    try:
        children.start("proc-a", *writers["proc-a"])
        children.wait_ready()
        run_writers(targets, children, errors)
    finally:
        done.set()
        children.kill_leftovers()
    join_all(readers)
    assert errors == [], "\n".join(errors)
    assert reader_errors == [], "\n".join(reader_errors)
    assert final_lengths == {"store.load": total, "raw": total}
    assert_all_present_once(RuleStore(directory).load(), expected_rules(writers))
    assert list_quarantined(directory) == []
