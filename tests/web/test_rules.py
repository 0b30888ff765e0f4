"""The rules screens in Chromium against a real demo server: the rule sets with their counts
(equal to `preview-from-rules`) and their status after "Check against Spotify", a preview
explaining a track that is out (the failing condition with the track's value and provider),
the overlaps matrix (equal to the API's), a starter opening the editor prefilled, a .nsp
import saved disabled with its problems, the rule file download; axe light and dark, 390 px,
screenshots in .artifacts/screenshots/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.browser import SCREENSHOTS, horizontal_overflow, serious_violations, snap
from tests.web.test_charts import enriched_library

pytestmark = pytest.mark.slow


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Origin": base}, timeout=30)


def save(api: httpx.Client, rule_id: str, name: str, text: str, **more: Any) -> None:
    response = api.post("/data/rules", json={"id": rule_id, "name": name, "text": text, **more})
    assert response.status_code == 200, response.text


def both_schemes(page: Page, name: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_violations(page) == [], (name, scheme)
        snap(page, f"{name}-{scheme}")
    page.emulate_media(color_scheme="light")


def test_the_rules_workbench(page: Page, server: str, tmp_path: Path) -> None:
    enriched_library(page, server)
    api = client(server)
    save(
        api,
        "fast",
        "Fast",
        "tempo > 120\nsort by tempo desc\nlimit 10",
        target_playlist_name="Fast",
    )
    save(api, "long", "Long", "duration > 240", target_playlist_name="Long ones")
    save(api, "calm", "Calm", "energy < 0.5")  # no target: never planned
    preview = api.post(
        "/pipeline/playlists/preview-from-rules", json={"rule_ids": ["fast", "long", "calm"]}
    ).json()
    counts = {p["rule_id"]: p["track_count"] for p in preview["playlists"]}
    assert counts["fast"] == 10 and counts["long"] > 0

    # The list: counts equal the preview's; statuses after "Check against Spotify".
    counted: list[int] = []  # the statuses of the list's counts requests
    page.on(
        "response",
        lambda r: (
            counted.append(r.status) if r.url.endswith("/pipeline/playlists/counts") else None
        ),
    )
    page.goto(server + "/rules?rule=long")
    cards = page.get_by_role("list", name="Rule sets")
    for rule_id, count in counts.items():
        expect(page.get_by_test_id(f"count-{rule_id}")).to_have_text(re.compile(rf"^{count:,} · "))
    expect(page.locator("#rule-long")).to_be_focused()  # the link landed on it
    expect(cards.get_by_text("Not checked")).to_have_count(2)
    page.get_by_role("button", name="Check against Spotify").click()
    expect(page.get_by_role("status").filter(has_text="against Spotify just now")).to_be_visible()
    states = {s["rule_id"]: s for s in api.get("/pipeline/playlists/sync-status").json()}
    for rule_id in ("fast", "long"):
        adds = states[rule_id]["plan"]["summary"]["adds"]
        expect(page.locator(f"#rule-{rule_id}")).to_contain_text(f"Would change +{adds} −0 ~0")
    expect(page.locator("#rule-calm")).to_contain_text("No target")
    both_schemes(page, "rules-list")

    # Enabled is a switch, saved at once.
    page.locator("#rule-calm").get_by_text("Enabled", exact=True).click()
    expect(page.locator("#rule-calm").get_by_role("switch", name="Enabled")).not_to_be_checked()
    page.wait_for_function("async () => !(await (await fetch('/data/rules/calm')).json()).enabled")
    page.locator("#rule-calm").get_by_text("Enabled", exact=True).click()
    expect(page.locator("#rule-calm").get_by_role("switch", name="Enabled")).to_be_checked()

    # Duplicate (a copy without a target), then delete the copy, confirmed in a dialog.
    page.get_by_role("button", name="Duplicate Fast").click()
    copy = page.locator("#rule-fast-copy")
    expect(copy).to_contain_text("Fast (copy)")
    expect(copy).to_contain_text("No target")
    expect(copy.get_by_test_id("count-fast-copy")).to_have_text(re.compile(r"^10 · "))
    copy.get_by_role("button", name="Delete Fast (copy)").click()
    dialog = page.get_by_role("dialog", name="Delete this rule set?")
    dialog.get_by_role("button", name="Delete").click()
    expect(copy).to_have_count(0)
    assert api.get("/data/rules/fast-copy").status_code == 404
    # Asked again after each change, never refused: a rule set deleted meanwhile is left out.
    expect(page.get_by_test_id("count-fast")).to_have_text(re.compile(r"^10 · "))
    assert len(counted) >= 3 and set(counted) == {200}, counted

    # The preview: explain a track that is out — the slowest, which fails `tempo > 120`.
    page.get_by_role("link", name="Preview Fast").click()
    expect(page).to_have_url(server + "/rules/fast/preview")
    expect(page.get_by_test_id("preview-count")).to_have_text("10")
    grid = page.get_by_role("grid", name="The playlist's tracks")
    expect(grid.get_by_role("row")).to_have_count(11)  # the header and the ten
    # By keyboard: Tab into the playlist's grid, Enter on its first row explains it.
    for _ in range(60):
        page.keyboard.press("Tab")
        if grid.evaluate("el => el.contains(document.activeElement)"):
            break
    else:
        raise AssertionError("the grid is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("explain-outcome")).to_have_text("In the playlist · position 1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press(" ")
    expect(page.get_by_test_id("explain-outcome")).to_have_text("In the playlist · position 2")
    page.get_by_role("button", name="Whole library").click()
    library_grid = page.get_by_role("grid", name="Library tracks")
    library_grid.get_by_role("columnheader", name=re.compile("tempo")).click()  # ascending
    slowest = api.post(
        "/data/library/query",
        json={"sort": [{"field": "tempo"}], "fields": ["name", "tempo"], "limit": 1},
    ).json()["rows"][0]
    row = library_grid.get_by_role("row").nth(1)
    expect(row).to_contain_text(str(slowest["values"]["name"]))
    row.get_by_role("gridcell").nth(1).click()
    why = api.post(
        "/pipeline/playlists/explain", json={"track_id": slowest["id"], "rule_id": "fast"}
    ).json()
    assert why["outcome"] == "failed rules"
    [condition] = why["rules"]["conditions"]
    panel = page.locator("#preview-explain")
    expect(panel.get_by_test_id("explain-outcome")).to_have_text("Out: it fails the rules")
    expect(panel).to_contain_text(f"(from {condition['provider']})")
    expect(panel).to_contain_text("fails: tempo gt 120")
    expect(
        page.get_by_role("list", name="Tempo (BPM): the playlist against the library")
    ).to_be_visible()
    both_schemes(page, "rules-preview")
    charts = page.locator("#preview-charts")
    charts.scroll_into_view_if_needed()
    charts.screenshot(path=str(SCREENSHOTS / "rules-preview-charts.png"))

    # Overlaps: the matrix's numbers are the API's; a cell shows its tracks.
    page.goto(server + "/rules/overlaps")
    found = api.get("/pipeline/playlists/overlaps").json()
    ids = [item["rule_id"] for item in found["rule_sets"]]
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            expect(page.get_by_test_id(f"cell-{a}-{b}")).to_have_text(f"{found['matrix'][i][j]:,}")
    expect(page.get_by_test_id("overlap-nowhere")).to_have_text(
        f"{found['liked_nowhere']['count']:,}"
    )
    shared = found["matrix"][ids.index("fast")][ids.index("long")]
    if shared:
        page.get_by_test_id("cell-fast-long").click()
        chosen = page.get_by_role("region", name=re.compile("Fast and Long"))
        expect(chosen.get_by_role("status")).to_have_text(re.compile(rf"^{shared} tracks?"))
    both_schemes(page, "rules-overlaps")

    # Starters: at least six, each counted; one opens the editor prefilled.
    page.goto(server + "/rules/starters")
    starters = api.get("/pipeline/playlists/starters").json()["starters"]
    assert len(starters) >= 6
    cards = page.get_by_role("list", name="Starters").get_by_role("listitem")
    expect(page.get_by_role("link", name=re.compile("^Open in the editor: "))).to_have_count(
        len(starters)
    )
    first = starters[0]
    expect(page.get_by_test_id(f"starter-count-{first['key']}")).to_contain_text(
        f"{first['count']:,}"
    )
    assert cards.count() >= 6
    both_schemes(page, "rules-starters")
    page.get_by_role("link", name=f"Open in the editor: {first['title']}").click()
    expect(page).to_have_url(f"{server}/rules/new?text={quote(first['text'], safe='')}")

    # Downloads: the rule file (what `sap rules export` writes) and one rule set's .nsp.
    page.goto(server + "/rules")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download rule file").click()
    text = Path(caught.value.path()).read_text(encoding="utf-8")
    assert text == api.get("/data/rules/export").json()["text"]
    assert "[fast] Fast\ntempo > 120" in text
    with page.expect_download() as caught:
        page.get_by_role("button", name="Export .nsp of Fast").click()
    assert caught.value.suggested_filename == "fast.nsp"
    exported = json.loads(Path(caught.value.path()).read_text(encoding="utf-8"))
    assert exported == api.get("/data/rules/fast/export-nsp").json()["nsp"]

    # A rule file up: what changes first, then applied.
    upload = tmp_path / "rules.txt"
    upload.write_text(text.replace("tempo > 120", "tempo > 125"), encoding="utf-8")
    page.get_by_label("Upload rule file").set_input_files(str(upload))
    changes = page.get_by_role("list", name="What the file changes")
    expect(changes.get_by_role("listitem").filter(has_text="[fast]")).to_contain_text(
        re.compile(r"^changed \[fast\] Fast — rules")
    )
    expect(changes.get_by_role("listitem").filter(has_text="[calm]")).to_contain_text(
        re.compile(r"^unchanged")
    )
    page.get_by_role("button", name="Apply the file").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert api.get("/data/rules/fast").json()["text"].startswith("tempo > 125")
    # A .nsp with an unknown operator and a field nothing gives: saved disabled, problems shown.
    nsp = tmp_path / "odd.nsp"
    nsp.write_text(
        json.dumps(
            {"name": "Odd one", "all": [{"frobnicate": {"title": "x"}}, {"gt": {"playcount": 3}}]}
        ),
        encoding="utf-8",
    )
    page.get_by_label("Import .nsp file").set_input_files(str(nsp))
    result = page.get_by_role("status").filter(has_text="Imported “Odd one”")
    expect(result).to_contain_text("saved disabled")
    expect(result.get_by_role("list", name="Problems")).to_contain_text("playcount")
    expect(result).to_contain_text("frobnicate")
    stored = next(r for r in api.get("/data/rules").json() if r["name"] == "Odd one")
    assert stored["enabled"] is False
    expect(
        page.locator(f"#rule-{stored['id']}").get_by_role("switch", name="Enabled")
    ).not_to_be_checked()

    both_schemes(page, "rules-files")


def test_the_rules_screens_at_390px(browser: Browser, server: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="light", reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(server + "/account")
        page.get_by_role("link", name="Connect the demo account").first.click()
        expect(page.get_by_role("status").filter(has_text="Connected as")).to_be_visible()
        api = client(server)
        api.post("/pipeline/tracks/fetch-sources", json={"sources": [{"source_type": "liked"}]})
        expect(page.get_by_test_id("job-announcements")).to_have_text("Fetch of Liked songs: done")
        save(
            api,
            "long",
            "Long tracks with a rather long name",
            "duration > 240",
            target_playlist_name="Long ones",
        )
        save(api, "short", "Short", "duration < 180")
        save(api, "fast", "Fast", "tempo > 140")  # nothing enriched: a warning, not an error
        page.goto(server + "/rules")
        card = page.locator("#rule-fast")
        expect(card).to_contain_text("No track has tempo yet: run enrichment for tempo (")
        card.get_by_role("link", name="run enrichment").click()
        expect(page).to_have_url(server + "/enrichment")
        page.goto(server + "/rules/fast/preview")
        expect(page.get_by_role("list", name="Warnings")).to_contain_text(
            "No track has tempo yet, so nothing matches through it: run enrichment for tempo ("
        )
        expect(page.get_by_test_id("preview-count")).to_have_text("0")
        page.goto(server + "/rules/starters")
        page.get_by_role("link", name=re.compile("^Fetch your playlists")).click()
        expect(page).to_have_url(server + "/sources")
        for path, name in (
            ("/rules", "rules-list-390"),
            ("/rules/overlaps", "rules-overlaps-390"),
            ("/rules/starters", "rules-starters-390"),
            ("/rules/long/preview", "rules-preview-390"),
        ):
            page.goto(server + path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.wait_for_load_state("networkidle")
            assert horizontal_overflow(page) == 0, path
            assert serious_violations(page) == [], path
            snap(page, name)
    finally:
        context.close()
