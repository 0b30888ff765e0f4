"""The main path, in one continuous visit of Chromium on a fresh demo server (issue 15,
"Browser tests"): open `/`, connect, pick every source, fetch (the drawer to the end), enrich
with every provider (the coverage grid's shares above 0), then on the Library: a rules-language
filter gives the same track ids as `POST /pipeline/playlists/preview-from-rules` with that rule,
a header sorts them as the API does, three selected tracks are tagged (the tags are in
`GET /data/enrichments/{id}`) and the edit is undone. The wall time of the demo part is
printed, not asserted (bench/demo_browser.py records it). Screenshots in .artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.helpers.browser import Watched, serious_violations, snap
from tests.helpers.demo_path import click_through_the_demo

pytestmark = pytest.mark.slow

TAG = "main-path"
# Filters tried in turn: the first that matches 1 to 15 tracks (every row on one screen).
FILTERS = (
    "tempo > 150 and energy > 0.5",
    "tempo > 140 and energy > 0.4",
    "tempo > 130",
    'genres has any ["rock", "jazz"]',
)


def preview_ids(http: httpx.Client, text: str) -> list[str]:
    """The track ids the rule `text` previews as a playlist."""
    rule = http.post("/data/rules/parse", json={"text": text}).json()
    preview = http.post(
        "/pipeline/playlists/preview-from-rules",
        json={"rules": [{"id": "main-path", "name": "Main path", **rule}]},
    ).json()
    [playlist] = preview["playlists"]
    ids: list[str] = playlist["track_ids"]
    return ids


def shown_ids(grid: Any) -> list[str]:
    pairs = grid.locator('[role="row"][data-id]').evaluate_all(
        "rows => rows.map(r => [Number(r.getAttribute('aria-rowindex')), r.dataset.id])"
    )
    return [row_id for _, row_id in sorted(pairs)]


def test_the_main_path_from_the_first_page_to_a_tag_undone(watched: Watched, server: str) -> None:
    page = watched.page
    http = httpx.Client(base_url=server, headers={"Origin": server}, timeout=30)
    started = time.perf_counter()
    seconds = click_through_the_demo(page, server)
    print(f"demo path: {seconds:.1f} s")
    snap(page, "main-path-enriched")

    # What the demo part left: every readable source fetched, every provider run.
    fetched = http.get("/pipeline/jobs", params={"step": "fetch_tracks"}).json()
    readable = [p for p in http.get("/spotify/playlists").json() if p["readable"]]
    assert fetched["total"] == len(readable) + 1  # liked songs and every readable playlist
    assert {job["status"] for job in fetched["items"]} == {"done"}
    coverage = http.get("/data/enrichments/coverage").json()
    assert coverage["tracks"] > 0
    assert {row["field"] for row in coverage["fields"] if row["share"] > 0} >= {
        "tempo",
        "genres",
        "first_release_year",
        "energy",
    }
    enrich = http.get("/pipeline/jobs", params={"step": "enrich"}).json()["items"]
    assert [job["status"] for job in enrich] in (["done"], ["partial"])

    # The Library, filtered in the rules language: the preview's ids, in its order.
    text, expected = next(
        (candidate, ids)
        for candidate in FILTERS
        if 0 < len(ids := preview_ids(http, candidate)) <= 15
    )
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Library").click()
    grid = page.get_by_role("grid", name="Library tracks")
    expect(grid).to_have_attribute("aria-rowcount", str(coverage["tracks"] + 1))
    box = page.get_by_label("Filter (rules language)")
    box.fill(text)
    box.press("Enter")
    expect(grid).to_have_attribute("aria-rowcount", str(len(expected) + 1))
    expect(grid).not_to_have_attribute("aria-busy", "true")
    assert shown_ids(grid) == expected
    snap(page, "main-path-filtered")

    # Sorted by a header: the API's order of the same filter.
    grid.locator('[role="columnheader"][data-field="tempo"]').click()
    expect(page).to_have_url(re.compile(r"sort=tempo(&|$)"))
    ordered = http.post(
        "/data/library/query",
        json={"filter": text, "sort": [{"field": "tempo"}], "fields": ["name"], "limit": 15},
    ).json()["rows"]
    order = [row["id"] for row in ordered]
    expect(grid.locator('[role="row"][aria-rowindex="2"]')).to_have_attribute("data-id", order[0])
    assert shown_ids(grid) == order

    # Three selected tracks tagged, the tags stored, then undone.
    picked = order[:3]
    if len(picked) < 3:  # a filter of fewer tracks: pick from the whole library instead
        box.fill("")
        box.press("Enter")
        expect(grid).to_have_attribute("aria-rowcount", str(coverage["tracks"] + 1))
        picked = shown_ids(grid)[:3]
    grid.locator('[role="row"][aria-rowindex="2"] [data-field="duration"]').click()
    grid.locator('[role="row"][aria-rowindex="4"] [data-field="duration"]').click(
        modifiers=["Shift"]
    )
    selection = page.get_by_role("toolbar", name="Selection").get_by_role("status")
    expect(selection).to_contain_text("3 selected")
    page.get_by_role("button", name="Edit tags and values…").click()
    dialog = page.get_by_role("dialog", name="Edit 3 tracks")
    dialog.get_by_label("Add tags (comma-separated)").fill(TAG)
    dialog.get_by_role("button", name="Apply to 3 tracks").click()
    toast = page.get_by_role("status").filter(has_text="3 changed")
    expect(toast).to_be_visible()
    for track_id in picked:
        stored = http.get(f"/data/enrichments/{track_id}").json()
        assert TAG in stored["view"]["tags"], stored["view"]
    snap(page, "main-path-tagged")
    assert serious_violations(page) == []

    toast.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text="Undone")).to_be_visible()
    for track_id in picked:
        stored = http.get(f"/data/enrichments/{track_id}").json()
        assert TAG not in (stored["view"].get("tags") or []), stored["view"]
    expect(page.get_by_role("button", name="Undo", exact=True)).to_be_disabled()
    snap(page, "main-path-undone")
    print(f"main path: {time.perf_counter() - started:.1f} s")
