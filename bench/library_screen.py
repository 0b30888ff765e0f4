"""The Library screen in Chromium at 100,000 tracks: how long until it is interactive, and how
many rows the DOM holds while the table is scrolled from top to bottom.

A real `sap serve` process on the 100,000-track / 50-rule-set directory of `bench/_library.py`
(`SAP_SPOTIFY_CLIENT_ID=bench`) serves the built app (`make web` first); Debian's Chromium,
driven by Playwright from this process, opens it in a fresh context each run (no HTTP cache).

1. **Interactive**: from the navigation's start (`performance.timeOrigin`) until the grid shows
   its first loaded row, says `aria-rowcount` = every track + 1 and its first cell takes the
   focus.
   Once cold (the first screen after the server started: the library is loaded by that first
   query) and `--repeat` times warm (the server has the library loaded; the browser starts
   from nothing each time). Baseline, same run: the Account screen interactive (the app shell
   and one small request), and the first page's query alone over HTTP (httpx).
2. **Scroll**: the grid scrolled from top to bottom a few screens at a time; a MutationObserver
   counts the rows in the DOM after every change and keeps the maximum; at the end the last
   row (aria-rowindex = every track + 1) must be there with its data.

    python bench/library_screen.py [--repeat 5] [--data-dir DIR]

Timings are recorded in docs/performance.md ("Library screen in Chromium"), not asserted by a
test; the row count is a count, and tests/web/test_library.py asserts it too (on the demo).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import Browser, sync_playwright

from bench._library import bench_data_dir
from bench._report import ROOT, record
from bench._server import sap_server

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]

INTERACTIVE = """async (expected) => {
  const grid = document.querySelector('[role="grid"]');
  const first = grid && grid.querySelector('[role="row"][data-id] [data-cell="0:1"]');
  const count = grid && Number(grid.getAttribute('aria-rowcount'));
  if (!grid || !first || (expected > 0 ? count !== expected : count < 2)) return null;
  first.focus();
  return document.activeElement === first ? performance.now() : null;
}"""

SHELL = """() => {
  const heading = document.querySelector('h1');
  return heading && heading.textContent === 'Account' ? performance.now() : null;
}"""

COUNT_ROWS = """() => {
  const body = document.querySelectorAll('[role="grid"] [role="rowgroup"]')[1];
  window.__maxRows = body.querySelectorAll('[role="row"]').length;
  new MutationObserver(() => {
    const rows = body.querySelectorAll('[role="row"]').length;
    if (rows > window.__maxRows) window.__maxRows = rows;
  }).observe(body, { childList: true });
}"""

SCROLL_STEP = """(screens) => new Promise((done) => {
  const grid = document.querySelector('[role="grid"]');
  grid.scrollTop = Math.min(grid.scrollTop + grid.clientHeight * screens, grid.scrollHeight);
  requestAnimationFrame(() => requestAnimationFrame(() =>
    done(grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 1)));
})"""


def poll(page: Any, script: str, arg: Any = None, timeout: float = 60) -> float:
    """The page's `performance.now()` once `script` answers it (polled each few ms)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script) if arg is None else page.evaluate(script, arg)
        if value is not None:
            return float(value)
        if time.monotonic() > deadline:
            raise SystemExit(f"not interactive after {timeout} s")
        page.wait_for_timeout(5)  # polling the page's state, not a measured wait


def open_screen(browser: Browser, url: str, script: str, arg: Any = None) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(url, wait_until="commit")
    at = poll(page, script, arg)
    context.close()
    return at / 1000


def scroll_max_rows(browser: Browser, url: str, total: int) -> tuple[int, int, float]:
    """(the most rows in the DOM at once, scroll steps, seconds) over a top-to-bottom scroll."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(url)
    poll(page, INTERACTIVE, total + 1)
    page.evaluate(COUNT_ROWS)
    steps = 0
    start = time.perf_counter()
    while not page.evaluate(SCROLL_STEP, 3):
        steps += 1
    page.locator(f'[role="row"][aria-rowindex="{total + 1}"][data-id]').wait_for(timeout=30_000)
    seconds = time.perf_counter() - start
    most = int(page.evaluate("window.__maxRows"))
    context.close()
    return most, steps, seconds


def _s(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    if not (ROOT / "web" / "dist" / "index.html").exists():
        raise SystemExit("build the web app first: make web")
    data_dir = args.data_dir or bench_data_dir(100_000, 50)
    load_before = os.getloadavg()
    with sap_server(data_dir) as (_, client), sync_playwright() as playwright:
        base = str(client.base_url).rstrip("/")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        cold = open_screen(browser, base + "/library", INTERACTIVE, -1)  # any row count
        total = client.post("/data/library/query", json={"limit": 1}).json()["total"]
        warm = [
            open_screen(browser, base + "/library", INTERACTIVE, total + 1)
            for _ in range(args.repeat)
        ]
        shell = [open_screen(browser, base + "/account", SHELL) for _ in range(args.repeat)]
        fields = ["name", "artists", "album", "duration", "added_at"]
        fields += ["genres", "tags", "tempo", "energy"]
        query: list[float] = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            answer = client.post("/data/library/query", json={"fields": fields, "limit": 100})
            query.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text[:300]
        most, steps, seconds = scroll_max_rows(browser, base + "/library", total)
        browser.close()
    load_after = os.getloadavg()

    lines = [
        f"Library: {data_dir.name} ({total:,} tracks), a real `sap serve` process; Debian's "
        f"Chromium through Playwright, a fresh context per run, 1280x860. {args.repeat} warm "
        "runs. Load average (1, 5, 15 min) before "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 cores).",
        "",
        "| path | s min / median / max |",
        "|---|---|",
        f"| **library screen interactive**, warm (first rows shown, aria-rowcount {total + 1:,}, "
        f"a cell focused) | {_s(warm)} |",
        f"| the same, cold (the first screen after the server started: it loads the library) "
        f"| {cold:.2f} |",
        f"| baseline: the Account screen interactive (shell + one small request) | {_s(shell)} |",
        f"| baseline: the first page's query alone over HTTP (100 rows, 9 columns) | {_s(query)} |",
        "",
        f"Scrolling the table from the top to the last row (aria-rowindex {total + 1:,}, loaded): "
        f"{steps} steps of 3 screens in {seconds:.1f} s; **at most {most} rows in the DOM** "
        "at once (target: fewer than 200).",
        "",
        "Targets (issue 15): the library screen interactive ≤ 2 s with 100,000 tracks; fewer "
        "than 200 rows in the DOM while scrolling.",
    ]
    body = "\n".join(lines)
    print(body)
    record("library-screen", body)


if __name__ == "__main__":
    main()
