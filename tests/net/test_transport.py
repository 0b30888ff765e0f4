"""`KeepAliveTransport` over real loopback sockets: a scripted server that counts its
connections (keep-alive, `Connection: close`, idle expiry on an injected clock, hang-ups,
timeouts, bodies by length, in chunks, until close, compressed), then the whole Spotify client
over it against the emulator served by uvicorn with server errors and dropped connections."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.core.config import Settings
from app.emulators.library.account import generate_library
from app.emulators.server import create_emulator_server
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import NOT_SENT, RetryPolicy
from app.net.tls import tls_context
from app.net.transport import KeepAliveTransport
from app.pipeline.services import Services
from app.spotify.access import SpotifyAccess
from app.spotify.auth.login import headless_login

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Request:
    line: str
    headers: dict[str, str]
    body: bytes


Answer = Callable[[Request, asyncio.StreamWriter], Awaitable[bool]]
"""Writes the answer to one request; returns whether to keep the connection open."""


@dataclass
class Server:
    """A loopback HTTP/1.1 server answering every request with `answer`."""

    answer: Answer
    url: str = ""
    connections: int = 0
    requests: list[Request] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the client closed it
                line, *fields = head.decode().split("\r\n")
                headers = {
                    name.lower(): value
                    for name, _, value in (f.partition(": ") for f in fields if f)
                }
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                request = Request(line, headers, body)
                self.requests.append(request)
                if not await self.answer(request, writer):
                    return
                await writer.drain()
        finally:
            writer.close()


@asynccontextmanager
async def serving(answer: Answer) -> AsyncIterator[Server]:
    server = Server(answer)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    try:
        yield server
    finally:
        listening.close()


def answer_with(*lines: bytes, keep: bool = True) -> Answer:
    async def answer(_request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"".join(lines))
        return keep

    return answer


def ok(body: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK\r\n", b"Content-Length: %d\r\n" % len(body), *extra, b"\r\n"]
    return b"".join(head) + body


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def client(
    url: str, clock: Clock | None = None, **timeouts: float
) -> AsyncIterator[httpx.AsyncClient]:
    transport = KeepAliveTransport(
        ssl_context=tls_context(), max_connections=4, clock=clock or Clock()
    )
    timeout = httpx.Timeout(5.0, **timeouts)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=timeout) as http:
        yield http


# --- connections ---------------------------------------------------------------------------------


async def test_requests_reuse_one_kept_alive_connection() -> None:
    async with serving(answer_with(ok(b'{"n": 1}'))) as server, client(server.url) as http:
        for _ in range(3):
            response = await http.get("/me", params={"offset": 50})
            assert (response.status_code, response.json()) == (200, {"n": 1})
    assert server.connections == 1
    assert [r.line for r in server.requests] == ["GET /me?offset=50 HTTP/1.1"] * 3
    assert server.requests[0].headers["host"] == server.url.removeprefix("http://")


async def test_a_connection_the_server_closes_is_not_reused() -> None:
    answer = answer_with(ok(b"bye", b"Connection: close\r\n"), keep=False)
    async with serving(answer) as server, client(server.url) as http:
        assert [(await http.get("/")).text for _ in range(3)] == ["bye"] * 3
    assert server.connections == 3


async def test_an_idle_connection_is_dropped_after_the_keepalive_expiry() -> None:
    clock = Clock()
    async with serving(answer_with(ok(b"x"))) as server, client(server.url, clock) as http:
        await http.get("/")
        clock.now += 4.9
        await http.get("/")
        assert server.connections == 1
        clock.now += 5.0  # idle for the whole expiry: the server may be closing it
        await http.get("/")
    assert server.connections == 2


async def test_a_cancelled_request_leaves_no_answer_behind_for_the_next_one() -> None:
    release = asyncio.Event()

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.line.startswith("GET /slow"):
            await release.wait()
            writer.write(ok(b"late"))
        else:
            writer.write(ok(b"mine"))
        return True

    async with serving(answer) as server, client(server.url) as http:
        slow = asyncio.create_task(http.get("/slow"))
        while not server.requests:
            await asyncio.sleep(0)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        release.set()
        assert (await http.get("/fast")).text == "mine"
    assert server.connections == 2


async def test_a_post_body_reaches_the_server_whole() -> None:
    async def echo(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(request.body, b"Content-Type: application/json\r\n"))
        return True

    async with serving(echo) as server, client(server.url) as http:
        response = await http.post("/playlists", json={"uris": ["spotify:track:" + "a" * 22]})
    assert response.json() == {"uris": ["spotify:track:" + "a" * 22]}
    assert server.requests[0].line == "POST /playlists HTTP/1.1"


# --- bodies -------------------------------------------------------------------------------------


async def test_bodies_in_chunks_compressed_or_until_close_arrive_whole() -> None:
    packed = gzip.compress(b'{"items": [1, 2, 3]}')
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
        + b"%x\r\n" % 5
        + packed[:5]
        + b"\r\n"
        + b"%x\r\n" % (len(packed) - 5)
        + packed[5:]
        + b"\r\n0\r\n\r\n"
    )
    async with serving(answer_with(chunked)) as server, client(server.url) as http:
        assert (await http.get("/")).json() == {"items": [1, 2, 3]}
    until_close = b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100_000
    async with serving(answer_with(until_close, keep=False)) as server, client(server.url) as http:
        assert (await http.get("/")).content == b"x" * 100_000


async def test_an_interim_answer_is_skipped_for_the_real_one() -> None:
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok(b"real")
    async with serving(answer_with(hints)) as server, client(server.url) as http:
        response = await http.get("/")
    assert (response.status_code, response.text) == (200, "real")


async def test_a_head_request_goes_through_httpx_own_transport() -> None:
    # The answer to a HEAD names a length but has no body: only the method says so.
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    async with serving(answer_with(head)) as server, client(server.url) as http:
        response = await http.head("/")
    assert (response.status_code, response.headers["content-length"]) == (200, "1000")


# --- failures, as the retry policy needs them named ------------------------------------------


async def test_nothing_listening_is_a_connect_error_the_policy_knows_was_never_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with client(f"http://127.0.0.1:{port}") as http:
        with pytest.raises(httpx.ConnectError) as raised:
            await http.get("/")
    assert isinstance(raised.value, NOT_SENT)
    assert raised.value.request.url.port == port


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (answer_with(keep=False), "Server disconnected without sending a response."),
        (
            answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", keep=False),
            "the server hung up before the whole answer",
        ),
        (answer_with(b"SMTP ready\r\n\r\n"), "the server's answer is not HTTP"),
    ],
)
async def test_a_broken_answer_is_a_protocol_error(answer: Answer, message: str) -> None:
    async with serving(answer) as server, client(server.url) as http:
        with pytest.raises(httpx.RemoteProtocolError, match=message) as raised:
            await http.get("/")
        assert not isinstance(raised.value, NOT_SENT)  # it was sent: a write is not replayed
        assert raised.value.request.url.path == "/"


async def test_a_silent_server_is_a_read_timeout() -> None:
    silent = asyncio.Event()

    async def never(_request: Request, _writer: asyncio.StreamWriter) -> bool:
        await silent.wait()
        return False

    async with serving(never) as server, client(server.url, read=0.05) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/")
        silent.set()


async def test_the_service_client_uses_it_unless_a_proxy_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = RetryPolicy("Test", "test_unavailable", 1, 1, 1.0, "SAP_TEST")
    pacer = HostPacer(0.0)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with ServiceClient("http://127.0.0.1:9", policy, pacer=pacer) as lean:
        assert isinstance(lean._http._transport, KeepAliveTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    async with ServiceClient("http://127.0.0.1:9", policy, pacer=pacer) as proxied:
        assert isinstance(proxied._http._transport, httpx.AsyncHTTPTransport)


# --- the Spotify client over it, against the served emulator ------------------------------------


@asynccontextmanager
async def uvicorn_serving(app: object) -> AsyncIterator[str]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="off", log_level="warning"
    )
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    while not running.started:
        await asyncio.sleep(0.01)
    port = running.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        await task


async def test_the_spotify_client_reads_the_whole_library_through_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real sockets, real uvicorn: with server errors and dropped connections on the way, the
    liked songs and a playlist read are exactly the emulator's."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    library = generate_library(seed=3, tracks=600, playlists=4)
    server = create_emulator_server(library=library, config=SpotifyEmulatorConfig())
    async with uvicorn_serving(server) as url:
        settings = Settings(
            cache_dir=tmp_path / "cache",
            spotify_client_id="test-client-id",
            spotify_api_url=f"{url}/spotify/v1",
            spotify_accounts_url=f"{url}/spotify/accounts",
            spotify_rate_limit=0,
            spotify_max_attempts=10,
        )
        services = Services.from_settings(settings)
        access = SpotifyAccess.create(settings, services.stores.tokens, retry_wait=(0.0, 0.0))
        me = await headless_login(access)
        emulator = server.spotify
        config = emulator.config
        config.fail_rate, config.throttle_rate, config.drop_rate = 0.10, 0.05, 0.05
        config.throttle_retry_after = 0
        config.fault_seed = 7
        config.validate()
        readable = [p for p in emulator.playlist_ids() if emulator.playlist(p).editable_by(me.id)]
        async with access.client() as spotify:
            liked = await spotify.get_all_liked_tracks()
            entries = await spotify.get_playlist_tracks(readable[0])
            made = spotify.requests_made
    assert [s.track.id if s.track else None for s in liked] == [
        s.track_id for s in emulator.state.liked
    ]
    uris = [e.content.uri if e.content is not None else None for e in entries]
    assert uris == emulator.playlist_uris(readable[0])
    pages = len(liked) // 50 + len(entries) // 50 + 2
    assert made > pages  # faults were met and the requests sent again
