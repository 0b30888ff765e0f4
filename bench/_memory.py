"""What the memory and HTTP benchmarks share: a private copy of the benchmark library, the
server's peak memory, and min/median/max of timed requests.

    directory = library_copy(bench_data_dir(100_000, 50), "rules")
    peak_mb(process.pid)            # VmHWM: the most the process ever held resident
    timed(5, lambda: client.post(...))
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench._library import BENCH_DATA

STORES = ("tracks.json", "sources.json", "enrichments.json", "rules.json")


def library_copy(source: Path, suffix: str) -> Path:
    """A private copy of a benchmark data directory (its snapshot and rules are ours to
    change), kept under `.bench-data/`."""
    target = BENCH_DATA / f"{source.name}-{suffix}"
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in STORES:
        if not (target / name).exists() or name == "rules.json":
            shutil.copy2(source / name, target / name)
    return target


def peak_mb(pid: int) -> int:
    """The process's peak resident memory (VmHWM, the kernel's own high-water mark), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmHWM")


def timed(repeat: int, call: Callable[[], httpx.Response]) -> list[float]:
    """Seconds of `repeat` calls (each must answer 200)."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = call()
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:500]
    return timings


def spread(timings: list[float], unit: str = "s") -> str:
    scale = 1000 if unit == "ms" else 1
    low, middle, high = min(timings), statistics.median(timings), max(timings)
    digits = 1 if unit == "ms" else 3
    return (
        f"{low * scale:.{digits}f} / {middle * scale:.{digits}f} / {high * scale:.{digits}f} {unit}"
    )


def savable(rule_set: dict[str, Any]) -> dict[str, Any]:
    """A stored benchmark rule set as a user saves it over HTTP (`in_rule` reads `track`)."""

    def fix(group: dict[str, Any]) -> dict[str, Any]:
        conditions = []
        for node in group["conditions"]:
            if "conditions" in node:
                conditions.append(fix(node))
            elif node["operator"] in ("in_rule", "not_in_rule"):
                conditions.append({**node, "field": "track"})
            else:
                conditions.append(node)
        return {**group, "conditions": conditions}

    return {**rule_set, "rules": fix(rule_set["rules"])}
