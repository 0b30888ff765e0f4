"""Find an Exportify export's columns by header name, across current and older column sets.

Matching ignores case and surrounding/repeated whitespace, never position: Exportify's layout
changed over the years (see `reader` for both generations). A header that lacks a
required column means the file is not an Exportify export and raises `CsvColumnsMissingError`.

Errors name columns by the header we know (`ColumnLayout.header`: the alias that matched, spelled as
Exportify spells it), never by the file's own text: a file that is not an export at all may be
anything (`/etc/passwd`), and an error message must not quote it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import UnprocessableError

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


class CsvImportError(UnprocessableError):
    """The file as a whole cannot be imported (empty, not UTF-8, not an Exportify export)."""

    code = "csv_invalid"


class CsvColumnsMissingError(CsvImportError):
    code = "csv_columns_missing"


@dataclass
class ColumnLayout:
    index: dict[str, int]
    header: dict[str, str]  # field -> the known header it was found under ("Track URI")
    width: int
    compact_artists: bool  # older export: artist names joined with "," (see `reader`'s docstring)

    def cell(self, row: list[str], name: str) -> str:
        index = self.index.get(name)
        return row[index].strip() if index is not None else ""


def _normalise_header(name: str) -> str:
    return " ".join(name.split()).casefold()


_NORMALISED_ALIASES = {
    name: tuple(_normalise_header(alias) for alias in aliases)
    for name, aliases in COLUMN_ALIASES.items()
}


def resolve_columns(header_row: list[str], label: str) -> ColumnLayout:
    """Where each of our fields is in `header_row`; raises if a required column is missing."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header_row):
        positions.setdefault(_normalise_header(name), index)
    index_of: dict[str, int] = {}
    headers: dict[str, str] = {}
    for our_field, aliases in _NORMALISED_ALIASES.items():
        for alias, spelled in zip(aliases, COLUMN_ALIASES[our_field], strict=True):
            if alias in positions:
                index_of[our_field], headers[our_field] = positions[alias], spelled
                break

    missing = [name for name in REQUIRED_COLUMNS if name not in index_of]
    if missing:
        wanted = "; ".join(
            f"{REQUIRED_COLUMNS[name]} ({' or '.join(map(repr, COLUMN_ALIASES[name]))})"
            for name in missing
        )
        recognised = ", ".join(map(repr, headers.values())) or "none"
        raise CsvColumnsMissingError(
            f"{label} is not an Exportify export: missing required column(s) {wanted}. Its "
            f"first line has {len(header_row)} cell(s); Exportify columns among them: "
            f"{recognised}",
            extra={"missing": missing, "recognised": list(headers.values())},
        )
    return ColumnLayout(
        index=index_of,
        header=headers,
        width=len(header_row),
        compact_artists=headers["id"] in {"Track ID", "Spotify ID"},
    )
