"""The sync commands in demo mode, each invocation its own emulator over the shared demo state:
plan, apply (creating the playlist), a no-op re-plan, guards from the shell, backups, restore,
and the unattended `sync`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.data import Stores
from app.demo import DemoEnvironment
from app.emulators.spotify.config import CLIENT_SCOPES
from app.spotify.access import DEMO_CLIENT_ID
from tests.helpers import cli
from tests.helpers.spotify_env import demo_settings


def sap(cache_dir: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    return cli.sap(cache_dir, *args, demo=True, input=input)


def sap_json(cache_dir: Path, *args: str) -> Any:
    return cli.sap_json(cache_dir, *args, demo=True)


def live_uris(cache_dir: Path, playlist_id: str) -> list[str | None]:
    """What the demo account holds now, seen by a fresh emulator (another "process")."""
    env = DemoEnvironment.create(demo_settings(cache_dir))
    return env.emulator.playlist_uris(playlist_id)


@pytest.fixture
def ready(cache_dir: Path) -> Path:
    assert sap(cache_dir, "login")[0] == 0
    assert sap(cache_dir, "fetch", "--liked")[0] == 0
    code, _, err = sap(cache_dir, "rules", "add", "long", "--name", "Long ones", "duration > 240")
    assert code == 0, err
    edit_rule(cache_dir, target_playlist_name="Long ones")
    return cache_dir


def edit_rule(cache_dir: Path, *, value: int | None = None, **fields: Any) -> None:
    """Change the stored rule set "long" as `sap rules edit` would leave it."""
    with Stores.open(cache_dir / "demo").rules.update() as rules:
        rule = next(r for r in rules if r["id"] == "long")
        rule.update(fields)
        if value is not None:
            rule["rules"]["conditions"][0]["value"] = value


def test_plan_apply_replan_backups_restore(ready: Path) -> None:
    plans = sap_json(ready, "plan")
    assert len(plans) == 1 and plans[0]["create"]
    code, out, _ = sap(ready, "plan")
    assert code == 0 and "(new playlist)" in out and "+" in out
    plan_id = sap_json(ready, "plan")[0]["id"]
    job = sap_json(ready, "apply", plan_id)
    assert job["status"] == "done"
    playlist_id = job["payload"]["applied"][0]["playlist_id"]
    result = sap_json(ready, "plan")[0]
    assert result["playlist_id"] == playlist_id and result["summary"]["writes"] == 0
    assert live_uris(ready, playlist_id) == result["plan"]["result"]

    edit_rule(ready, value=400)
    narrower = sap_json(ready, "plan")[0]
    assert [g["guard"] for g in narrower["guards"]] == ["remove_share"]
    code, _, err = sap(ready, "apply", narrower["id"])
    assert code == 1 and "--force remove_share" in " ".join(err.split())
    assert sap_json(ready, "apply", narrower["id"], "--force", "remove_share")["status"] == "done"
    backups = sap_json(ready, "backups")
    assert len(backups) == 1 and backups[0]["playlist_id"] == playlist_id
    assert sap_json(ready, "restore", backups[0]["id"])["status"] == "done"
    assert live_uris(ready, playlist_id) == result["plan"]["result"]


def test_unattended_sync(ready: Path) -> None:
    dry = sap_json(ready, "sync", "--dry-run", "--no-enrich")
    assert dry["ok"] and [p["outcome"] for p in dry["plans"]] == ["planned"]
    done = sap_json(ready, "sync", "--yes", "--no-enrich")
    assert [p["outcome"] for p in done["plans"]] == ["applied"]
    again = sap_json(ready, "sync", "--yes", "--no-enrich")
    assert [p["outcome"] for p in again["plans"]] == ["unchanged"]
    code, out, _ = sap(ready, "sync", "--dry-run", "--no-enrich")
    assert code == 0 and "unchanged" in out and "dry run: nothing written" in out
    edit_rule(ready, value=400)
    # The dry run reports the guard and the exit status the real run then has.
    dry = sap_json_any(ready, "sync", "--dry-run", "--no-enrich", "--no-fetch")
    assert dry["ok"] is False and dry["dry_run"] is True
    [outcome] = [p["outcome"] for p in dry["plans"]]
    assert outcome.startswith("skipped (remove_share: ")
    code, out, _ = sap(ready, "sync", "--dry-run", "--no-enrich", "--no-fetch")
    assert code == 1 and "skipped" in out and "remove_share" in out
    code, out, _ = sap(ready, "sync", "--yes", "--no-enrich", "--no-fetch")
    assert code == 1 and "skipped" in out and "remove_share" in out
    done = sap_json_any(ready, "sync", "--yes", "--no-enrich", "--no-fetch")
    assert [p["outcome"] for p in done["plans"]] == [outcome] and done["ok"] is False


def sap_json_any(cache_dir: Path, *args: str) -> Any:
    """The `--json` output of a command, whatever its exit code."""
    _code, out, _err = sap(cache_dir, *args, "--json")
    return json.loads(out)


def add_broken_rule_sets(cache_dir: Path) -> None:
    """A regex RE2 refuses (`rules add` refuses it too), as a rules.json written before
    validation got stricter holds it, and a rule set built on it; both with a target."""
    regex = {"field": "name", "operator": "regex", "value": "(?<=a)b"}
    on_bad = {"field": "id", "operator": "in_rule", "value": "bad"}
    with Stores.open(cache_dir / "demo").rules.update() as rules:
        for rule_id, condition in (("bad", regex), ("on-bad", on_bad)):
            rules.append(
                {
                    "id": rule_id,
                    "name": rule_id.title(),
                    "rules": {"conditions": [condition]},
                    "target_playlist_name": f"Auto {rule_id}",
                }
            )


def broken_lines(err: str) -> list[str]:
    return [" ".join(line.split()) for line in err.strip().splitlines()]


def test_plan_prints_a_line_per_broken_rule_set_and_plans_the_others(ready: Path) -> None:
    add_broken_rule_sets(ready)
    code, out, err = sap(ready, "plan")
    assert code == 0, err
    assert "long → Long ones (new playlist)" in " ".join(out.split())
    lines = broken_lines(err)
    assert len(lines) == 2
    assert lines[0].startswith("broken: [bad] name regex: invalid pattern '(?<=a)b'")
    assert lines[1] == "broken: [on-bad] refers to rule set 'bad', which is broken"

    code, out, err = sap(ready, "plan", "--json")  # the JSON is the plans, as before
    assert code == 0, err
    assert [plan["rule_id"] for plan in json.loads(out)] == ["long"]
    assert len(broken_lines(err)) == 2

    # Nothing could be planned: exit 1, and why.
    code, out, err = sap(ready, "plan", "on-bad")
    assert code == 1 and "No rule set has a target" not in out
    assert [line.split("]")[0] for line in broken_lines(err)] == ["broken: [on-bad", "broken: [bad"]


def test_unattended_sync_names_a_broken_rule_set_and_exits_1(ready: Path) -> None:
    add_broken_rule_sets(ready)
    code, out, err = sap(ready, "sync", "--yes", "--no-enrich", "--no-fetch", "--json")
    assert code == 1, err
    report = json.loads(out)
    assert report["ok"] is False
    assert [(p["rule_id"], p["outcome"]) for p in report["plans"]] == [("long", "applied")]
    assert [b["rule_id"] for b in report["broken"]] == ["bad", "on-bad"]
    assert "invalid pattern" in report["broken"][0]["problems"][0]["message"]
    code, out, err = sap(ready, "sync", "--yes", "--no-enrich", "--no-fetch")
    assert code == 1 and "unchanged" in out
    lines = broken_lines(err)
    assert lines[0].startswith("broken: [bad] name regex: invalid pattern")
    assert lines[1] == "broken: [on-bad] refers to rule set 'bad', which is broken"


def test_v1_build_from_rules_and_from_classifications(ready: Path) -> None:
    from_rules = sap_json(ready, "build")
    assert [t["rule_id"] for t in from_rules["targets"]] == ["long"]
    code, _, err = sap(ready, "build", "--from", "classifications")
    assert code == 1 and "run classify first" in err
    assert sap(ready, "enrich", "--provider", "reccobeats")[0] == 0
    moods = sap_json(ready, "classify")["moods"]
    built = sap_json(ready, "build", "--from", "classifications")
    expected = {f"mood-{mood}": count for mood, count in moods.items() if mood != "None"}
    assert {t["rule_id"]: t["tracks"] for t in built["targets"]} == expected


def test_unattended_sync_names_a_source_it_could_not_fetch_and_exits_1(ready: Path) -> None:
    """A login that no longer lets the app read the liked songs: the sync goes on with what it
    has, names the source on stderr and exits 1."""
    env = DemoEnvironment.create(demo_settings(ready))  # the same signing secret as the CLI's
    tokens = env.services.spotify.tokens
    granted = env.emulator.grant_tokens(
        [scope for scope in CLIENT_SCOPES if scope != "user-library-read"], DEMO_CLIENT_ID
    )
    stored = tokens.load()
    assert stored is not None
    tokens.save(stored.model_copy(update={"access_token": granted["access_token"]}))
    code, out, err = sap(ready, "sync", "--no-enrich")
    assert code == 1, err
    assert "planned" in out  # the rule set was planned all the same
    _, said = " ".join(err.split()).split("fetch: ")  # one line, however the console wraps
    assert said.startswith("1 of 1 sources failed: Liked Songs (")
    assert "Insufficient client scope" in said


def test_re_adding_a_rule_set_in_text_keeps_its_target_mode_pins_and_bans(ready: Path) -> None:
    # A user re-saves the rules of "long" from the shell: what the text leaves out is kept.
    pinned = list(Stores.open(ready / "demo").tracks.load_tracks())[:1]
    edit_rule(ready, sync_mode="merge", include=pinned, exclude=["banned0000000000000000"])
    code, _, err = sap(ready, "rules", "add", "long", "--name", "Long ones", "duration > 250")
    assert code == 0, err
    [plan] = sap_json(ready, "plan")
    assert (plan["rule_id"], plan["playlist_name"], plan["mode"]) == ("long", "Long ones", "merge")
    stored = next(r for r in Stores.open(ready / "demo").rules.load_rules() if r["id"] == "long")
    assert stored["rules"]["conditions"][0]["value"] == 250
    assert (stored["include"], stored["exclude"]) == (pinned, ["banned0000000000000000"])


def test_hold_auto_one_off_plans_and_backup_diff(ready: Path) -> None:
    code, out, _ = sap(ready, "rules", "hold", "long")
    assert code == 0 and "holds its plan for review" in out
    report = sap_json(ready, "sync", "--yes", "--no-fetch", "--no-enrich")
    assert [(p["rule_id"], p["outcome"]) for p in report["plans"]] == [("long", "held for review")]
    assert report["ok"] is True
    code, out, _ = sap(ready, "rules", "auto", "long")
    assert code == 0 and "applies its plan by itself" in out
    applied = sap_json(ready, "sync", "--yes", "--no-fetch", "--no-enrich")["plans"][0]
    assert applied["outcome"] == "applied"
    playlist_id = applied["applied"]["playlist_id"]

    copy = sap_json(ready, "plan", "long", "--new-playlist", "Long, a copy", "--mode", "append")
    assert (copy[0]["one_off"], copy[0]["create"], copy[0]["mode"]) == (True, True, "append")
    code, _, err = sap(ready, "plan", "--mode", "sideways")
    assert code == 1 and "replace, merge or append" in err

    edit_rule(ready, value=400)
    narrower = sap_json(ready, "plan")[0]
    assert narrower["playlist_id"] == playlist_id  # the one-off plan did not move the target
    sap_json(ready, "apply", narrower["id"], "--force", "remove_share")
    backup = sap_json(ready, "backups")[0]["id"]
    diff = sap_json(ready, "backup-diff", backup)
    assert diff["summary"]["adds"] >= narrower["summary"]["removes"] > 0
    code, out, _ = sap(ready, "backup-diff", backup)
    assert code == 0 and f"restoring {backup}" in out and "+ " in out
