"""Connecting a real account: the setup guide (`GET /auth/setup`, `sap setup`), the redirect URI
following the server's port, and the login callback sending a browser back to the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.api.app import create_app
from app.cli import app as cli
from app.core.config import Settings
from app.spotify.auth.pkce import SCOPES
from tests.helpers.api import api_client
from tests.helpers.spotify_env import DemoServer, query_of

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def guide_of(settings: Settings) -> dict[str, Any]:
    with api_client(create_app(settings)) as client:
        response = client.get("/auth/setup")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_redirect_uri_follows_the_port_unless_set() -> None:
    assert Settings().spotify_redirect_uri == "http://127.0.0.1:8888/auth/callback"
    assert Settings(port=9000).spotify_redirect_uri == "http://127.0.0.1:9000/auth/callback"
    explicit = "http://127.0.0.1:8888/auth/callback"
    assert Settings(port=9000, spotify_redirect_uri=explicit).spotify_redirect_uri == explicit


def test_the_redirect_uri_follows_the_port_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAP_PORT", "9123")
    assert Settings().spotify_redirect_uri == "http://127.0.0.1:9123/auth/callback"


def test_the_demo_guide_names_this_servers_redirect_uri_and_every_scope(tmp_path: Path) -> None:
    guide = guide_of(Settings(cache_dir=tmp_path, port=9000))
    assert guide["demo_mode"] is True
    assert guide["demo_reason"] == "no SAP_SPOTIFY_CLIENT_ID is set"
    assert guide["client_id_configured"] is False
    assert guide["redirect_uri"] == "http://127.0.0.1:9000/auth/callback"
    assert [scope["scope"] for scope in guide["scopes"]] == list(SCOPES)
    assert all(len(scope["why"]) > 20 for scope in guide["scopes"])
    assert guide["env_lines"] == ["SAP_SPOTIFY_CLIENT_ID=YOUR_CLIENT_ID"]
    assert guide["command"] == "SAP_SPOTIFY_CLIENT_ID=YOUR_CLIENT_ID make run PORT=9000"
    assert guide["login_lifetime_days"] == 183


def test_a_redirect_uri_of_your_own_goes_into_the_command(tmp_path: Path) -> None:
    uri = "http://[::1]:8888/auth/callback"
    guide = guide_of(Settings(cache_dir=tmp_path, spotify_redirect_uri=uri))
    assert guide["redirect_uri"] == uri
    assert guide["env_lines"] == [
        "SAP_SPOTIFY_CLIENT_ID=YOUR_CLIENT_ID",
        f"SAP_SPOTIFY_REDIRECT_URI={uri}",
    ]
    assert guide["command"].endswith(" make run")


def test_with_a_client_id_the_guide_says_so_and_why_demo_mode_may_still_be_on(
    tmp_path: Path,
) -> None:
    own = guide_of(Settings(cache_dir=tmp_path, spotify_client_id="abc"))
    assert own["demo_mode"] is False and own["client_id_configured"] is True
    forced = guide_of(Settings(cache_dir=tmp_path, spotify_client_id="abc", demo=True))
    assert forced["demo_mode"] is True
    assert forced["demo_reason"] == "SAP_DEMO is set (unset it to use your client id)"


def test_sap_setup_prints_the_same_guide(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["setup", "--port", "9000", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == guide_of(Settings(cache_dir=tmp_path, port=9000))
    text = CliRunner().invoke(cli, ["setup", "--port", "9000"])
    assert text.exit_code == 0
    assert "http://127.0.0.1:9000/auth/callback" in text.stdout
    assert "user-library-read" in text.stdout


def test_a_browser_comes_back_to_the_account_screen_after_login(demo: DemoServer) -> None:
    authorize = demo.client.get("/auth/login", follow_redirects=False).headers["location"]
    callback = demo.client.get(authorize, follow_redirects=False).headers["location"]
    response = demo.client.get(callback, headers=BROWSER, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account?login=done"
    assert demo.client.get("/auth/status").json()["connected"] is True


@pytest.mark.parametrize(
    ("params", "code"),
    [({"error": "access_denied"}, "login_denied"), ({"code": "AQxyz"}, "invalid_state")],
)
def test_a_failed_login_sends_a_browser_back_with_the_code_only(
    demo: DemoServer, params: dict[str, str], code: str
) -> None:
    auth_url = demo.client.get("/auth/login", params={"redirect": "false"}).json()["auth_url"]
    state = query_of(auth_url)["state"] if code != "invalid_state" else "forged"
    response = demo.client.get(
        "/auth/callback", params={"state": state, **params}, headers=BROWSER, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/account?login_error={code}"
    assert demo.client.get("/auth/status").json()["connected"] is False
