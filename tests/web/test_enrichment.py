"""The Enrichment screen in Chromium against a real demo server: the providers and what each
gives, "Run all" with a bar per provider from the job stream, the coverage grid (field by
provider) and a cell opening the Library on the tracks that lack the field; keyboard alone;
axe light and dark. Screenshots land in .artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.browser import serious_violations, snap, watch
from tests.helpers.demo_in_process import demo_in_process

pytestmark = pytest.mark.slow


def connect_and_fetch(page: Page, base: str) -> None:
    page.goto(base + "/account")
    page.get_by_role("link", name="Connect the demo account").first.click()
    expect(page.get_by_role("status").filter(has_text="Connected as")).to_be_visible()
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Sources").click()
    page.get_by_label("Liked songs", exact=True).check()
    page.get_by_role("button", name="Fetch 1 source").click()
    expect(page.get_by_test_id("job-announcements")).to_have_text("Fetch of Liked songs: done")


def both_themes(page: Page, name: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_violations(page) == [], f"{name} ({scheme})"
        snap(page, f"{name}-{scheme}")
    page.emulate_media(color_scheme="light")


def test_run_all_shows_each_provider_then_the_coverage_grid_opens_the_library(
    page: Page, server: str
) -> None:
    connect_and_fetch(page, server)
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Enrichment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enrichment")
    providers = page.get_by_role("list", name="Providers")
    listed = httpx.get(server + "/data/providers").json()
    expect(providers.get_by_role("listitem").filter(has=page.get_by_role("heading"))).to_have_count(
        len(listed)
    )
    deezer = providers.get_by_role("listitem", name="Deezer", exact=True)
    expect(deezer).to_contain_text("Ready")
    expect(deezer.get_by_role("list", name="Fields from Deezer")).to_contain_text("tempo")
    expect(page.get_by_text("No enriched values yet")).to_be_visible()
    both_themes(page, "enrichment-before")

    page.get_by_role("button", name="Run all providers").click()
    parts = page.get_by_role("list", name="Progress per provider")
    runnable = [p for p in listed if p["enabled"] and p["type"] != "manual"]
    expect(parts.get_by_role("progressbar")).to_have_count(len(runnable))
    expect(parts).to_contain_text("Deezer")
    expect(page.get_by_role("heading", name="Last enrichment")).to_be_visible(timeout=120_000)
    job = httpx.get(server + "/pipeline/jobs", params={"step": "enrich"}).json()["items"][0]
    assert job["status"] in {"done", "partial"}
    expect(page.locator("#enrich-job")).to_contain_text(
        "Done" if job["status"] == "done" else "Partly done"
    )

    # The grid: read afresh when the job ended; its shares are the server's.
    coverage = httpx.get(server + "/data/enrichments/coverage").json()
    tempo = next(row for row in coverage["fields"] if row["field"] == "tempo")
    share = tempo["providers"]["deezer"] / coverage["tracks"]
    assert share > 0
    cell = page.get_by_role("link", name=re.compile(r"of tracks have tempo from Deezer"))
    expect(cell).to_have_text(f"{int(share * 100)} %")
    expect(page.get_by_role("table")).to_contain_text("first_release_year")
    both_themes(page, "enrichment-after")

    cell.click()
    expect(page).to_have_url(server + "/library?filter=tempo+is+missing")


def test_the_enrichment_screen_by_keyboard_alone(page: Page, server: str) -> None:
    connect_and_fetch(page, server)
    page.keyboard.press("g")
    page.keyboard.press("e")
    expect(page).to_have_url(server + "/enrichment")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    # The palette runs every provider.
    page.keyboard.press("Control+k")
    page.keyboard.type("enrich the library with every")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Last enrichment")).to_be_visible(timeout=120_000)
    # Tab reaches a coverage cell; Enter opens the Library on it.
    cell = page.get_by_role("link", name=re.compile(r"of tracks have tempo from Deezer"))
    expect(cell).to_be_visible()
    for _ in range(80):
        if page.evaluate("document.activeElement?.getAttribute('aria-label') || ''").startswith(
            cell.get_attribute("aria-label") or "-"
        ):
            break
        page.keyboard.press("Tab")
    expect(cell).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page).to_have_url(server + "/library?filter=tempo+is+missing")


def test_a_provider_whose_service_is_down_says_so_until_it_answers_again(
    browser: Browser, tmp_path: Path
) -> None:
    """The Deezer emulator answers every request with a 5xx: its card says the service is
    down and why; once it answers again, "Check services again" shows it ready."""
    with demo_in_process(tmp_path) as demo:
        demo.providers.deezer.config.fail_rate = 1.0
        context = browser.new_context(
            viewport={"width": 1280, "height": 860}, color_scheme="light", reduced_motion="reduce"
        )
        page = context.new_page()
        seen = watch(page, demo.base)
        page.goto(demo.base + "/enrichment")
        providers = page.get_by_role("list", name="Providers")
        deezer = providers.get_by_role("listitem", name="Deezer", exact=True)
        expect(deezer).to_contain_text("Service down")
        expect(deezer).to_contain_text(re.compile(r"Its service is down: Deezer answered 50\d"))
        expect(providers.get_by_role("listitem", name="ReccoBeats")).to_contain_text("Ready")
        deezer.scroll_into_view_if_needed()
        both_themes(page, "enrichment-service-down")

        demo.providers.deezer.config.fail_rate = 0.0
        page.get_by_role("button", name="Check services again").click()
        expect(deezer).to_contain_text("Ready")
        expect(deezer).not_to_contain_text("Its service is down")
        problems = seen.problems()
        context.close()
        assert problems == []
