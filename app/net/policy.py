"""What is retried when a request to an outside service fails, and how a failure is named.

    policy = RetryPolicy(
        service="Spotify",
        code="spotify_unavailable",
        attempts=6,
        throttled_attempts=6,
        max_wait=120.0,
        max_wait_setting="SAP_SPOTIFY_MAX_RETRY_AFTER",
    )

`app.net.client.ServiceClient` sends every request under one. Two kinds of failure, each with
its own budget, so a burst of 429s never uses up the retries a 5xx needs, nor the other way:

- **Throttling**: a 429, a 503 with `Retry-After`, or an answer a service's `check` hook turns
  into `Throttled` (Deezer's quota error comes with HTTP 200, Last.fm's error 29). The service's
  pacer pauses for the wait asked (so every client of the service waits, not only this one),
  then the request goes again: `throttled_attempts` answers of this kind at most. A wait above
  `max_wait` fails at once with `RateLimitedError` naming it, and holds nobody back.
- **Server errors**: a 5xx, an answer `check` turns into `Transient`, or a transport error
  (no connection, a connection lost mid-request, a timeout): retried with exponential backoff
  and jitter (stamina), `attempts` tries in all, then `UpstreamError` with the policy's `code`.

**Replay safety.** A write that must not happen twice (`replay_safe=False`: adding items to a
playlist, moving them, creating a playlist) is sent again only when it certainly never reached
the service: after a 429 or a `check`'s `Throttled`, or when no connection could be made
(`NOT_SENT`). After a 5xx (a 503 with `Retry-After` included) or a lost answer it fails at
once: the service may have acted on it, and the caller must read the state again.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from app.core.errors import AppError, RateLimitedError, UpstreamError

DEFAULT_WAIT = 1.0
"""Seconds waited after a throttling answer that names no wait, or one we cannot read."""

# Transport errors raised before a request left this machine: replaying it cannot double it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Throttled(Exception):
    """The service asked us to slow down; wait `retry_after` seconds, then try again."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"throttled, retry after {retry_after:g}s")
        self.retry_after = retry_after


class Transient(Exception):
    """A failure worth retrying like a 5xx (a service's "try again" error in a 200, say)."""


def retry_after_seconds(response: httpx.Response, default: float = DEFAULT_WAIT) -> float:
    """The wait a throttling answer asks for: `Retry-After` in seconds or as an HTTP date;
    `default` when it is absent or unreadable.

        Retry-After: 7                              -> 7.0
        Retry-After: Wed, 21 Oct 2015 07:28:00 GMT  -> seconds until then (0 if past)
    """
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:  # an HTTP date is GMT even when it does not say so
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def attempts_text(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def replayable(exc: Exception) -> bool:
    """Whether stamina retries `exc` for a request that may safely be sent twice."""
    return isinstance(exc, Transient | httpx.TransportError)


def never_sent(exc: Exception) -> bool:
    """Whether stamina retries `exc` for a write that must not happen twice."""
    return isinstance(exc, NOT_SENT)


@dataclass(frozen=True)
class RetryPolicy:
    """One service's retry budgets, and the words and error code its failures carry."""

    service: str  # named in every error message: "Spotify", "musicbrainz.org/ws/2"
    code: str  # `UpstreamError.code` once the server-error budget is spent
    attempts: int  # tries on server and transport errors (the first one included)
    throttled_attempts: int  # throttling answers per request, the last one failing it
    max_wait: float  # the longest wait a throttling answer may ask for
    max_wait_setting: str  # the setting to change for longer waits, named in the error
    backoff: tuple[float, float] = (0.5, 10.0)  # stamina's first and longest wait (s)
    label: str = ""  # the service as people name it in notes ("Deezer"); default: `service`

    @property
    def name(self) -> str:
        """The service as a job's notes name it (`label`, else `service`)."""
        return self.label or self.service

    def failure(self, exc: Exception, method: str, path: str, tries: int) -> AppError:
        """The error a request ends with after `tries` requests, `exc` the last failure."""
        what, after = f"{method} {path}", attempts_text(tries)
        if isinstance(exc, Throttled):
            wait, extra = exc.retry_after, {"retry_after": exc.retry_after}
            if wait > self.max_wait:
                return RateLimitedError(
                    f"{self.service} is rate limiting this app and asked to wait {wait:.0f}s, "
                    f"more than the {self.max_wait:.0f}s we wait ({self.max_wait_setting}); "
                    "try again later",
                    extra=extra,
                )
            return RateLimitedError(
                f"{self.service} kept rate limiting {what} after {after}; try again later",
                extra=extra,
            )
        if isinstance(exc, httpx.TransportError):
            return UpstreamError(
                f"cannot reach {self.service} for {what} after {after} "
                f"({type(exc).__name__}: {exc})",
                code=self.code,
            )
        return UpstreamError(
            f"{self.service} failed {what} with {exc} after {after}", code=self.code
        )
