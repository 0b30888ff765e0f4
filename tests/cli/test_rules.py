"""`rules …`, `preview` and `explain` from the command line, in demo mode over a fetched library
(the demo account's liked songs) and its stored data in <cache>/demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli import app
from app.data import Stores
from tests.helpers import cli
from tests.helpers.cli import runner


def sap(cache_dir: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    return cli.sap(cache_dir, *args, demo=True, input=input)


def sap_json(cache_dir: Path, *args: str) -> Any:
    return cli.sap_json(cache_dir, *args, demo=True)


def stores(cache_dir: Path) -> Stores:
    return Stores.open(cache_dir / "demo")


@pytest.fixture
def fetched(cache_dir: Path) -> list[str]:
    """Logged in, liked songs fetched; returns the stored track ids in order."""
    assert sap(cache_dir, "login")[0] == 0
    code, _, err = sap(cache_dir, "fetch", "--liked")
    assert code == 0, err
    track_ids = list(stores(cache_dir).tracks.load_tracks())
    assert len(track_ids) == 120
    return track_ids


def long_ones(cache_dir: Path, seconds: int) -> list[str]:
    tracks = stores(cache_dir).tracks.load_tracks()
    return [t.id for t in tracks.values() if t.duration_ms / 1000 > seconds]


def test_add_list_show_rm(cache_dir: Path, fetched: list[str], tmp_path: Path) -> None:
    code, out, err = sap(cache_dir, "rules", "add", "long", "--name", "Long ones", "duration > 300")
    assert code == 0, err
    assert out.strip() == "saved [long] Long ones"
    rules_path = tmp_path / "short.rules"
    rules_path.write_text("duration < 200\nsort by duration desc\n", encoding="utf-8")
    code, out, err = sap(
        cache_dir, "rules", "add", "short", "--name", "Short", "--file", str(rules_path)
    )
    assert code == 0, err
    assert [d["id"] for d in stores(cache_dir).rules.load_rules()] == ["long", "short"]

    listing = sap_json(cache_dir, "rules", "list")
    assert [(r["id"], r["text"]) for r in listing] == [
        ("long", "duration > 300"),
        ("short", "duration < 200\nsort by duration desc"),
    ]
    code, out, _ = sap(cache_dir, "rules", "list")
    assert code == 0 and "long" in out and "short" in out and "2 rule set(s)" in out
    code, out, _ = sap(cache_dir, "rules", "show", "short")
    assert out.splitlines() == ["[short] Short", "duration < 200", "sort by duration desc"]
    assert sap_json(cache_dir, "rules", "show", "long")["rules"]["conditions"][0]["value"] == 300

    bad = sap(cache_dir, "rules", "add", "bad", "--name", "Bad", "duratoin > 300")
    assert bad[0] == 1
    assert "unknown field 'duratoin' — did you mean 'duration'?" in bad[2]
    assert [d["id"] for d in stores(cache_dir).rules.load_rules()] == ["long", "short"]

    code, out, _ = sap(cache_dir, "rules", "rm", "long")
    assert (code, out.strip()) == (0, "deleted long")
    assert [d["id"] for d in stores(cache_dir).rules.load_rules()] == ["short"]
    code, _, err = sap(cache_dir, "rules", "rm", "long")
    assert code == 1 and "no rule set with id 'long'" in err


def test_edit_saves_what_the_editor_wrote(
    cache_dir: Path, fetched: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap(cache_dir, "rules", "add", "long", "--name", "Long", "duration > 300")
    editor = tmp_path / "editor.py"
    seen = tmp_path / "seen.txt"
    editor.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        f"pathlib.Path({str(seen)!r}).write_text(path.read_text())\n"
        "path.write_text(path.read_text().replace('300', '400') + 'sort by duration desc\\n')\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    code, out, err = sap(cache_dir, "rules", "edit", "long")
    assert code == 0, err
    assert out.strip() == "saved [long] Long"
    assert seen.read_text() == "duration > 300\n"  # the editor got the current text
    assert sap_json(cache_dir, "rules", "show", "long")["text"] == (
        "duration > 400\nsort by duration desc"
    )

    # An edit that breaks the rules is refused and the stored rule set stays.
    editor.write_text(
        "import pathlib, sys\npathlib.Path(sys.argv[1]).write_text('duration >')\n",
        encoding="utf-8",
    )
    code, _, err = sap(cache_dir, "rules", "edit", "long")
    assert code == 1 and "line 1, column 11" in err
    assert sap_json(cache_dir, "rules", "show", "long")["text"].startswith("duration > 400")


def test_validate_fmt_and_apply_file(cache_dir: Path, fetched: list[str], tmp_path: Path) -> None:
    good = tmp_path / "good.rules"
    good.write_text(
        "[long] Long ones\nduration>300   and NOT (explicit = true)\n\n"
        '[not-long] Others\nnot in rule "long"\n',
        encoding="utf-8",
    )
    bad = tmp_path / "bad.rules"
    bad.write_text("[long] Long ones\nduratoin > 300\n", encoding="utf-8")

    code, out, err = sap(cache_dir, "rules", "validate", str(bad))
    assert code == 1
    assert out.strip() == "0 valid, 1 invalid"
    assert err.splitlines() == [
        "[long] line 2, column 1: unknown field 'duratoin' — did you mean 'duration'?",
        "duratoin > 300",
        "^^^^^^^^",
    ]
    code, out, err = sap(cache_dir, "rules", "validate", str(good))
    assert (code, out.strip()) == (0, "2 valid, 0 invalid"), err
    assert stores(cache_dir).rules.load_rules() == []  # validate saves nothing

    text = tmp_path / "one.rules"
    text.write_text("duration>300   and NOT (explicit = true)\nLIMIT 5", encoding="utf-8")
    formatted = runner.invoke(app, ["rules", "fmt", str(text)])  # needs no data directory
    assert (formatted.exit_code, formatted.stdout) == (
        0,
        "duration > 300 and explicit != true\nlimit 5 tracks\n",
    )
    from_stdin = runner.invoke(app, ["rules", "fmt", "-"], input="duration >")
    assert from_stdin.exit_code == 1
    assert from_stdin.stderr.splitlines()[1:] == ["duration >", "          ^"]

    code, out, err = sap(cache_dir, "rules", "apply-file", str(bad))
    assert code == 1 and "did you mean 'duration'?" in err
    assert stores(cache_dir).rules.load_rules() == []
    code, out, err = sap(cache_dir, "rules", "apply-file", str(good))
    assert (code, out.strip()) == (0, "saved 2 rule set(s): long, not-long"), err
    code, out, err = sap(cache_dir, "rules", "validate")  # the stored ones
    assert (code, out.strip()) == (0, "2 valid, 0 invalid"), err


def test_validate_file_finds_a_cycle_between_its_rule_sets(
    cache_dir: Path, fetched: list[str], tmp_path: Path
) -> None:
    looped = tmp_path / "looped.rules"
    looped.write_text(
        '[a] A\nin rule "b"\n\n[b] B\nin rule "a"\n\n[c] C\nduration > 100\n',
        encoding="utf-8",
    )
    code, out, err = sap(cache_dir, "rules", "validate", str(looped))
    assert code == 1
    assert out.strip() == "3 valid, 0 invalid, 1 problem(s) across rule sets"
    assert "a → b → a" in err and "cycle" in err
    code, _, err = sap(cache_dir, "rules", "apply-file", str(looped))  # agrees: nothing saved
    assert code == 1 and "a → b → a" in err
    assert stores(cache_dir).rules.load_rules() == []


def test_preview_and_explain(cache_dir: Path, fetched: list[str]) -> None:
    sap(cache_dir, "rules", "add", "long", "--name", "Long", "duration > 300")
    sap(cache_dir, "rules", "add", "longer", "--name", "Longer", "duration > 400")
    long, longer = long_ones(cache_dir, 300), long_ones(cache_dir, 400)
    assert long and longer and len(long) < 120

    result = sap_json(cache_dir, "preview")
    playlists = {p["rule_id"]: p for p in result["playlists"]}
    assert playlists["long"]["track_ids"] == long
    assert playlists["longer"]["track_ids"] == longer
    assert result["partition"]["overlaps"] == [
        {"rule_ids": ["long", "longer"], "tracks": len(longer)}
    ]
    assert result["partition"]["nowhere"]["count"] == 120 - len(long)
    only = sap_json(cache_dir, "preview", "longer")
    assert [p["rule_id"] for p in only["playlists"]] == ["longer"]
    assert "track_rules" not in result["partition"]
    assert "dropped" not in result["playlists"][0]
    detailed = sap_json(cache_dir, "preview", "--detail")
    assert detailed["partition"]["track_rules"] == {
        t: ["long", "longer"] if t in longer else ["long"] for t in long
    }
    assert detailed["playlists"][0]["dropped"] == {}

    code, out, _ = sap(cache_dir, "preview")
    assert code == 0
    assert f"{len(long)} of 120 tracks placed; {120 - len(long)} land nowhere" in out.replace(
        "\n", " "
    )
    code, out, _ = sap(cache_dir, "preview", "longer", "--tracks")
    tracks = stores(cache_dir).tracks.load_tracks()
    listed = out.split("longer\n", 1)[1].splitlines()
    assert [line.strip() for line in listed] == [
        f"{tracks[t].name} — {', '.join(a.name for a in tracks[t].artists)}" for t in longer
    ]

    short = next(t for t in fetched if t not in long)
    yes = sap_json(cache_dir, "explain", long[0], "long")
    assert (yes["outcome"], yes["included"]) == ("included", True)
    [check] = yes["rules"]["conditions"]
    assert (check["actual"], check["provider"]) == (tracks[long[0]].duration_ms / 1000, "spotify")
    no = sap_json(cache_dir, "explain", short, "long")
    assert (no["outcome"], no["included"], no["rules"]["passed"]) == ("failed rules", False, False)
    code, out, _ = sap(cache_dir, "explain", short, "long")
    assert code == 0 and out.splitlines()[0] == f"{short} in [long]: failed rules"
    assert "✗ duration gt 300: actual" in out


def test_rules_count_a_stored_rule_set_and_a_file_as_the_preview_does(
    cache_dir: Path, fetched: list[str], tmp_path: Path
) -> None:
    sap(cache_dir, "rules", "add", "long", "--name", "Long", "duration > 300")
    long = long_ones(cache_dir, 300)
    [playlist] = sap_json(cache_dir, "preview")["playlists"]
    [stored] = sap_json(cache_dir, "rules", "count", "long")
    assert (stored["track_count"], stored["minutes"]) == (len(long), playlist["minutes"])
    assert (
        stored["removed"]
        == playlist["removed"]
        == {
            "rules": 120 - len(long),
            "excluded": 0,
            "deduped": 0,
            "over_limit": 0,
            "artist_cap": 0,
            "pins": 0,
        }
    )

    rules_path = tmp_path / "two.rules"
    rules_path.write_text(
        "[longer] Longer\nduration > 400\n\n[few] Few\nduration > 300\nlimit 3 tracks\n",
        encoding="utf-8",
    )
    longer, few = sap_json(cache_dir, "rules", "count", str(rules_path))
    assert longer["track_count"] == len(long_ones(cache_dir, 400))
    assert (few["track_count"], few["removed"]["over_limit"]) == (3, len(long) - 3)
    assert [d["id"] for d in stores(cache_dir).rules.load_rules()] == ["long"]  # not saved
    code, out, _ = sap(cache_dir, "rules", "count", str(rules_path))
    assert code == 0 and f"over_limit {len(long) - 3}" in out

    bad = tmp_path / "bad.rules"
    bad.write_text("[bad] Bad\nnosuchfield > 3\n", encoding="utf-8")
    code, _, err = sap(cache_dir, "rules", "count", str(bad))
    assert code == 1 and "nosuchfield" in err
    code, _, err = sap(cache_dir, "rules", "count", "nope")
    assert code == 1 and "nope" in err


def test_rules_count_shows_what_each_condition_removes(
    cache_dir: Path, fetched: list[str], tmp_path: Path
) -> None:
    long, longer = long_ones(cache_dir, 300), long_ones(cache_dir, 400)
    path = tmp_path / "both.rules"
    path.write_text("[both] Both\nduration > 300 and duration <= 400\n", encoding="utf-8")
    [counted] = sap_json(cache_dir, "rules", "count", str(path))
    nodes = {node["path"]: node for node in counted["nodes"]}
    assert (nodes["0"]["matches"], nodes["0"]["removes"]) == (len(long), 120 - len(long))
    assert nodes["1"]["removes"] == len(longer)
    code, out, _ = sap(cache_dir, "rules", "count", str(path))
    assert code == 0
    lines = [" ".join(line.strip("│ ").split(" │ ")).strip() for line in out.splitlines()]
    lines = [" ".join(line.split()) for line in lines]
    assert f"0 duration > 300 {len(long)} removes {120 - len(long)}" in lines
    assert f"1 duration <= 400 {120 - len(longer)} removes {len(longer)}" in lines


def test_preview_shows_the_others_and_a_line_per_broken_rule_set(
    cache_dir: Path, fetched: list[str]
) -> None:
    sap(cache_dir, "rules", "add", "long", "--name", "Long", "duration > 300")
    # A regex RE2 cannot compile, as a rules.json written before validation got stricter
    # holds it (`rules add` refuses it), and a rule set built on it.
    with stores(cache_dir).rules.update() as documents:
        documents.append(
            {
                "id": "bad",
                "name": "Bad",
                "rules": {
                    "conditions": [{"field": "name", "operator": "regex", "value": "(?<=a)b"}]
                },
            }
        )
        documents.append(
            {
                "id": "on-bad",
                "name": "On bad",
                "rules": {"conditions": [{"field": "id", "operator": "in_rule", "value": "bad"}]},
            }
        )
    long = long_ones(cache_dir, 300)

    code, out, err = sap(cache_dir, "preview")
    assert code == 0, err
    assert "long (Long)" in out and f"{len(long)} of 120 tracks placed" in out.replace("\n", " ")
    lines = [" ".join(line.split()) for line in err.strip().splitlines()]
    assert len(lines) == 2
    assert lines[0].startswith("broken: [bad] name regex: invalid pattern '(?<=a)b'")
    assert lines[1] == "broken: [on-bad] refers to rule set 'bad', which is broken"

    code, out, _ = sap(cache_dir, "preview", "--json")
    assert code == 0
    assert [b["rule_id"] for b in json.loads(out)["broken"]] == ["bad", "on-bad"]

    # Nothing could be previewed: exit 1, and why.
    code, _, err = sap(cache_dir, "preview", "bad")
    assert code == 1 and "broken: [bad]" in err


def test_a_rule_on_a_field_no_track_has_yet_warns_and_is_saved(
    cache_dir: Path, fetched: list[str], tmp_path: Path
) -> None:
    # Fetched, never enriched: no track has `energy` yet.
    warning = (
        "warning: [calm] line 1, column 1: no track has 'energy' yet — run enrichment for "
        "reccobeats: `sap enrich --provider reccobeats`"
    )
    code, out, err = sap(cache_dir, "rules", "add", "calm", "--name", "Calm", "energy < 0.4")
    assert code == 0, err
    assert out.strip() == "saved [calm] Calm"
    assert err.splitlines() == [warning, "energy < 0.4", "^^^^^^"]
    assert [d["id"] for d in stores(cache_dir).rules.load_rules()] == ["calm"]

    code, out, err = sap(cache_dir, "rules", "validate")  # the stored JSON: paths, no text
    assert (code, out.strip()) == (0, "1 valid, 0 invalid, 1 warning(s)")
    assert err.splitlines() == [warning.replace("line 1, column 1", "rules.conditions[0].field")]

    rules_file = tmp_path / "my.rules"
    rules_file.write_text("[calm] Calm\nenergy < 0.4\n", encoding="utf-8")
    code, out, err = sap(cache_dir, "rules", "validate", str(rules_file))
    assert (code, out.strip()) == (0, "1 valid, 0 invalid, 1 warning(s)")
    assert err.splitlines()[0] == warning.replace("line 1", "line 2")
    code, out, err = sap(cache_dir, "rules", "apply-file", str(rules_file))
    assert (code, out.strip()) == (0, "saved 1 rule set(s): calm")
    assert err.splitlines()[0] == warning.replace("line 1", "line 2")

    code, out, err = sap(cache_dir, "preview")
    assert code == 0
    assert err.splitlines() == [
        "warning: [calm] no track has 'energy' yet — run enrichment for reccobeats: "
        "`sap enrich --provider reccobeats`"
    ]
    [playlist] = sap_json(cache_dir, "preview")["playlists"]
    assert playlist["track_ids"] == []
    assert [w["field"] for w in playlist["warnings"]] == ["energy"]


def test_show_edit_export_and_apply_file_carry_the_whole_definition(
    cache_dir: Path, fetched: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        f'duration > 300\npin "{fetched[0]}"\ntarget playlist named "Long ones"\nmode merge\n'
        "hold for review"
    )
    code, _, err = sap(cache_dir, "rules", "add", "long", "--name", "Long", text)
    assert code == 0, err
    code, out, _ = sap(cache_dir, "rules", "show", "long")
    assert out.splitlines() == ["[long] Long", *text.splitlines()]

    # Re-added without the settings (and without --name): they are kept.
    assert sap(cache_dir, "rules", "add", "long", "duration > 320")[0] == 0
    code, out, _ = sap(cache_dir, "rules", "show", "long")
    assert out.splitlines() == ["[long] Long", "duration > 320", *text.splitlines()[1:]]

    # `rules edit` saves the whole text: a line deleted there is cleared.
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "lines = path.read_text().splitlines()\n"
        "path.write_text('\\n'.join(l for l in lines if not l.startswith('mode')))\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    code, _, err = sap(cache_dir, "rules", "edit", "long")
    assert code == 0, err
    stored = sap_json(cache_dir, "rules", "show", "long")
    assert (stored["sync_mode"], stored["auto_apply"], stored["include"]) == (
        "replace",
        False,
        [fetched[0]],
    )

    # Exported, deleted, applied back: the same rule set.
    exported = tmp_path / "mine.rules"
    assert sap(cache_dir, "rules", "export", "-o", str(exported))[0] == 0
    code, out, _ = sap(cache_dir, "rules", "export")
    assert out == exported.read_text(encoding="utf-8")
    assert "[long] Long\nduration > 320\n" in out
    assert sap(cache_dir, "rules", "rm", "long")[0] == 0
    code, out, err = sap(cache_dir, "rules", "apply-file", str(exported))
    assert code == 0, err
    assert sap_json(cache_dir, "rules", "show", "long") == stored
    code, _, err = sap(cache_dir, "rules", "export", "nope")
    assert code == 1 and "no rule set with id 'nope'" in err


def test_rules_values_lists_what_the_library_holds_most_common_first(
    cache_dir: Path, fetched: list[str]
) -> None:
    sap(cache_dir, "rules", "add", "long", "--name", "Long", "duration > 300")
    answer = sap_json(cache_dir, "rules", "values")
    assert answer["rule_sets"] == [{"id": "long", "name": "Long", "enabled": True}]
    artists = answer["values"]["artists"]
    tracks = stores(cache_dir).tracks.load_tracks()
    for known in artists[:3]:
        assert known["tracks"] == sum(
            any(a.name == known["value"] for a in track.artists) for track in tracks.values()
        )
    assert [v["tracks"] for v in artists] == sorted((v["tracks"] for v in artists), reverse=True)
    code, out, _ = sap(cache_dir, "rules", "values", "artists")
    assert code == 0 and artists[0]["value"] in out
    code, _, err = sap(cache_dir, "rules", "values", "nosuchfield")
    assert code == 1 and "nosuchfield" in err


def test_rules_list_counts_every_rule_set_as_the_preview_does_and_names_the_broken(
    cache_dir: Path, fetched: list[str]
) -> None:
    sap(cache_dir, "rules", "add", "long", "--name", "Long", "duration > 300")
    sap(cache_dir, "rules", "add", "few", "--name", "Few", "duration > 300\nlimit 3 tracks")
    with stores(cache_dir).rules.update() as documents:
        documents[1]["enabled"] = False  # the list shows disabled rule sets too
        documents.append(
            {
                "id": "bad",
                "name": "Bad",
                "rules": {
                    "conditions": [{"field": "name", "operator": "regex", "value": "(?<=a)b"}]
                },
            }
        )
    long = long_ones(cache_dir, 300)
    preview = sap_json(cache_dir, "preview", "long", "few")["playlists"]

    answer = sap_json(cache_dir, "rules", "list", "--counts")
    figures = [(c["rule_id"], c["enabled"], c["track_count"]) for c in answer["counts"]]
    assert figures == [("long", True, len(long)), ("few", False, 3)]
    for counted, playlist in zip(answer["counts"], preview, strict=True):
        assert counted == {key: playlist[key] for key in counted}
    assert "track_ids" not in answer["counts"][0]
    [broken] = answer["broken"]
    assert broken["rule_id"] == "bad"

    code, out, err = sap(cache_dir, "rules", "list", "--counts")
    assert code == 0, err
    cells = [[c.strip() for c in line.strip("│ ").split("│")] for line in out.splitlines()]
    rows = {row[0]: row for row in cells if len(row) == 6}  # id name enabled tracks minutes rules
    assert rows["long"][3:5] == [str(len(long)), f"{preview[0]['minutes']:g}"]
    assert rows["few"][2:4] == ["no", "3"] and rows["bad"][3] == "broken"
    assert " ".join(err.split()).startswith("broken: [bad] name regex: invalid pattern")
