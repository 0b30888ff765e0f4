"""Login (PKCE) and the token's life cycle, against the emulated accounts service."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import stat
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.core.errors import BadRequestError, LoginRequiredError
from app.core.models import utc_now
from app.data.tokens import TokenStore
from app.emulators.spotify.oauth import pkce_challenge
from app.spotify.auth.login import complete_login
from app.spotify.auth.pkce import SCOPES, LoginSessions, authorize_url, new_pkce_pair
from app.spotify.auth.tokens import REFRESH_MARGIN, StoredToken, TokenManager, auth_status
from app.spotify.client import SpotifyClient
from app.spotify.models import SpotifyUser
from tests.spotify.conftest import BASE, CLIENT_ID, REDIRECT, SpotifyWorld

pytestmark = pytest.mark.anyio

VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def stored(world: SpotifyWorld) -> StoredToken:
    token = world.access().tokens.load()
    assert token is not None
    return token


def expire_locally(world: SpotifyWorld, seconds_left: float) -> StoredToken:
    """Make our stored token say it expires in `seconds_left` (Spotify still accepts it)."""
    tokens = world.access().tokens
    token = stored(world).model_copy(
        update={"expires_at": utc_now() + timedelta(seconds=seconds_left)}
    )
    tokens.save(token)
    return token


async def refresh_directly(world: SpotifyWorld, refresh_token: str) -> httpx.Response:
    """What the accounts service answers to `refresh_token`, bypassing our code."""
    async with httpx.AsyncClient(transport=world.transport) as http:
        return await http.post(
            f"{BASE}/accounts/api/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": CLIENT_ID,
            },
        )


# --- PKCE and the authorisation request -----------------------------------------------------


def test_pkce_pair_is_a_valid_verifier_and_its_s256_challenge() -> None:
    verifier, challenge = new_pkce_pair()
    assert VERIFIER.fullmatch(verifier)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    assert challenge == base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    assert "=" not in challenge and len(challenge) == 43
    assert challenge == pkce_challenge(verifier)  # what the emulated server will check
    assert new_pkce_pair()[0] != verifier


def test_authorize_url_carries_everything_spotify_needs(world: SpotifyWorld) -> None:
    url = authorize_url(world.settings, client_id=CLIENT_ID, state="st4te", challenge="ch")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/accounts/authorize"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query == {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "code_challenge_method": "S256",
        "code_challenge": "ch",
        "scope": " ".join(SCOPES),
        "state": "st4te",
    }
    assert {
        "user-library-read",
        "playlist-read-private",
        "playlist-read-collaborative",
        "playlist-modify-public",
        "playlist-modify-private",
    } <= set(query["scope"].split(" "))


def test_login_sessions_give_each_verifier_once_for_its_own_state() -> None:
    sessions = LoginSessions()
    state, challenge = sessions.start()
    other_state, _ = sessions.start()
    assert state != other_state
    verifier = sessions.finish(state)
    assert pkce_challenge(verifier) == challenge
    with pytest.raises(BadRequestError) as reused:
        sessions.finish(state)
    assert reused.value.code == "invalid_state"
    with pytest.raises(BadRequestError, match="unknown or expired"):
        sessions.finish("made-up-state")
    sessions.finish(other_state)  # still pending, unaffected by the others


def test_login_sessions_expire_after_their_ttl() -> None:
    now = [1000.0]
    sessions = LoginSessions(ttl=600, clock=lambda: now[0])
    kept, _ = sessions.start()
    expired, _ = sessions.start()
    now[0] += 600  # exactly the TTL: still valid
    assert sessions.finish(kept)
    now[0] += 0.5
    with pytest.raises(BadRequestError, match="unknown or expired"):
        sessions.finish(expired)


def test_login_sessions_keep_only_the_newest_when_full() -> None:
    sessions = LoginSessions(limit=2)
    oldest, _ = sessions.start()
    middle, _ = sessions.start()
    newest, _ = sessions.start()
    with pytest.raises(BadRequestError):
        sessions.finish(oldest)
    sessions.finish(middle)
    sessions.finish(newest)


# --- logging in -----------------------------------------------------------------------------


async def test_login_stores_a_private_token_for_the_user(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    assert me.id == world.library.user.id
    token = stored(world)
    assert token.client_id == CLIENT_ID
    assert (token.user_id, token.user_name) == (me.id, world.library.user.display_name)
    assert token.refresh_token and not token.login_required
    assert set(token.scope.split()) == set(SCOPES)
    assert timedelta(minutes=59) < token.expires_at - utc_now() <= timedelta(hours=1)
    assert token.refresh_expires_at == token.authorized_at + timedelta(days=183)

    token_file = world.settings.cache_dir / "tokens.json"
    assert world.store.path == token_file
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    status = auth_status(world.access().tokens, demo=False, login_url="/auth/login")
    assert status.connected and not status.login_required and status.auth_url is None
    assert status.user_id == me.id
    assert status.access_expires_at == token.expires_at
    assert status.refresh_expires_at == token.refresh_expires_at


async def test_a_code_exchanged_with_the_wrong_verifier_is_refused(world: SpotifyWorld) -> None:
    access = world.access()
    sessions = LoginSessions()
    state, challenge = sessions.start()
    url = authorize_url(world.settings, client_id=CLIENT_ID, state=state, challenge=challenge)
    async with httpx.AsyncClient(transport=world.transport) as http:
        redirect = await http.get(url)
    assert redirect.status_code == 302
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == [state]
    sessions.finish(state)
    wrong_verifier, _ = new_pkce_pair()

    with pytest.raises(BadRequestError) as caught:
        await complete_login(access, query["code"][0], wrong_verifier)
    assert caught.value.code == "login_failed"
    assert "invalid_grant" in caught.value.detail
    assert access.tokens.load() is None


async def test_a_token_of_another_client_id_is_not_used(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    other = TokenManager(world.settings, world.store, client_id="another-app")
    assert other.load() is None
    with pytest.raises(LoginRequiredError, match="log in first"):
        await other.access_token()
    status = auth_status(other, demo=False, login_url="/auth/login")
    assert (status.connected, status.login_required, status.auth_url) == (
        False,
        True,
        "/auth/login",
    )

    async with world.client(spotify_client_id="another-app") as client:
        with pytest.raises(LoginRequiredError):
            await client.get_me()
    assert world.emulator.requests == []  # nothing was sent with someone else's token


# --- keeping the access token fresh ---------------------------------------------------------


async def test_a_token_about_to_expire_is_refreshed_first_and_rotation_is_stored(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    before = expire_locally(world, REFRESH_MARGIN.total_seconds() / 2)
    async with world.client() as client:
        await client.get_me()

    after = stored(world)
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert after.authorized_at == before.authorized_at  # refreshing never extends the grant
    assert (after.user_id, after.user_name) == (before.user_id, before.user_name)
    assert after.expires_at - utc_now() > timedelta(minutes=59)
    assert [r.status for r in world.token_requests()] == [200]
    [request] = world.api_log("/me")
    assert request.headers["authorization"] == f"Bearer {after.access_token}"
    assert request.status == 200  # refreshed ahead: Spotify never had to refuse the old one

    old = await refresh_directly(world, before.refresh_token or "")
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"
    new = await refresh_directly(world, after.refresh_token or "")
    assert new.status_code == 200


async def test_a_token_with_time_left_is_not_refreshed(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    before = expire_locally(world, REFRESH_MARGIN.total_seconds() * 2)
    async with world.client() as client:
        await client.get_me()
    assert world.token_requests() == []
    assert stored(world).access_token == before.access_token


async def test_a_401_mid_run_refreshes_once_and_the_call_succeeds(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    before = stored(world)
    world.emulator.expire_access_tokens()
    assert (await client.get_me()).id == me.id
    after = stored(world)
    assert after.access_token != before.access_token
    assert [r.status for r in world.api_log("/me")] == [401, 200]
    assert [r.status for r in world.token_requests()] == [200]


async def test_a_burst_of_401s_from_concurrent_pages_refreshes_only_once(
    world: SpotifyWorld, me: SpotifyUser, client: SpotifyClient
) -> None:
    world.emulator.config.latency_ms = 2  # the other pages are all in flight at once
    expired: list[bool] = []

    def expire_after_first_page(done: int, total: int) -> None:
        if not expired:
            world.emulator.expire_access_tokens()
            expired.append(True)

    liked = await client.get_all_liked_tracks(on_progress=expire_after_first_page)
    assert len(liked) == 260
    statuses = [r.status for r in world.api_log("/me/tracks")]
    assert statuses.count(401) == 5  # the five other pages, all sent with the old token
    assert statuses.count(200) == 6
    assert [r.status for r in world.token_requests()] == [200]


# --- the end of a grant, and two processes refreshing at once -------------------------------


async def test_a_refresh_token_dies_after_183_days_and_login_is_required(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.clock.advance(days=184)
    async with world.client() as client:
        with pytest.raises(LoginRequiredError) as caught:
            await client.get_me()
    assert caught.value.extra["auth_url"] == "/auth/login"
    assert [r.status for r in world.token_requests()] == [400]

    token = stored(world)
    assert token.login_required
    assert token.login_required_reason == "refresh refused: Refresh token revoked"
    status = auth_status(world.access().tokens, demo=False, login_url="/auth/login")
    assert (status.connected, status.login_required) == (False, True)
    assert status.auth_url == "/auth/login"
    assert status.reason == token.login_required_reason
    assert status.user_id == me.id

    world.forget_requests()
    async with world.client() as client:  # no more attempts until the user logs in again
        with pytest.raises(LoginRequiredError, match="log in again"):
            await client.get_me()
    assert world.emulator.requests == []


async def test_a_refresh_token_still_works_before_183_days(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    world.emulator.clock.advance(days=182)  # the access token is long dead, the grant is not
    async with world.client() as client:
        assert (await client.get_me()).id == me.id
    assert [r.status for r in world.token_requests()] == [200]
    assert not stored(world).login_required


async def test_two_processes_refreshing_at_once_both_end_up_with_the_winners_token(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    expired = expire_locally(world, -10)
    # Two processes: their own token manager and store object over the same tokens.json.
    first = TokenManager(
        world.settings, world.store, client_id=CLIENT_ID, transport=world.transport
    )
    second = TokenManager(
        world.settings,
        TokenStore(world.settings.cache_dir),
        client_id=CLIENT_ID,
        transport=world.transport,
    )
    # Slow token endpoint: both read the expired token and send the same refresh token.
    config = world.emulator.config
    config.faults_on_accounts, config.latency_ms = True, 20

    tokens = await asyncio.gather(first.access_token(), second.access_token())

    winner = stored(world)
    assert list(tokens) == [winner.access_token, winner.access_token]
    assert winner.refresh_token != expired.refresh_token
    assert not winner.login_required
    assert sorted(r.status or 0 for r in world.token_requests()) == [200, 400]
    config.faults_on_accounts, config.latency_ms = False, 0
    async with SpotifyClient(world.settings, second, transport=world.transport) as client:
        assert (await client.get_me()).id == me.id


async def test_a_refresh_refused_before_the_winner_saved_waits_for_the_winners_token(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    expired = expire_locally(world, -10)
    # Another process has just used the refresh token; Spotify answered it, but that process
    # has not saved the new token yet when our refresh is refused.
    answer = await refresh_directly(world, expired.refresh_token or "")
    assert answer.status_code == 200
    body = answer.json()
    other_process = TokenManager(
        world.settings, TokenStore(world.settings.cache_dir), client_id=CLIENT_ID
    )

    async def save_once_ours_is_refused() -> None:
        # The winner's save lands right after our refusal, whenever that comes (not after a
        # set time, which a slow run could make land before our refresh was even sent).
        while 400 not in [r.status for r in world.token_requests()]:
            await asyncio.sleep(0)
        other_process.save(
            expired.model_copy(
                update={
                    "access_token": body["access_token"],
                    "refresh_token": body["refresh_token"],
                    "expires_at": utc_now() + timedelta(seconds=body["expires_in"]),
                }
            )
        )

    ours = TokenManager(world.settings, world.store, client_id=CLIENT_ID, transport=world.transport)
    access, _ = await asyncio.wait_for(
        asyncio.gather(ours.access_token(), save_once_ours_is_refused()), timeout=30
    )

    assert access == body["access_token"]
    assert not stored(world).login_required
    assert [r.status for r in world.token_requests()] == [200, 400]
