"""Domain errors. Each carries an HTTP status and a stable machine-readable `code`.

The API renders every `AppError` once, as ``{"error": code, "detail": message}``; the CLI prints
``error: message`` on one line and exits 1. Nothing else should reach a user. A message is
masked as it is made (`app.core.redact`): a URL in it keeps its path, never its secrets.

    AppError                      500 internal_error
    ├── BadRequestError           400 bad_request
    ├── UnauthorizedError         401 unauthorized
    │   └── LoginRequiredError    401 login_required   (carries auth_url)
    ├── ForbiddenError            403 forbidden
    ├── NotFoundError             404 not_found
    │   └── UnknownStepError      404 unknown_step
    ├── ConflictError             409 conflict
    ├── UnprocessableError        422 validation_error
    │   └── RulesInvalidError     422 rules_invalid    (carries problems[])
    ├── RateLimitedError          429 rate_limited
    ├── UpstreamError             502 upstream_error   (a service we call failed)
    ├── BusyError                 503 busy             (e.g. job_queue_full)
    └── StoreError                503 store_unavailable
        └── StoreVersionError     503 store_too_new
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.core.redact import redact


class AppError(Exception):
    """Base of every error we expect and explain."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(
        self, detail: str, *, code: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        detail = redact(detail)  # a URL in a message keeps its path, never its key or code
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = extra or {}


class BadRequestError(AppError):
    status_code = 400
    code = "bad_request"


class UnauthorizedError(AppError):
    status_code = 401
    code = "unauthorized"


LOGIN_PATH = "/auth/login"


class LoginRequiredError(UnauthorizedError):
    """The user must (re)connect their Spotify account; `auth_url` says where."""

    code = "login_required"

    def __init__(self, detail: str, *, auth_url: str = LOGIN_PATH) -> None:
        super().__init__(detail, extra={"auth_url": auth_url})


class ForbiddenError(AppError):
    status_code = 403
    code = "forbidden"


class NotFoundError(AppError):
    status_code = 404
    code = "not_found"


class UnknownStepError(NotFoundError):
    code = "unknown_step"

    def __init__(self, step: str, known: Iterable[str]) -> None:
        names = sorted(known)
        listing = ", ".join(names) if names else "(none registered)"
        super().__init__(
            f"unknown pipeline step {step!r}; known steps: {listing}",
            extra={"known_steps": names},
        )


class ConflictError(AppError):
    status_code = 409
    code = "conflict"


class UnprocessableError(AppError):
    status_code = 422
    code = "validation_error"


class RateLimitedError(AppError):
    status_code = 429
    code = "rate_limited"


class UpstreamError(AppError):
    status_code = 502
    code = "upstream_error"


class BusyError(AppError):
    """This server cannot take more work now; the same request later may succeed."""

    status_code = 503
    code = "busy"


class StoreError(AppError):
    """A store file cannot be used as it is (the file itself is left untouched)."""

    status_code = 503
    code = "store_unavailable"


class StoreVersionError(StoreError):
    """The file was written by a newer release; we refuse to read or overwrite it."""

    code = "store_too_new"


class RulesInvalidError(UnprocessableError):
    """A rule set (JSON or text) has problems; `extra["problems"]` lists them all."""

    code = "rules_invalid"

    def __init__(self, problems: list[dict[str, Any]], *, text: str | None = None) -> None:
        first = (
            problems[0]["rendered"]
            if problems and "rendered" in problems[0]
            else (problems[0]["message"] if problems else "invalid rules")
        )
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(first + more, extra={"problems": problems})
        self.text = text
