"""The rules editor in Chromium against a real demo server made ready through the API (log in,
fetch the liked songs, enrich): a rule set written as text shows in the builder, a change in
the builder shows in the text, the live count equals the preview of the same rule set and each
condition's figures equal the count's, a misspelt field is fixed with the suggested action
(the last good count greyed beside the problem meanwhile), the builder is driven with the
keyboard alone (add, indent, move, delete), and axe, dark mode and 390 px pass. Screenshots land
in .artifacts/screenshots/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.helpers.browser import (
    DEMO_ENV,
    Watched,
    horizontal_overflow,
    serious_violations,
    snap,
)
from tests.web.test_library import ready_library

pytestmark = pytest.mark.slow

RULES = 'genres has any ["rock", "pop"] and energy > 0.5'


def count_of(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/pipeline/playlists/count", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def preview_count(http: httpx.Client, text: str) -> int:
    """The track count the library-mode preview gives the same rules, inline (its JSON)."""
    parsed = http.post("/data/rules/parse", json={"text": text}).json()
    rule_set = {"id": "same", "name": "Same", **parsed}
    response = http.post("/pipeline/playlists/preview-from-rules", json={"rules": [rule_set]})
    assert response.status_code == 200, response.text
    [playlist] = response.json()["playlists"]
    count: int = playlist["track_count"]
    return count


def editor_text(page: Page) -> str:
    text: str = page.locator(".cm-content").evaluate("el => el.innerText")
    return text.strip()


def live_count(page: Page) -> Locator:
    return page.get_by_test_id("live-count")


def type_rules(page: Page, text: str) -> None:
    content = page.locator(".cm-content")
    content.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Escape")  # close a completion popup left open


def sap_preview(tmp_path: Path, rule_id: str) -> dict[str, Any]:
    """`sap preview RULE --json` as a user runs it, over the demo server's data directory."""
    data = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "app", "preview", rule_id, "--json", "--demo", "--cache-dir", data],
        env={**os.environ, **DEMO_ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_text_builder_text_and_the_live_count_equals_the_preview(
    watched: Watched, server: str, tmp_path: Path
) -> None:
    page = watched.page
    http = ready_library(server)
    page.goto(server + "/rules/new")
    page.get_by_label("Name", exact=True).fill("Loud guitars")
    type_rules(page, RULES)
    expect(page.get_by_label("Id", exact=True)).to_have_value("loud-guitars")

    expected = count_of(http, {"id": "x", "name": "X", "text": RULES})
    assert expected["track_count"] == preview_count(http, RULES) > 0
    bar = live_count(page)
    expect(bar).to_have_attribute("data-state", "fresh")
    expect(bar).to_have_attribute("data-tracks", str(expected["track_count"]))
    expect(bar).to_contain_text(f"{expected['minutes']:g} min")
    nodes = {node["path"]: node for node in expected["nodes"]}
    expect(page.get_by_test_id("node-0")).to_contain_text(f"removes {nodes['0']['removes']}")
    snap(page, "editor-text")

    page.get_by_role("tab", name="Builder").click()
    expect(page.get_by_role("tab", name="Builder")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Field of condition 0")).to_have_value("genres")
    expect(page.get_by_label("Operator of condition 0")).to_have_value("has_any")
    expect(page.get_by_label("Value of condition 0 (comma-separated)")).to_have_value("rock, pop")
    expect(page.get_by_label("Field of condition 1")).to_have_value("energy")
    expect(page.get_by_test_id("count-0")).to_contain_text(f"removes {nodes['0']['removes']}")
    expect(page.get_by_test_id("count-1")).to_contain_text(f"removes {nodes['1']['removes']}")

    page.get_by_label("Operator of condition 1").select_option("gte")
    page.get_by_label("Value of condition 1").fill("lots")  # not a number: shown on its row
    expect(bar).to_have_attribute("data-state", "invalid")
    expect(bar).to_have_attribute("data-tracks", str(expected["track_count"]))  # last good
    row = page.locator('[data-path="1"]')
    expect(row).to_contain_text("lots")
    assert serious_violations(page) == []
    page.get_by_label("Value of condition 1").fill("0.7")
    changed = 'genres has any ["rock", "pop"] and energy >= 0.7'
    after = count_of(http, {"id": "x", "name": "X", "text": changed})
    expect(bar).to_have_attribute("data-tracks", str(after["track_count"]))
    expect(bar).to_have_attribute("data-state", "fresh")
    snap(page, "editor-builder")

    # A setting chosen in the builder's form is a line of the text (the text is the whole rule
    # set), and comes back as the form's value.
    page.get_by_label("Sync mode").select_option("merge")
    page.get_by_role("tab", name="Text").click()
    expect(page.locator(".cm-content")).to_contain_text("energy >= 0.7")
    assert editor_text(page) == changed + "\nmode merge"
    assert after["track_count"] == preview_count(http, changed)

    # The preview of what is being edited: the same count as the live count and the API's.
    page.get_by_role("button", name="Preview the playlist").click()
    expect(page.get_by_test_id("preview-count")).to_have_text(str(after["track_count"]))
    snap(page, "editor-preview")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved “Loud guitars”")).to_be_visible()
    expect(page).to_have_url(server + "/rules/loud-guitars/edit")
    stored = http.get("/data/rules/loud-guitars").json()
    assert (stored["text"], stored["sync_mode"]) == (changed + "\nmode merge", "merge")
    # The count the editor showed is the one `sap preview` gives the saved rule set.
    [previewed] = sap_preview(tmp_path, "loud-guitars")["playlists"]
    assert previewed["track_count"] == after["track_count"]
    expect(live_count(page)).to_have_attribute("data-tracks", str(previewed["track_count"]))
    page.reload()
    expect(page.locator(".cm-content")).to_contain_text("energy >= 0.7")
    page.get_by_role("tab", name="Builder").click()
    expect(page.get_by_label("Sync mode")).to_have_value("merge")


def test_a_misspelt_field_is_fixed_with_the_suggested_action(watched: Watched, server: str) -> None:
    page = watched.page
    http = ready_library(server)
    page.goto(server + "/rules/new")
    type_rules(page, "energy > 0.5")
    good = count_of(http, {"id": "x", "name": "X", "text": "energy > 0.5"})["track_count"]
    bar = live_count(page)
    expect(bar).to_have_attribute("data-tracks", str(good))
    expect(bar).to_have_attribute("data-state", "fresh")

    page.keyboard.type(' and genre has any ["rock"]', delay=5)
    page.keyboard.press("Escape")
    expect(bar).to_have_attribute("data-state", "invalid")
    expect(bar).to_have_attribute("data-tracks", str(good))  # the last good count, greyed
    expect(bar).to_contain_text("unknown field 'genre'")
    problems = page.get_by_role("list", name="Problems")
    expect(problems).to_contain_text("Line 1, column 18: unknown field 'genre'")
    snap(page, "editor-misspelt")
    assert serious_violations(page) == []

    problems.get_by_role("button", name="Use ‘genres’").click()
    fixed = 'energy > 0.5 and genres has any ["rock"]'
    expect(page.locator(".cm-content")).to_contain_text(fixed)
    assert editor_text(page) == fixed
    after = count_of(http, {"id": "x", "name": "X", "text": fixed})["track_count"]
    expect(bar).to_have_attribute("data-state", "fresh")
    expect(bar).to_have_attribute("data-tracks", str(after))
    expect(problems).to_have_count(0)


def test_the_builder_with_the_keyboard_alone(watched: Watched, server: str) -> None:
    page = watched.page
    ready_library(server)
    text = "year%20%3E%3D%202000%20and%20energy%20%3E%200.5%20and%20tempo%20%3E%20100"
    page.goto(f"{server}/rules/new?text={text}")
    expect(page.locator(".cm-content")).to_contain_text("tempo > 100")
    page.get_by_role("tab", name="Builder").focus()
    page.keyboard.press("Enter")
    handle = page.get_by_role("button", name="Condition 1: energy > 0.5")
    expect(handle).to_be_visible()
    handle.focus()
    page.keyboard.press("Alt+ArrowRight")  # indent: energy into a group of its own (any of)
    expect(page.get_by_role("button", name="Group 1: any of")).to_be_visible()
    expect(page.get_by_role("button", name="Condition 1.0: energy > 0.5")).to_be_focused()
    page.keyboard.press("ArrowDown")  # to the next row: tempo
    expect(page.get_by_role("button", name="Condition 2: tempo > 100")).to_be_focused()
    page.keyboard.press("Alt+ArrowRight")  # into the group above
    expect(page.get_by_role("button", name="Condition 1.1: tempo > 100")).to_be_focused()
    page.keyboard.press("Alt+ArrowUp")  # move up, before energy
    expect(page.get_by_role("button", name="Condition 1.0: tempo > 100")).to_be_focused()
    page.keyboard.press("Alt+Enter")  # add a condition after
    added = page.get_by_role("button", name="Condition 1.1: year >= 2000")
    expect(added).to_be_focused()
    page.keyboard.press("Delete")  # and delete it
    expect(added).to_have_count(0)
    expect(page.get_by_role("button", name="Condition 1.1: energy > 0.5")).to_be_focused()
    page.keyboard.press("Alt+ArrowLeft")  # outdent energy out of the group, after it
    expect(page.get_by_role("button", name="Condition 2: energy > 0.5")).to_be_focused()
    page.keyboard.press("Alt+ArrowRight")  # and back into the group above
    expect(page.get_by_role("button", name="Condition 1.1: energy > 0.5")).to_be_focused()
    snap(page, "editor-keyboard")

    page.keyboard.press("Control+k")
    page.keyboard.type("show the text")
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab", name="Text")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".cm-content")).to_contain_text("year >= 2000")
    assert editor_text(page) == "year >= 2000 and (tempo > 100 or energy > 0.5)"


def test_light_dark_and_390_px_pass_axe_and_fit(browser: Browser, server: str) -> None:
    ready_library(server)
    text = "genres%20has%20any%20%5B%22rock%22%5D%20and%20"
    text += "(energy%20%3E%200.5%20or%20tempo%20%3E%20120)"
    for width, scheme in ((1280, "dark"), (390, "light"), (390, "dark")):
        context = browser.new_context(
            viewport={"width": width, "height": 844}, color_scheme=scheme, reduced_motion="reduce"
        )
        page = context.new_page()
        page.goto(f"{server}/rules/new?text={text}")
        expect(live_count(page)).to_have_attribute("data-state", "fresh")
        assert serious_violations(page) == [], (width, scheme, "text")
        assert horizontal_overflow(page) == 0, (width, scheme, "text")
        snap(page, f"editor-text-{width}-{scheme}")
        page.get_by_role("tab", name="Builder").click()
        expect(page.get_by_test_id("count-1.0")).to_be_visible()
        assert serious_violations(page) == [], (width, scheme, "builder")
        assert horizontal_overflow(page) == 0, (width, scheme, "builder")
        snap(page, f"editor-builder-{width}-{scheme}")
        context.close()
