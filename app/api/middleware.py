"""Request guards for a local server: loopback Host names, same-origin writes, bounded bodies.

A server on 127.0.0.1 is reachable by every web page the user opens, through the user's own
browser. Three checks keep other pages out:

- **Host** must be a loopback name, the bind address or one of `SAP_ALLOWED_HOSTS` (400
  otherwise): this blocks DNS rebinding, in which a page makes the browser send requests to
  127.0.0.1 under the attacker's host name.
- **State-changing requests** (POST, PUT, PATCH, DELETE) must prove they come from this app. They
  carry a JSON content type, even with an empty body (415 otherwise): a page on another site can
  send a form or a body-less `fetch` without asking, but a JSON content type makes the browser ask
  first (a CORS preflight), which this server never grants. And when the request says where it
  comes from — browsers send `Origin` and `Sec-Fetch-Site` — that must be this server's own origin
  (or one of `SAP_ALLOWED_ORIGINS`); anything else is refused with 403. Clients that send neither
  header (curl, scripts) keep working. The demo's emulated services (under `/emulator`) speak
  their real services' formats — the emulated consent page posts a form — so only the origin
  rule applies to them.
- **Bodies** are at most `SAP_MAX_REQUEST_BYTES` (413 otherwise), whether announced by
  `Content-Length` or streamed in chunks.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_ORIGIN_FETCH_SITES = frozenset({"same-origin", "none"})  # none: typed or bookmarked


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


def _origin(value: str) -> str | None:
    """`scheme://host[:port]`, lower-cased; None for what is not an origin (e.g. "null")."""
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class LocalRequestGuard:
    """The checks of the module docstring, before any route runs."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: frozenset[str],
        allowed_origins: frozenset[str] = frozenset(),
        max_body_bytes: int = 32 * 1024 * 1024,
        foreign_formats: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self.allowed_origins = frozenset(
            origin for origin in (_origin(o) for o in allowed_origins) if origin
        )
        self.max_body_bytes = max_body_bytes
        self.foreign_formats = foreign_formats  # path prefixes exempt from the JSON rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is None and scope["method"] in STATE_CHANGING:
            length = headers.get("content-length")
            if length is not None and length.strip().isdigit():
                if int(length) > self.max_body_bytes:
                    refusal = self._too_large()
            elif "transfer-encoding" in headers:
                body, too_large = await self._read_chunked(receive)
                if too_large:
                    refusal = self._too_large()
                else:
                    receive = _replay(body, receive)
        if refusal is not None:
            status, code, detail = refusal
            await error_response(status, code, detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, str] | None:
        raw_host = headers.get("host", "")
        host = _host_name(raw_host)
        if host not in self.allowed_hosts and host.strip("[]") not in self.allowed_hosts:
            return (
                400,
                "host_not_allowed",
                f"Host {host or '(missing)'!r} is not allowed; this server answers loopback "
                "names only (set SAP_ALLOWED_HOSTS to add names)",
            )
        if scope["method"] not in STATE_CHANGING:
            return None
        own = f"{scope.get('scheme', 'http')}://{raw_host.strip().lower()}"
        origin = headers.get("origin")
        if origin is not None:
            parsed = _origin(origin)
            if parsed is None or (parsed != own and parsed not in self.allowed_origins):
                return (
                    403,
                    "cross_origin_refused",
                    f"refused a {scope['method']} from another origin ({origin[:100]!r}); this "
                    f"server changes state only for pages of its own origin ({own}) or of "
                    "SAP_ALLOWED_ORIGINS",
                )
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in SAME_ORIGIN_FETCH_SITES:
            trusted = origin is not None and _origin(origin) in self.allowed_origins
            if not trusted:
                return (
                    403,
                    "cross_origin_refused",
                    f"refused a {scope['method']} the browser marks as {fetch_site[:40]!r}; this "
                    "server changes state only for pages of its own origin",
                )
        content_type = headers.get("content-type", "")
        if not _is_json(content_type) and not scope["path"].startswith(self.foreign_formats):
            return (
                415,
                "unsupported_media_type",
                f"{scope['method']} requests must say Content-Type: application/json (even "
                f"with no body), got {content_type[:100] or 'no Content-Type'!r}",
            )
        return None

    def _too_large(self) -> tuple[int, str, str]:
        return (
            413,
            "request_too_large",
            f"request bodies are limited to {self.max_body_bytes} bytes (SAP_MAX_REQUEST_BYTES)",
        )

    async def _read_chunked(self, receive: Receive) -> tuple[bytes, bool]:
        """The whole streamed body, or (b"", True) as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"", True  # the client went away: nothing to hand on
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then the server's own messages
    (a disconnect, when the client goes away)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
