"""The Charts screen in Chromium against a real demo server: year, tempo, energy, duration, top
genres and tags from `GET /data/library/distributions`, a bar opening the Library on its tracks
(the server's filter in the URL), the keyboard, axe light and dark, and its own chunk."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import serious_violations, snap

pytestmark = pytest.mark.slow


def enriched_library(page: Page, base: str) -> None:
    """Connect in the page, then fetch the liked songs and enrich them over the API."""
    page.goto(base + "/account")
    page.get_by_role("link", name="Connect the demo account").first.click()
    expect(page.get_by_role("status").filter(has_text="Connected as")).to_be_visible()
    client = httpx.Client(base_url=base, headers={"Origin": base}, timeout=30)
    [fetch] = client.post(
        "/pipeline/tracks/fetch-sources", json={"sources": [{"source_type": "liked"}]}
    ).json()["jobs"]
    expect(page.get_by_test_id("job-announcements")).to_have_text("Fetch of Liked songs: done")
    [enrich] = client.post("/pipeline/enrich", json={}).json()["jobs"]
    expect(page.get_by_test_id("job-announcements")).to_contain_text(
        "Enrichment of Enrich the library", timeout=120_000
    )
    assert client.get(f"/pipeline/jobs/{fetch['id']}").json()["status"] == "done"
    assert client.get(f"/pipeline/jobs/{enrich['id']}").json()["status"] in {"done", "partial"}


def test_each_chart_shows_the_library_and_a_bar_opens_its_tracks(page: Page, server: str) -> None:
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    enriched_library(page, server)
    page.keyboard.press("g")
    page.keyboard.press("c")
    expect(page).to_have_url(server + "/charts")
    assert any("ChartsPage" in url for url in scripts)  # its own chunk, loaded when shown
    data = httpx.get(server + "/data/library/distributions", params={"bins": 20, "top": 12})
    fields = {f["field"]: f for f in data.json()["fields"]}
    for title in ("Release year", "Tempo (BPM)", "Energy", "Duration", "Top genres", "Top tags"):
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    year = page.get_by_role("list", name="Release year")
    expect(year.get_by_role("link")).to_have_count(len(fields["year"]["bins"]))
    genres = page.get_by_role("list", name="Top genres")
    top = fields["genres"]["top"][0]
    expect(genres.get_by_role("link").first).to_have_accessible_name(
        re.compile(rf"^{re.escape(top['value'])}\s*:\s*{top['count']:,} tracks?$")
    )
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_violations(page) == [], scheme
        snap(page, f"charts-{scheme}")
    page.emulate_media(color_scheme="light")

    genres.get_by_role("link").first.click()
    expect(page).to_have_url(f"{server}/library?{urlencode({'filter': top['filter']})}")

    # A histogram's bar, by keyboard: Tab to it, Enter.
    page.go_back()
    expect(page).to_have_url(server + "/charts")
    tempo = fields["tempo"]["bins"]
    busiest = max(tempo, key=lambda b: b["count"])
    bar = page.get_by_role("list", name="Tempo (BPM)").get_by_role("link").nth(tempo.index(busiest))
    deadline = time.monotonic() + 30
    while not bar.evaluate("el => el === document.activeElement"):
        assert time.monotonic() < deadline
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/library?{urlencode({'filter': busiest['filter']})}")
