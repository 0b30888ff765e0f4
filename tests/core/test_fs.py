"""write_json / read_json: atomic replace, permissions, and quarantine of corrupt files."""

from __future__ import annotations

import gc
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.fs import (
    QUARANTINE_MARKER,
    list_quarantined,
    make_private_dir,
    paused_gc,
    read_json,
    remove_stale_temp_files,
    write_json,
)


def test_round_trip_keeps_unicode_and_nesting(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "data.json"
    data = {"name": "Sigur Rós – Hoppípolla", "nested": [1, 2.5, None, {"ok": True}]}
    write_json(path, data)
    assert read_json(path, None) == data
    assert json.loads(path.read_text(encoding="utf-8")) == data


def test_directories_made_on_the_way_are_private_and_existing_ones_untouched(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    write_json(shared / "a" / "b" / "data.json", {})
    make_private_dir(shared / "c" / "d")
    make_private_dir(shared / "c" / "d")  # already there: nothing to do
    for made in ("a", "a/b", "c", "c/d"):
        assert stat.S_IMODE((shared / made).stat().st_mode) == 0o700, made
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


def test_missing_file_returns_the_default(tmp_path: Path) -> None:
    sentinel = {"default": True}
    assert read_json(tmp_path / "absent.json", sentinel) is sentinel


@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_file_gets_the_requested_mode_whatever_the_umask(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "f.json"
    path.write_text("{}")
    path.chmod(0o666)
    write_json(path, {"a": 1}, mode=mode)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_unserialisable_data_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    write_json(path, {"version": 1})
    with pytest.raises(TypeError, match="not JSON serializable"):
        write_json(path, {"version": 2, "bad": object()})
    assert read_json(path, None) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


@pytest.mark.parametrize("content", [b"", b"   \n", b'{"half": [1, 2', b"\x00\x01garbage"])
def test_corrupt_file_is_moved_aside_and_default_returned(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "rules.json"
    path.write_bytes(content)
    assert read_json(path, []) == []
    assert not path.exists()
    [moved] = list_quarantined(tmp_path)
    assert moved.original_name == "rules.json"
    assert moved.path.name.startswith("rules.json" + QUARANTINE_MARKER)
    assert moved.path.read_bytes() == content
    assert moved.size_bytes == len(content)
    assert abs((datetime.now(UTC) - moved.quarantined_at).total_seconds()) < 60


def test_next_write_does_not_touch_the_quarantined_copy(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_bytes(b'[{"id": "my-precious-rule"')
    read_json(path, [])
    write_json(path, [{"id": "new"}])
    write_json(path, [{"id": "newer"}])
    [moved] = list_quarantined(tmp_path)
    assert moved.path.read_bytes() == b'[{"id": "my-precious-rule"'
    assert read_json(path, []) == [{"id": "newer"}]


def test_two_quarantines_of_the_same_file_keep_both_copies(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    for content in (b"{first", b"{second"):
        path.write_bytes(content)
        read_json(path, None)
    contents = sorted(item.path.read_bytes() for item in list_quarantined(tmp_path))
    assert contents == [b"{first", b"{second"]


def test_stale_temp_files_are_swept_but_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "tracks.json"
    (tmp_path / ".tracks.json.abc123.tmp").write_text("partial")
    (tmp_path / ".tracks.json.zzz.tmp").write_text("partial")
    (tmp_path / ".rules.json.abc.tmp").write_text("someone else's")
    (tmp_path / ".tracks.json.bak.q1w2e3r4.tmp").write_text("tracks.json.bak's")
    path.write_text("{}")
    assert remove_stale_temp_files(path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".rules.json.abc.tmp",
        ".tracks.json.bak.q1w2e3r4.tmp",
        "tracks.json",
    ]


def test_paused_gc_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_gc_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_paused_gc_restores_after_an_exception() -> None:
    with pytest.raises(ValueError, match="inside"), paused_gc():
        raise ValueError("inside")
    assert gc.isenabled()
