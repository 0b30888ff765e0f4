"""The request path the client's mixins share (`PagedReads`, `PlaylistWrites`).

`SpotifyClient` supplies `request_bytes` (tokens, pacing, retries, error mapping); `request`
decodes the JSON body it returns.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.core.errors import UpstreamError
from app.core.fs import paused_gc


class Requesting:
    """`request` over `request_bytes`, the one method a subclass must supply."""

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> bytes:
        """The raw response body of one API request (path relative to the API base)."""
        raise NotImplementedError

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> Any:
        """Send one API request (path relative to the API base) and return its JSON body.

        `replay_safe=False` is for writes that must not happen twice (adding items, moving
        them, creating a playlist): they are retried only when Spotify certainly did not act
        on them (429, or no connection made); a 5xx or a connection lost mid-request fails at
        once, since the write may have been applied.
        """
        content = await self.request_bytes(
            method, path, params=params, json=json, replay_safe=replay_safe
        )
        if not content:
            return None
        try:
            with paused_gc():  # a page is thousands of small objects and no cycles
                return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise UpstreamError(
                f"Spotify sent a body that is not JSON for {method} {path}",
                code="spotify_bad_response",
            ) from None
