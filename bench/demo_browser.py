"""The demo that shows itself (issue 15), timed in Chromium as a newcomer clicks it: open `/`,
connect the demo account, pick every source, fetch and watch the jobs drawer to the end, run
every provider on the Enrichment screen, and see the coverage grid's shares
(tests/helpers/demo_path.py, the same flow tests/web/test_main_path.py begins with).

Each run is a fresh `sap serve` in demo mode (its own data directory) on the default demo
library (2,000 liked songs, 20 playlists), driven by Debian's Chromium through Playwright; the
wall time runs from opening the page to the enriched library's coverage on screen. Target:
under two minutes. The baseline in the same run: the same work without the browser — `POST`
the same fetch and enrich requests over HTTP and wait for their jobs — which says what the
page itself adds.

    python bench/demo_browser.py               # 3 runs, recorded in docs/performance.md
    python bench/demo_browser.py --runs 1 --no-record
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import record
from tests.helpers.browser import launch, serve_demo
from tests.helpers.demo_path import click_through_the_demo


def default_demo(folder: str) -> AbstractContextManager[str]:
    """A fresh demo server on the default demo library (the tests' helper defaults to 150)."""
    return serve_demo(Path(folder), SAP_DEMO_TRACKS="2000", SAP_DEMO_PLAYLISTS="20")


def browser_run() -> float:
    with (
        tempfile.TemporaryDirectory() as folder,
        default_demo(folder) as base,
        sync_playwright() as playwright,
    ):
        chromium = launch(playwright)
        page = chromium.new_context(viewport={"width": 1280, "height": 860}).new_page()
        page.set_default_timeout(60_000)
        seconds = click_through_the_demo(page, base)
        chromium.close()
    return seconds


def wait_for(client: httpx.Client, ids: list[str]) -> None:
    while any(
        client.get(f"/pipeline/jobs/{i}").json()["status"] in {"pending", "running"} for i in ids
    ):
        time.sleep(0.1)


def http_run() -> float:
    with tempfile.TemporaryDirectory() as folder, default_demo(folder) as base:
        client = httpx.Client(
            base_url=base, headers={"Origin": base}, follow_redirects=True, timeout=60
        )
        start = time.perf_counter()
        client.get("/auth/login").raise_for_status()
        playlists = client.get("/spotify/playlists").json()
        sources = [{"source_type": "liked"}] + [
            {"source_type": "playlist", "source_id": p["id"]} for p in playlists if p["readable"]
        ]
        jobs = client.post("/pipeline/tracks/fetch-sources", json={"sources": sources}).json()[
            "jobs"
        ]
        wait_for(client, [job["id"] for job in jobs])
        enrich = client.post("/pipeline/enrich", json={}).json()["jobs"]
        wait_for(client, [job["id"] for job in enrich])
        client.get("/data/enrichments/coverage").raise_for_status()
        return time.perf_counter() - start


def summary(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    browser = [browser_run() for _ in range(args.runs)]
    http = [http_run() for _ in range(args.runs)]
    print(f"browser, open to enriched (min/median/max of {args.runs}): {summary(browser)}")
    print(f"HTTP only, the same requests (baseline):      {summary(http)}")
    ratio = statistics.median(browser) / statistics.median(http)
    print(f"the page adds {ratio:.2f}x; target: under 120 s")
    if not args.no_record:
        record(
            "demo-browser",
            f"""| default demo: 2,000 liked songs, 20 playlists | min / median / max ({args.runs}) |
|---|---|
| Chromium: open `/`, connect, fetch every source, every provider, coverage | {summary(browser)} |
| baseline: the same fetch and enrich over HTTP, no browser | {summary(http)} |

The browser path is {ratio:.2f}x the HTTP baseline (median); target: under 120 s.""",
        )


if __name__ == "__main__":
    main()
