"""Turn one Exportify CSV row into a `Track`; a row that cannot be read raises `RowProblem`.

Cells are found through `ColumnLayout` (see `columns`). A value that cannot be read is reported
by what is wrong and in which column, never with its text (the file may be anything: see
`columns`); empty optional cells take neutral defaults.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Literal

from app.core.models import AlbumRef, ArtistRef, Track
from app.pipeline.sources.exportify.columns import ColumnLayout

_SPOTIFY_ID = r"[0-9A-Za-z]{22}"
_TRACK_REF = re.compile(
    rf"(?:spotify:track:|https?://open\.spotify\.com/(?:intl-[\w-]+/)?track/)?({_SPOTIFY_ID})"
    r"(?:\?\S*)?"
)
_ARTIST_REF = re.compile(rf"(?:spotify:artist:)?({_SPOTIFY_ID})")
_ALBUM_REF = re.compile(rf"(?:spotify:album:)?({_SPOTIFY_ID})")
_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}\d{7}")
_RELEASE_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
# Current Exportify: ", " between names, "\," inside one. Older: "," between, ", " inside one.
_SPACED_SEPARATOR = re.compile(r"(?<!\\), ")
_COMPACT_SEPARATOR = re.compile(r",(?!\s)")
_ANY_COMMA = re.compile(r"(?<!\\),")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # Exportify's placeholder when Spotify has no date
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})
_PRECISION: dict[int, Literal["year", "month", "day"]] = {4: "year", 7: "month", 10: "day"}
# Other kinds of Spotify URI, named in an error by their (fixed) kind, never by their text.
_OTHER_KINDS = frozenset({"episode", "album", "artist", "playlist", "show", "user", "audiobook"})


class RowProblem(ValueError):
    """Why one row cannot be imported: what is wrong, in which of our fields, and a hint;
    becomes a CsvRowError."""

    def __init__(self, what: str, field: str | None = None, hint: str = "") -> None:
        super().__init__(what)
        self.what, self.field, self.hint = what, field, hint

    def describe(self, columns: ColumnLayout) -> str:
        """``malformed track id in column 'Track URI' (a Spotify id is 22 letters…)``"""
        header = columns.header.get(self.field or "")
        where = f" in column {header!r}" if header else ""
        return f"{self.what}{where}" + (f" ({self.hint})" if self.hint else "")


class LocalFileRow(Exception):
    """The row is a local file, which has no Spotify id and is skipped."""


def parse_track_id(value: str) -> str:
    """The 22-character Spotify id in a track id, URI or open.spotify.com link."""
    if not value:
        raise RowProblem("missing track id", "id")
    if value.casefold().startswith("spotify:local:"):
        raise LocalFileRow
    match = _TRACK_REF.fullmatch(value)
    if match is None:
        if value.startswith("spotify:") and not value.startswith("spotify:track:"):
            kind = value.split(":", 2)[1]
            known = f"a spotify:{kind} URI" if kind in _OTHER_KINDS else "another kind of URI"
            raise RowProblem("not a track", "id", known)
        raise RowProblem("malformed track id", "id", "a Spotify id is 22 letters and digits")
    return match.group(1)


def row_track(track_id: str, row: list[str], columns: ColumnLayout) -> Track:
    """The track of one data row whose id `parse_track_id` already read."""
    name = columns.cell(row, "name")
    if not name:
        raise RowProblem(
            "empty track name", "name", "Spotify lists tracks it no longer has this way"
        )
    release_date, precision = _release_date(columns.cell(row, "release_date"))
    added_at = _added_at(columns.cell(row, "added_at"))
    return Track(
        id=track_id,
        uri=f"spotify:track:{track_id}",
        name=name,
        artists=_artists(
            columns.cell(row, "artist_ids"),
            columns.cell(row, "artist_names"),
            compact=columns.compact_artists,
        ),
        album=AlbumRef(
            id=_ref_id(_ALBUM_REF, columns.cell(row, "album_id")),
            name=columns.cell(row, "album_name"),
            release_date=release_date,
            release_date_precision=precision,
        ),
        duration_ms=_duration(columns.cell(row, "duration_ms")),
        explicit=_explicit(columns.cell(row, "explicit")),
        isrc=_isrc(columns.cell(row, "isrc")),
        is_local=False,
        added_at=added_at,
    )


def _artists(ids_cell: str, names_cell: str, *, compact: bool) -> list[ArtistRef]:
    """Pair artist URIs with names; when the names cannot be split to match, keep one artist."""
    ids = [_ref_id(_ARTIST_REF, part) for part in ids_cell.split(",") if part.strip()]
    if not ids:
        if not names_cell:
            return []
        return [ArtistRef(name=name) for name in _split_names(names_cell, compact=compact)]
    if not names_cell:
        return [ArtistRef(id=artist_id, name="") for artist_id in ids]
    if len(ids) == 1:
        return [ArtistRef(id=ids[0], name=_unescape(names_cell))]
    # The URIs show how this exporter joined lists: "a, b" (current) or "a,b" (older).
    if _COMPACT_SEPARATOR.search(ids_cell):
        separators: tuple[re.Pattern[str], ...] = (_COMPACT_SEPARATOR, _SPACED_SEPARATOR)
    else:
        separators = (_SPACED_SEPARATOR,)
    for separator in (*separators, _ANY_COMMA):
        names = [_unescape(part.strip()) for part in separator.split(names_cell)]
        if len(names) == len(ids) and all(names):
            return [ArtistRef(id=i, name=n) for i, n in zip(ids, names, strict=True)]
    # Names hold unescaped commas in a way we cannot attribute: one artist, no guessed ids.
    return [ArtistRef(name=_unescape(names_cell))]


def _split_names(cell: str, *, compact: bool) -> list[str]:
    separator = _COMPACT_SEPARATOR if compact else _SPACED_SEPARATOR
    names = [_unescape(part.strip()) for part in separator.split(cell)]
    return [name for name in names if name] or [_unescape(cell)]


def _unescape(name: str) -> str:
    return name.replace("\\,", ",")


def _ref_id(pattern: re.Pattern[str], value: str) -> str | None:
    match = pattern.fullmatch(value.strip())
    return match.group(1) if match else None


def _release_date(value: str) -> tuple[str | None, Literal["year", "month", "day"] | None]:
    if not value:
        return None, None
    match = _RELEASE_DATE.fullmatch(value)
    if match is None:
        raise RowProblem("unreadable release date", "release_date", "expected YYYY[-MM[-DD]]")
    year, month, day = match.groups()
    if year == "0000":  # Spotify's "unknown" for tracks that are no longer available
        return None, None
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise RowProblem("impossible release date", "release_date", "no such day") from None
    return value, _PRECISION[len(value)]


def _added_at(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RowProblem(
            "unreadable added-at time", "added_at", "expected ISO 8601, e.g. 2024-11-30T02:39:04Z"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None if moment == _EPOCH else moment


def _duration(value: str) -> int:
    if not value:
        return 0
    if value.isascii() and value.isdigit():
        return int(value)
    try:  # a spreadsheet round trip may have written "234266.0"
        number = float(value)
    except ValueError:
        number = -1.0
    if number >= 0 and number.is_integer():
        return int(number)
    raise RowProblem("unreadable duration", "duration_ms", "expected whole milliseconds")


def _explicit(value: str) -> bool:
    folded = value.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise RowProblem("unreadable explicit flag", "explicit", "expected true or false")


def _isrc(value: str) -> str | None:
    code = value.replace("-", "").replace(" ", "").upper()
    return code if _ISRC.fullmatch(code) else None
