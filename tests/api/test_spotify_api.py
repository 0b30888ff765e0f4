"""/spotify through the real app in demo mode, checked against what the emulator holds."""

from __future__ import annotations

from tests.helpers.spotify_env import DemoServer


def test_me_is_the_connected_user(connected: DemoServer) -> None:
    user = connected.emulator.library.user
    response = connected.client.get("/spotify/me")
    assert response.status_code == 200
    assert response.json() == {"id": user.id, "display_name": user.display_name}


def test_me_needs_a_login(demo: DemoServer) -> None:
    response = demo.client.get("/spotify/me")
    assert response.status_code == 401
    assert response.json()["error"] == "login_required"
    assert response.json()["auth_url"] == "http://127.0.0.1:8888/auth/login"
    assert demo.emulator.api_requests() == []  # nothing was sent without a token


def test_playlists_list_every_kind_with_readability(connected: DemoServer) -> None:
    emulator = connected.emulator
    kinds = connected.playlists
    assert kinds.owned and kinds.collaborative and kinds.followed  # the account has each kind
    response = connected.client.get("/spotify/playlists")
    assert response.status_code == 200
    listing = response.json()
    assert [item["id"] for item in listing] == emulator.playlist_ids()
    by_id = {item["id"]: item for item in listing}
    users = emulator.library.users()
    for playlist in kinds.owned + kinds.collaborative + kinds.followed:
        item = by_id[playlist.id]
        assert item["name"] == playlist.name
        assert item["owner_id"] == playlist.owner_id
        assert item["owner_name"] == users[playlist.owner_id].display_name
        assert item["track_count"] == len(playlist.entries)
        assert item["snapshot_id"] == playlist.snapshot_id
        assert item["collaborative"] is playlist.collaborative
    for playlist in kinds.owned + kinds.collaborative:
        assert (by_id[playlist.id]["readable"], by_id[playlist.id]["reason"]) == (True, None)
    for playlist in kinds.followed:
        item = by_id[playlist.id]
        assert item["readable"] is False
        owner = users[playlist.owner_id].display_name
        assert item["reason"].startswith(f"followed playlist owned by {owner}:")
        assert "own or collaborate on" in item["reason"]


def test_playlists_follow_changes_made_in_the_spotify_app(connected: DemoServer) -> None:
    playlist = connected.playlists.owned[0]
    before = len(playlist.entries)
    added = [
        t
        for t in connected.emulator.library.tracks
        if t not in {e.track_id for e in playlist.entries}
    ][:2]
    snapshot = connected.emulator.edit_playlist_as_other_user(
        playlist.id, add=[f"spotify:track:{t}" for t in added], name="Renamed in the app"
    )
    item = next(
        p for p in connected.client.get("/spotify/playlists").json() if p["id"] == playlist.id
    )
    assert item["snapshot_id"] == snapshot
    assert item["track_count"] == before + 2
    assert item["name"] == "Renamed in the app"
