"""What the Sync screen asks of the API, in demo mode against the Spotify emulator: plans that
name their tracks, a mode or a new playlist chosen for one plan without touching the rule set,
a backup's diff against the playlist now, and unattended sync's schedule, per-rule-set choice
(apply by itself, or hold for review) and last runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.pipeline.sync.unattended import every_words
from tests.api.test_sync_api import apply, expected_uris, plan, save_rule
from tests.helpers.spotify_env import DemoServer, demo_settings


@pytest.fixture
def server(connected: DemoServer) -> DemoServer:
    connected.fetch({"source_type": "liked"})
    return connected


def library_names(server: DemoServer) -> dict[str, str]:
    """The liked songs' titles (what the demo server fetched), by URI."""
    library = server.emulator.library
    return {
        f"spotify:track:{saved.track_id}": library.tracks[saved.track_id].name
        for saved in library.liked
    }


def test_a_plan_names_the_tracks_it_adds_and_removes(server: DemoServer) -> None:
    owned = max(server.playlists.owned, key=lambda p: len(p.entries))
    save_rule(server, "short", "duration < 200", target_playlist_id=owned.id)
    made = plan(server, "short")
    names = made["names"]
    adds = [add["uri"] for add in made["plan"]["adds"]]
    removes = made["plan"]["removes"]
    assert adds and removes
    titles = library_names(server)
    for uri in adds:  # added tracks come from the library: each has its title and artists
        assert names[uri].startswith(titles[uri] + " — ")
    # Removed tracks are named too: by the library when it holds them, else as the live
    # playlist named them (this playlist was not fetched); so are kept episodes and local files.
    known = [uri for uri in removes if uri in titles]
    assert known and all(names[uri].startswith(titles[uri]) for uri in known)
    assert all(uri in names for uri in removes)
    kept = [item["uri"] for item in made["plan"]["kept"] if item["uri"] is not None]
    assert all(uri in names for uri in kept)
    # Only the plan's tracks are named, not the whole library.
    assert set(names) <= set(adds) | set(removes) | {
        uri for move in made["plan"]["moves"] for uri in move["uris"]
    } | {item["uri"] for item in made["plan"]["kept"]} | {
        d["uri"] for d in made["plan"]["duplicates"]
    }


def test_a_mode_chosen_for_one_plan_leaves_the_rule_set_as_stored(server: DemoServer) -> None:
    owned = max(server.playlists.owned, key=lambda p: len(p.entries))
    save_rule(server, "short", "duration < 200", target_playlist_id=owned.id)
    answer = server.client.post(
        "/pipeline/playlists/plan", json={"rule_ids": ["short"], "mode": "append"}
    )
    assert answer.status_code == 200, answer.text
    made = answer.json()["plans"][0]
    assert made["mode"] == "append" and made["summary"]["removes"] == 0
    assert made["guards"] == []  # append removes nothing: no guard trips
    before = server.emulator.playlist_uris(owned.id)
    assert apply(server, made["id"])["status"] == "done"
    after = server.emulator.playlist_uris(owned.id)
    assert after[: len(before)] == before and len(after) == len(before) + made["summary"]["adds"]
    stored = server.client.get("/data/rules/short").json()
    assert stored["sync_mode"] == "replace"
    assert plan(server, "short")["mode"] == "replace"  # the next plan uses the rule set's mode


def test_writing_to_a_new_playlist_instead_is_a_one_off(server: DemoServer) -> None:
    owned = max(server.playlists.owned, key=lambda p: len(p.entries))
    before = server.emulator.playlist_uris(owned.id)
    save_rule(server, "short", "duration < 200", target_playlist_id=owned.id)
    answer = server.client.post(
        "/pipeline/playlists/plan",
        json={"rule_ids": ["short"], "new_playlist_name": "Short, a copy"},
    )
    assert answer.status_code == 200, answer.text
    made = answer.json()["plans"][0]
    assert (made["create"], made["one_off"], made["playlist_name"]) == (True, True, "Short, a copy")
    assert made["guards"] == []  # nothing of the user's is removed
    job = apply(server, made["id"])
    assert job["status"] == "done", job
    created = job["payload"]["applied"][0]["playlist_id"]
    assert created != owned.id
    assert server.emulator.playlist(created).name == "Short, a copy"
    assert server.emulator.playlist_uris(created) == expected_uris(server, "short")
    assert server.emulator.playlist_uris(owned.id) == before  # the rule set's own: untouched
    # The rule set still syncs its own playlist, and nothing in it changed.
    again = plan(server, "short")
    assert (again["playlist_id"], again["one_off"]) == (owned.id, False)
    assert server.client.get("/data/rules/short").json()["target_playlist_id"] == owned.id

    taken = server.client.post(
        "/pipeline/playlists/plan",
        json={"rule_ids": ["short"], "new_playlist_name": "Short, a copy"},
    )
    assert taken.status_code == 409 and taken.json()["error"] == "playlist_name_taken"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"mode": "merge"}, "options_need_one_rule_set"),
        ({"rule_ids": ["a", "b"], "new_playlist_name": "X"}, "options_need_one_rule_set"),
        ({"rule_ids": ["a"], "new_playlist_name": "  "}, "bad_playlist_name"),
    ],
)
def test_plan_options_are_for_one_rule_set_with_a_name(
    server: DemoServer, body: dict[str, Any], code: str
) -> None:
    save_rule(server, "a", "duration < 200", target_playlist_name="A")
    save_rule(server, "b", "duration > 200", target_playlist_name="B")
    answer = server.client.post("/pipeline/playlists/plan", json=body)
    assert answer.status_code == 422 and answer.json()["error"] == code, answer.text


def test_a_backup_diff_is_the_restore_to_come_and_empty_after_it(server: DemoServer) -> None:
    owned = max(server.playlists.owned, key=lambda p: len(p.entries))
    before = server.emulator.playlist_uris(owned.id)
    save_rule(server, "short", "duration < 200", target_playlist_id=owned.id)
    made = plan(server, "short")
    forced = sorted(g["guard"] for g in made["guards"])
    assert apply(server, made["id"], *forced)["status"] == "done"
    backup = server.client.get("/pipeline/playlists/backups").json()[0]
    calls = len(server.emulator.requests)
    diff = server.client.get(f"/pipeline/playlists/backups/{backup['id']}/diff")
    assert diff.status_code == 200, diff.text
    body = diff.json()
    assert all(r.method == "GET" for r in server.emulator.requests[calls:])  # reads only
    assert body["backup"]["id"] == backup["id"] and body["live_items"] == len(
        server.emulator.playlist_uris(owned.id)
    )
    assert body["plan"]["result"] == before
    # What the apply removed comes back (duplicates copy for copy); what it added goes.
    removed = set(made["plan"]["removes"])
    added = {a["uri"] for a in made["plan"]["adds"]}
    assert removed <= {a["uri"] for a in body["plan"]["adds"]}
    assert added - set(before) <= set(body["plan"]["removes"])
    assert body["summary"]["writes"] == len(body["plan"]["calls"]) > 0
    assert removed <= set(body["names"])  # named as the plan named them when it was taken

    restored = server.client.post("/pipeline/playlists/restore", json={"backup_id": backup["id"]})
    assert server.poll(restored.json()["id"])["status"] == "done"
    assert server.emulator.playlist_uris(owned.id) == before
    after = server.client.get(f"/pipeline/playlists/backups/{backup['id']}/diff").json()
    assert after["summary"]["writes"] == 0 and after["plan"]["calls"] == []
    missing = server.client.get("/pipeline/playlists/backups/backup-nope/diff")
    assert missing.status_code == 404


def test_unattended_sync_holds_the_rule_sets_kept_for_review(server: DemoServer) -> None:
    owned = max(server.playlists.owned, key=lambda p: len(p.entries))
    before = server.emulator.playlist_uris(owned.id)
    save_rule(server, "merge", "duration < 260", target_playlist_id=owned.id, sync_mode="append")
    save_rule(server, "long", "duration > 240", target_playlist_name="Long ones")
    status = server.client.get("/pipeline/playlists/unattended").json()
    assert status["schedule"] == "off" and status["next_run_at"] is None
    assert "sap sync --yes" in status["cron_line"]
    assert {(r["rule_id"], r["auto_apply"]) for r in status["rule_sets"]} == {
        ("merge", True),
        ("long", True),
    }

    held = server.client.put("/pipeline/playlists/unattended/merge", json={"auto_apply": False})
    assert held.status_code == 200 and held.json()["auto_apply"] is False
    assert server.client.get("/data/rules/merge").json()["auto_apply"] is False
    missing = server.client.put("/pipeline/playlists/unattended/nope", json={"auto_apply": True})
    assert missing.status_code == 404
    for loose in (0, "no", None):
        refused = server.client.put(
            "/pipeline/playlists/unattended/merge", json={"auto_apply": loose}
        )
        assert refused.status_code == 422, loose

    job = server.client.post(
        "/pipeline/sync/run-async",
        json={"metadata": {"apply": True, "fetch": False, "enrich": False}},
    )
    done = server.poll(job.json()["id"], timeout=60)
    assert done["status"] == "done", done
    outcomes = {p["rule_id"]: p["outcome"] for p in done["payload"]["plans"]}
    assert outcomes == {"merge": "held for review", "long": "applied"}
    assert done["payload"]["ok"] is True  # holding is what the user asked for
    assert server.emulator.playlist_uris(owned.id) == before  # held: not written

    runs = server.client.get("/pipeline/playlists/unattended").json()["runs"]
    assert runs[0]["job_id"] == done["id"] and runs[0]["periodic"] is False
    assert {p["rule_id"]: p["outcome"] for p in runs[0]["report"]["plans"]} == outcomes
    # The held plan waits, stored: the user applies it.
    held_plan = next(p for p in done["payload"]["plans"] if p["rule_id"] == "merge")
    assert apply(server, held_plan["id"])["status"] == "done"
    assert server.emulator.playlist_uris(owned.id) != before
    # Once applied, a rule set aimed at a playlist id shows the playlist's name.
    targets = {
        r["rule_id"]: r["target"]
        for r in server.client.get("/pipeline/playlists/unattended").json()["rule_sets"]
    }
    assert targets == {"merge": server.emulator.playlist(owned.id).name, "long": "Long ones"}


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (6 * 3600, "every 6 hours"),
        (3600, "every hour"),
        (86400, "every day"),
        (1800, "every 30 minutes"),
        (90, "every 90 seconds"),
        (0.2, "every 0.2 seconds"),
    ],
)
def test_a_schedule_in_words(seconds: float, words: str) -> None:
    assert every_words(seconds) == words


def test_the_server_schedule_and_its_next_run(tmp_path: Path) -> None:
    with DemoServer.open(demo_settings(tmp_path / "cache", sync_every="6h")) as server:
        before = datetime.now(UTC)
        status = server.client.get("/pipeline/playlists/unattended").json()
        assert (status["schedule"], status["every_seconds"]) == ("server", 6 * 3600)
        assert status["in_words"] == "The server syncs every 6 hours, applying what no guard stops."
        next_run = datetime.fromisoformat(status["next_run_at"])
        assert before < next_run <= before + timedelta(hours=6)
