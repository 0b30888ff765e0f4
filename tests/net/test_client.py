"""`ServiceClient`, the one request loop, driven against real in-process ASGI services that
answer from a script: its two retry budgets, the cap on waits, pauses shared by every client
of a service, replay safety, and a service's own `check`. Waits run on an injected clock."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from starlette.responses import Response

from app.core.errors import BadRequestError, RateLimitedError, UpstreamError
from app.emulators.common.transport import Receive, Scope, Send, drop_connection, emulator_transport
from app.net.client import ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import RetryPolicy, Throttled, Transient

pytestmark = pytest.mark.anyio

BASE = "http://service.test/api"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    """The time the pacer reads and the client sleeps on: sleeping moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


Answer = tuple[int, dict[str, str], Any] | str  # (status, headers, JSON body), or "drop"


def answer(status: int, body: Any = None, **headers: str) -> Answer:
    return (status, {k.replace("_", "-"): v for k, v in headers.items()}, body)


@dataclass
class ScriptedService:
    """An ASGI service giving each request the next scripted answer (the last one repeats),
    and noting when each request arrived on the clock."""

    script: Sequence[Answer]
    clock: Clock
    arrivals: list[tuple[str, float]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        index = min(len(self.arrivals), len(self.script) - 1)
        self.arrivals.append((scope["method"], self.clock()))
        scripted = self.script[index]
        if scripted == "drop":  # the request arrived, the answer is lost on the way back
            await drop_connection(scope, send)
            return
        status, headers, body = scripted
        response = Response(orjson.dumps(body), status, headers, "application/json")
        await response(scope, receive, send)

    @property
    def times(self) -> list[float]:
        return [at for _method, at in self.arrivals]


def policy(*, attempts: int = 3, throttled: int = 3, max_wait: float = 60.0) -> RetryPolicy:
    return RetryPolicy(
        service="service.test",
        code="service_unavailable",
        attempts=attempts,
        throttled_attempts=throttled,
        max_wait=max_wait,
        max_wait_setting="SAP_SERVICE_MAX_RETRY_AFTER",
        backoff=(0.0, 0.0),  # stamina's backoff between server errors: none in tests
    )


def client(
    service: ScriptedService | None,
    clock: Clock,
    *,
    pacer: HostPacer | None = None,
    base_url: str = BASE,
    **budgets: Any,
) -> ServiceClient:
    return ServiceClient(
        base_url,
        policy(**budgets),
        pacer=pacer or HostPacer(0.0, clock=clock),
        transport=emulator_transport(service) if service is not None else None,
        sleep=clock.sleep,
    )


OK = answer(200, {"ok": True})
SLOW_DOWN = answer(429, {"error": "slow down"}, retry_after="2")


# --- two budgets ------------------------------------------------------------------------------


async def test_throttling_does_not_use_up_the_retries_on_server_errors() -> None:
    clock = Clock()
    # Two 429s and two 5xx: four failures, each kind within its own budget of three tries.
    service = ScriptedService([SLOW_DOWN, SLOW_DOWN, answer(500), answer(502), OK], clock)
    async with client(service, clock, attempts=3, throttled=3) as http:
        response = await http.request("GET", "/things")
    assert response.json() == {"ok": True}
    assert http.requests == len(service.arrivals) == 5
    # Each 429's Retry-After was waited out (on the pacer, plus a little jitter) before the
    # next request went out.
    assert service.times[1] - service.times[0] >= 2.0
    assert service.times[2] - service.times[1] >= 2.0


async def test_server_errors_do_not_use_up_the_throttling_budget() -> None:
    clock = Clock()
    service = ScriptedService([answer(503), answer(500), SLOW_DOWN, SLOW_DOWN, OK], clock)
    async with client(service, clock, attempts=3, throttled=3) as http:
        assert (await http.request("GET", "/things")).status_code == 200
    assert len(service.arrivals) == 5


@pytest.mark.parametrize(
    ("script", "error", "message"),
    [
        (
            [answer(500), SLOW_DOWN],
            RateLimitedError,
            "service.test kept rate limiting GET /things after 4 attempts; try again later",
        ),
        (
            [SLOW_DOWN, SLOW_DOWN, answer(500)],
            UpstreamError,
            "service.test failed GET /things with HTTP 500 after 5 attempts",
        ),
    ],
    ids=["throttling budget spent", "server error budget spent"],
)
async def test_each_budget_ends_a_request_on_its_own(
    script: list[Answer], error: type[Exception], message: str
) -> None:
    clock = Clock()
    service = ScriptedService(script, clock)
    async with client(service, clock, attempts=3, throttled=3) as http:
        with pytest.raises(error) as caught:
            await http.request("GET", "/things")
    assert str(caught.value) == message
    assert len(service.arrivals) == int(message.split(" after ")[1].split()[0])
    if isinstance(caught.value, UpstreamError):
        assert caught.value.code == "service_unavailable"


async def test_dropped_connections_are_retried_within_the_server_error_budget() -> None:
    clock = Clock()
    service = ScriptedService(["drop"], clock)
    async with client(service, clock, attempts=2) as http:
        with pytest.raises(UpstreamError) as caught:
            await http.request("GET", "/things")
    assert caught.value.code == "service_unavailable"
    assert caught.value.detail.startswith(
        "cannot reach service.test for GET /things after 2 attempts (RemoteProtocolError"
    )
    assert len(service.arrivals) == 2


# --- waits: capped, and shared by every client of the service --------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_a_wait_beyond_the_cap_fails_at_once_naming_it_and_holds_nobody_back(
    status: int,
) -> None:
    clock = Clock()
    pacer = HostPacer(0.0, clock=clock)
    service = ScriptedService([answer(status, retry_after="300"), OK], clock)
    async with client(service, clock, pacer=pacer, max_wait=60.0) as http:
        with pytest.raises(RateLimitedError) as caught:
            await http.request("GET", "/things")
    assert caught.value.detail == (
        "service.test is rate limiting this app and asked to wait 300s, more than the 60s we "
        "wait (SAP_SERVICE_MAX_RETRY_AFTER); try again later"
    )
    assert caught.value.extra["retry_after"] == 300
    assert len(service.arrivals) == 1  # not retried
    assert clock.slept == []  # nor slept on
    assert pacer.reserve() == 0.0  # and nobody else is held back for it


async def test_a_pause_one_client_was_asked_for_holds_back_every_client_of_the_service() -> None:
    clock = Clock()
    pacer = HostPacer(0.0, clock=clock)  # what `HostPacer.for_service` shares in the process
    refusing = ScriptedService([answer(429, retry_after="5")], clock)
    other = ScriptedService([OK], clock)
    async with client(refusing, clock, pacer=pacer, throttled=1) as first:
        with pytest.raises(RateLimitedError, match="after 1 attempt;"):
            await first.request("GET", "/things")
    refused_at = refusing.times[0]
    async with client(other, clock, pacer=pacer) as second:
        await second.request("GET", "/other-things")
    assert other.times[0] >= refused_at + 5.0  # the second client waited out the first's 429
    assert clock.slept == [5.0]


async def test_requests_keep_the_service_pace_retries_included() -> None:
    clock = Clock()
    pacer = HostPacer(0.5, clock=clock)
    service = ScriptedService([answer(500), OK], clock)
    async with client(service, clock, pacer=pacer) as http:
        await http.request("GET", "/things")
        await http.request("GET", "/things")
    start = service.times[0]
    assert [at - start for at in service.times] == [0.0, 0.5, 1.0]


# --- replay safety ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "message"),
    [
        (answer(500), "service.test failed POST /items with HTTP 500 after 1 attempt"),
        (answer(503, retry_after="1"), "service.test failed POST /items with HTTP 503 after 1"),
        ("drop", "cannot reach service.test for POST /items after 1 attempt (RemoteProtocol"),
    ],
    ids=["5xx", "503 with Retry-After", "lost answer"],
)
async def test_a_write_that_may_have_been_applied_is_not_sent_again(
    first: Answer, message: str
) -> None:
    clock = Clock()
    service = ScriptedService([first, OK], clock)
    async with client(service, clock, attempts=5) as http:
        with pytest.raises(UpstreamError) as caught:
            await http.request("POST", "/items", json={"uris": ["a"]}, replay_safe=False)
    assert caught.value.detail.startswith(message)
    assert service.arrivals == [("POST", clock.now)]  # sent once, never replayed


async def test_a_write_refused_with_a_429_is_sent_again() -> None:
    clock = Clock()
    service = ScriptedService([SLOW_DOWN, OK], clock)
    async with client(service, clock) as http:
        response = await http.request("POST", "/items", json={"uris": ["a"]}, replay_safe=False)
    assert response.status_code == 200
    assert [method for method, _at in service.arrivals] == ["POST", "POST"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_write_is_sent_again_when_no_connection_could_be_made() -> None:
    clock = Clock()
    # A real connection refused: nothing listens on the port any more.
    unreachable = f"http://127.0.0.1:{closed_port()}/api"
    async with client(None, clock, base_url=unreachable, attempts=3) as http:
        with pytest.raises(UpstreamError) as caught:
            await http.request("POST", "/items", json={"uris": ["a"]}, replay_safe=False)
    assert caught.value.detail.startswith(
        "cannot reach service.test for POST /items after 3 attempts (ConnectError"
    )
    assert http.requests == 3


# --- a service's own signals -----------------------------------------------------------------

QUOTA = answer(200, {"error": {"code": 4, "message": "Quota limit exceeded"}})
BUSY = answer(200, {"error": {"code": 700, "message": "Service busy"}})


def check_errors_in_200s(response: httpx.Response) -> None:
    """Like Deezer: its quota and busy errors come with HTTP 200."""
    error = response.json().get("error") if response.status_code == 200 else None
    if error is not None and error["code"] == 4:
        raise Throttled(5.0, "quota exceeded")
    if error is not None and error["code"] == 700:
        raise Transient("the service is busy")


async def test_a_check_hook_turns_a_200_into_throttling_that_pauses_the_service() -> None:
    clock = Clock()
    pacer = HostPacer(0.0, clock=clock)
    service = ScriptedService([QUOTA, OK], clock)
    async with client(service, clock, pacer=pacer, attempts=1) as http:
        response = await http.request("GET", "/things", check=check_errors_in_200s)
    assert response.json() == {"ok": True}
    assert service.times[1] >= service.times[0] + 5.0


async def test_a_check_hook_turns_a_200_into_a_server_error_within_its_budget() -> None:
    clock = Clock()
    service = ScriptedService([BUSY], clock)
    async with client(service, clock, attempts=3) as http:
        with pytest.raises(UpstreamError) as caught:
            await http.request("GET", "/things", check=check_errors_in_200s)
    assert caught.value.detail == (
        "service.test failed GET /things with the service is busy after 3 attempts"
    )
    assert len(service.arrivals) == 3


async def test_other_answers_are_handed_back_as_they_came() -> None:
    clock = Clock()
    service = ScriptedService([answer(404, {"error": "no such thing"})], clock)
    async with client(service, clock) as http:
        response = await http.request("GET", "/things", check=check_errors_in_200s)
    assert (response.status_code, response.json()) == (404, {"error": "no such thing"})
    assert len(service.arrivals) == 1


async def test_a_path_that_cannot_be_a_url_is_refused_unsent() -> None:
    clock = Clock()
    service = ScriptedService([OK], clock)
    async with client(service, clock) as http:
        with pytest.raises(BadRequestError) as refused:
            await http.request("GET", "/playlists/\x02/items")
    assert refused.value.status_code == 400
    assert refused.value.code == "invalid_request_url"
    assert "service.test" in refused.value.detail and "'/playlists/\\x02/items'" in (
        refused.value.detail
    )
    assert service.arrivals == []
