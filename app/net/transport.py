"""A lean HTTP/1.1 transport for httpx: keep-alive connections over asyncio, answers parsed by
httptools (C).

    transport = KeepAliveTransport(ssl_context=tls_context(), max_connections=16)
    async with httpx.AsyncClient(transport=transport) as http:
        response = await http.get("https://api.spotify.com/v1/me/tracks")

httpx's own transport (httpcore over anyio, with h11 parsing in pure Python) costs about 1 ms of
CPU per request. A fetch sends hundreds of requests eight at a time, and that CPU sat between
each answer and the next request on the wire: on a 2-core machine it was most of the distance
between a fetch and its latency floor (docs/performance.md, "Fetching a library"). This one
does what our clients need, for about a third of that:

- HTTP/1.1, one request at a time per connection, connections kept alive and reused (an idle
  one is dropped after `keepalive_expiry` seconds, or as soon as the server closed it);
- TLS with the process's verified context (`app.net.tls`);
- whole bodies: the services answer small JSON documents, read completely anyway;
- httpx's timeouts and exceptions, so `app.net.policy` tells apart what was never sent:
  `ConnectError` / `ConnectTimeout` (no connection: the request never left), `PoolTimeout`
  (every connection stayed busy), `ReadTimeout` (nothing arrived for `read` seconds),
  `RemoteProtocolError` (the server hung up before a whole answer, or did not speak HTTP).

Requests it does not serve go to httpx's own transport (`fallback`): a HEAD (its answer has
no body, which the parser cannot know), and a request body sent in chunks. `ServiceClient`
uses it unless a proxy is configured in the environment (httpx's transport honours proxies).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from ssl import SSLContext
from types import TracebackType
from typing import cast

import httptools
import httpx

Origin = tuple[str, str, int]  # scheme, host, port
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; `exchange` sends a request and waits for its whole answer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.usable = True  # False once the server closed it or it is in an unknown state
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._reset()

    def _reset(self) -> None:
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._received = False
        self._headers_done = False
        self._keep_alive = False
        self._last_data = 0.0

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not an `asyncio.Transport` subclass, hence the cast).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done() or self._parser is None:
            self._discard()  # bytes nobody asked for: the connection cannot be trusted
            return
        self._received = True
        self._last_data = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"the server's answer is not HTTP: {exc}"))

    def eof_received(self) -> bool:
        self.usable = False
        if self._waiter is not None and not self._waiter.done():
            if self._headers_done and self._reads_until_close():
                self._finish()  # a body delimited by the end of the connection
            else:
                self._fail(_hung_up(self._received))
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        if self._waiter is not None and not self._waiter.done():
            self._fail(_hung_up(self._received))

    # --- httptools' callbacks --------------------------------------------------------------

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (103 Early Hints): the real one follows
            self._reset()
            return
        # Asked now: once the message is parsed, the parser forgets it (and says False).
        self._keep_alive = self._parser.should_keep_alive()
        self._finish()

    # --- one request -----------------------------------------------------------------------

    async def exchange(
        self, message: bytes, read_timeout: float | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
        """Send `message` (head and body) and return the answer's status, reason, headers and
        body; afterwards `usable` says whether the connection may carry another request."""
        assert self.transport is not None
        self._reset()
        self._parser = parser = httptools.HttpResponseParser(self)
        waiter = self._waiter = self._loop.create_future()
        self._last_data = self._loop.time()
        if read_timeout is not None:
            self._timer = self._loop.call_later(read_timeout, self._check_read, read_timeout)
        try:
            self.transport.write(message)
            await waiter
        except BaseException:
            self._discard()  # cancelled or failed half-way: the next answer would be ours
            raise
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._waiter = None
        if not self._keep_alive:
            self._discard()
        return parser.get_status_code(), self._reason, self._headers, b"".join(self._body)

    def _reads_until_close(self) -> bool:
        names = {name.lower() for name, _ in self._headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _check_read(self, timeout: float) -> None:
        quiet = self._loop.time() - self._last_data
        if quiet >= timeout:
            self._timer = None
            self._fail(httpx.ReadTimeout(f"no data from the server for {timeout:g}s"))
        else:
            self._timer = self._loop.call_later(timeout - quiet, self._check_read, timeout)

    def _finish(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        self._discard()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def _discard(self) -> None:
        self.usable = False
        if self.transport is not None:
            self.transport.close()


def _hung_up(received: bool) -> httpx.RemoteProtocolError:
    if received:
        return httpx.RemoteProtocolError("the server hung up before the whole answer")
    return httpx.RemoteProtocolError("Server disconnected without sending a response.")


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """httpx transport over kept-alive HTTP/1.1 connections (see the module docstring)."""

    def __init__(
        self,
        *,
        ssl_context: SSLContext,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        fallback: Callable[[], httpx.AsyncBaseTransport] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssl = ssl_context
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._clock = clock
        self._make_fallback = fallback or (
            lambda: httpx.AsyncHTTPTransport(
                verify=ssl_context, limits=httpx.Limits(max_connections=max_connections)
            )
        )
        self._fallback: httpx.AsyncBaseTransport | None = None
        self._idle: dict[Origin, list[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> KeepAliveTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection._discard()
        self._idle.clear()
        if self._fallback is not None:
            await self._fallback.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if request.method == "HEAD" or "transfer-encoding" in request.headers:
            if self._fallback is None:
                self._fallback = self._make_fallback()
            return await self._fallback.handle_async_request(request)
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        head = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += (name, b": ", value, b"\r\n")
        head.append(b"\r\n")
        origin = (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80))
        await self._take_slot(request, timeout.get("pool"))
        try:
            connection = self._reusable(origin) or await self._connect(
                request, origin, timeout.get("connect")
            )
            try:
                status, reason, headers, content = await connection.exchange(
                    b"".join(head) + body, timeout.get("read")
                )
            except httpx.TransportError as exc:
                exc.request = request
                raise
            if connection.usable:
                connection.idle_since = self._clock()
                self._idle.setdefault(origin, []).append(connection)
        finally:
            assert self._slots is not None
            self._slots.release()
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def _take_slot(self, request: httpx.Request, timeout: float | None) -> None:
        slots = self._slots
        if slots is None:
            slots = self._slots = asyncio.Semaphore(self._max_connections)
        if not slots.locked():
            await slots.acquire()
            return
        try:
            await asyncio.wait_for(slots.acquire(), timeout)
        except TimeoutError:
            raise httpx.PoolTimeout(
                f"all {self._max_connections} connections stayed busy for {timeout:g}s",
                request=request,
            ) from None

    def _reusable(self, origin: Origin) -> _Connection | None:
        """The most recently used idle connection to `origin` still fit to carry a request."""
        idle = self._idle.get(origin)
        now = self._clock()
        while idle:
            connection = idle.pop()
            transport = connection.transport
            if (
                connection.usable
                and transport is not None
                and not transport.is_closing()
                and now - connection.idle_since < self._keepalive_expiry
            ):
                return connection
            connection._discard()
        return None

    async def _connect(
        self, request: httpx.Request, origin: Origin, timeout: float | None
    ) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = scheme == "https"
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(loop),
                    host,
                    port,
                    ssl=self._ssl if tls else None,
                    server_hostname=host if tls else None,
                ),
                timeout,
            )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"no connection to {host}:{port} within {timeout:g}s", request=request
            ) from None
        except OSError as exc:  # refused, unreachable, a TLS failure (ssl.SSLError)
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return connection
