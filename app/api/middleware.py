"""Request guards for a local server: loopback Host names only, JSON bodies only.

Checking the Host header blocks DNS-rebinding attacks, in which a web page makes the browser
send requests to 127.0.0.1 under the attacker's host name.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_response

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8888
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class LocalRequestGuard:
    """Reject foreign Host headers (400) and non-JSON request bodies (415)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = _host_name(headers.get("host", ""))
        if host not in self.allowed_hosts and host.strip("[]") not in self.allowed_hosts:
            response = error_response(
                400,
                "host_not_allowed",
                f"Host {host or '(missing)'!r} is not allowed; this server answers loopback "
                "names only (set SAP_ALLOWED_HOSTS to add names)",
            )
            await response(scope, receive, send)
            return
        if scope["method"] in _BODY_METHODS and _has_body(headers):
            content_type = headers.get("content-type", "")
            if not _is_json(content_type):
                response = error_response(
                    415,
                    "unsupported_media_type",
                    f"request bodies must be JSON (Content-Type: application/json), "
                    f"got {content_type or 'no Content-Type'!r}",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in {"", "0"}
    return "transfer-encoding" in headers
