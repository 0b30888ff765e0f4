"""The accounts service: PKCE authorisation, token exchange, rotation and expiry of refresh
tokens, and Spotify's redirect-URI rules."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.model import GeneratedLibrary
from app.emulators.spotify.accounts import redirect_uri_allowed
from app.emulators.spotify.emulator import SpotifyEmulator
from app.emulators.spotify.oauth import pkce_challenge

from .conftest import REDIRECT

pytestmark = pytest.mark.anyio

VERIFIER = "v" * 20 + "-._~" + "A1b2C3d4E5f6G7h8I9j0K" + "x" * 20  # 65 unreserved characters
SCOPES = "user-library-read playlist-read-private playlist-modify-private"


def authorize_params(**changes: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "client_id": "test-client",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "code_challenge_method": "S256",
        "code_challenge": pkce_challenge(VERIFIER),
        "scope": SCOPES,
        "state": "csrf-123",
        **changes,
    }
    return {key: value for key, value in params.items() if value is not None}


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


async def authorization_code(accounts: httpx.AsyncClient, **changes: str | None) -> str:
    response = await accounts.get("/authorize", params=authorize_params(**changes))
    return redirect_query(response)["code"]


async def exchange(accounts: httpx.AsyncClient, code: str, **changes: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "test-client",
        "code_verifier": VERIFIER,
        **changes,
    }
    return await accounts.post("/api/token", data=form)


async def refresh(accounts: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "test-client",
    }
    return await accounts.post("/api/token", data=form)


def test_pkce_challenge_is_unpadded_base64url_of_sha256() -> None:
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    assert pkce_challenge(VERIFIER) == base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def test_full_pkce_flow_gives_tokens_that_open_the_api(
    accounts: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    response = await accounts.get("/authorize", params=authorize_params())
    query = redirect_query(response)
    assert query["state"] == "csrf-123"
    assert query["code"].startswith("AQ")

    token = await exchange(accounts, query["code"])

    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer"  # noqa: S105 - a token type, not a secret
    assert body["expires_in"] == 3600
    assert body["scope"] == SCOPES
    assert body["refresh_token"] != body["access_token"]
    assert token.headers["cache-control"] == "no-store"
    me = await anonymous.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == "emuuser"


async def test_state_is_omitted_when_the_app_sent_none(accounts: httpx.AsyncClient) -> None:
    response = await accounts.get("/authorize", params=authorize_params(state=None))
    assert set(redirect_query(response)) == {"code"}


async def test_wrong_verifier_is_invalid_grant(accounts: httpx.AsyncClient) -> None:
    code = await authorization_code(accounts)
    response = await exchange(accounts, code, code_verifier="w" * 64)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier was incorrect",
    }


async def test_a_code_works_once(accounts: httpx.AsyncClient) -> None:
    code = await authorization_code(accounts)
    assert (await exchange(accounts, code)).status_code == 200
    again = await exchange(accounts, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


async def test_code_expires_after_ten_minutes(accounts: httpx.AsyncClient, clock: Clock) -> None:
    code = await authorization_code(accounts)
    clock.advance(601)
    response = await exchange(accounts, code)
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Authorization code expired",
    }


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "http://127.0.0.1:9999/auth/callback"}, "invalid_grant"),
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"code_verifier": ""}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "unsupported_grant_type"),
    ],
)
async def test_token_request_errors(
    accounts: httpx.AsyncClient, change: dict[str, str], error: str
) -> None:
    code = await authorization_code(accounts)
    response = await exchange(accounts, code, **change)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_token_endpoint_wants_a_form_body(accounts: httpx.AsyncClient) -> None:
    response = await accounts.post("/api/token", json={"grant_type": "refresh_token"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant_type parameter is missing",
    }


async def test_refresh_rotates_and_the_old_token_dies(accounts: httpx.AsyncClient) -> None:
    first = (await exchange(accounts, await authorization_code(accounts))).json()

    second = await refresh(accounts, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert rotated["scope"] == SCOPES

    reused = await refresh(accounts, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "Invalid refresh token"}
    assert (await refresh(accounts, rotated["refresh_token"])).status_code == 200


async def test_refresh_token_ends_183_days_after_consent_however_often_refreshed(
    accounts: httpx.AsyncClient, clock: Clock
) -> None:
    current = (await exchange(accounts, await authorization_code(accounts))).json()
    for _ in range(3):  # refreshing every 60 days does not extend the grant
        clock.advance(days=60)
        response = await refresh(accounts, current["refresh_token"])
        assert response.status_code == 200
        current = response.json()

    clock.advance(days=3)  # 183 days after the user consented
    expired = await refresh(accounts, current["refresh_token"])
    assert expired.status_code == 400
    assert expired.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token revoked",
    }


async def test_access_token_expires_after_its_ttl(
    accounts: httpx.AsyncClient, anonymous: httpx.AsyncClient, clock: Clock
) -> None:
    body = (await exchange(accounts, await authorization_code(accounts))).json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    clock.advance(3599)
    assert (await anonymous.get("/me", headers=headers)).status_code == 200
    clock.advance(1)
    expired = await anonymous.get("/me", headers=headers)
    assert expired.status_code == 401
    assert expired.json() == {"error": {"status": 401, "message": "The access token expired"}}


@pytest.mark.parametrize(
    ("redirect_uri", "allowed"),
    [
        ("http://127.0.0.1:8888/auth/callback", True),
        ("http://[::1]:8888/auth/callback", True),
        ("https://example.org/callback", True),
        ("https://example.org:8443/cb?x=1", True),
        ("http://localhost:8888/auth/callback", False),
        ("https://localhost:8888/auth/callback", True),  # https is fine anywhere
        ("http://127.0.0.1/auth/callback", False),  # loopback needs an explicit port
        ("http://192.168.1.10:8888/cb", False),  # plain http only on loopback
        ("http://example.org/callback", False),
        ("myapp://callback", False),
        ("https://example.org/cb#fragment", False),
        ("", False),
    ],
)
def test_redirect_uri_rules(redirect_uri: str, allowed: bool) -> None:
    assert redirect_uri_allowed(redirect_uri) is allowed


def test_registered_redirect_uris_must_match_exactly() -> None:
    registered = ("http://127.0.0.1:8888/auth/callback",)
    assert redirect_uri_allowed("http://127.0.0.1:8888/auth/callback", registered)
    assert not redirect_uri_allowed("http://127.0.0.1:8888/auth/callback/", registered)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"redirect_uri": "http://localhost:8888/auth/callback"}, "Invalid redirect URI"),
        ({"redirect_uri": None}, "Invalid redirect URI"),
        ({"client_id": "unknown-client"}, "Invalid client"),
        ({"client_id": None}, "Invalid client"),
    ],
)
async def test_bad_client_or_redirect_gets_an_error_page_not_a_redirect(
    accounts: httpx.AsyncClient, change: dict[str, str | None], message: str
) -> None:
    response = await accounts.get("/authorize", params=authorize_params(**change))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert f"INVALID_CLIENT: {message}" in response.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "user-library-read not-a-scope"}, "invalid_scope"),
    ],
)
async def test_request_errors_are_redirected_with_state(
    accounts: httpx.AsyncClient, change: dict[str, str | None], error: str
) -> None:
    response = await accounts.get("/authorize", params=authorize_params(**change))
    assert redirect_query(response) == {"error": error, "state": "csrf-123"}


async def test_any_client_id_is_accepted_when_none_is_configured(
    library: GeneratedLibrary, clock: Clock
) -> None:
    emulator = SpotifyEmulator(library, clock=clock)
    transport = emulator_transport(emulator.accounts_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test") as client:
        code = await authorization_code(client, client_id="whatever-id")
        token = await exchange(client, code, client_id="whatever-id")
    assert token.status_code == 200


async def test_consent_page_when_auto_consent_is_off(
    emulator: SpotifyEmulator, accounts: httpx.AsyncClient
) -> None:
    emulator.config.auto_consent = False
    page = await accounts.get("/authorize", params=authorize_params())
    assert page.status_code == 200
    assert "Agree" in page.text and "user-library-read" in page.text
    pending = page.text.split('name="request" value="')[1].split('"')[0]

    denied = await accounts.post("/authorize/decision", data={"request": pending})
    assert redirect_query(denied) == {"error": "access_denied", "state": "csrf-123"}

    page = await accounts.get("/authorize", params=authorize_params())
    pending = page.text.split('name="request" value="')[1].split('"')[0]
    agreed = await accounts.post(
        "/authorize/decision", data={"request": pending, "decision": "accept"}
    )
    assert agreed.status_code == 303
    assert (await exchange(accounts, redirect_query(agreed)["code"])).status_code == 200


async def test_tokens_granted_by_a_test_refresh_like_real_ones(
    emulator: SpotifyEmulator, accounts: httpx.AsyncClient
) -> None:
    granted = emulator.grant_tokens(scopes=["user-library-read"])
    assert granted["scope"] == "user-library-read"
    response = await refresh(accounts, str(granted["refresh_token"]))
    assert response.status_code == 200
    assert response.json()["scope"] == "user-library-read"
