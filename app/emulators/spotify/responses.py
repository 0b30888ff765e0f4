"""HTTP building blocks of the Web API emulator: errors, JSON, query parameters, paging.

Every Web API error leaves as Spotify's body ``{"error": {"status": 404, "message": "..."}}``;
handlers raise `SpotifyError` and the API app renders it once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from app.emulators.common.transport import json_response


class SpotifyError(Exception):
    """A Web API error response; `headers` carries e.g. Retry-After or WWW-Authenticate."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "message": message}}


def error_response(error: SpotifyError) -> Response:
    return json_response(error_body(error.status, error.message), error.status, error.headers)


@functools.lru_cache(maxsize=1 << 17)
def timestamp(moment: datetime) -> str:
    """Spotify's timestamp format: ISO 8601, UTC, whole seconds, `Z`.

    Cached: every page of liked songs or playlist entries formats the same dates again.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_int(
    request: Request, name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """An integer query parameter within bounds, else 400 "Invalid <name>"."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SpotifyError(400, f"Invalid {name}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise SpotifyError(400, f"Invalid {name}")
    return value


def page_window(
    request: Request, *, max_limit: int = 50, max_offset: int | None = None
) -> tuple[int, int]:
    """`(offset, limit)` of a paged request: limit 1..max_limit (default 20), offset >= 0."""
    limit = query_int(request, "limit", 20, 1, max_limit)
    offset = query_int(request, "offset", 0, 0, max_offset)
    return offset, limit


def base_url(request: Request) -> str:
    """The service root as the client reached it, without a trailing slash.

    Starlette's `request.base_url` is the root of the outermost app; a service mounted at
    `/spotify/v1` needs its own mount point, which is the scope's `root_path`.
    """
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def paging(
    url: str,
    items: list[Any],
    *,
    offset: int,
    limit: int,
    total: int,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A paging object; `url` is the absolute endpoint URL, `extra` its other parameters."""

    tail = f"&{urlencode(extra)}" if extra else ""  # encoded once: `fields` can be long

    def link(at: int) -> str:
        return f"{url}?offset={at}&limit={limit}{tail}"

    return {
        "href": link(offset),
        "items": items,
        "limit": limit,
        "next": link(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }
