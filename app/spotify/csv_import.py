"""Read Exportify CSV exports into `Track`s: a track source that needs no network.

Columns are found by header name, never by position, because Exportify's layout changed over the
years. Both generations seen in real exports are read:

    current (watsonbox/exportify, exportify.net)
        "Track URI","Track Name","Artist URI(s)","Artist Name(s)",…,"Album Release Date",…,
        "Track Duration (ms)",…,"Explicit","Popularity","ISRC","Added By","Added At"
        artists: URIs joined with ", "; names joined with ", " and commas inside a name
        written as "\\," (e.g. "Tyler\\, The Creator, Kali Uchis")
    older (pavelkomarov/exportify)
        Track ID,Track Name,Album Name,Artist Name(s),Release Date,Duration (ms),…,Added At,Genres,…
        artists: names joined with "," and no escaping ("Hank Williams, Jr.,Post Malone")

Example:

    >>> result = parse_exportify_csv(
    ...     "Track ID,Track Name,Artist Name(s),Release Date\\n"
    ...     '7e176FKv7cq6SG9EXYMLoQ,"What Cha\\' Gonna Do for Me","Chaka Khan",1981\\n'
    ... )
    >>> track, added_at = result.tracks[0]
    >>> track.uri, track.artists[0].name, track.album.release_date_precision, added_at
    ('spotify:track:7e176FKv7cq6SG9EXYMLoQ', 'Chaka Khan', 'year', None)

A bad row becomes a `CsvRowError` (with its physical line number) and the import goes on; a file
that is not an Exportify export at all raises `CsvImportError`.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import AlbumRef, ArtistRef, Track

log = logging.getLogger(__name__)

# Our field -> the headers Exportify versions wrote for it, in priority order. Matching ignores
# case and surrounding/repeated whitespace (one real export has tabs inside a header cell).
# Other tools' CSVs are not guessed at: their columns mean other things too often.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("Track URI", "Spotify URI", "Track ID", "Spotify ID"),
    "name": ("Track Name",),
    "artist_ids": ("Artist URI(s)", "Artist IDs"),
    "artist_names": ("Artist Name(s)", "Artist Name"),
    "album_id": ("Album URI",),
    "album_name": ("Album Name",),
    "release_date": ("Album Release Date", "Release Date"),
    "duration_ms": ("Track Duration (ms)", "Duration (ms)"),
    "explicit": ("Explicit", "Explicit?"),
    "isrc": ("ISRC",),
    "added_at": ("Added At",),
}
REQUIRED_COLUMNS: dict[str, str] = {"id": "track id or URI", "name": "track name"}

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


class CsvImportError(UnprocessableError):
    """The file as a whole cannot be imported (empty, not UTF-8, not an Exportify export)."""

    code = "csv_invalid"


class CsvColumnsMissingError(CsvImportError):
    code = "csv_columns_missing"


@dataclass
class CsvRowError:
    line: int  # 1-based physical line where the row starts
    message: str


@dataclass
class CsvImportResult:
    tracks: list[tuple[Track, datetime | None]]  # (track, added_at) in file order, first wins
    errors: list[CsvRowError]
    skipped_local: int  # rows with spotify:local: URIs
    duplicates: int  # rows repeating a track id already imported
    total_rows: int  # data rows, blank lines excluded
    columns: dict[str, str]  # our field -> the header it was read from


class _RowProblem(ValueError):
    """Why one row cannot be imported; becomes a CsvRowError."""


class _LocalFile(Exception):
    """The row is a local file, which has no Spotify id and is skipped."""


@dataclass
class _Columns:
    index: dict[str, int]
    header: dict[str, str]  # field -> original header text
    width: int
    compact_artists: bool  # older export: artist names joined with "," (see module docstring)

    def cell(self, row: list[str], name: str) -> str:
        index = self.index.get(name)
        return row[index].strip() if index is not None else ""


def read_exportify_csv(path: Path) -> CsvImportResult:
    """Read an Exportify CSV file from disk (see `parse_exportify_csv`)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"CSV file not found: {path}", code="csv_not_found") from None
    except OSError as exc:
        raise CsvImportError(
            f"cannot read CSV file {path}: {exc.strerror or exc}", code="csv_unreadable"
        ) from None
    return parse_exportify_csv(data, source_name=path.name)


def parse_exportify_csv(data: bytes | str, *, source_name: str = "") -> CsvImportResult:
    """Parse an Exportify export; bad rows are reported in `errors`, never raised."""
    label = source_name or "the CSV file"
    text = _decode(data, label).lstrip("\ufeff")
    if not text.strip():
        raise CsvImportError(f"{label} is empty", code="csv_empty")

    rows = _rows(text)
    header_row = next((row for _, row in rows if not _is_blank(row)), None)
    if header_row is None:  # only unreadable rows, e.g. one unterminated quote
        raise CsvImportError(f"{label} has no readable header row", code="csv_empty")
    columns = _resolve_columns(header_row, label)

    result = CsvImportResult(
        tracks=[],
        errors=[],
        skipped_local=0,
        duplicates=0,
        total_rows=0,
        columns=dict(columns.header),
    )
    seen: set[str] = set()
    for line, row in rows:
        if isinstance(row, CsvRowError):
            result.total_rows += 1
            result.errors.append(row)
            continue
        if _is_blank(row):
            continue
        result.total_rows += 1
        try:
            if len(row) != columns.width:
                raise _RowProblem(
                    f"expected {columns.width} cells as in the header, found {len(row)}"
                )
            track_id = _track_id(columns.cell(row, "id"))
            if track_id in seen:
                result.duplicates += 1
                continue
            track = _track(track_id, row, columns)
        except _LocalFile:
            result.skipped_local += 1
            continue
        except _RowProblem as problem:
            result.errors.append(CsvRowError(line, str(problem)))
            continue
        seen.add(track_id)
        result.tracks.append((track, track.added_at))

    log.info(
        "csv import %s: %d rows, %d tracks, %d errors, %d local skipped, %d duplicates",
        label,
        result.total_rows,
        len(result.tracks),
        len(result.errors),
        result.skipped_local,
        result.duplicates,
    )
    return result


# --- file level ---------------------------------------------------------------------------


def _decode(data: bytes | str, label: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError(
            f"{label} is not UTF-8 text (invalid byte at offset {exc.start}); Exportify writes "
            "UTF-8 — re-export it, or save it from a spreadsheet as 'CSV UTF-8'",
            code="csv_encoding",
        ) from None


def _delimiter(text: str) -> str:
    """Exportify writes commas; a spreadsheet re-save may use ";" or tabs (header has no comma)."""
    first_line = text.split("\n", 1)[0]
    if "," in first_line:
        return ","
    for candidate in (";", "\t"):
        if candidate in first_line:
            return candidate
    return ","


def _rows(text: str) -> Iterator[tuple[int, list[str] | CsvRowError]]:
    """Yield (first physical line, row); rows that cannot be read are yielded as CsvRowErrors."""
    delimiter = _delimiter(text)
    consumed: list[str] = []  # physical lines of the row being read, to retry a malformed one

    def lines() -> Iterator[str]:
        # newline="" splits on "\r\n", "\r" and "\n" and leaves quoted line breaks untouched.
        for physical_line in io.StringIO(text, newline=""):
            consumed.append(physical_line)
            yield physical_line

    reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    line_num = 0  # csv's line_num counts lines consumed, so a row starts one after the last end
    while True:
        start = line_num + 1
        row: list[str] | CsvRowError | None
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row = _lazy_quotes_row("".join(consumed), delimiter)
            if row is None:
                hint = " (a quoted cell is never closed)" if "end of data" in str(exc) else ""
                row = CsvRowError(start, f"malformed CSV: {exc}{hint}")
        line_num = reader.line_num
        consumed.clear()
        yield start, row


def _lazy_quotes_row(raw: str, delimiter: str) -> list[str] | None:
    """Re-read one record whose quoted cells hold bare quotes, or None if it still can't be read.

    Older Exportify wrapped cells in quotes without doubling the quotes inside, e.g.
    `"Evelyn "Champagne" King"`. As in Go's csv LazyQuotes, a quote inside a quoted cell closes
    it only when a delimiter or the end of the record follows.
    """
    raw = raw.removesuffix("\n").removesuffix("\r")
    cells: list[str] = []
    i, end = 0, len(raw)
    while True:
        if raw.startswith('"', i):
            parts: list[str] = []
            i += 1
            while True:
                quote = raw.find('"', i)
                if quote < 0:
                    return None
                parts.append(raw[i:quote])
                i = quote + 1
                if raw.startswith('"', i):  # a properly doubled quote
                    parts.append('"')
                    i += 1
                elif i == end or raw.startswith(delimiter, i):
                    break
                else:
                    parts.append('"')
            cells.append("".join(parts))
        else:
            stop = raw.find(delimiter, i)
            stop = end if stop < 0 else stop
            cells.append(raw[i:stop])
            i = stop
        if i == end:
            return cells
        i += len(delimiter)


def _is_blank(row: list[str] | CsvRowError) -> bool:
    return isinstance(row, list) and all(not cell.strip() for cell in row)


def _normalise_header(name: str) -> str:
    return " ".join(name.split()).casefold()


_NORMALISED_ALIASES = {
    name: tuple(_normalise_header(alias) for alias in aliases)
    for name, aliases in COLUMN_ALIASES.items()
}


def _resolve_columns(header_row: list[str] | CsvRowError, label: str) -> _Columns:
    if isinstance(header_row, CsvRowError):
        raise CsvImportError(f"{label}: header row {header_row.message}", code="csv_invalid")
    positions: dict[str, int] = {}
    for index, name in enumerate(header_row):
        positions.setdefault(_normalise_header(name), index)
    index_of: dict[str, int] = {}
    for our_field, aliases in _NORMALISED_ALIASES.items():
        found = next((positions[alias] for alias in aliases if alias in positions), None)
        if found is not None:
            index_of[our_field] = found

    missing = [name for name in REQUIRED_COLUMNS if name not in index_of]
    if missing:
        found_headers = [" ".join(name.split()) for name in header_row]
        wanted = "; ".join(
            f"{REQUIRED_COLUMNS[name]} ({' or '.join(map(repr, COLUMN_ALIASES[name]))})"
            for name in missing
        )
        raise CsvColumnsMissingError(
            f"{label} is not an Exportify export: missing required column(s) {wanted}. "
            f"Headers found: {', '.join(repr(name) for name in found_headers) or '(none)'}",
            extra={"missing": missing, "headers": found_headers},
        )
    headers = {name: " ".join(header_row[index].split()) for name, index in index_of.items()}
    return _Columns(
        index=index_of,
        header=headers,
        width=len(header_row),
        compact_artists=_normalise_header(headers["id"]) in {"track id", "spotify id"},
    )


# --- row level ----------------------------------------------------------------------------


def _track_id(value: str) -> str:
    if not value:
        raise _RowProblem("missing track id")
    if value.casefold().startswith("spotify:local:"):
        raise _LocalFile
    match = _TRACK_REF.fullmatch(value)
    if match is None:
        if value.startswith("spotify:") and not value.startswith("spotify:track:"):
            raise _RowProblem(f"not a track: {_show(value)}")
        raise _RowProblem(
            f"malformed track id {_show(value)} (a Spotify id is 22 letters and digits)"
        )
    return match.group(1)


def _track(track_id: str, row: list[str], columns: _Columns) -> Track:
    name = columns.cell(row, "name")
    if not name:
        raise _RowProblem("empty track name (Spotify lists tracks it no longer has this way)")
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
        raise _RowProblem(f"unreadable release date {_show(value)} (expected YYYY[-MM[-DD]])")
    year, month, day = match.groups()
    if year == "0000":  # Spotify's "unknown" for tracks that are no longer available
        return None, None
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise _RowProblem(f"impossible release date {_show(value)}") from None
    return value, _PRECISION[len(value)]


def _added_at(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _RowProblem(
            f"unreadable added-at time {_show(value)} (expected ISO 8601, e.g. "
            "2024-11-30T02:39:04Z)"
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
    raise _RowProblem(f"unreadable duration {_show(value)} (expected whole milliseconds)")


def _explicit(value: str) -> bool:
    folded = value.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise _RowProblem(f"unreadable explicit flag {_show(value)} (expected true or false)")


def _isrc(value: str) -> str | None:
    code = value.replace("-", "").replace(" ", "").upper()
    return code if _ISRC.fullmatch(code) else None


def _show(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")
