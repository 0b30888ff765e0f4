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

A bad row becomes a `CsvRowError` (with its physical line number, and what is wrong in which
column) and the import goes on; a file that is not an Exportify export at all raises
`CsvImportError`. No message quotes the file's text: the file may be anything.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.core.errors import NotFoundError
from app.core.models import Track
from app.pipeline.sources.exportify.columns import CsvImportError, resolve_columns
from app.pipeline.sources.exportify.rows import LocalFileRow, RowProblem, parse_track_id, row_track

# The names callers import from here, wherever they now live.
__all__ = ["CsvImportResult", "CsvRowError", "parse_exportify_csv", "read_exportify_csv"]

log = logging.getLogger(__name__)


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
    columns: dict[str, str]  # our field -> the (known) header it was read from


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
    if isinstance(header_row, CsvRowError):
        raise CsvImportError(f"{label}: header row {header_row.message}", code="csv_invalid")
    columns = resolve_columns(header_row, label)

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
                raise RowProblem(
                    f"expected {columns.width} cells as in the header, found {len(row)}"
                )
            track_id = parse_track_id(columns.cell(row, "id"))
            if track_id in seen:
                result.duplicates += 1
                continue
            track = row_track(track_id, row, columns)
        except LocalFileRow:
            result.skipped_local += 1
            continue
        except RowProblem as problem:
            result.errors.append(CsvRowError(line, problem.describe(columns)))
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
