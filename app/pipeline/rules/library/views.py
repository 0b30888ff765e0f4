"""What rules read: one flat view per track, built once and shared by every rule set.

How a track's enrichment entries merge into one mapping (`build_enrichment_view`) is in
`enrichment_view`.

`track_view` adds the built-in fields of the field registry (`fields.types.BUILTIN_FIELDS`) to
the enrichment keys; built-in fields win a name clash. Values keep their natural types: text,
numbers, booleans, lists, `datetime` for `added_at`, ISO text for `release_date` ("1999",
"1999-05" or "1999-05-17"). A missing value is absent, `None`, ``""`` or an empty list.

A `Library` is the views of every fetched track in library order, with their provenance and an
id index, held as view dicts or as typed columns (`table`); `build` makes the stored library's.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt

from app.core.fs import paused_gc
from app.core.models import Track, TrackEnrichment
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.enrichment_view import build_enrichment_view
from app.pipeline.rules.library.table import ABSENT, Column, chunked_rows, encode, rows
from app.providers.registry import Precedence

__all__ = [
    "BUILTIN_KEYS",
    "SOURCE_PROVIDER",
    "TRACK_PROVIDER",
    "Library",
    "SharedRows",
    "TrackMembership",
    "build_library",
    "builtin_values",
    "index_membership",
    "track_view",
]

if TYPE_CHECKING:
    from app.data.sources import SourceRecord

TRACK_PROVIDER = "spotify"
SOURCE_PROVIDER = "sources"


_lists: dict[tuple[str, ...], list[str]] = {}
_lists_guard = threading.Lock()


def _shared_list(items: tuple[str, ...]) -> list[str]:
    """One list object per distinct membership (views are never mutated): most tracks share
    one of a few combinations of sources and playlists."""
    found = _lists.get(items)
    if found is None:
        with _lists_guard:
            if len(_lists) > 100_000:  # a bound, for processes that see many libraries
                _lists.clear()
            found = _lists.setdefault(items, list(items))
    return found


@dataclass(frozen=True)
class TrackMembership:
    """Where a track was found: source keys, playlist ids and names, first sighting."""

    sources: tuple[str, ...] = ()
    playlists: tuple[str, ...] = ()
    first_added: datetime | None = None


def index_membership(sources: Mapping[str, SourceRecord]) -> dict[str, TrackMembership]:
    """Per track id, the sources holding it (one pass over every source entry)."""
    keys: dict[str, list[str]] = {}
    playlists: dict[str, list[str]] = {}
    first: dict[str, datetime] = {}
    for record in sources.values():
        is_playlist = record.source_type.value == "playlist"
        names = [
            name for name in dict.fromkeys((record.source_id, record.name, record.label)) if name
        ]
        key = record.key
        for entry in record.entries:
            track_id = entry.track_id
            track_keys = keys.get(track_id)
            if track_keys is None:
                keys[track_id] = [key]
            elif key in track_keys:
                continue
            else:
                track_keys.append(key)
            if is_playlist:
                playlists.setdefault(track_id, []).extend(names)
            added_at = entry.added_at
            if added_at is not None:
                earlier = first.get(track_id)
                if earlier is None or added_at < earlier:
                    first[track_id] = added_at
    return {
        track_id: TrackMembership(
            tuple(track_keys),
            tuple(dict.fromkeys(playlists.get(track_id, ()))),
            first.get(track_id),
        )
        for track_id, track_keys in keys.items()
    }


NO_MEMBERSHIP = TrackMembership()


def track_view(
    track: Track,
    membership: TrackMembership | None = None,
    enrichment_view: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The mapping rules read for one track: enrichment keys plus the built-in fields."""
    album = track.album
    return _view(
        enrichment_view,
        membership or NO_MEMBERSHIP,
        id=track.id,
        uri=track.uri,
        name=track.name,
        artists=[artist.name for artist in track.artists],
        album=album.name,
        release_date=album.release_date,
        added_at=track.added_at,
        duration_ms=track.duration_ms,
        explicit=track.explicit,
        isrc=track.isrc,
        is_local=track.is_local,
    )


BUILTIN_KEYS = (
    "id",
    "uri",
    "name",
    "artists",
    "album",
    "release_date",
    "year",
    "added_at",
    "duration",
    "duration_ms",
    "explicit",
    "isrc",
    "is_local",
    "sources",
    "playlists",
    "liked",
)

"""The built-in fields every view holds, in the order `_builtins` gives them."""


def _view(
    enrichment_view: Mapping[str, Any] | None, member: TrackMembership, **track: Any
) -> dict[str, Any]:
    view = dict(enrichment_view) if enrichment_view else {}
    view.update(zip(BUILTIN_KEYS, builtin_values(member, **track), strict=True))
    return view


def builtin_values(
    member: TrackMembership,
    *,
    id: str,
    uri: str,
    name: str,
    artists: list[str],
    album: str,
    release_date: str | None,
    added_at: datetime | None,
    duration_ms: int,
    explicit: bool,
    isrc: str | None,
    is_local: bool,
) -> tuple[Any, ...]:
    year: int | None = None
    if release_date and release_date[:4].isdigit():
        year = int(release_date[:4])
    return (
        id,
        uri,
        name,
        artists,
        album,
        release_date,
        year,
        added_at or member.first_added,
        duration_ms / 1000,
        duration_ms,
        explicit,
        isrc,
        is_local,
        _shared_list(member.sources),
        _shared_list(member.playlists),
        "liked" in member.sources,
    )


class Library:
    """Views of every track, in library order, with provenance and an id index.

    Two ways to hold them, one API: a list of view dicts (payload mode, libraries built from
    models: `Library(views, provenance)`, `from_views`), or typed columns (`Library.of_table`:
    the stored library, as `load_library_views` builds it and the snapshot keeps it), whose
    `views` are made on demand. The engine reads fields through `column` either way (a dict
    library encodes a field's column on first use). `columns` is the engine's cache of what
    it derives (postings, text forms, sort ranks, condition masks), kept for later runs over
    the same library; never mutate the views after the first evaluation.
    """

    views: Sequence[dict[str, Any]]
    provenance: Sequence[Mapping[str, str]]
    index: dict[str, int]
    ids: list[str]
    columns: dict[Any, Any]
    counts: EnrichmentCounts | None
    """What the coverage report counts (None: not gathered, when built from models)."""
    discovered: Any
    """The `FieldRegistry` discovery found in the stores this library was built from (None:
    not gathered, when built from models or views). Not imported here: the registry stands on
    the operators, whose nodes read libraries."""
    table: dict[str, Column] | None

    def __init__(
        self,
        views: Sequence[dict[str, Any]],
        provenance: Sequence[Mapping[str, str]],
        index: dict[str, int] | None = None,
        columns: dict[Any, Any] | None = None,
        counts: EnrichmentCounts | None = None,
    ) -> None:
        self.views = views
        self.provenance = provenance
        self.ids = [view["id"] for view in views]
        self.index = index or {track_id: position for position, track_id in enumerate(self.ids)}
        self.columns = {} if columns is None else columns
        self.counts = counts
        self.discovered = None
        self.table = None

    @classmethod
    def of_table(
        cls,
        table: dict[str, Column],
        provenance: Sequence[Mapping[str, str]],
        *,
        counts: EnrichmentCounts | None = None,
        discovered: Any = None,
    ) -> Library:
        """A library held as typed columns (`table`: field name → column, with ``id``)."""
        library = cls.__new__(cls)
        library.table = table
        library.views = TableViews(table)
        library.provenance = provenance
        library.ids = table["id"].values() if "id" in table else []
        library.index = {track_id: position for position, track_id in enumerate(library.ids)}
        library.columns = {}
        library.counts = counts
        library.discovered = discovered
        return library

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        held = "columns" if self.table is not None else "views"
        return f"<Library of {len(self)} tracks, as {held}>"

    def view(self, track_id: str) -> dict[str, Any] | None:
        position = self.index.get(track_id)
        return None if position is None else self.views[position]

    def column(self, name: str) -> Column:
        """The field `name` of every track as a typed column (an empty one if no track has
        the key)."""
        if self.table is not None:
            found = self.table.get(name)
            if found is not None:
                return found
        key = ("column", name)
        column: Column | None = self.columns.get(key)
        if column is None:
            if self.table is not None:
                column = encode([ABSENT] * len(self))
            else:
                column = encode([view.get(name) for view in self.views])
            self.columns[key] = column
        return column

    def values(self, name: str) -> list[Any]:
        """Each track's value of `name` (None where it has none), in library order."""
        if self.table is None:
            return [view.get(name) for view in self.views]
        return self.column(name).values()

    def sample(self, name: str, count: int) -> list[Any]:
        """The first `count` values of `name` that are not None, in library order."""
        if self.table is None:
            found = []
            for view in self.views:
                value = view.get(name)
                if value is not None:
                    found.append(value)
                    if len(found) >= count:
                        break
            return found
        return self.column(name).sample(count)

    def id_array(self) -> npt.NDArray[np.object_]:
        """The track ids as an array of the same str objects, so that ids are picked by an
        array of positions in C (kept with the loaded library, never in the snapshot)."""
        found: npt.NDArray[np.object_] | None = self.columns.get(TRANSIENT_IDS)
        if found is None:
            found = np.empty(len(self.ids), dtype=object)
            found[:] = self.ids
            self.columns[TRANSIENT_IDS] = found
        return found

    def field_names(self) -> list[str]:
        """The keys of the views (built-in fields and every enrichment key a track has)."""
        if self.table is not None:
            return list(self.table)
        return list(dict.fromkeys(key for view in self.views for key in view))

    def has_values(self, key: str) -> bool:
        """Whether any track has a value under `key` (None, "" and [] are missing); kept in
        `columns`."""
        cache_key = ("has", key)
        found = self.columns.get(cache_key)
        if found is None:
            if self.table is not None:
                column = self.table.get(key)
                found = column is not None and bool(column.present().any())
            else:
                found = any(_present(view.get(key)) for view in self.views)
            self.columns[cache_key] = found
        return bool(found)

    def key_for(self, name: str) -> str:
        """The key the views hold the field `name` under: `name` when a track has it, else
        the key spelled like it in another case that a track has (rules name fields
        case-insensitively, as validation does), else `name`."""
        if self.has_values(name):
            return name
        folded = self.columns.get(("folded keys",))
        if folded is None:
            folded = {}
            if self.table is not None:
                for key in self.table:
                    if self.has_values(key):
                        folded.setdefault(key.casefold(), key)
            else:
                for view in self.views:
                    for key, value in view.items():
                        if _present(value):
                            folded.setdefault(key.casefold(), key)
            self.columns[("folded keys",)] = folded
        found: str = folded.get(name.casefold(), name)
        return found

    @classmethod
    def from_views(
        cls,
        views: Iterable[Mapping[str, Any]],
        provenance: Iterable[Mapping[str, str]] | None = None,
    ) -> Library:
        """A library of ready views (each needs an ``id``); a repeated id keeps the first."""
        kept: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        sources = list(provenance) if provenance is not None else None
        origins: list[Mapping[str, str]] = []
        for position, view in enumerate(views):
            track_id = str(view["id"])
            if track_id in index:
                continue
            index[track_id] = len(kept)
            kept.append(dict(view))
            origins.append(sources[position] if sources is not None else {})
        return cls(kept, origins, index)


class TableViews(Sequence[dict[str, Any]]):
    """The views of a library held as columns, each made when asked for (a new dict each
    time: mutating one changes nothing)."""

    _CHUNK = 4096

    def __init__(self, table: dict[str, Column]) -> None:
        self._table = table
        self._items = list(table.items())
        self._size = len(next(iter(table.values()))) if table else 0

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, position: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, position: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, position: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(position, slice):
            start, end, step = position.indices(self._size)
            if step != 1:
                return [self[p] for p in range(start, end, step)]
            return chunked_rows(self._items, start, max(start, end))
        if position < 0:
            position += self._size
        if not 0 <= position < self._size:
            raise IndexError(position)
        return next(iter(rows(self._items, (position,))))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, self._size, self._CHUNK):
            yield from chunked_rows(self._items, start, min(self._size, start + self._CHUNK))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(map(operator.eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class SharedRows(Sequence[Mapping[str, str]]):
    """One of a few shared mappings per track (provenance: most tracks share one of a few
    provider combinations), as an int32 code each."""

    def __init__(self, codes: npt.NDArray[np.int32], distinct: list[Mapping[str, str]]) -> None:
        self.codes = codes
        self.distinct = distinct

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, position: int) -> Mapping[str, str]: ...

    @overload
    def __getitem__(self, position: slice) -> list[Mapping[str, str]]: ...

    def __getitem__(self, position: int | slice) -> Mapping[str, str] | list[Mapping[str, str]]:
        if isinstance(position, slice):
            return list(map(self.distinct.__getitem__, self.codes[position].tolist()))
        return self.distinct[int(self.codes[position])]

    def __iter__(self) -> Iterator[Mapping[str, str]]:
        return iter(map(self.distinct.__getitem__, self.codes.tolist()))


def build_library(
    tracks: Iterable[Track],
    enrichments: Mapping[str, Sequence[TrackEnrichment]],
    sources: Mapping[str, SourceRecord],
    *,
    precedence: Precedence | Sequence[str],
) -> Library:
    """Views for `tracks`. When sources exist, only tracks held by one of them are included;
    `precedence` decides which provider's value a view shows (see `enrichment_view`)."""
    with paused_gc():  # millions of new containers, no cycles: see docs/performance.md
        return _build_library(tracks, enrichments, sources, precedence)


def _build_library(
    tracks: Iterable[Track],
    enrichments: Mapping[str, Sequence[TrackEnrichment]],
    sources: Mapping[str, SourceRecord],
    precedence: Precedence | Sequence[str],
) -> Library:
    if not isinstance(precedence, Precedence):
        precedence = Precedence(precedence)  # one rank table for every track
    membership = index_membership(sources)
    views: list[dict[str, Any]] = []
    provenance: list[Mapping[str, str]] = []
    index: dict[str, int] = {}
    empty: tuple[TrackEnrichment, ...] = ()
    for track in tracks:
        member = membership.get(track.id)
        if (member is None and membership) or track.id in index:
            continue
        entries = enrichments.get(track.id, empty)
        merged = build_enrichment_view(entries, precedence) if entries else None
        index[track.id] = len(views)
        views.append(track_view(track, member, merged))
        provenance.append(merged.provenance if merged is not None else {})
    return Library(views, provenance, index)


TRANSIENT_IDS = "id array"
"""The key of `Library.id_array` among a library's derived indexes: rebuilt in a few ms, it is
left out of the snapshot (pickling it would write every id a second time)."""


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def library_from_payload(tracks: Iterable[Mapping[str, Any]]) -> Library:
    """A library from the preview payload ``[{track_id, enrichment: {flat dict}}]``."""
    views: list[dict[str, Any]] = []
    provenance: list[Mapping[str, str]] = []
    index: dict[str, int] = {}
    for item in tracks:
        track_id = str(item.get("track_id") or item.get("id"))
        if track_id in index:
            continue  # a repeated id keeps the first, as `from_views` does
        enrichment = item.get("enrichment") or {}
        view = {key: value for key, value in item.items() if key not in ("track_id", "enrichment")}
        view.update(enrichment)
        view["id"] = track_id
        index[track_id] = len(views)
        views.append(view)  # made here: no copy to make, as `from_views` makes of given views
        provenance.append(dict.fromkeys(enrichment, "payload"))
    return Library(views, provenance, index)
