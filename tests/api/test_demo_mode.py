"""Demo mode: no client id → an emulated Spotify account, data apart in `<cache>/demo`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.api.app import create_app
from app.core.config import Settings
from app.spotify.access import DEMO_CLIENT_ID
from tests.helpers.api import api_client
from tests.helpers.spotify_env import BASE_URL, SMALL_DEMO, DemoServer, demo_settings, query_of


def test_without_a_client_id_the_app_serves_the_demo(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    app = create_app(Settings(cache_dir=cache, **SMALL_DEMO))
    with caplog.at_level(logging.WARNING), api_client(app, BASE_URL) as client:
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(
            message.startswith("DEMO MODE: no SAP_SPOTIFY_CLIENT_ID set")
            and str(cache / "demo") in message
            for message in warnings
        ), warnings
        description = client.get("/openapi.json").json()["info"]["description"]
        assert "**Demo mode**" in description
        assert "/emulator/spotify" in description
        status = client.get("/auth/status").json()
        assert (status["demo_mode"], status["connected"]) == (True, False)
        assert client.get("/pipeline/health").json()["cache_dir"] == str(cache / "demo")

        login = client.get("/auth/login", follow_redirects=False).headers["location"]
        assert query_of(login)["client_id"] == DEMO_CLIENT_ID
        page = client.get("/auth/login", follow_redirects=True)
        assert page.status_code == 200 and "Logged in as" in page.text
        job = client.post("/pipeline/tracks").json()
        assert (job["status"], job["payload"]["entries"]) == ("done", 120)

    assert sorted(path.name for path in cache.iterdir()) == ["demo"]
    written = {path.name for path in (cache / "demo").iterdir() if path.is_file()}
    assert {"tokens.json", "tracks.json", "sources.json", "jobs.json"} <= written


def test_with_a_client_id_there_is_no_demo(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    app = create_app(Settings(cache_dir=cache, spotify_client_id="my-app-id"))
    with api_client(app, BASE_URL) as client:
        assert "Demo mode" not in client.get("/openapi.json").json()["info"]["description"]
        assert client.get("/auth/status").json()["demo_mode"] is False
        assert client.get("/emulator/spotify/accounts/authorize").status_code == 404
        login = client.get("/auth/login", follow_redirects=False).headers["location"]
        assert login.startswith("https://accounts.spotify.com/authorize?")
        assert query_of(login)["client_id"] == "my-app-id"
        assert client.get("/pipeline/health").json()["cache_dir"] == str(cache)
    assert not (cache / "demo").exists()


def test_the_demo_flag_wins_over_a_client_id(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", spotify_client_id="my-app-id", demo=True)
    with DemoServer.open(settings.model_copy(update=SMALL_DEMO)) as server:
        assert server.cache_dir == tmp_path / "cache" / "demo"
        assert server.client.get("/auth/status").json()["demo_mode"] is True
        server.login()
        assert server.client.get("/spotify/me").json()["id"] == server.emulator.library.user.id


def test_a_restarted_demo_server_keeps_the_login(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "cache")
    with DemoServer.open(settings) as first:
        user = first.login()
        token = first.env.services.stores.tokens.load_token()
    # A new process: a new in-process emulator over the same generated account.
    with DemoServer.open(settings) as second:
        status = second.client.get("/auth/status").json()
        assert (status["connected"], status["user_id"]) == (True, user["user_id"])
        me = second.client.get("/spotify/me")
        assert me.status_code == 200, me.text
        assert me.json()["id"] == user["user_id"]
        # The stored login was used as it is: no new consent, no token request.
        assert [r.path for r in second.emulator.requests if r.service == "accounts"] == []
        assert second.env.services.stores.tokens.load_token() == token
        # Its refresh token is honoured too, and still rotates.
        second.emulator.expire_access_tokens()
        assert second.client.get("/spotify/me").status_code == 200
        refreshed = second.env.services.stores.tokens.load_token()
        assert refreshed is not None and token is not None
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert refreshed["authorized_at"] == token["authorized_at"]


def test_a_restarted_demo_server_keeps_a_logout(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "cache")
    with DemoServer.open(settings) as first:
        first.login()
        first.client.post("/auth/logout")
    with DemoServer.open(settings) as second:
        assert second.client.get("/auth/status").json()["connected"] is False
        assert second.client.get("/spotify/me").status_code == 401
        assert second.emulator.requests == []
