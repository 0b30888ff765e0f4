"""Shared helpers for benchmarks: best-of timing, the shared dataset path, docs/performance.md."""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERFORMANCE_MD = ROOT / "docs" / "performance.md"


def shared_data_dir() -> Path:
    """The shared datasets folder (`SAP_SHARED_DATA`, default ../shared/datasets)."""
    return Path(os.environ.get("SAP_SHARED_DATA", ROOT.parent / "shared" / "datasets"))


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """The fastest of `repeat` runs, in seconds (the least disturbed by other load)."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        timings.append(time.perf_counter() - start)
    return min(timings)


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU"


def record(section: str, body: str) -> None:
    """Replace the block between `<!-- bench:section -->` markers in docs/performance.md."""
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    block = f"{start}\n_Last run {stamp} on {machine()}._\n\n{body.strip()}\n{end}"
    text = PERFORMANCE_MD.read_text(encoding="utf-8") if PERFORMANCE_MD.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text)
    else:
        text = text.rstrip() + f"\n\n{block}\n"
    PERFORMANCE_MD.write_text(text, encoding="utf-8")
