"""HTTP for enrichment providers: paced per service, retried, polite.

    async with ProviderNet(settings, provider="deezer") as net:
        deezer = net.client(settings.deezer_url, rate=9.0)
        body = await deezer.get_json("/track/isrc:GBAAA2600001", check=deezer_quota)

- **Pacing** (`app.core.pacing.HostPacer`): one pacer per service base URL for the whole
  process, shared by every job and thread. At `rate` requests/s, requests start at least
  `PACE_MARGIN/rate` s apart, whichever job sends them.
- **Retries** (stamina, exponential backoff with jitter) on 5xx and network errors.
- **Throttling**: a 429/503 with `Retry-After`, or a provider-specific refusal that a `check`
  function turns into `Throttled` (Deezer's quota error comes with HTTP 200, Last.fm's error 29),
  pauses the *service's pacer* for the asked time — every job waits, not just the one refused —
  and retries; a wait above `SAP_PROVIDER_MAX_RETRY_AFTER` fails at once with
  `RateLimitedError` naming it.
- **User-Agent** ``spotify-auto-playlists/<version> ( <SAP_CONTACT> )``: MusicBrainz refuses
  anonymous clients, the others ask for an identifiable one.
- `transport` lets tests and demo mode reach in-process emulators (no network).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import stamina

from app.core.config import APP_NAME, Settings
from app.core.errors import RateLimitedError, UpstreamError
from app.net.pacing import HostPacer
from app.net.tls import tls_context
from app.spotify.errors import retry_after_seconds


class Throttled(Exception):
    """The service asked us to slow down; wait `retry_after` seconds, then try again."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"throttled, retry after {retry_after:g}s")
        self.retry_after = retry_after


class Transient(Exception):
    """A failure worth retrying (5xx, a provider's "try again" error, a broken body)."""


def app_version() -> str:
    try:
        return package_version(APP_NAME)
    except PackageNotFoundError:  # running from a source tree without an install
        return "0"


def user_agent(settings: Settings) -> str:
    """``spotify-auto-playlists/0.1.0 ( you@example.org )`` — the contact when one is set."""
    agent = f"{APP_NAME}/{app_version()}"
    return f"{agent} ( {settings.contact} )" if settings.contact else agent


PACE_MARGIN = 1.05
"""Requests are spaced 5% wider than a service's limit: we space them when *sent*, services
count them when they *arrive*, and a few milliseconds of network jitter would otherwise put two
requests in one window (MusicBrainz answered 503 to two arriving 0.996 s apart)."""


CheckFn = Callable[[httpx.Response], None]
Transport = httpx.AsyncBaseTransport  # what tests and demo mode pass to reach emulators


class ProviderHttp:
    """One service's client for one run: base URL, pacer, retries, error mapping."""

    def __init__(
        self,
        net: ProviderNet,
        base_url: str,
        *,
        rate: float | None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.net = net
        self.base_url = base_url.rstrip("/")
        self.service = urlsplit(self.base_url).netloc + urlsplit(self.base_url).path
        self.pacer = HostPacer.for_service(self.base_url, rate, margin=PACE_MARGIN)
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            transport=net.transport,
            verify=tls_context(),
            timeout=timeout or net.settings.provider_timeout,
            headers={
                "User-Agent": user_agent(net.settings),
                "Accept": "application/json",
                **(headers or {}),
            },
        )
        self.requests = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    def _retry_on(self, exc: Exception) -> bool | float:
        if isinstance(exc, Throttled):
            if exc.retry_after > self.net.settings.provider_max_retry_after:
                return False
            return exc.retry_after + random.uniform(0.0, 0.1)  # noqa: S311 - jitter only
        return isinstance(exc, httpx.TransportError | Transient)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        check: CheckFn | None = None,
    ) -> httpx.Response:
        """Send one request (retrying as the module docstring says) and return the response.

        `check(response)` may raise `Throttled` or `Transient` for service-specific answers;
        429/503 and other 5xx are handled before it runs. Other 4xx are returned as they are.
        """
        settings = self.net.settings
        attempts = settings.provider_max_attempts
        try:
            async for attempt in stamina.retry_context(
                on=self._retry_on,
                attempts=attempts,
                timeout=None,
                wait_initial=self.net.retry_wait[0],
                wait_max=self.net.retry_wait[1],
            ):
                with attempt:
                    await self.pacer.wait()
                    self.requests += 1
                    self.net.requests += 1
                    response = await self._http.request(
                        method, path.lstrip("/"), params=params, json=json
                    )
                    status = response.status_code
                    asked_to_wait = status == 503 and "retry-after" in response.headers
                    if status == 429 or asked_to_wait:
                        wait = retry_after_seconds(response, default=self.pacer.interval or 1.0)
                        self._throttled(wait)
                    if status >= 500:
                        raise Transient(f"HTTP {status} from {self.service}")
                    if check is not None:
                        try:
                            check(response)
                        except Throttled as exc:
                            self._throttled(exc.retry_after)
        except Throttled as exc:
            cap = settings.provider_max_retry_after
            if exc.retry_after > cap:
                raise RateLimitedError(
                    f"{self.service} asked us to wait {exc.retry_after:.0f}s, more than the "
                    f"{cap:.0f}s we wait (SAP_PROVIDER_MAX_RETRY_AFTER); try again later",
                    extra={"retry_after": exc.retry_after},
                ) from None
            raise RateLimitedError(
                f"{self.service} kept throttling {method} {path} after {attempts} attempts",
                extra={"retry_after": exc.retry_after},
            ) from None
        except Transient as exc:
            raise UpstreamError(
                f"{self.service} failed {method} {path} after {attempts} attempts ({exc})",
                code="provider_unavailable",
            ) from None
        except httpx.TransportError as exc:
            raise UpstreamError(
                f"cannot reach {self.service} for {method} {path} after {attempts} attempts "
                f"({type(exc).__name__}: {exc})",
                code="provider_unavailable",
            ) from None
        return response

    def _throttled(self, seconds: float) -> None:
        self.pacer.pause(seconds)
        raise Throttled(seconds)

    async def get_json(
        self, path: str, *, params: Mapping[str, Any] | None = None, check: CheckFn | None = None
    ) -> Any:
        """GET and parse JSON; a 4xx other than throttling raises `UpstreamError`."""
        response = await self.request("GET", path, params=params, check=check)
        return self.parse(response, f"GET {path}")

    def parse(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            raise UpstreamError(
                f"{self.service} answered {response.status_code} to {what}: {response.text[:200]}",
                code="provider_error",
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UpstreamError(
                f"{self.service} sent a body that is not JSON for {what}",
                code="provider_bad_response",
            ) from None


class ProviderNet:
    """The HTTP clients of one provider run; closes them all at the end."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_wait: tuple[float, float] = (0.5, 10.0),
        rates: Mapping[str, float | None] | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.retry_wait = retry_wait
        self.rates = dict(rates or {})  # base URL -> requests/s overriding a provider's own
        self.requests = 0
        self._clients: dict[str, ProviderHttp] = {}

    def client(
        self,
        base_url: str,
        *,
        rate: float | None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ProviderHttp:
        """The (cached) client for `base_url`, paced at `rate` requests/s."""
        key = base_url.rstrip("/")
        client = self._clients.get(key)
        if client is None:
            rate = self.rates.get(key, rate)
            client = ProviderHttp(self, key, rate=rate, headers=headers, timeout=timeout)
            self._clients[key] = client
        return client

    async def __aenter__(self) -> ProviderNet:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
