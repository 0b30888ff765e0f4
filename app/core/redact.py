"""Secrets out of text that may be logged or shown: URLs' secret parameters, credentials.

Wherever a URL is written down — a log line (httpx logs every request with its full URL,
uvicorn's access log every path with its query), an error message, a job's message — the
values of its secret parameters are replaced by ``[redacted]``, and so are credentials in
header form. What a parameter holds is judged by its name alone, so a URL of a service added
later is covered too:

    >>> redact("GET https://ws.audioscrobbler.com/2.0/?method=x&api_key=0123abc&format=json")
    'GET https://ws.audioscrobbler.com/2.0/?method=x&api_key=[redacted]&format=json'
    >>> redact('"GET /auth/callback?code=AQD9x&state=s3cr3t HTTP/1.1" 200')
    '"GET /auth/callback?code=[redacted]&state=[redacted] HTTP/1.1" 200'
    >>> redact("Authorization: Bearer eyJhbGciOi.abc")
    'Authorization: [redacted]'

`Redactor` adds the values the program knows are secret (the configured API keys), wherever
they appear, for the log handlers (`app.core.logging`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[redacted]"

SECRET_PARAMETERS = (
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "state",
    "client_secret",
    "secret",
    "password",
    "passwd",
    "signature",
    "sig",
    "auth",
)
"""Query (and form) parameters whose value is a secret: keys, tokens, the OAuth code and
state (one login each: whoever reads them first can finish the login), client secrets."""

SECRET_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "api-key", "cookie")

# name=value inside a query, a fragment or a form (after `?`, `#`, `&` or `;`: so `key=5` in a
# rule's text, which an error may quote, stays as written), the value running to the next
# separator of a query, a quoted string or a log line.
_PARAMETER = re.compile(
    r"(?<=[?#&;])(" + "|".join(map(re.escape, SECRET_PARAMETERS)) + r")=([^&;#\s\"'<>,)]+)",
    re.IGNORECASE,
)
# "Authorization: Bearer x" in header dumps and repr()s ({'authorization': 'Bearer x'}).
_HEADER = re.compile(
    r"(?<![\w-])(" + "|".join(map(re.escape, SECRET_HEADERS)) + r")(['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(?:bearer|basic|token)\s+)?[^\s'\",;}]+",
    re.IGNORECASE,
)
# A bare "Bearer <token>" (a real token is long; "bearer tokens" in prose is left alone).
_BEARER = re.compile(r"(?<![\w-])(bearer)\s+[A-Za-z0-9\-._~+/]{12,}=*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the values of secret URL parameters and credential headers masked."""
    if "=" not in text and ":" not in text and "earer" not in text:
        return text  # nothing that could hold a parameter or a header: the common case
    text = _PARAMETER.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


class Redactor:
    """`redact`, plus the values known to be secret (configured keys), wherever they appear."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so that a key containing another is masked whole; short values
        # (a 1-character "key" set by mistake) would mask half the log and are left out.
        known = {secret for secret in secrets if secret and len(secret) >= 6}
        self._known = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._known:
            if secret in text:
                text = text.replace(secret, MASK)
        return redact(text)
