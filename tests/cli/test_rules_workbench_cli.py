"""The workbench's CLI twins in demo mode: `sap overlaps`, `sap rules starters`, `sap rules
export` and `apply-file --check`, `sap rules status` — each the same model as its endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.data import Stores
from tests.helpers import cli


def sap(cache_dir: Path, *args: str) -> tuple[int, str, str]:
    return cli.sap(cache_dir, *args, demo=True)


@pytest.fixture
def fetched(cache_dir: Path) -> list[str]:
    assert sap(cache_dir, "login")[0] == 0
    code, _, err = sap(cache_dir, "fetch", "--liked")
    assert code == 0, err
    return list(Stores.open(cache_dir / "demo").tracks.load_tracks())


def test_overlaps_starters_and_status(cache_dir: Path, fetched: list[str]) -> None:
    for rule_id, text in (("long", "duration > 200"), ("longer", "duration > 300")):
        code, _, err = sap(cache_dir, "rules", "add", rule_id, "--name", rule_id, text)
        assert code == 0, err
    preview = cli.sap_json(cache_dir, "preview", demo=True)
    sizes = {p["rule_id"]: p["track_count"] for p in preview["playlists"]}
    found = cli.sap_json(cache_dir, "overlaps", demo=True)
    assert found["matrix"] == [[sizes["long"], sizes["longer"]], [sizes["longer"]] * 2]
    assert found["liked_nowhere"]["count"] == len(fetched) - sizes["long"]
    code, out, _ = sap(cache_dir, "overlaps")
    assert code == 0 and f"{len(fetched) - sizes['long']} of {len(fetched)} liked songs" in out

    starters = cli.sap_json(cache_dir, "rules", "starters", demo=True)["starters"]
    assert len(starters) >= 6
    recent = next(s for s in starters if s["key"] == "recent")
    assert recent["text"].startswith("added_at in last 30d")
    code, out, _ = sap(cache_dir, "rules", "starters")
    assert code == 0 and "Liked but in no playlist" in out

    states = cli.sap_json(cache_dir, "rules", "status", demo=True)
    assert [(s["rule_id"], s["status"]) for s in states] == [
        ("long", "not checked"),
        ("longer", "not checked"),
    ]


def test_export_then_check_then_apply(cache_dir: Path, fetched: list[str], tmp_path: Path) -> None:
    sap(cache_dir, "rules", "add", "long", "--name", "Long ones", "duration > 300")
    target = tmp_path / "rules.txt"
    code, _, err = sap(cache_dir, "rules", "export", "-o", str(target))
    assert code == 0, err
    text = target.read_text(encoding="utf-8")
    assert "[long] Long ones\nduration > 300" in text
    code, out, _ = sap(cache_dir, "rules", "apply-file", "--check", str(target))
    assert code == 0 and "unchanged  [long] Long ones" in out
    target.write_text(text.replace("> 300", "> 400"), encoding="utf-8")
    code, out, _ = sap(cache_dir, "rules", "apply-file", "--check", str(target))
    assert code == 0 and "changed  [long] Long ones" in out
    shown = cli.sap_json(cache_dir, "rules", "show", "long", demo=True)
    assert shown["text"].startswith("duration > 300")  # --check writes nothing
    target.write_text("[bad] Bad\nduratoin > 1\n", encoding="utf-8")
    code, out, err = sap(cache_dir, "rules", "apply-file", "--check", str(target))
    assert code == 1 and "invalid  [bad] Bad" in out and "duration" in err
