"""How rules read a value: presence, and coercion to text, number, boolean or instant.

Shared by compiling (`engine.compile`), the per-field indexes (`library.columns`) and the pipeline's
sorting and dedupe, so every stage agrees on what a value means. Semantics (docs: rules-dsl.md):
an empty list, ``""`` and ``None`` are missing; dates compare as UTC instants; a date literal of
lower precision covers its whole period (``2020`` is the year 2020, ``2020-05-17`` the day, so
`added_at = 2020-05-17` is true all day); a date-only value is its first instant.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from app.core.errors import RulesInvalidError

Kind = Literal["text", "number", "date", "bool"]
"""How a condition compares its field: as text, numbers, instants or booleans."""

_INF = math.inf


def invalid(message: str) -> RulesInvalidError:
    """A `RulesInvalidError` with one message (a rule that cannot be compiled or run)."""
    return RulesInvalidError([{"message": message}])


def present(value: Any) -> bool:
    """Not missing: not None, not ``""``, not an empty list (nor a list of missing items)."""
    if value is None or value == "":
        return False
    if value.__class__ is list or value.__class__ is tuple:
        return any(item is not None and item != "" for item in value)
    return True


def as_text(value: Any) -> str:
    """A value as the text rules compare (booleans as true/false, 2.0 as 2, dates ISO)."""
    if value.__class__ is str:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def strip_accents(text: str) -> str:
    """`text` without its accents and other combining marks (café → cafe, Beyoncé → Beyonce);
    compatibility forms are unfolded too (ﬁ → fi). ASCII text comes back as it is."""
    if text.isascii():
        return text
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


TextForm = tuple[bool, bool]
"""How a condition reads text: (casefold it, strip its accents)."""


def _folded_unaccented(text: str) -> str:
    return strip_accents(text).casefold()


_FORMS: dict[TextForm, Callable[[str], str]] = {
    (False, False): str,
    (True, False): str.casefold,
    (False, True): strip_accents,
    (True, True): _folded_unaccented,
}


def text_former(form: TextForm) -> Callable[[str], str]:
    """The function turning a text into its `form`."""
    return _FORMS[form]


def as_number(value: Any) -> float | None:
    """A value as a number (numeric text too); None for booleans, NaN and non-numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(number) else number


_TRUE = {"true", "yes", "1", "y", "on"}
_FALSE = {"false", "no", "0", "n", "off"}


def as_bool(value: Any) -> bool | None:
    """A value as a boolean (true/yes/1/on, false/no/0/off); None when it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return None if value not in (0, 1) else bool(value)
    if isinstance(value, str):
        folded = value.strip().casefold()
        return True if folded in _TRUE else False if folded in _FALSE else None
    return None


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def epoch_seconds(moment: datetime) -> float:
    """A datetime as UTC epoch seconds (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class Period(NamedTuple):
    """[start, end) in epoch seconds: what a date value covers (``2020``: the whole year)."""

    start: float
    end: float


def _period(text: str) -> Period | None:
    """[start, end) of a date text: a year, month, day or (a one-instant period) a datetime."""
    text = text.strip()
    match = _PARTIAL_DATE.match(text)
    try:
        if match is not None:
            year, month, day = (int(part) if part else None for part in match.groups())
            assert year is not None
            start = datetime(year, month or 1, day or 1, tzinfo=UTC)
            if day is not None:
                end = start.timestamp() + 86_400
            elif month is not None:
                end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC).timestamp()
            else:
                end = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() if year < 9999 else _INF
            return Period(start.timestamp(), end)
        instant = epoch_seconds(datetime.fromisoformat(text))
    except ValueError:
        return None
    return Period(instant, math.nextafter(instant, _INF))


@lru_cache(maxsize=65_536)
def _text_instant(text: str) -> float | None:
    period = _period(text)
    return None if period is None else period[0]


def as_instant(value: Any) -> float | None:
    """A date value as UTC epoch seconds (a partial date is its first instant)."""
    if isinstance(value, datetime):
        return epoch_seconds(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    if isinstance(value, str):
        return _text_instant(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9999:
        return datetime(value, 1, 1, tzinfo=UTC).timestamp()
    return None


def date_period(literal: Any) -> Period:
    """The period a date literal names: [start, end) in epoch seconds."""
    if isinstance(literal, datetime):
        instant = epoch_seconds(literal)
        return Period(instant, math.nextafter(instant, _INF))
    if isinstance(literal, date):
        start = datetime(literal.year, literal.month, literal.day, tzinfo=UTC).timestamp()
        return Period(start, start + 86_400)
    if isinstance(literal, int) and not isinstance(literal, bool):
        literal = f"{literal:04d}"
    if isinstance(literal, str):
        period = _period(literal)
        if period is not None:
            return period
    raise invalid(f"{literal!r} is not a date (YYYY, YYYY-MM, YYYY-MM-DD or an ISO datetime)")


def is_date_like(value: Any) -> bool:
    """A date, or a text that reads as one (a year alone does not: it is a number)."""
    if isinstance(value, datetime | date):
        return True
    return isinstance(value, str) and len(value) > 4 and _period(value) is not None
