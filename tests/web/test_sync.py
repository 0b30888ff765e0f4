"""The Sync screens in Chromium against a real demo server (logged in and its liked songs
fetched through the API): plan a rule set that narrows one of the account's playlists, read the
plan by track name, find that its guard wants the playlist's name typed (keyboard only), apply,
and read the emulated playlist back: it equals the preview of the rule set, in order; then
compare the backup with the playlist now and restore it: the playlist equals the backup. Also
a one-off copy to a new playlist, the unattended screen's hold switch, axe in light and dark,
and the review screens at 390 px. Screenshots land in .artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import horizontal_overflow, serious_violations, snap
from tests.web.test_library import client, wait_job

pytestmark = pytest.mark.slow


def ready(base: str) -> httpx.Client:
    """Log in to the demo account and fetch its liked songs, over HTTP."""
    http = client(base)
    assert http.get("/auth/login").status_code == 200
    jobs = http.post(
        "/pipeline/tracks/fetch-sources", json={"sources": [{"source_type": "liked"}]}
    ).json()["jobs"]
    assert [wait_job(http, job["id"])["status"] for job in jobs] == ["done"]
    return http


def live(http: httpx.Client, playlist_id: str) -> list[str | None]:
    """The playlist's entries on the emulated Spotify, in order, read now."""
    answer = http.get(f"/spotify/playlists/{playlist_id}/items")
    assert answer.status_code == 200, answer.text
    return [item["uri"] for item in answer.json()["items"]]


def preview_uris(http: httpx.Client, rule_id: str) -> list[str]:
    answer = http.post("/pipeline/playlists/preview-from-rules", json={"rule_ids": [rule_id]})
    ids = next(p for p in answer.json()["playlists"] if p["rule_id"] == rule_id)["track_ids"]
    return [f"spotify:track:{track_id}" for track_id in ids]


def both_themes(page: Page, name: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_violations(page) == [], f"{name} ({scheme})"
        snap(page, f"{name}-{scheme}")
    page.emulate_media(color_scheme="light")


def save_rule(http: httpx.Client, **body: Any) -> None:
    answer = http.post("/data/rules", json=body)
    assert answer.status_code == 200, answer.text


def test_plan_apply_past_a_guard_then_restore_the_backup(page: Page, server: str) -> None:
    http = ready(server)
    mine = [
        p
        for p in http.get("/spotify/playlists").json()
        if p["owner_id"] == http.get("/spotify/me").json()["id"] and p["readable"]
    ]
    target = max(mine, key=lambda p: p["track_count"])
    before = live(http, target["id"])
    save_rule(
        http,
        id="short",
        name="Short ones",
        text="duration < 200\nsort by duration",
        target_playlist_id=target["id"],
    )
    wanted = preview_uris(http, "short")

    page.goto(server + "/sync")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sync")
    page.get_by_label("Rule set", exact=True).select_option("short")
    expect(page.get_by_label("Mode for this apply")).to_be_visible()
    page.get_by_role("button", name="Plan", exact=True).click()
    card = page.get_by_role("listitem", name=f"Plan for {target['name']}")
    expect(card).to_be_visible()
    plan = http.get("/pipeline/playlists/plans/" + page.url.split("plans=")[1]).json()
    assert plan["guards"], "the rule narrows the playlist: the remove_share guard trips"
    # Tracks are named: the first add by its title — artists, as the library has it.
    first_add = min(plan["plan"]["adds"], key=lambda add: add["position"])
    adds, removes = len(plan["plan"]["adds"]), len(plan["plan"]["removes"])
    for title, count in (("Added", adds), ("Removed", removes)):
        if count > 8:  # long lists start folded
            card.get_by_text(f"{title} ({count})").click()
    expect(card.get_by_role("list", name="Added").get_by_role("listitem").first).to_have_text(
        "#1" + plan["names"][first_add["uri"]]
    )
    expect(card.get_by_role("list", name="Removed")).to_contain_text(
        plan["names"][plan["plan"]["removes"][0]]
    )
    expect(card.get_by_label("What the plan changes")).to_contain_text(
        f"{plan['summary']['writes']} write call"
    )
    expect(card).to_contain_text("A guard stops this apply")
    both_themes(page, "sync-plan")

    # Keyboard only: the guarded apply wants the playlist's name typed.
    apply_button = card.get_by_role("button", name="Apply anyway…")
    apply_button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Apply past a guard?")
    expect(dialog).to_be_visible()
    confirm = dialog.get_by_role("button", name="Apply anyway")
    expect(confirm).to_be_disabled()
    expect(dialog.get_by_label("Playlist name")).to_be_focused()
    page.keyboard.type(target["name"][:-1])
    expect(confirm).to_be_disabled()
    page.keyboard.press("Enter")  # not the name yet: nothing happens
    expect(dialog).to_be_visible()
    page.keyboard.type(target["name"][-1])
    expect(confirm).to_be_enabled()
    assert serious_violations(page) == []
    snap(page, "sync-confirm-light", full=False)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    written = card.get_by_role("status").filter(has_text=f"{target['name']} is written")
    expect(written).to_be_visible(timeout=60_000)
    link = card.get_by_role("link", name=f"Open {target['name']} in Spotify").last
    expect(link).to_have_attribute("href", f"https://open.spotify.com/playlist/{target['id']}")
    expect(card).to_contain_text("Applied")

    after = live(http, target["id"])
    assert [uri for uri in after if uri and uri.startswith("spotify:track:")] == wanted
    kept = [uri for uri in before if not (uri and uri.startswith("spotify:track:"))]
    assert [uri for uri in after if not (uri and uri.startswith("spotify:track:"))] == kept
    snap(page, "sync-applied-light")

    # Backups: the one taken before the apply, compared with the playlist now, restored.
    page.get_by_role("navigation", name="Sync").get_by_role("link", name="Backups and undo").click()
    group = page.get_by_role("region", name=f"Backups of {target['name']}")
    backup = http.get("/pipeline/playlists/backups").json()[0]
    item = group.get_by_role("listitem").filter(has_text=f"Backup {backup['id']}")
    item.get_by_role("button", name="Compare with now").click()
    comparison = item.get_by_label("Compared with the playlist now")
    expect(comparison).to_contain_text(f"into {len(before)}")
    diff = http.get(f"/pipeline/playlists/backups/{backup['id']}/diff").json()
    back = diff["plan"]["adds"]
    if len(back) > 8:  # long lists start folded
        comparison.get_by_text(f"Added ({len(back)})").click()
    first_back = min(back, key=lambda add: add["position"])
    expect(comparison.get_by_role("list", name="Added")).to_contain_text(
        diff["names"][first_back["uri"]]
    )
    both_themes(page, "sync-backups")
    item.get_by_role("button", name="Restore…").click()
    restore = page.get_by_role("dialog", name=f"Restore {target['name']}?")
    expect(restore).to_contain_text(f"{len(before)} entries")
    restore.get_by_role("button", name="Restore", exact=True).click()
    expect(
        item.get_by_role("status").filter(has_text=f"{target['name']} is written")
    ).to_be_visible(timeout=60_000)
    assert live(http, target["id"]) == before  # entry for entry, local files included
    item.get_by_role("button", name="Hide the comparison").click()
    item.get_by_role("button", name="Compare with now").click()
    expect(item).to_contain_text("The playlist holds exactly this backup")
    expect(
        page.get_by_role("region", name=f"Backups of {target['name']}")
        .get_by_role("listitem")
        .filter(has=page.get_by_role("button", name="Restore…"))
    ).to_have_count(2)

    # At 390 px the review screens fit: the plan, the backups, unattended sync.
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (
        (f"/sync?plans={plan['id']}", "sync-plan-390"),
        ("/sync/backups", "sync-backups-390"),
        ("/sync/unattended", "sync-unattended-390"),
    ):
        page.goto(server + path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Sync")
        page.wait_for_load_state("networkidle")
        snap(page, name)
        assert horizontal_overflow(page) == 0, path


def test_a_one_off_copy_and_holding_a_rule_set_for_review(page: Page, server: str) -> None:
    http = ready(server)
    save_rule(
        http, id="long", name="Long ones", text="duration > 240", target_playlist_name="Long ones"
    )
    page.goto(server + "/sync?rule=long")
    expect(page.get_by_label("Rule set", exact=True)).to_have_value("long")
    page.get_by_label("Write to a new playlist instead").check()
    page.get_by_label("New playlist's name").fill("Long ones, a copy")
    page.get_by_role("button", name="Plan", exact=True).click()
    card = page.get_by_role("listitem", name="Plan for Long ones, a copy")
    expect(card).to_contain_text("One-off copy")
    expect(card).to_contain_text("New playlist")
    card.get_by_role("button", name="Apply to Long ones, a copy").click()
    expect(
        card.get_by_role("status").filter(has_text="Long ones, a copy is written")
    ).to_be_visible(timeout=60_000)
    href = card.get_by_role("link", name="Open Long ones, a copy in Spotify").last.get_attribute(
        "href"
    )
    assert href is not None
    copy_id = href.rsplit("/", 1)[1]
    assert live(http, copy_id) == preview_uris(http, "long")
    assert http.get("/data/rules/long").json()["target_playlist_name"] == "Long ones"

    page.keyboard.press("Control+k")  # the palette opens each tab of the screen
    page.keyboard.type("Sync: Unattended")
    page.keyboard.press("Enter")
    expect(page).to_have_url(server + "/sync/unattended")
    expect(page.get_by_text("Off: this server does not sync by itself.")).to_be_visible()
    switch = page.get_by_role("switch", name="Long ones: apply by itself when no guard trips")
    expect(switch).to_be_checked()
    switch.focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("switch", name="Long ones: hold for my review")).not_to_be_checked()
    assert http.get("/data/rules/long").json()["auto_apply"] is False

    job = http.post(
        "/pipeline/sync/run-async",
        json={"metadata": {"apply": True, "fetch": False, "enrich": False}},
    ).json()
    assert wait_job(http, job["id"])["status"] == "done"
    runs = page.get_by_role("list", name="Last runs")
    expect(runs).to_contain_text("Held for your review")
    both_themes(page, "sync-unattended")
    runs.get_by_role("link", name="Review the plan").click()
    expect(page.get_by_role("listitem", name="Plan for Long ones")).to_contain_text(
        "Not applied yet"
    )
