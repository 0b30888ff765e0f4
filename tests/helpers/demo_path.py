"""The demo as a newcomer clicks through it in the browser (issue 15, "Demo that shows
itself"): open `/`, connect, pick every source, fetch and watch the jobs drawer to the end, run
every provider on the Enrichment screen, and see the coverage grid's shares. The browser test
(tests/web/test_main_path.py, the main path, begins with it) checks it works;
bench/demo_browser.py times it."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

# Generous bounds for a loaded machine: the time is measured, not asserted.
FETCH_TIMEOUT_MS = 180_000
ENRICH_TIMEOUT_MS = 300_000


def click_through_the_demo(page: Page, base: str) -> float:
    """Seconds from opening the page to the enriched library's coverage on screen."""
    start = time.perf_counter()
    page.goto(base + "/")
    expect(page).to_have_url(base + "/account")
    page.get_by_role("link", name="Connect the demo account").first.click()
    expect(page.get_by_role("status").filter(has_text="Connected as")).to_be_visible()

    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Sources").click()
    sources = page.get_by_role("list", name="Sources")
    expect(page.get_by_label("Liked songs", exact=True)).to_be_visible()
    boxes = sources.get_by_role("checkbox")
    picked = 0
    for index in range(boxes.count()):
        box = boxes.nth(index)
        if box.is_enabled():
            box.check()
            picked += 1
    page.get_by_role("button", name=f"Fetch {picked} sources").click()
    page.get_by_role("button", name="Open jobs").first.click()
    drawer = page.get_by_role("dialog", name="Jobs")
    fetches = drawer.get_by_role("list", name="Job history").get_by_role(
        "listitem", name=re.compile("^Fetch: ")
    )
    expect(fetches).to_have_count(picked, timeout=FETCH_TIMEOUT_MS)
    expect(drawer.get_by_role("status").first).to_contain_text("0 running")
    page.keyboard.press("Escape")

    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Enrichment").click()
    page.get_by_role("button", name="Run all providers").click()
    expect(page.get_by_role("list", name="Progress per provider")).to_be_visible()
    expect(page.get_by_role("heading", name="Last enrichment")).to_be_visible(
        timeout=ENRICH_TIMEOUT_MS
    )
    cells = page.get_by_role("table").get_by_role("link", name=re.compile(r"of tracks have"))
    expect(cells.first).to_have_text(re.compile(r"^[1-9]\d* %$"))
    return time.perf_counter() - start
