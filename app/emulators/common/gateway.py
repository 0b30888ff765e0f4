"""HTTP plumbing the MusicBrainz and ListenBrainz emulators share: `PolicyGateway` logs each
request, waits the configured latency, then lets the service's policy check answer with a
`Refusal` (its own error body, or a dropped connection) before the routes see the request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from app.emulators.common.clock import Clock
from app.emulators.common.transport import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    drop_connection,
    json_response,
)
from app.emulators.spotify.gateway import RequestRecord, relative_path, remember


@dataclass(frozen=True)
class Refusal:
    """An answer given instead of the service's own: an error body, or a dropped connection."""

    fault: str  # "user_agent", "rate_limit", "error", "drop"
    status: int = 0
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class PolicyGateway:
    """Logs each request, waits `latency()`, then lets `check` refuse it or passes it on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        clock: Clock,
        log: list[RequestRecord],
        log_size: Callable[[], int],
        latency_ms: Callable[[], float],
        check: Callable[[Scope, Mapping[str, str]], Refusal | None],
    ) -> None:
        self.app = app
        self.service = service
        self.clock = clock
        self.log = log
        self.log_size = log_size
        self.latency_ms = latency_ms
        self.check = check

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
        refusal = self.check(scope, headers)
        if refusal is not None:
            record.fault = refusal.fault
            if refusal.fault == "drop":
                await drop_connection(scope, send)
                return
            record.status = refusal.status
            await json_response(refusal.body, refusal.status, refusal.headers)(scope, receive, send)
            return

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app(scope, receive, logged_send)
