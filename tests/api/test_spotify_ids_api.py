"""Ids the API will put into a Spotify URL are checked where they come in: a 422 naming the
parameter, and no request to Spotify (the client refuses them too: tests/spotify/test_ids.py).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.helpers.spotify_env import DemoServer

BAD = ["..", "abc?x=1", "x" * 22 + "/..", "37i9dQZF1DXcBWIGoYBM5\x01", "é" * 22]


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_playlist_path_parameter_must_be_a_spotify_id(connected: DemoServer, bad: str) -> None:
    connected.emulator.requests.clear()
    escaped = quote(bad, safe="").replace(".", "%2E")  # as a client that meant it would send it
    response = connected.client.get(f"/spotify/playlists/{escaped}/items")
    if "/" in bad:  # the server decodes %2F: another path, which no route has
        assert response.status_code == 404, response.text
    else:
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation_error"
        assert "playlist_id" in response.json()["detail"]
    assert connected.emulator.api_requests() == []


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_playlist_source_must_be_a_spotify_id(connected: DemoServer, bad: str) -> None:
    connected.emulator.requests.clear()
    response = connected.client.post(
        "/pipeline/tracks/fetch-sources",
        json={"sources": [{"source_type": "playlist", "source_id": bad}]},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert "source_id" in response.json()["detail"]
    assert connected.emulator.api_requests() == []


def test_a_job_given_a_bad_playlist_id_by_hand_fails_without_a_request(
    connected: DemoServer,
) -> None:
    connected.emulator.requests.clear()
    for bad in ("../me", "abc?x=1"):
        started = connected.client.post(
            "/pipeline/fetch_tracks/run-async",
            json={"metadata": {"source_type": "playlist", "source_id": bad}},
        )
        job = connected.poll(started.json()["id"])
        assert job["status"] == "failed", job
        assert job["error"]["code"] in {"invalid_spotify_id", "bad_metadata"}, job
    assert [r.path for r in connected.emulator.api_requests() if "playlists" in r.path] == []


def test_a_rule_set_cannot_target_what_is_not_a_playlist_id(connected: DemoServer) -> None:
    body = {"id": "fast", "name": "Fast", "text": "duration > 100"}
    for bad in ("..", "abc?x=1", "pl1"):
        response = connected.client.post("/data/rules", json={**body, "target_playlist_id": bad})
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "rules_invalid"
        [problem] = response.json()["problems"]
        assert problem["path"] == "target_playlist_id"
        assert "not a Spotify playlist id" in problem["message"]
        report = connected.client.post(
            "/data/rules/validate", json={**body, "target_playlist_id": bad}
        )
        assert report.json()["valid"] is False
    good = connected.playlists.owned[0].id
    saved = connected.client.post("/data/rules", json={**body, "target_playlist_id": good})
    assert saved.status_code == 200, saved.text
    empty = connected.client.post("/data/rules", json={**body, "target_playlist_id": None})
    assert empty.status_code == 200, empty.text


def test_the_backups_filter_takes_a_playlist_id(connected: DemoServer) -> None:
    response = connected.client.get("/pipeline/playlists/backups", params={"playlist_id": ".."})
    assert response.status_code == 422
    assert "playlist_id" in response.text
    ok = connected.client.get(
        "/pipeline/playlists/backups", params={"playlist_id": connected.playlists.owned[0].id}
    )
    assert ok.status_code == 200
