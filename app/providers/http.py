"""HTTP for enrichment providers: one `app.net` client per service and run, paced and polite.

    async with ProviderNet(settings) as net:
        deezer = net.client(settings.deezer_url, rate=9.0)
        body = await get_json(deezer, "/track/isrc:GBAAA2600001")

What providers share, and nothing else (the request loop itself is `app.net.client`):

- **Pacing**: one `HostPacer` per service base URL for the whole process, shared by every job
  and thread. At `rate` requests/s, requests start at least `PACE_MARGIN/rate` s apart,
  whichever job sends them.
- **The provider policy** (`provider_policy`): 5xx and network errors retried with backoff
  (``SAP_PROVIDER_MAX_ATTEMPTS``); a 429/503 with `Retry-After`, or a refusal a provider's
  `check` turns into `Throttled` (Deezer's quota error comes with HTTP 200, Last.fm's error
  29), pauses the service for everyone for the asked time and tries again
  (``SAP_PROVIDER_MAX_THROTTLED_ATTEMPTS``); a wait above ``SAP_PROVIDER_MAX_RETRY_AFTER``
  fails at once with `RateLimitedError` naming it. Errors carry `provider_unavailable`.
- **User-Agent** ``spotify-auto-playlists/<version> ( <SAP_CONTACT> )``: MusicBrainz refuses
  anonymous clients, the others ask for an identifiable one.
- **JSON**: `get_json` and `parse_json` read a body, or say which service sent what.
- `transport` lets tests and demo mode reach in-process emulators (no network).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from app.core.config import APP_NAME, Settings
from app.core.errors import UpstreamError
from app.net.client import CheckFn, ServiceClient
from app.net.pacing import HostPacer
from app.net.policy import RetryPolicy

Transport = httpx.AsyncBaseTransport  # what tests and demo mode pass to reach emulators


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


def service_name(base_url: str) -> str:
    """How errors name a service: ``musicbrainz.org/ws/2``."""
    parts = urlsplit(base_url.rstrip("/"))
    return parts.netloc + parts.path


SERVICE_LABELS = {
    "musicbrainz_url": "MusicBrainz",
    "listenbrainz_url": "ListenBrainz",
    "deezer_url": "Deezer",
    "reccobeats_url": "ReccoBeats",
    "lastfm_url": "Last.fm",
    "acousticbrainz_url": "AcousticBrainz",
    "llm_base_url": "The language model",
}
"""Each provider service's URL setting, and the service's name as people say it."""


def service_label(settings: Settings, base_url: str) -> str:
    """How a job's notes name the service at `base_url` ("Deezer asked us to slow down…"):
    its name when it is one of the configured services, else `service_name`."""
    key = base_url.rstrip("/")
    for setting, label in SERVICE_LABELS.items():
        configured = getattr(settings, setting, None)
        if configured and str(configured).rstrip("/") == key:
            return label
    return service_name(base_url)


def provider_policy(
    settings: Settings, base_url: str, backoff: tuple[float, float] = (0.5, 10.0)
) -> RetryPolicy:
    """How requests to a provider's service are retried (see the module docstring)."""
    return RetryPolicy(
        service=service_name(base_url),
        label=service_label(settings, base_url),
        code="provider_unavailable",
        attempts=settings.provider_max_attempts,
        throttled_attempts=(
            settings.provider_max_throttled_attempts or settings.provider_max_attempts
        ),
        max_wait=settings.provider_max_retry_after,
        max_wait_setting="SAP_PROVIDER_MAX_RETRY_AFTER",
        backoff=backoff,
    )


async def get_json(
    http: ServiceClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    check: CheckFn | None = None,
) -> Any:
    """GET and parse JSON; a 4xx other than throttling raises `UpstreamError`."""
    response = await http.request("GET", path, params=params, check=check)
    return parse_json(http, response, f"GET {path}")


def parse_json(http: ServiceClient, response: httpx.Response, what: str) -> Any:
    """The JSON body of `response` (to `what`, named in errors), or the error it means."""
    if response.status_code >= 400:
        raise UpstreamError(
            f"{http.service} answered {response.status_code} to {what}: {response.text[:200]}",
            code="provider_error",
        )
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise UpstreamError(
            f"{http.service} sent a body that is not JSON for {what}",
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
        self._clients: dict[str, ServiceClient] = {}
        self._closed_requests = 0

    @property
    def requests(self) -> int:
        """Requests sent by this run's clients, retries included."""
        return self._closed_requests + sum(c.requests for c in self._clients.values())

    def client(
        self,
        base_url: str,
        *,
        rate: float | None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ServiceClient:
        """The (cached) client for `base_url`, paced at `rate` requests/s."""
        key = base_url.rstrip("/")
        client = self._clients.get(key)
        if client is None:
            rate = self.rates.get(key, rate)
            settings = self.settings
            client = ServiceClient(
                key,
                provider_policy(settings, key, self.retry_wait),
                pacer=HostPacer.for_service(key, rate, margin=PACE_MARGIN),
                transport=self.transport,
                timeout=timeout or settings.provider_timeout,
                headers={
                    "User-Agent": user_agent(settings),
                    "Accept": "application/json",
                    **(headers or {}),
                },
            )
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
            self._closed_requests += client.requests
            await client.aclose()
