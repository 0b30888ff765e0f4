"""How Spotify's HTTP answers become errors: the signals the retry loop of `SpotifyClient`
acts on (429, 5xx, 401), reading `Retry-After` and error bodies, and the mapping of the other
4xx answers to the application's errors.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import httpx

from app.core.errors import BadRequestError, ForbiddenError, NotFoundError, UpstreamError

# Transport errors raised before a request left this machine: replaying it cannot double it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"429, Retry-After {retry_after:g}s")
        self.retry_after = retry_after


class ServerError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status


class Unauthorized(Exception):
    pass


def retry_after_seconds(response: httpx.Response, default: float = 1.0) -> float:
    """The wait a 429 asks for: seconds or an HTTP date; `default` when absent or unreadable."""
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


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or response.reason_phrase)
    return str(error or response.reason_phrase)


def check_status(response: httpx.Response, method: str, path: str) -> httpx.Response:
    """`response` when it succeeded; otherwise the error it means (`Unauthorized` for a 401,
    which the client answers with one token refresh)."""
    status = response.status_code
    if status < 400:
        return response
    message = error_message(response)
    if status == 401:
        raise Unauthorized(message)
    if status == 403:
        raise ForbiddenError(
            f"Spotify refused {method} {path}: {message}", code="spotify_forbidden"
        )
    if status == 404:
        raise NotFoundError(f"Spotify has no {path} ({message})", code="spotify_not_found")
    if status == 400:
        raise BadRequestError(
            f"Spotify rejected {method} {path}: {message}", code="spotify_bad_request"
        )
    raise UpstreamError(f"Spotify answered {status} to {method} {path}: {message}")
