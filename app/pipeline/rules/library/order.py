"""What orders and dedupes a library's tracks: sort ranks and dedupe markers.

    ranks(library, "tempo", "number", True)   # an int per track to sort by, descending
    repeated(library, "isrc")                 # position → marker, of shared markers only
    prepare(library, type_of)                 # all of it, ahead (kept in the snapshot)

Sorting compares converted values (numbers, instants, casefolded texts) one Python key at a
time; instead each sort field gets one int rank per track for the whole library (equal values
share a rank, missing values rank last either way), computed from its typed column (numbers
and instants whole, other scalars once per distinct value), so a rule set's sort is a sort of
positions by ints. Dedupe needs the tracks whose marker (ISRC, or artist and title) another
track shares: usually few, so only theirs are kept. The artist cap and the limits in minutes
read each track's first artist and length. All of it is library-wide and computed once:
`prepare` does it when the library is built, and the snapshot keeps it.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.fs import paused_gc
from app.pipeline.rules.library.table import InstantColumn, ListColumn, NumberColumn, ObjectColumn
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.values import as_bool, as_instant, as_number, as_text, strip_accents

__all__ = [
    "FieldType",
    "artist_codes",
    "first_artists",
    "first_present",
    "isrc_marker",
    "normalise_text",
    "prepare",
    "ranks",
    "recording",
    "repeated",
    "repeated_flags",
    "seconds",
    "seconds_of",
    "sort_converter",
]

FieldType = str
"""A field's type as the field registry names it ("text", "number", "date", "bool"; the
registry's `FieldType`, which stands above the library)."""


def first_present(value: Any) -> Any:
    """A list's first present item; a scalar itself (None for "")."""
    if value.__class__ is list or value.__class__ is tuple:
        for item in value:
            if item is not None and item != "":
                return item
        return None
    return None if value == "" else value


def sort_converter(ftype: FieldType | None) -> Callable[[Any], Any]:
    """How a sort field's value is compared, by its type (a list by its first item)."""

    def generic(value: Any) -> Any:
        item = first_present(value)
        if item is None:
            return None
        if isinstance(item, bool):
            return (0, int(item))
        if isinstance(item, int | float):
            return None if item != item else (0, float(item))
        if isinstance(item, datetime):
            return (1, as_instant(item))
        return (2, as_text(item).casefold())

    def number(value: Any) -> float | None:
        cls = value.__class__  # plain numbers first: most values are (bool is not an int here)
        if cls is float:
            return None if value != value else float(value)
        if cls is int:
            return float(value)
        return as_number(first_present(value)) if value is not None else None

    if ftype == "number":
        return number
    if ftype == "date":
        return lambda value: as_instant(first_present(value)) if value is not None else None
    if ftype == "bool":
        return lambda value: as_bool(first_present(value)) if value is not None else None
    return generic


def ranks(library: Library, name: str, ftype: FieldType | None, descending: bool) -> array[int]:
    """Each track's place in the library-wide order of a sort field, as an int to sort by
    ascending: equal values share a rank, and a missing value ranks after every present one
    in either direction. Sorting positions by these ints (a stable sort) gives the same order
    as comparing the values themselves, much faster. Kept in an `array` (4 bytes a track, not
    a list of int objects: ~0.4 MB per sort field and direction at 100,000 tracks)."""
    cache_key = ("rank", name, ftype, descending)
    found: array[int] | None = library.columns.get(cache_key)
    if found is not None:
        return found
    if descending:  # from the ascending ranks (kept in the snapshot: `prepare`)
        ascending = np.frombuffer(ranks(library, name, ftype, False), dtype=np.int32)
        missing = len(library) + 1
        ordered = np.where(ascending == missing, missing, missing - ascending)
    else:
        ordered = _ascending_ranks(library, name, ftype)
    found = library.columns[cache_key] = array("i", ordered.astype(np.int32).tobytes())
    return found


def prepare(library: Library, type_of: Callable[[str], FieldType | None]) -> None:
    """Compute ahead what the first preview of a new library needs: the ascending sort ranks
    of its scalar fields (identifiers aside), each typed by `type_of` as the engine types it,
    the tracks that dedupe by ISRC or recording may drop, each track's first artist and
    length."""
    with paused_gc():
        for name in library.field_names():
            column = library.column(name)
            if name not in _NOT_SORTED and not isinstance(column, ListColumn | ObjectColumn):
                ranks(library, name, type_of(name), False)
        for mode in ("isrc", "recording"):
            repeated(library, mode)
        artist_codes(library)
        seconds(library)


_NOT_SORTED = frozenset({"id", "uri", "isrc"})  # unique per track: nobody sorts by them


def first_artists(library: Library) -> list[str | None]:
    """Each track's first artist, casefolded (one string object per artist): what
    `max_per_artist` counts, as `artist_codes` keeps it."""
    found: list[str | None]
    folded: dict[str, str] = {}

    def fold(artist: Any) -> str | None:
        if artist is None or artist == "":
            return None
        text = as_text(artist)
        shared = folded.get(text)
        if shared is None:
            shared = folded[text] = text.casefold()
        return shared

    column = library.column("artists")
    if isinstance(column, ListColumn):  # the first item's code per track, in one pass
        lengths = np.diff(column.offsets)
        held = lengths > 0
        codes = np.full(len(lengths), -1, dtype=np.int64)
        codes[held] = column.codes[column.offsets[:-1][held]]
        by_code = [*map(fold, column.distinct), None]
        found = list(map(by_code.__getitem__, codes.tolist()))
        for position in np.flatnonzero(held).tolist():
            if found[position] is None:  # a missing first item: the next present one counts
                found[position] = fold(first_present(column.value(position)))
    else:
        found = [fold(first_present(v)) if v is not None else None for v in column.values()]
    return found


def artist_codes(library: Library) -> npt.NDArray[np.int32]:
    """Each track's first artist as a small int (equal casefolded names share one; -1: none):
    what `max_per_artist` counts, over arrays of positions. Kept on the library."""
    found: npt.NDArray[np.int32] | None = library.columns.get("artist codes")
    if found is not None:
        return found
    codes: dict[str, int] = {}
    artists = first_artists(library)
    found = library.columns["artist codes"] = np.fromiter(
        (-1 if artist is None else codes.setdefault(artist, len(codes)) for artist in artists),
        dtype=np.int32,
        count=len(artists),
    )
    return found


def seconds(library: Library) -> array[float]:
    """Each track's length in seconds (`duration_ms`, else `duration`, else 0): what limits
    in minutes and playlist durations add up. Kept on the library."""
    found: array[float] | None = library.columns.get("seconds")
    if found is not None:
        return found
    lengths = list(map(seconds_of, library.values("duration_ms"), library.values("duration")))
    found = library.columns["seconds"] = array("d", lengths)
    return found


def seconds_of(ms: Any, duration: Any) -> float:
    """A track's length in seconds from its `duration_ms` (else `duration`, else 0)."""
    if isinstance(ms, int | float) and not isinstance(ms, bool):
        return float(ms) / 1000
    length = as_number(duration)
    return length or 0.0


def _ascending_ranks(library: Library, name: str, ftype: FieldType | None) -> npt.NDArray[Any]:
    """`_ranks` ascending (missing: the library's size + 1), from the field's typed column:
    numbers and instants ranked whole; other scalars once per distinct value."""
    column = library.column(name)
    missing = len(library) + 1
    ranks = np.full(len(library), missing, dtype=np.int64)
    keys: npt.NDArray[Any] | None = None
    if ftype == "number" and isinstance(column, NumberColumn):
        numbers = column.floats()
        present = column.present() & ~np.isnan(numbers)
        keys = numbers[present]
    elif ftype == "date" and isinstance(column, InstantColumn):
        present = column.present()
        keys = column.micros[present]  # distinct instants stay distinct as epoch seconds
    if keys is not None:
        ranks[present] = np.unique(keys, return_inverse=True)[1] + 1
        return ranks
    convert = sort_converter(ftype)
    if isinstance(column, ListColumn | ObjectColumn):  # the first item of each: per track
        return _dense(list(map(convert, column.values())), ranks)
    postings = column.postings()  # one code per track: each distinct value converted once
    elements = postings.elements
    by_element = np.full(len(elements) + 1, missing, dtype=np.int64)  # the last: code -1
    _dense(list(map(convert, elements)), by_element)
    return by_element[postings.codes]


def _dense(values: list[Any], ranks: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Dense ranks (from 1) of the values that are not None, compared as Python values, put
    into `ranks` at their positions (the others keep theirs)."""
    present = [p for p, value in enumerate(values) if value is not None]
    present.sort(key=values.__getitem__)
    rank, previous = 0, _UNSET
    dense = np.empty(len(present), dtype=np.int64)
    for i, p in enumerate(present):
        value = values[p]
        if value != previous:
            rank, previous = rank + 1, value
        dense[i] = rank
    ranks[np.array(present, dtype=np.int64)] = dense
    return ranks


_UNSET: Any = object()


_BRACKETED = re.compile(r"[\(\[][^\)\]]*\b(remaster(ed)?|mono|stereo)\b[^\)\]]*[\)\]]")
_DASHED = re.compile(r"\s+-\s+.*\b(remaster(ed)?|mono|stereo|single version)\b.*$")
_NON_WORD = re.compile(r"[\W_]+")
_VERSION_WORDS = ("remaster", "mono", "stereo", "single version")


@lru_cache(maxsize=1 << 16)
def normalise_text(text: str) -> str:
    """Casefolded, accents stripped, remaster/mono suffixes dropped, punctuation collapsed.

    Cached: artist names repeat across a library (dedupe by recording normalises two texts
    per track).
    """
    folded = text.casefold()
    if any(word in folded for word in _VERSION_WORDS):
        folded = _DASHED.sub("", _BRACKETED.sub("", folded))
    return _NON_WORD.sub(" ", strip_accents(folded)).strip()


def recording(artists: Any, name: Any, ms: Any) -> tuple[str, str, int | None]:
    artist = first_present(artists) if artists is not None else None
    length = int(ms) if isinstance(ms, int | float) and ms else None
    return normalise_text(as_text(artist or "")), normalise_text(as_text(name or "")), length


def isrc_marker(isrc: Any) -> str | None:
    return as_text(isrc).strip().casefold() if isrc else None


def repeated_flags(library: Library, mode: str) -> npt.NDArray[np.bool_]:
    """`repeated` as a flag per track (position → whether it has a marker another track
    shares), to pick those out of an array of positions at once. Kept on the library."""
    key = ("repeated flags", mode)
    found: npt.NDArray[np.bool_] | None = library.columns.get(key)
    if found is None:
        found = library.columns[key] = np.zeros(len(library), dtype=np.bool_)
        found[np.fromiter(repeated(library, mode), dtype=np.intp)] = True
    return found


def repeated(library: Library, mode: str) -> dict[int, Any]:
    """Position → dedupe marker of each track whose marker another track of the library
    shares: only those can be duplicates, whatever a rule set selects (most libraries have
    few, so only theirs are kept). A recording's marker is (artist, title, length)."""
    key = ("repeated", mode)
    found: dict[int, Any] | None = library.columns.get(key)
    if found is None:
        full: list[Any]
        markers: list[Any]
        if mode == "id":
            full = markers = library.ids
        elif mode == "isrc":
            full = markers = list(map(isrc_marker, library.values("isrc")))
        else:
            full = list(
                map(
                    recording,
                    library.values("artists"),
                    library.values("name"),
                    library.values("duration_ms"),
                )
            )
            markers = [recording[:2] for recording in full]
        shared = {m for m, n in Counter(markers).items() if n > 1 and m is not None}
        found = library.columns[key] = {
            p: full[p] for p, marker in enumerate(markers) if marker in shared
        }
    return found
