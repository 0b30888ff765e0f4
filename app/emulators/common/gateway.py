"""The outermost layer of every emulated service: the request log, latency, and refusals.

`Gateway` wraps a service's ASGI app so that what the network or the service's front door would
do happens before any route runs (and before Starlette's error middleware, which would turn a
dropped connection into a tidy 500): each request is logged as a `RequestRecord` (service,
method, path below the mount point, query, clock time, then status and fault), the configured
latency is waited on the emulator's clock, and the service's `refuse` policy may answer instead
of the routes with a `Refusal`: its own error body, a body cut off half-way, or a dropped
connection. Handlers that refuse a request themselves (a service's rate limit with its own
body) mark the logged record with `mark_fault`.

Each service brings its policy: Spotify's fault injector and rolling rate limit
(`spotify/faults.py`), the provider emulators' seeded random faults (`gate.py`), MusicBrainz's
User-Agent rule and per-client rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from app.emulators.common.clock import Clock
from app.emulators.common.transport import ASGIApp, Message, Receive, Scope, Send, drop_connection

_T = TypeVar("_T")
_RECORD_KEY = "emulator.record"
JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class RequestRecord:
    """One request as the emulator saw it. `path` is relative to the service root
    (``/me/tracks``, ``/api/token``); `status` is `None` when the connection was dropped."""

    service: str  # "api", "accounts", "deezer", "musicbrainz", …
    method: str
    path: str
    query: dict[str, str]
    time: datetime
    status: int | None = None
    fault: str | None = None  # "drop", "error", "throttle", "rate_limit", "garble", … or None
    headers: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Refusal:
    """An answer given instead of the service's own.

    `fault` names it in the log ("drop" hangs up without answering); `body` is sent as JSON,
    or as it is when it is bytes (with `content_type`).
    """

    fault: str
    status: int = 0
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE


RefusePolicy = Callable[[Scope, Mapping[str, str]], Refusal | None]


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


def client_key(scope: Scope) -> str:
    """Who is asking, as a rate limit keyed by client address sees it."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def mark_fault(request: Request, kind: str) -> None:
    """Record on the logged request that the handler refused it (e.g. "rate_limit")."""
    record = request.scope.get(_RECORD_KEY)
    if isinstance(record, RequestRecord):
        record.fault = kind


class Gateway:
    """Logs each request, waits `latency_ms()`, then lets `refuse` answer or passes it on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        clock: Clock,
        log: list[RequestRecord],
        log_size: Callable[[], int],
        latency_ms: Callable[[], float],
        refuse: RefusePolicy,
    ) -> None:
        self.app = app
        self.service = service
        self.clock = clock
        self.log = log
        self.log_size = log_size
        self.latency_ms = latency_ms
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        record = RequestRecord(
            self.service, scope["method"], relative_path(scope), query, self.clock.now()
        )
        record.headers = headers
        remember(self.log, record, self.log_size())
        latency = self.latency_ms()
        if latency > 0:
            await self.clock.sleep(latency / 1000)
        refusal = self.refuse(scope, headers)
        if refusal is not None:
            record.fault = refusal.fault
            if refusal.fault == "drop":
                await drop_connection(scope, send)
                return
            record.status = refusal.status
            await _send(send, refusal)
            return

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app({**scope, _RECORD_KEY: record}, receive, logged_send)


async def _send(send: Send, refusal: Refusal) -> None:
    body = refusal.body if isinstance(refusal.body, bytes) else orjson.dumps(refusal.body)
    headers = [
        (b"content-type", refusal.content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in refusal.headers.items()),
    ]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
