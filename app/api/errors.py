"""The one place errors become HTTP responses: ``{"error": code, "detail": message}``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import AppError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status)


def _status_code_name(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc]
    return ".".join(parts) if parts else "request"


def _describe(error: dict[str, Any]) -> str:
    loc = list(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        where = f" near character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        return f"request body is not valid JSON{where}"
    return f"{_location(loc)}: {error.get('msg', 'invalid')}"


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    """A readable one-line summary, e.g. ``body.metadata: Input should be a valid dictionary``."""
    shown = [_describe(error) for error in errors[:3]]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        log.error("%s: %s", exc.code, exc.detail)
    extra = dict(exc.extra)
    auth_url = extra.get("auth_url")
    if isinstance(auth_url, str) and auth_url.startswith("/"):
        # Clients get a URL they can open as is (the seed frontend's contract).
        extra["auth_url"] = str(request.base_url).rstrip("/") + auth_url
    return error_response(exc.status_code, exc.code, exc.detail, **extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": list(error.get("loc", ())),
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]
    return error_response(
        422, "validation_error", describe_validation_errors(errors), errors=errors
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    response = error_response(exc.status_code, _status_code_name(exc.status_code), detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "internal_error", "unexpected server error; the details are in the server log"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
