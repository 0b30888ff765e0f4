"""Every demo process shares one account: a playlist written through one demo server is what
the others (running at the same time, or started later) serve."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from app.core.config import DEMO_EMULATOR_PREFIX
from app.demo import demo_state_file
from app.pipeline.health import quarantined_files
from tests.helpers.spotify_env import DemoServer, demo_settings

API = f"{DEMO_EMULATOR_PREFIX}/v1"


def bearer(server: DemoServer) -> dict[str, str]:
    """The stored login of the demo, as an Authorization header."""
    token = server.env.services.stores.tokens.load_token()
    assert token is not None
    return {"Authorization": f"Bearer {token['access_token']}"}


def items(server: DemoServer, playlist_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = server.client.get(f"{API}/playlists/{playlist_id}/items", headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_a_write_through_one_demo_server_is_served_by_another(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "cache")
    with DemoServer.open(settings) as first, DemoServer.open(settings) as second:
        first.login()
        headers = bearer(first)  # signed demo tokens: the other server honours them too
        owned = first.playlists.owned[0]
        track = next(iter(first.emulator.library.tracks))
        before = items(second, owned.id, headers)

        added = first.client.post(
            f"{API}/playlists/{owned.id}/items",
            json={"uris": [f"spotify:track:{track}"], "position": 0},
            headers=headers,
        )
        assert added.status_code == 201, added.text
        created = first.client.post(
            f"{API}/me/playlists", json={"name": "Made in the demo"}, headers=headers
        )
        assert created.status_code == 201, created.text

        after = items(second, owned.id, headers)
        assert after["total"] == before["total"] + 1
        assert after["items"][0]["item"]["id"] == track
        # The page (20 entries) starts with the new one; the others moved down one place.
        assert [i["item"] for i in after["items"][1:]] == [i["item"] for i in before["items"][:-1]]
        snapshot = second.client.get(
            f"{API}/playlists/{owned.id}", params={"fields": "snapshot_id"}, headers=headers
        )
        assert snapshot.json()["snapshot_id"] == added.json()["snapshot_id"]
        listed = second.client.get(f"{API}/me/playlists", params={"limit": 1}, headers=headers)
        assert listed.json()["items"][0]["id"] == created.json()["id"]

    state_file = demo_state_file(settings)
    assert state_file == (
        settings.cache_dir / "demo" / "emulator-spotify-seed0-120-tracks-6-playlists.json"
    )
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600

    # A demo started later (the next CLI command, a restarted server) finds the same account.
    with DemoServer.open(settings) as third:
        again = items(third, owned.id, bearer(third))
        assert again["items"] == after["items"]
        assert third.emulator.playlist_ids()[0] == created.json()["id"]
        assert third.emulator.snapshot_id(owned.id) == added.json()["snapshot_id"]


def test_demo_accounts_in_other_cache_dirs_stay_apart(tmp_path: Path) -> None:
    with DemoServer.open(demo_settings(tmp_path / "one")) as first:
        first.login()
        owned = first.playlists.owned[0]
        first.emulator.edit_playlist_as_other_user(owned.id, name="Renamed in one")
        generated = {p.id: p.name for p in first.emulator.library.playlists}
    with DemoServer.open(demo_settings(tmp_path / "two")) as other:
        assert other.emulator.playlist(owned.id).name == generated[owned.id]


def test_another_demo_library_keeps_its_own_account_and_breaks_nothing(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    with DemoServer.open(settings) as first:
        first.login()
        headers = bearer(first)
        created = first.client.post(
            f"{API}/me/playlists", json={"name": "Mine"}, headers=headers
        ).json()
    bigger = demo_settings(tmp_path, demo_tracks=150)
    with DemoServer.open(bigger) as other:
        assert created["id"] not in other.emulator.playlist_ids()  # a fresh account
        assert len(other.emulator.library.liked) == 150
    assert demo_state_file(bigger) != demo_state_file(settings)
    # Nothing was taken for a broken file, and the first account is still there.
    assert quarantined_files(settings.effective().cache_dir) == []
    with DemoServer.open(settings) as again:
        assert again.emulator.playlist_ids()[0] == created["id"]


def test_demo_data_directories_are_private_like_real_ones(tmp_path: Path) -> None:
    """The demo's cache (and the cache directory above it) hold a login and the account's
    changes: 0700, whichever write makes them first."""
    settings = demo_settings(tmp_path / "cache")
    with DemoServer.open(settings) as server:
        server.login()
        owned = server.playlists.owned[0]
        server.emulator.save_tracks([])  # the emulated account writes its state file
        assert server.client.get(f"/spotify/playlists/{owned.id}/items").status_code == 200
    for directory in (tmp_path / "cache", tmp_path / "cache" / "demo"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for directory in (tmp_path / "cache" / "demo").rglob("*"):
        if directory.is_dir():
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
