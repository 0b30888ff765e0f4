"""Plumbing shared by every emulator: dropped connections, in-process and over a real socket.

An emulator that wants to simulate a connection dropped mid-request calls
`await drop_connection(scope, send)` and returns without responding. What the client sees is
what a real network failure looks like, whichever way the emulator is reached:

* in process, through `emulator_transport(app)`: `drop_connection` raises `ConnectionDropped`,
  which the transport turns into `httpx.RemoteProtocolError` ("Server disconnected without
  sending a response."), exactly what httpx raises when a real server hangs up;
* over uvicorn: the TCP connection is closed without a single byte of response. ASGI has no
  message for "hang up", so we reach uvicorn's transport through its `send` callable (uvicorn
  binds `send` to its per-request cycle object, which holds the asyncio transport). Apps that
  sit behind Starlette middleware no longer see that callable, so an outer
  `ServeDroppedConnections` layer records how to hang up in the ASGI scope for them.

If neither way is available (another server), `ConnectionDropped` propagates and the server
answers 500, which still reads as a failure to the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import httpx
import orjson
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HANG_UP_KEY = "emulator.hang_up"


class ConnectionDropped(Exception):
    """Raised inside an emulator to simulate a connection lost before any response."""


def _server_hang_up(send: Send) -> Callable[[], None] | None:
    """A function closing the client's TCP connection, when `send` comes from uvicorn."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if isinstance(transport, asyncio.BaseTransport):
        return transport.close
    return None


async def drop_connection(scope: Scope, send: Send) -> None:
    """Hang up on the client without a response (see the module docstring)."""
    hang_up = scope.get("extensions", {}).get(_HANG_UP_KEY) or _server_hang_up(send)
    if hang_up is None:
        raise ConnectionDropped("connection dropped by the emulator")
    hang_up()
    # Let the server notice the closed connection before the app returns, so it does not
    # try to answer "500: ASGI callable returned without starting response".
    for _ in range(3):
        await asyncio.sleep(0)


class ServeDroppedConnections:
    """Outermost ASGI layer of a served emulator: lets nested apps hang up on the client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hang_up = _server_hang_up(send) if scope["type"] == "http" else None
        if hang_up is not None:
            scope = dict(scope)
            scope["extensions"] = {**(scope.get("extensions") or {}), _HANG_UP_KEY: hang_up}
        await self.app(scope, receive, send)


class EmulatorTransport(httpx.AsyncBaseTransport):
    """`httpx.ASGITransport` that reports a dropped connection like a real one."""

    def __init__(self, app: ASGIApp, root_path: str = "") -> None:
        self._inner = httpx.ASGITransport(app=app, root_path=root_path)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


def emulator_transport(app: ASGIApp, root_path: str = "") -> httpx.AsyncBaseTransport:
    """An httpx transport that runs `app` in process (use with `httpx.AsyncClient`).

    `root_path` is the URL prefix the app pretends to be mounted at: with
    `emulator_transport(emulator.api_app, root_path="/v1")` and
    `base_url="https://api.spotify.test/v1"`, `GET /v1/me` reaches the app's `/me` route and
    its paging links carry the `/v1` prefix.
    """
    return EmulatorTransport(app, root_path)


def json_response(
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    charset: bool = True,
) -> Response:
    """A JSON response serialised with orjson (fast on big pages), for every emulator;
    `charset=False` for services that send a bare ``application/json``."""
    return Response(
        orjson.dumps(data),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json; charset=utf-8" if charset else "application/json",
    )
