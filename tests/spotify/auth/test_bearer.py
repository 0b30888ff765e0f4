"""`BearerAuth`: the access token on each request, one refresh and one more try on a 401, with
the real token manager refreshing against the emulated accounts service."""

from __future__ import annotations

import pytest
from starlette.responses import JSONResponse

from app.core.errors import LoginRequiredError
from app.emulators.common.transport import Receive, Scope, Send, emulator_transport
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.spotify.auth.bearer import BearerAuth
from app.spotify.client import SpotifyClient, api_policy
from app.spotify.models import SpotifyUser
from tests.spotify.conftest import SpotifyWorld

pytestmark = pytest.mark.anyio


class RefusesEveryToken:
    """A Web API that answers 401 to everything, noting the token each request carried."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        self.tokens.append(headers.get(b"authorization", b"").decode())
        body = {"error": {"status": 401, "message": "Invalid access token"}}
        await JSONResponse(body, status_code=401)(scope, receive, send)


async def test_a_401_gets_one_refresh_and_one_more_try_then_is_handed_back(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    tokens = world.access().tokens
    before = tokens.load()
    assert before is not None
    api = RefusesEveryToken()
    base = "http://refusing.spotify.test/v1"
    async with ServiceClient(
        base,
        api_policy(world.settings, (0.0, 0.0)),
        pacer=HostPacer.for_service(base, None),
        transport=emulator_transport(api),
        auth=BearerAuth(tokens),
    ) as http:
        response = await http.request("GET", "me")

    assert response.status_code == 401
    after = tokens.load()
    assert after is not None and after.access_token != before.access_token
    assert api.tokens == [f"Bearer {before.access_token}", f"Bearer {after.access_token}"]
    assert [r.status for r in world.token_requests()] == [200]  # one refresh, not two
    assert http.requests == 2  # both went through the pacer and were counted


async def test_the_client_makes_a_second_401_a_login_required(
    world: SpotifyWorld, me: SpotifyUser
) -> None:
    api = RefusesEveryToken()
    async with world.client(api_transport=emulator_transport(api)) as client:
        with pytest.raises(LoginRequiredError, match="even after refreshing it"):
            await client.get_me()
    assert len(api.tokens) == 2
    assert [r.status for r in world.token_requests()] == [200]


async def test_no_token_no_request(world: SpotifyWorld) -> None:
    api = RefusesEveryToken()
    async with SpotifyClient(
        world.settings,
        world.access().tokens,
        transport=emulator_transport(api),
    ) as client:
        with pytest.raises(LoginRequiredError, match="log in first"):
            await client.get_me()
    assert api.tokens == []
    assert client.requests_made == 0
