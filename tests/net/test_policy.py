"""`app.net.policy`: reading `Retry-After`, in seconds or as an HTTP date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.net.policy import retry_after_seconds


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 1.0),
        ("7", 7.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        ("soon", 1.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
        ("Wed, 21 Oct 2015 07:28:00", 0.0),  # no zone: GMT
    ],
)
def test_retry_after_reads_seconds_and_dates_and_survives_garbage(
    header: str | None, expected: float
) -> None:
    headers = {"retry-after": header} if header is not None else {}
    assert retry_after_seconds(httpx.Response(429, headers=headers)) == expected


def test_retry_after_in_the_future_is_the_remaining_time() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    wait = retry_after_seconds(httpx.Response(429, headers={"retry-after": header}))
    assert 100 < wait <= 120
