"""The access token on every Web API request, as an `httpx.Auth`: refreshed once on a 401.

    http = ServiceClient(api_url, policy, pacer=pacer, auth=BearerAuth(tokens))

Spotify answers 401 when the access token died early (revoked, or our clock is off): the
flow asks `TokenManager` for a fresh one (one refresh however many requests were refused at
once: they share its lock) and sends the request once more. A second 401 is handed back as
it is; `app.spotify.errors` makes it `LoginRequiredError`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import httpx

from app.spotify.auth.tokens import TokenManager


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <access token>`, with one refresh and one retry on a 401."""

    def __init__(self, tokens: TokenManager) -> None:
        self.tokens = tokens

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.tokens.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            fresh = await self.tokens.access_token(stale=token)
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request
