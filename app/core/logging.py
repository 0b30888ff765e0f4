"""Logging set-up for the entry points: one readable line per event on stderr, secrets masked.

Every record is passed through a `RedactingFilter` (`app.core.redact`): secret URL parameters
(`api_key`, `code`, `state`, tokens…), credential headers, and the configured keys themselves
become ``[redacted]``. The filter sits on our handler, and also on the loggers of the libraries
that write URLs — httpx logs every request with its full URL (Last.fm's `api_key` in the
query), uvicorn's access log every path with its query (the OAuth callback's `code`) — so
their records are masked before any handler sees them, whoever installed it. `serve` gives
uvicorn's own handlers the filter too (`app.cli.server`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from app.core.redact import Redactor

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

URL_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "uvicorn.error")
"""Loggers of libraries that write URLs, filtered where their records are made."""


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, arguments and traceback; never drops a record."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._argument(value) for value in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: self._argument(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Formatted here, once, so that the handler prints the masked text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _argument(self, value: Any) -> Any:
        """A %-argument as it was, or its masked text when it held a secret (an `httpx.URL`
        is an object: its text is what the message shows)."""
        if value is None or isinstance(value, bool | int | float):
            return value
        text = str(value)
        masked = self.redact(text)
        return value if masked == text else masked


def _install(logger: logging.Logger | logging.Handler, redacting: RedactingFilter) -> None:
    for old in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
        logger.removeFilter(old)
    logger.addFilter(redacting)


def configure_logging(level: str = "INFO", secrets: Iterable[str | None] = ()) -> None:
    """Configure the root logger once (later calls change the level and the secrets)."""
    redacting = RedactingFilter(secrets)
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, "_sap", False)]
    if not ours:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter(_FORMAT))
        stderr._sap = True  # type: ignore[attr-defined]
        root.addHandler(stderr)
        ours = [stderr]
    for handler in ours:
        _install(handler, redacting)
    for name in URL_LOGGERS:
        _install(logging.getLogger(name), redacting)
    root.setLevel(level)
