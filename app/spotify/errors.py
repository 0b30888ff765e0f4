"""How Spotify's answers become the application's errors: a 401 (after the token refresh
`auth.bearer.BearerAuth` already tried), 403, 404, 400 and the other 4xx, named with Spotify's
own error message. Throttling and server errors never get here: `app.net` retries them.
"""

from __future__ import annotations

import httpx

from app.core.errors import (
    BadRequestError,
    ForbiddenError,
    LoginRequiredError,
    NotFoundError,
    UpstreamError,
)


def error_message(response: httpx.Response) -> str:
    """Spotify's `{"error": {"message": …}}` (or `{"error": "…"}`), else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or response.reason_phrase)
    return str(error or response.reason_phrase)


def check_status(response: httpx.Response, method: str, path: str) -> httpx.Response:
    """`response` when it succeeded; otherwise the error it means."""
    status = response.status_code
    if status < 400:
        return response
    if status == 401:
        raise LoginRequiredError(
            "Spotify rejected the access token even after refreshing it; log in again"
        )
    message = error_message(response)
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
