"""Secrets out of logs and messages: the masking rules, the log filter on real loggers, domain
errors and job messages. The whole server's log is grepped in tests/cli/test_serve_logs.py."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.core.errors import RulesInvalidError, UpstreamError
from app.core.logging import URL_LOGGERS, RedactingFilter, configure_logging
from app.core.redact import Redactor, redact
from app.data import Stores
from app.pipeline.jobs.runner import JobManager
from app.pipeline.jobs.steps import StepContext, StepRegistry
from app.pipeline.rules.text.parser import parse_rules
from app.pipeline.services import Services

MASKED = [
    (
        "GET https://ws.audioscrobbler.com/2.0/?method=t&api_key=0123abcd&format=json",
        "GET https://ws.audioscrobbler.com/2.0/?method=t&api_key=[redacted]&format=json",
    ),
    (
        '127.0.0.1:5 - "GET /auth/callback?code=AQD-9x_y&state=s3cr3t HTTP/1.1" 200',
        '127.0.0.1:5 - "GET /auth/callback?code=[redacted]&state=[redacted] HTTP/1.1" 200',
    ),
    ("https://x.test/a?KEY=abc&Token=def", "https://x.test/a?KEY=[redacted]&Token=[redacted]"),
    (
        "grant_type=refresh_token&refresh_token=AQB.c-d",
        "grant_type=refresh_token&refresh_token=[redacted]",
    ),
    (
        "POST /token body ?client_secret=s&code_verifier=v",
        "POST /token body ?client_secret=[redacted]&code_verifier=[redacted]",
    ),
    (
        "https://h/cb#access_token=abc&state=x",
        "https://h/cb#access_token=[redacted]&state=[redacted]",
    ),
    ("https://x.test/?access_token=a.b.c#frag", "https://x.test/?access_token=[redacted]#frag"),
    ("Authorization: Bearer eyJhbGciOi.x-y", "Authorization: [redacted]"),
    ("{'authorization': 'Bearer abcdefghijklmnop'}", "{'authorization': '[redacted]'}"),
    ('headers={"X-API-Key": "k-123456"}', 'headers={"X-API-Key": "[redacted]"}'),
    ("sent Bearer abcdefghijklmnop to it", "sent Bearer [redacted] to it"),
]

KEPT = [
    "GET https://api.spotify.com/v1/me/tracks?limit=50&offset=100",
    "x?code_challenge=abc&code_challenge_method=S256&client_id=1&redirect_uri=http://h/cb",
    "x?error_code=5&status_code=429",  # names that merely end like a secret's
    "line 1, column 9: key=5 and state=ready: unknown field",  # a rule's text, quoted
    "sort key, state of the art, the code",  # words, not parameters
    "bearer tokens are refreshed",  # prose
    "Last.fm error 10 for track.getTopTags: Invalid API key",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_secret_parameters_and_credentials_are_masked(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize("text", KEPT)
def test_everything_else_is_left_as_it_was(text: str) -> None:
    assert redact(text) == text


def test_known_secrets_are_masked_wherever_they_appear() -> None:
    masking = Redactor(["my-lastfm-key-123", None, "", "short"])
    assert masking("Last.fm said: invalid key my-lastfm-key-123.") == (
        "Last.fm said: invalid key [redacted]."
    )
    assert masking("a short word") == "a short word"  # too short to be told from text


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """`configure_logging` changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {name: list(logging.getLogger(name).filters) for name in URL_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, kept in filters.items():
        logging.getLogger(name).filters[:] = kept


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What our handler writes, after `configure_logging` (the entry points' set-up)."""
    stream = io.StringIO()
    configure_logging("DEBUG", ["configured-key-42"])
    [ours] = [h for h in logging.getLogger().handlers if getattr(h, "_sap", False)]
    assert isinstance(ours, logging.StreamHandler)
    previous = ours.setStream(stream)
    try:
        yield stream
    finally:
        ours.setStream(previous)


def test_the_log_masks_library_records_and_ours(captured: io.StringIO) -> None:
    url = httpx.URL("https://ws.test/2.0/?method=m&api_key=abcdef123&format=json")
    # As httpx logs each request: the URL is an object, formatted by the handler.
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s %d %s"', "GET", url, "HTTP/1.1", 200, "OK"
    )
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/auth/callback?code=c0de", "1.1", 302
    )
    logging.getLogger("app.test").warning("told %(who)s: key configured-key-42", {"who": "x"})
    try:
        raise ValueError("failed GET https://x.test/?token=t0ken")
    except ValueError:
        logging.getLogger("app.test").exception("crash")
    text = captured.getvalue()
    for secret in ("abcdef123", "c0de", "configured-key-42", "t0ken"):
        assert secret not in text
    assert "api_key=[redacted]&format=json" in text
    assert '"GET /auth/callback?code=[redacted] HTTP/1.1" 302' in text
    assert "key [redacted]" in text
    assert "ValueError: failed GET https://x.test/?token=[redacted]" in text


def test_httpx_records_are_masked_before_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    """A handler someone else installed (here pytest's) sees the masked record too."""
    configure_logging("INFO")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info("HTTP Request: GET %s", httpx.URL("http://x/?key=k3y"))
    assert caplog.messages == ["HTTP Request: GET http://x/?key=[redacted]"]


def test_the_filter_keeps_argument_types_a_formatter_relies_on() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, "%s %d", ("a?code=x", 7), None
    )
    assert RedactingFilter().filter(record) is True
    assert record.args == ("a?code=[redacted]", 7)


def test_domain_errors_never_carry_a_secret() -> None:
    error = UpstreamError("cannot reach Spotify for GET authorize?client_id=c&state=abc123")
    assert error.detail == "cannot reach Spotify for GET authorize?client_id=c&state=[redacted]"
    assert str(error) == error.detail


def test_a_crashed_job_records_no_secret(tmp_path: Path) -> None:
    registry = StepRegistry()

    def leaky(ctx: StepContext) -> Any:
        raise RuntimeError("GET https://ws.test/?api_key=abcdef123 failed")

    registry.register("leaky", leaky)
    services = Services.from_settings(Settings(cache_dir=tmp_path, spotify_client_id="x"))
    job = JobManager(services, registry).run_inline("leaky")
    assert job.error is not None
    assert job.error.message == "RuntimeError: GET https://ws.test/?api_key=[redacted] failed"
    assert "abcdef123" not in (tmp_path / "jobs.json").read_text()
    assert Stores.open(tmp_path).jobs.load_jobs()[0].message == job.error.message


def test_a_rule_quoted_by_an_error_keeps_its_text() -> None:
    """`key` is also a musical field: a rule's text in an error is not a URL to mask."""
    with pytest.raises(RulesInvalidError) as caught:
        parse_rules("key=5 and and")
    assert "key=5 and and" in caught.value.detail
