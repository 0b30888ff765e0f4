"""The outermost layer of each emulated service: request log, latency and faults.

It wraps a service's ASGI app so that faults happen where the network would put them: before
the request reaches any route (and before Starlette's error middleware, which would otherwise
turn a dropped connection into a tidy 500).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from urllib.parse import parse_qsl

import orjson

from app.emulators.common.clock import Clock
from app.emulators.common.transport import ASGIApp, Message, Receive, Scope, Send, drop_connection
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.faults import FaultInjector
from app.emulators.spotify.responses import error_body

_T = TypeVar("_T")


@dataclass
class RequestRecord:
    """One request as the emulator saw it. `path` is relative to the service root
    (``/me/tracks``, ``/api/token``); `status` is `None` when the connection was dropped."""

    service: str  # "api" or "accounts"
    method: str
    path: str
    query: dict[str, str]
    time: datetime
    status: int | None = None
    fault: str | None = None  # "drop", "error", "throttle", "rate_limit", "garble" or None
    headers: dict[str, str] = field(default_factory=dict, repr=False)


def remember(log: list[_T], item: _T, keep: int) -> None:
    """Append `item` to an emulator's log; once it holds `2 * keep` entries, first drop all but
    the newest `keep` (a long-running server forgets the oldest half now and then, in batches
    so that appends stay cheap)."""
    if len(log) >= 2 * keep:
        del log[: len(log) - keep]
    log.append(item)


def relative_path(scope: Scope) -> str:
    """The request path below the service's mount point."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


class Gateway:
    """Logs every request to `log`; injects latency and faults when `faulty()` says so."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        config: SpotifyEmulatorConfig,
        clock: Clock,
        faults: FaultInjector,
        log: list[RequestRecord],
        faulty: Callable[[], bool],
    ) -> None:
        self.app = app
        self.service = service
        self.config = config
        self.clock = clock
        self.faults = faults
        self.log = log
        self.faulty = faulty

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        record = RequestRecord(
            self.service, scope["method"], relative_path(scope), query, self.clock.now()
        )
        record.headers = headers
        remember(self.log, record, self.config.request_log_size)
        if self.faulty():
            if self.config.latency_ms > 0:
                await self.clock.sleep(self.config.latency_ms / 1000)
            fault = self.faults.decide(headers.get("authorization", ""))
            if fault is not None:
                record.fault = fault.kind
                if fault.kind == "drop":
                    await drop_connection(scope, send)
                    return
                record.status = fault.status
                if fault.kind == "garble":
                    await _send_garbled(send)
                else:
                    await _send_error(send, fault.status, fault.message, fault.retry_after)
                return

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app(scope, receive, logged_send)


async def _send_error(send: Send, status: int, message: str, retry_after: int | None) -> None:
    body = orjson.dumps(error_body(status, message))
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_garbled(send: Send) -> None:
    """A success whose JSON stops half-way, as a broken proxy or cache may deliver it."""
    body = b'{"href":"https://api.spotify.com/v1/me/tracks","items":[{"added_at":"2026-'
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
