"""/auth through the real app in demo mode: PKCE login against the emulator, status, logout,
expiry. The TestClient walks the browser's redirects itself (the emulator is mounted in the app).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.spotify.access import DEMO_CLIENT_ID
from app.spotify.auth.pkce import SCOPES
from tests.helpers.spotify_env import BASE_URL, DemoServer, query_of

LOGIN_URL = f"{BASE_URL}/auth/login"
AUTHORIZE_URL = f"{BASE_URL}/emulator/spotify/accounts/authorize"


def _stored_token(demo: DemoServer) -> dict[str, object]:
    token = demo.env.services.stores.tokens.load_token()
    assert token is not None
    return token


def _token_requests(demo: DemoServer) -> list[dict[str, str]]:
    return [
        r.query
        for r in demo.emulator.requests
        if r.service == "accounts" and r.path == "/api/token"
    ]


def test_status_before_login_asks_for_a_login(demo: DemoServer) -> None:
    response = demo.client.get("/auth/status")
    assert response.status_code == 200
    status = response.json()
    assert status["connected"] is False
    assert status["login_required"] is True
    assert status["demo_mode"] is True
    assert status["reason"] == "not connected yet"
    assert status["auth_url"] == LOGIN_URL


def test_login_redirects_to_the_authorize_page_with_pkce(demo: DemoServer) -> None:
    first = demo.client.get("/auth/login", follow_redirects=False)
    assert first.status_code == 307
    location = first.headers["location"]
    assert location.startswith(AUTHORIZE_URL + "?")
    query = query_of(location)
    assert query["client_id"] == DEMO_CLIENT_ID
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == f"{BASE_URL}/auth/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256 digest, unpadded
    assert set(query["scope"].split()) == set(SCOPES)
    assert {"user-library-read", "playlist-read-private", "playlist-read-collaborative"} <= set(
        query["scope"].split()
    )
    assert len(query["state"]) >= 16
    # Every login gets its own state and its own PKCE pair.
    again = query_of(demo.client.get("/auth/login", follow_redirects=False).headers["location"])
    assert again["state"] != query["state"]
    assert again["code_challenge"] != query["code_challenge"]


def test_login_without_redirect_answers_the_url_as_json(demo: DemoServer) -> None:
    response = demo.client.get("/auth/login", params={"redirect": "false"})
    assert response.status_code == 200
    url = response.json()["auth_url"]
    assert url.startswith(AUTHORIZE_URL + "?")
    assert query_of(url)["code_challenge_method"] == "S256"


def test_full_login_connects_as_the_emulated_user(demo: DemoServer) -> None:
    user = demo.emulator.library.user
    body = demo.login()
    assert body == {"connected": True, "user_id": user.id, "user_name": user.display_name}
    status = demo.client.get("/auth/status").json()
    assert status["connected"] is True
    assert status["login_required"] is False
    assert (status["user_id"], status["user_name"]) == (user.id, user.display_name)
    assert status["auth_url"] is None
    access = datetime.fromisoformat(status["access_expires_at"])
    refresh = datetime.fromisoformat(status["refresh_expires_at"])
    # Both are counted from the same moment: one hour vs. Spotify's 183 days.
    assert refresh - access == timedelta(days=183) - timedelta(hours=1)
    # The stored token is one the emulator issued, and its PKCE exchange really happened.
    token = _stored_token(demo)
    assert token["access_token"] in demo.emulator.tokens.access_tokens
    assert len(_token_requests(demo)) == 1
    assert demo.cache_dir.name == "demo"
    assert (demo.cache_dir / "tokens.json").stat().st_mode & 0o777 == 0o600


def test_callback_page_for_a_browser_names_the_user(demo: DemoServer) -> None:
    page = demo.client.get("/auth/login", follow_redirects=True)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"Logged in as {demo.emulator.library.user.display_name}" in page.text


def test_callback_with_an_unknown_state_is_refused(demo: DemoServer) -> None:
    demo.client.get("/auth/login", params={"redirect": "false"})  # a real login is pending
    response = demo.client.get("/auth/callback", params={"state": "forged", "code": "AQxyz"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_state"
    assert "/auth/login" in response.json()["detail"]
    assert demo.client.get("/auth/status").json()["connected"] is False


def test_a_callback_state_works_once(demo: DemoServer) -> None:
    authorize = demo.client.get("/auth/login", follow_redirects=False).headers["location"]
    consent = demo.client.get(authorize, follow_redirects=False)
    assert consent.status_code == 302
    callback = consent.headers["location"]
    assert callback.startswith(f"{BASE_URL}/auth/callback?")
    first = demo.client.get(callback, headers={"accept": "application/json"})
    assert first.status_code == 200 and first.json()["connected"] is True
    replay = demo.client.get(callback, headers={"accept": "application/json"})
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_state"


def test_denied_consent_is_a_400_and_stays_disconnected(demo: DemoServer) -> None:
    auth_url = demo.client.get("/auth/login", params={"redirect": "false"}).json()["auth_url"]
    state = query_of(auth_url)["state"]
    response = demo.client.get("/auth/callback", params={"state": state, "error": "access_denied"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "login_denied"
    assert "access_denied" in body["detail"]
    assert demo.client.get("/auth/status").json()["connected"] is False
    assert not (demo.cache_dir / "tokens.json").exists()


def test_logout_forgets_the_token(connected: DemoServer) -> None:
    response = connected.client.post("/auth/logout")
    assert response.status_code == 200
    assert response.json()["connected"] is False
    assert response.json()["auth_url"] == LOGIN_URL
    assert connected.client.get("/auth/status").json()["connected"] is False
    me = connected.client.get("/spotify/me")
    assert me.status_code == 401
    assert me.json()["error"] == "login_required"
    assert me.json()["auth_url"] == LOGIN_URL


def test_an_expired_access_token_is_refreshed_without_the_user(connected: DemoServer) -> None:
    before = _stored_token(connected)
    connected.emulator.expire_access_tokens()
    response = connected.client.get("/spotify/me")
    assert response.status_code == 200
    assert response.json()["id"] == connected.emulator.library.user.id
    after = _stored_token(connected)
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]  # Spotify rotates them
    assert after["authorized_at"] == before["authorized_at"]
    assert len(_token_requests(connected)) == 2  # the login's code exchange, then one refresh


def test_an_expired_refresh_token_requires_a_new_login(connected: DemoServer) -> None:
    user_id = connected.emulator.library.user.id
    connected.emulator.clock.advance(days=184)  # past Spotify's six months
    connected.emulator.expire_access_tokens()
    response = connected.client.get("/spotify/playlists")
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "login_required"
    assert body["auth_url"] == LOGIN_URL
    assert "log in again" in body["detail"]
    status = connected.client.get("/auth/status").json()
    assert status["connected"] is False
    assert status["login_required"] is True
    assert "refresh" in status["reason"]
    assert status["user_id"] == user_id
    assert status["auth_url"] == LOGIN_URL
    # Logging in again is all it takes.
    connected.login()
    assert connected.client.get("/spotify/playlists").status_code == 200


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://localhost:8888/auth/callback", "Spotify rejects 'localhost' redirect URIs"),
        ("http://app.localhost:8888/auth/callback", "use the loopback address instead"),
        ("http://192.168.1.20:8888/auth/callback", "only allowed for loopback IP addresses"),
    ],
)
def test_a_redirect_uri_spotify_would_refuse_is_a_settings_error(uri: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(spotify_client_id="my-app", spotify_redirect_uri=uri)
    [error] = caught.value.errors()
    assert error["loc"] == ("spotify_redirect_uri",)
    assert message in error["msg"]
    if "localhost" in uri:
        assert "http://127.0.0.1:8888/auth/callback" in error["msg"]


def test_loopback_redirect_uris_are_accepted() -> None:
    for uri in ("http://127.0.0.1:9999/cb", "http://[::1]:8888/auth/callback", "https://x.dev/cb"):
        assert Settings(spotify_redirect_uri=uri).spotify_redirect_uri == uri
