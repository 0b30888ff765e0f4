"""The Spotify commands of the CLI in demo mode (no client id): login, status, playlists, fetch,
tracks, logout. Every invocation is its own process as far as the app goes: it builds its own
in-process emulator over the same seeded account, as `sap` does when run from a shell.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.data import Stores
from app.emulators.library.model import GeneratedLibrary
from tests.helpers.cli import sap, sap_json
from tests.helpers.spotify_env import write_exportify_csv


def stored_token(cache_dir: Path) -> dict[str, Any] | None:
    return Stores.open(cache_dir / "demo").tokens.load_token()


def test_login_then_other_commands_use_that_login(
    cache_dir: Path, library: GeneratedLibrary
) -> None:
    code, out, _ = sap(cache_dir, "login", "--demo")
    assert code == 0
    assert out.strip() == f"Connected as {library.user.display_name} (demo account)."
    token = stored_token(cache_dir)
    assert token is not None and token["user_id"] == library.user.id

    status = sap_json(cache_dir, "status")
    assert status["cache_dir"] == str((cache_dir / "demo").resolve())
    auth = status["auth"]
    assert (auth["connected"], auth["demo_mode"], auth["user_id"]) == (True, True, library.user.id)

    # A later command's emulator honours the login made by an earlier one: no new login.
    rows = sap_json(cache_dir, "playlists")
    assert stored_token(cache_dir) == token
    assert [row["id"] for row in rows] == [p.id for p in library.playlists]
    users = library.users()
    for row, playlist in zip(rows, library.playlists, strict=True):
        assert row["name"] == playlist.name
        assert row["tracks"] == len(playlist.entries)
        assert row["owner"] == users[playlist.owner_id].display_name
        assert row["collaborative"] is playlist.collaborative
        assert row["readable"] is playlist.readable_by(library.user.id)
        if row["readable"]:
            assert row["reason"] is None
        else:
            assert row["reason"].startswith(f"followed playlist owned by {row['owner']}:")
    assert {row["readable"] for row in rows} == {True, False}


def test_fetch_liked_then_tracks(cache_dir: Path, library: GeneratedLibrary) -> None:
    sap(cache_dir, "login")  # no client id: demo mode without --demo too
    fetched = sap_json(cache_dir, "fetch", "--liked")
    assert fetched["status"] == "done"
    [summary] = fetched["payload"]["sources"]
    assert (summary["source"]["key"], summary["mode"], summary["entries"]) == ("liked", "full", 120)

    view = sap_json(cache_dir, "tracks", "--limit", "1000")
    assert view["total"] == 120
    assert [track["id"] for track in view["tracks"]] == [s.track_id for s in library.liked]
    assert {m["key"] for track in view["tracks"] for m in track["sources"]} == {"liked"}
    page = sap_json(cache_dir, "tracks", "--limit", "10", "--offset", "115")
    assert [t["id"] for t in page["tracks"]] == [s.track_id for s in library.liked][115:]

    again = sap_json(cache_dir, "fetch", "--liked")
    assert again["payload"]["sources"][0]["mode"] == "unchanged"

    code, out, _ = sap(cache_dir, "tracks", "--limit", "3")
    assert code == 0
    assert "3 of 120 track(s)" in out


def test_fetch_a_playlist_by_id(cache_dir: Path, library: GeneratedLibrary) -> None:
    sap(cache_dir, "login")
    target = next(p for p in library.playlists if p.owner_id == library.user.id)
    fetched = sap_json(cache_dir, "fetch", "--playlist", target.id)
    [summary] = fetched["payload"]["sources"]
    assert summary["source"]["key"] == f"playlist:{target.id}"
    track_ids = {e.track_id for e in target.entries if e.kind == "track"}
    view = sap_json(cache_dir, "tracks", "--source", f"playlist:{target.id}", "--limit", "1000")
    assert {track["id"] for track in view["tracks"]} == track_ids


def test_fetch_a_csv_needs_no_login(cache_dir: Path, tmp_path: Path) -> None:
    csv = write_exportify_csv(
        tmp_path / "Old Favourites.csv",
        [
            ["K" * 22, "One", "A" * 22, "Ann", "First", "2015-01-01T00:00:00Z"],
            ["M" * 22, "Two", "B" * 22, "Bob", "Second", "2016-01-01T00:00:00Z"],
            ["spotify:local:x:y:z:100", "Local", "", "", "", ""],
        ],
    )
    fetched = sap_json(cache_dir, "fetch", "--csv", str(csv))
    [summary] = fetched["payload"]["sources"]
    assert (summary["mode"], summary["entries"]) == ("full", 2)
    assert summary["skipped"] == {"local": 1}
    key = f"csv:{csv.resolve()}"
    view = sap_json(cache_dir, "tracks", "--source", key)
    assert [track["name"] for track in view["tracks"]] == ["One", "Two"]
    assert stored_token(cache_dir) is None  # no Spotify login was needed or made


def test_fetch_without_options_reads_the_whole_readable_library(
    cache_dir: Path, library: GeneratedLibrary
) -> None:
    sap(cache_dir, "login")
    fetched = sap_json(cache_dir, "fetch")
    assert fetched["status"] == "done"
    readable = [p.id for p in library.playlists if p.readable_by(library.user.id)]
    keys = [summary["source"]["key"] for summary in fetched["payload"]["sources"]]
    assert keys == ["liked", *(f"playlist:{pid}" for pid in readable)]
    assert len(readable) < len(library.playlists)  # followed playlists are left out
    again = sap_json(cache_dir, "fetch")
    assert {summary["mode"] for summary in again["payload"]["sources"]} == {"unchanged"}


def test_fetch_without_a_login_is_a_one_line_error(cache_dir: Path) -> None:
    code, out, err = sap(cache_dir, "fetch")
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("error: ") and "log in" in line


def test_fetch_of_a_followed_playlist_explains_why_not(
    cache_dir: Path, library: GeneratedLibrary
) -> None:
    sap(cache_dir, "login")
    followed = next(
        p for p in library.playlists if p.owner_id != library.user.id and not p.collaborative
    )
    owner = library.users()[followed.owner_id].display_name
    code, out, err = sap(cache_dir, "fetch", "--liked", "--playlist", followed.id)
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(
        f"error: cannot read playlist {followed.name!r}: followed playlist owned by {owner}"
    )
    assert "own or collaborate on" in line
    assert sap_json(cache_dir, "jobs", "list")["total"] == 0  # nothing was started


def test_logout_disconnects(cache_dir: Path) -> None:
    sap(cache_dir, "login")
    code, out, _ = sap(cache_dir, "logout")
    assert (code, out.strip()) == (0, "Logged out.")
    assert sap_json(cache_dir, "status")["auth"]["connected"] is False
    code, out, err = sap(cache_dir, "playlists")
    assert (code, out) == (1, "")
    assert err.splitlines() == ["error: not connected to Spotify: log in first"]


def test_commands_need_a_login_first(cache_dir: Path) -> None:
    status = sap_json(cache_dir, "status")["auth"]
    assert (status["connected"], status["demo_mode"]) == (False, True)
    assert status["auth_url"] == "spotify-auto-playlists login"
    code, _, err = sap(cache_dir, "playlists")
    assert code == 1
    assert err.splitlines() == ["error: not connected to Spotify: log in first"]


def test_a_localhost_redirect_uri_is_refused_with_the_reason(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAP_SPOTIFY_CLIENT_ID", "my-app-id")
    monkeypatch.setenv("SAP_SPOTIFY_REDIRECT_URI", "http://localhost:8888/auth/callback")
    code, _, err = sap(cache_dir, "status")
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith("error: invalid setting SAP_SPOTIFY_REDIRECT_URI:")
    assert "Spotify rejects 'localhost' redirect URIs" in line
    assert "http://127.0.0.1:8888/auth/callback" in line


def test_a_fetch_with_a_failed_source_says_partial_and_exits_1(
    cache_dir: Path, tmp_path: Path
) -> None:
    sap(cache_dir, "login")
    broken = tmp_path / "Broken.csv"
    broken.write_text("", encoding="utf-8")
    code, out, err = sap(cache_dir, "fetch", "--liked", "--csv", str(broken))
    assert code == 1
    assert "Liked Songs" in out and "full" in out and "failed" in out  # the table, both rows
    [line] = [line for line in err.splitlines() if line]
    assert line.startswith("error: partial: 1 of 2 sources failed: Broken.csv (csv_empty: ")
    assert line.endswith("); the other sources were saved: fetch again to retry the failed ones")
    code, out, _ = sap(cache_dir, "fetch", "--liked", "--csv", str(broken), "--json")
    job = json.loads(out)
    assert (code, job["status"], job["error"]["code"]) == (1, "partial", "sources_failed")
    listed = sap_json(cache_dir, "jobs", "list", "--status", "partial")
    assert listed["total"] == 2


def test_status_and_verify_say_to_fetch_after_tracks_json_is_lost(cache_dir: Path) -> None:
    sap(cache_dir, "login")
    assert sap_json(cache_dir, "fetch")["status"] == "done"
    assert sap(cache_dir, "verify")[0] == 0
    (cache_dir / "demo" / "tracks.json").unlink()

    status = sap_json(cache_dir, "status")
    assert status["status"] == "degraded"
    assert "run `sap fetch`" in status["library"]["advice"]
    code, out, _ = sap(cache_dir, "status")
    assert "library incomplete:" in out and "run `sap fetch`" in out
    code, _, err = sap(cache_dir, "verify")
    assert code == 1
    assert "library incomplete:" in err and "Liked Songs" in err and "run `sap fetch`" in err

    fetched = sap_json(cache_dir, "fetch")
    assert {summary["mode"] for summary in fetched["payload"]["sources"]} == {"full"}
    assert sap(cache_dir, "verify")[0] == 0
    assert sap_json(cache_dir, "status")["status"] == "ok"
