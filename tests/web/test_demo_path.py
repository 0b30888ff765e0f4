"""The demo that shows itself, in Chromium on a fresh demo server: open, connect, pick every
source, fetch (the drawer to the end), enrich with every provider, and the coverage grid shows
shares above 0. The flow's wall time is printed, not asserted; bench/demo_browser.py records it
on the default demo library in docs/performance.md."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page

from tests.helpers.demo_path import click_through_the_demo

pytestmark = pytest.mark.slow


def test_a_newcomer_clicks_from_the_first_page_to_an_enriched_library(
    page: Page, server: str
) -> None:
    seconds = click_through_the_demo(page, server)
    print(f"demo path: {seconds:.1f} s")

    fetched = httpx.get(server + "/pipeline/jobs", params={"step": "fetch_tracks"}).json()
    readable = [p for p in httpx.get(server + "/spotify/playlists").json() if p["readable"]]
    assert fetched["total"] == len(readable) + 1  # liked songs and every readable playlist
    assert {job["status"] for job in fetched["items"]} == {"done"}
    coverage = httpx.get(server + "/data/enrichments/coverage").json()
    assert coverage["tracks"] > 0
    assert {row["field"] for row in coverage["fields"] if row["share"] > 0} >= {
        "tempo",
        "genres",
        "first_release_year",
        "energy",
    }
    enrich = httpx.get(server + "/pipeline/jobs", params={"step": "enrich"}).json()["items"]
    assert [job["status"] for job in enrich] in (["done"], ["partial"])
