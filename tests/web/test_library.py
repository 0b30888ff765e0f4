"""The Library screen in Chromium against a real demo server made ready through the API (log
in, fetch the liked songs, enrich): the rules-language filter gives the ids the preview gives,
a bad filter is shown inline at its column, a two-column sort matches the API's order, three
selected rows are tagged and the tag undone, "all that match" counts the query's total, and the
grid keeps few rows in the DOM. Screenshots land in .artifacts/screenshots/."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.browser import (
    Watched,
    horizontal_overflow,
    serious_violations,
    serve_demo,
    snap,
    watch,
)

pytestmark = pytest.mark.slow

TAG = "picked-in-browser"


def client(base: str) -> httpx.Client:
    return httpx.Client(
        base_url=base,
        headers={"Content-Type": "application/json"},
        follow_redirects=True,
        timeout=30,
    )


def wait_job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = http.get(f"/pipeline/jobs/{job_id}").json()
        if job["status"] not in ("pending", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)  # polling a job's state, not waiting for time to pass


def ready_library(base: str) -> httpx.Client:
    """Log in to the demo account, fetch its liked songs and enrich them, all over HTTP."""
    http = client(base)
    assert http.get("/auth/login").status_code == 200
    assert http.get("/auth/status").json()["connected"] is True
    jobs = http.post(
        "/pipeline/tracks/fetch-sources", json={"sources": [{"source_type": "liked"}]}
    ).json()["jobs"]
    assert [wait_job(http, job["id"])["status"] for job in jobs] == ["done"]
    enrich = http.post("/pipeline/enrich/run-async", json={}).json()
    assert wait_job(http, enrich["id"])["status"] in ("done", "partial")
    return http


def query(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/data/library/query", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def shown_ids(page: Page) -> list[str]:
    """The ids of the rows in the DOM, in their row order."""
    rows = page.locator('[role="grid"] [role="row"][data-id]')
    pairs = rows.evaluate_all(
        "rows => rows.map(r => [Number(r.getAttribute('aria-rowindex')), r.dataset.id])"
    )
    return [row_id for _, row_id in sorted(pairs)]


def status(page: Page) -> Any:
    return page.get_by_role("toolbar", name="Selection").get_by_role("status")


def test_the_filter_gives_the_preview_s_ids_and_a_bad_one_is_shown_at_its_column(
    watched: Watched, server: str
) -> None:
    page = watched.page
    http = ready_library(server)
    text = "tempo > 150 and energy > 0.5"
    rule = http.post("/data/rules/parse", json={"text": text}).json()
    preview = http.post(
        "/pipeline/playlists/preview-from-rules",
        json={"rules": [{"id": "f", "name": "F", **rule}]},
    ).json()
    [playlist] = preview["playlists"]
    expected = playlist["track_ids"]
    assert 0 < len(expected) <= 15  # every matching row fits on the screen

    page.goto(server + "/library")
    grid = page.get_by_role("grid", name="Library tracks")
    library = query(http, limit=1)["total"]
    expect(grid).to_have_attribute("aria-rowcount", str(library + 1))
    page.get_by_label("Filter (rules language)").fill(text)
    page.get_by_label("Filter (rules language)").press("Enter")
    expect(grid).to_have_attribute("aria-rowcount", str(len(expected) + 1))
    expect(status(page)).to_contain_text(f"{len(expected)} of {library} tracks match")
    assert shown_ids(page) == expected
    expect(page).to_have_url(re.compile(r"/library\?filter=tempo"))
    snap(page, "library-filtered")

    # A bad filter: the server's 422 inline, at its line and column; the last results stay.
    watched.allow(r"status of 422")
    page.get_by_label("Filter (rules language)").fill(text + " and tempoo < 3")
    page.get_by_label("Filter (rules language)").press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        "Line 1, column 34: unknown field 'tempoo' — did you mean 'tempo'?"
    )
    caret = alert.locator("pre").inner_text()
    assert caret.splitlines()[1] == " " * 33 + "^^^^^^"
    expect(page.get_by_label("Filter (rules language)")).to_have_attribute("aria-invalid", "true")
    expect(grid).to_have_attribute("aria-busy", "true")
    assert shown_ids(page) == expected
    snap(page, "library-bad-filter")


def test_a_two_column_sort_is_the_api_s_order_over_the_whole_library(
    page: Page, server: str
) -> None:
    http = ready_library(server)
    page.goto(server + "/library")
    grid = page.get_by_role("grid", name="Library tracks")
    expect(grid.locator('[role="row"][data-id]').first).to_be_visible()
    header = grid.locator('[role="columnheader"][data-field="tempo"]')
    header.click()
    header.click()  # ascending, then descending
    grid.locator('[role="columnheader"][data-field="artists"]').click(modifiers=["Shift"])
    expect(page).to_have_url(re.compile(r"sort=tempo%3Adesc%2Cartists|sort=tempo:desc,artists"))
    expect(header).to_have_attribute("aria-sort", "descending")
    api_order = query(
        http,
        sort=[{"field": "tempo", "direction": "desc"}, {"field": "artists"}],
        fields=["name"],
        limit=15,
    )
    expected = [row["id"] for row in api_order["rows"]]
    expect(grid.locator('[role="row"][aria-rowindex="2"]')).to_have_attribute(
        "data-id", expected[0]
    )
    assert shown_ids(page)[:15] == expected
    # The order is over the whole library: the last row is the API's last.
    total = api_order["total"]
    last = query(
        http,
        sort=[{"field": "tempo", "direction": "desc"}, {"field": "artists"}],
        fields=["name"],
        offset=total - 1,
        limit=1,
    )["rows"][0]["id"]
    grid.locator('[role="row"][aria-rowindex="2"] [data-field="duration"]').click()
    page.keyboard.press("Control+End")
    expect(grid.locator(f'[role="row"][aria-rowindex="{total + 1}"]')).to_have_attribute(
        "data-id", last
    )
    rows_in_dom = grid.locator('[role="row"][data-id]').count()
    assert rows_in_dom < 200
    snap(page, "library-sorted")


def test_three_selected_rows_are_tagged_then_undone_and_all_that_match_counts_the_total(
    page: Page, server: str
) -> None:
    http = ready_library(server)
    page.goto(server + "/library?sort=name")
    grid = page.get_by_role("grid", name="Library tracks")
    first = grid.locator('[role="row"][aria-rowindex="2"]')
    expect(first).to_have_attribute("data-id", re.compile(r"\w+"))
    first.locator('[data-field="duration"]').click()
    grid.locator('[role="row"][aria-rowindex="4"] [data-field="duration"]').click(
        modifiers=["Shift"]
    )
    expect(status(page)).to_contain_text("3 selected")
    selected = grid.locator('[role="row"][aria-selected="true"]').evaluate_all(
        "rows => rows.map(r => r.dataset.id)"
    )
    assert selected == [row["id"] for row in query(http, sort=[{"field": "name"}], limit=3)["rows"]]

    page.get_by_role("button", name="Edit tags and values…").click()
    dialog = page.get_by_role("dialog", name="Edit 3 tracks")
    dialog.get_by_label("Add tags (comma-separated)").fill(TAG)
    snap(page, "library-bulk-edit")
    dialog.get_by_role("button", name="Apply to 3 tracks").click()
    toast = page.get_by_role("status").filter(has_text="3 changed")
    expect(toast).to_contain_text(f"added the tag '{TAG}' on 3 tracks".capitalize()[:5])
    for track_id in selected:
        stored = http.get(f"/data/enrichments/{track_id}").json()
        assert TAG in stored["view"]["tags"], stored["view"]
    expect(page.get_by_role("button", name=re.compile(r"^Undo: added the tag"))).to_be_enabled()
    snap(page, "library-tagged")

    toast.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text="Undone")).to_be_visible()
    for track_id in selected:
        stored = http.get(f"/data/enrichments/{track_id}").json()
        assert TAG not in (stored["view"].get("tags") or []), stored["view"]
    expect(page.get_by_role("button", name="Undo", exact=True)).to_be_disabled()

    text = "energy > 0.5"
    total = http.post("/data/library/ids", json={"filter": text}).json()["total"]
    page.get_by_label("Filter (rules language)").fill(text)
    page.get_by_label("Filter (rules language)").press("Enter")
    button = page.get_by_role("button", name=f"Select all {total} that match")
    button.click()
    expect(status(page)).to_contain_text(f"{total} selected")
    assert serious_violations(page) == []


def focused_cell(page: Page) -> str | None:
    cell: str | None = page.evaluate("document.activeElement?.dataset?.cell ?? null")
    return cell


def test_a_keyboard_alone_filters_moves_by_cell_selects_sorts_and_reads_provenance(
    page: Page, server: str
) -> None:
    http = ready_library(server)
    page.goto(server + "/library")
    grid = page.get_by_role("grid", name="Library tracks")
    expect(grid.locator('[role="row"][data-id]').first).to_be_visible()
    page.keyboard.press("/")
    expect(page.get_by_label("Filter (rules language)")).to_be_focused()
    page.keyboard.type("energy > 0.5")
    page.keyboard.press("Enter")
    total = http.post("/data/library/ids", json={"filter": "energy > 0.5"}).json()["total"]
    expect(grid).to_have_attribute("aria-rowcount", str(total + 1))
    for _ in range(12):  # Tab through the toolbar into the grid
        page.keyboard.press("Tab")
        if focused_cell(page) is not None:
            break
    assert focused_cell(page) == "0:1"
    page.keyboard.press("ArrowDown")
    assert focused_cell(page) == "1:1"
    page.keyboard.press("Space")
    expect(status(page)).to_contain_text("1 selected")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+Space")
    expect(status(page)).to_contain_text("2 selected")
    # The enriched value's provider and time, on keyboard focus.
    for _ in range(12):
        page.keyboard.press("ArrowRight")
        if page.evaluate("document.activeElement?.dataset?.field") == "energy":
            break
    tooltip = page.get_by_role("tooltip")
    expect(tooltip).to_contain_text(re.compile(r"energy from \w+, \d+ \w+ \d{4}, \d\d:\d\d UTC"))
    snap(page, "library-keyboard-tooltip")
    page.keyboard.press("PageDown")
    assert int((focused_cell(page) or "0:0").split(":")[0]) > 5
    page.keyboard.press("Control+Home")
    assert focused_cell(page) == "0:0"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=name(&|$)"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=name%3Adesc|sort=name:desc"))
    expect(grid.locator('[role="columnheader"][data-field="name"]')).to_have_attribute(
        "aria-sort", "descending"
    )

    # The header's "select all" is a real checkbox, reached by the keys: all, then none.
    page.keyboard.press("ArrowLeft")
    select_all = grid.get_by_role("checkbox", name=f"Select all {total} tracks that match")
    expect(select_all).to_be_focused()
    page.keyboard.press("Space")
    expect(status(page)).to_contain_text(f"{total} selected")
    expect(select_all).to_be_checked()
    page.keyboard.press("Space")
    expect(status(page)).not_to_contain_text("selected")


def test_columns_presets_persist_and_the_filter_saves_as_a_rule_set(
    page: Page, server: str
) -> None:
    http = ready_library(server)
    page.goto(server + "/library?filter=" + "tempo%20%3E%20120")
    grid = page.get_by_role("grid", name="Library tracks")
    expect(grid.locator('[role="row"][data-id]').first).to_be_visible()
    page.get_by_role("button", name="Columns").click()
    chooser = page.get_by_role("dialog", name="Columns")
    chooser.get_by_role("button", name="Audio features").click()
    expect(chooser.get_by_label("danceability")).to_be_checked()
    chooser.get_by_label("isrc").check()
    snap(page, "library-columns")
    chooser.get_by_role("button", name="Close").click()
    expect(grid.locator('[role="columnheader"][data-field="danceability"]')).to_be_visible()
    expect(grid.locator('[role="columnheader"][data-field="isrc"]')).to_be_visible()
    page.reload()
    expect(grid.locator('[role="columnheader"][data-field="isrc"]')).to_be_visible()
    expect(grid.locator('[role="columnheader"][data-field="album"]')).to_have_count(0)

    page.get_by_role("button", name="Save as rule set").click()
    dialog = page.get_by_role("dialog", name="Save this filter as a rule set")
    dialog.get_by_label("Name").fill("Fast ones")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_contain_text("Saved the rule set “Fast ones”")
    expect(dialog.get_by_role("link", name="Open it in Rules")).to_have_attribute(
        "href", "/rules?rule=fast-ones"
    )
    saved = http.get("/data/rules/fast-ones").json()
    assert (saved["name"], saved["text"].strip()) == ("Fast ones", "tempo > 120")
    preview = http.post("/pipeline/playlists/preview-from-rules", json={"rule_ids": ["fast-ones"]})
    [playlist] = preview.json()["playlists"]
    expect(grid).to_have_attribute("aria-rowcount", str(len(playlist["track_ids"]) + 1))


def test_light_dark_and_390_px_pass_axe_and_fit(browser: Browser, server: str) -> None:
    ready_library(server)
    for width, scheme in ((1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")):
        context = browser.new_context(
            viewport={"width": width, "height": 844}, color_scheme=scheme, reduced_motion="reduce"
        )
        page = context.new_page()
        page.goto(server + "/library?sort=tempo:desc")
        grid = page.get_by_role("grid", name="Library tracks")
        expect(grid.locator('[role="row"][data-id]').first).to_be_visible()
        grid.locator('[data-cell="2:0"]').click()  # a selected row in the picture
        if width == 1280:
            page.mouse.move(0, 0)
            snap(page, f"window-library-{scheme}", full=False)
            grid.locator('[data-cell="0:6"]').hover()  # a provenance tooltip (genres)
        assert serious_violations(page) == [], (width, scheme)
        assert horizontal_overflow(page) == 0, (width, scheme)
        if width == 390:
            # The narrow set of columns; the grid scrolls sideways inside itself.
            fields = grid.locator('[role="columnheader"][data-field]').evaluate_all(
                "cells => cells.map(c => c.dataset.field)"
            )
            assert fields == ["name", "artists", "tempo"]
        snap(page, f"library-{width}-{scheme}", full=width == 390)
        context.close()


def test_a_shift_range_over_rows_never_loaded_selects_every_row_between(
    browser: Browser, tmp_path: Path
) -> None:
    """600 tracks: the first page (100 rows) and, after Ctrl+End, the last one are loaded, the
    400 between never were; Shift+Space asks the server for the ids of the range's rows."""
    with serve_demo(tmp_path, SAP_DEMO_TRACKS="600") as base:
        http = client(base)
        assert http.get("/auth/login").status_code == 200
        jobs = http.post(
            "/pipeline/tracks/fetch-sources", json={"sources": [{"source_type": "liked"}]}
        ).json()["jobs"]
        assert [wait_job(http, job["id"])["status"] for job in jobs] == ["done"]
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        seen = watch(page, base)
        page.goto(base + "/library?sort=name")
        grid = page.get_by_role("grid", name="Library tracks")
        expect(grid).to_have_attribute("aria-rowcount", "601")
        grid.locator('[role="row"][aria-rowindex="3"] [data-field="duration"]').click()
        expect(status(page)).to_contain_text("1 selected")
        page.keyboard.press("Control+End")
        expect(grid.locator('[role="row"][aria-rowindex="601"]')).to_have_attribute(
            "data-id", re.compile(r"\w+")
        )
        with page.expect_request(lambda request: "/data/library/ids" in request.url) as asked:
            page.keyboard.press("Shift+Space")
        assert (asked.value.post_data_json["offset"], asked.value.post_data_json["limit"]) == (
            1,
            599,
        )
        expect(status(page)).to_contain_text("599 selected")
        select_all = grid.get_by_role("checkbox", name="Select all 600 tracks that match")
        assert select_all.evaluate("box => box.indeterminate") is True
        page.keyboard.press("Home")  # back to the checkboxes' column, for the picture
        snap(page, "library-range-selected")
        # The selection is exactly rows 2…600 of the table: tag them and ask the server.
        page.get_by_role("button", name="Edit tags and values…").click()
        dialog = page.get_by_role("dialog", name="Edit 599 tracks")
        dialog.get_by_label("Add tags (comma-separated)").fill(TAG)
        dialog.get_by_role("button", name="Apply to 599 tracks").click()
        expect(page.get_by_role("status").filter(has_text="599 changed")).to_be_visible()
        order = http.post("/data/library/ids", json={"sort": [{"field": "name"}]}).json()["ids"]
        tagged = http.post("/data/library/ids", json={"filter": f'tags has any ["{TAG}"]'})
        assert set(tagged.json()["ids"]) == set(order[1:])
        problems = seen.problems()
        context.close()
        assert problems == []
