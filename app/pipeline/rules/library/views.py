"""What rules read: one flat view per track, built once and shared by every rule set.

How a track's enrichment entries merge into one mapping (`build_enrichment_view`) is in
`enrichment_view`.

`track_view` adds the built-in fields of the field registry (`fields.types.BUILTIN_FIELDS`) to
the enrichment keys; built-in fields win a name clash. Values keep their natural types: text,
numbers, booleans, lists, `datetime` for `added_at`, ISO text for `release_date` ("1999",
"1999-05" or "1999-05-17"). A missing value is absent, `None`, ``""`` or an empty list.

A `Library` is the views of every fetched track in library order, with their provenance, an id
index and (filled lazily by the engine) per-field columns for set-based evaluation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.core.fs import paused_gc
from app.core.models import Track, TrackEnrichment
from app.pipeline.rules.library.counts import EnrichmentCounts
from app.pipeline.rules.library.enrichment_view import (
    EnrichmentView,
    build_enrichment_view,
    shared_text,
)
from app.providers.registry import Precedence

log = logging.getLogger(__name__)

__all__ = [
    "SOURCE_PROVIDER",
    "TRACK_PROVIDER",
    "Library",
    "TrackMembership",
    "build_library",
    "index_membership",
    "load_library_views",
    "track_view",
]

if TYPE_CHECKING:
    from app.data import Stores
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


_NO_MEMBERSHIP = TrackMembership()


def track_view(
    track: Track,
    membership: TrackMembership | None = None,
    enrichment_view: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The mapping rules read for one track: enrichment keys plus the built-in fields."""
    album = track.album
    return _view(
        enrichment_view,
        membership or _NO_MEMBERSHIP,
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


def _raw_track_view(
    raw: Mapping[str, Any],
    membership: TrackMembership | None,
    enrichment_view: dict[str, Any] | None,
) -> dict[str, Any]:
    """`track_view` of a track in its stored JSON form (see `load_library_views`); the
    enrichment view becomes the track's view (no copy)."""
    album = raw.get("album") or {}
    added = raw.get("added_at")
    return _view(
        enrichment_view,
        membership or _NO_MEMBERSHIP,
        owned=True,
        id=raw["id"],
        uri=raw["uri"],
        name=raw["name"],
        artists=[shared_text(artist["name"]) for artist in raw.get("artists", ())],
        album=album.get("name", ""),
        release_date=album.get("release_date"),
        added_at=datetime.fromisoformat(added) if added else None,
        duration_ms=int(raw.get("duration_ms", 0)),
        explicit=bool(raw.get("explicit", False)),
        isrc=raw.get("isrc"),
        is_local=bool(raw.get("is_local", False)),
    )


def _view(
    enrichment_view: Mapping[str, Any] | None,
    member: TrackMembership,
    *,
    owned: bool = False,
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
) -> dict[str, Any]:
    year: int | None = None
    if release_date and release_date[:4].isdigit():
        year = int(release_date[:4])
    view: dict[str, Any]
    if owned and isinstance(enrichment_view, dict):
        view = enrichment_view
    else:
        view = dict(enrichment_view) if enrichment_view else {}
    view.update(
        {
            "id": id,
            "uri": uri,
            "name": name,
            "artists": artists,
            "album": album,
            "release_date": release_date,
            "year": year,
            "added_at": added_at or member.first_added,
            "duration": duration_ms / 1000,
            "duration_ms": duration_ms,
            "explicit": explicit,
            "isrc": isrc,
            "is_local": is_local,
            "sources": _shared_list(member.sources),
            "playlists": _shared_list(member.playlists),
            "liked": "liked" in member.sources,
        }
    )
    return view


@dataclass
class Library:
    """Views of every track, in library order, with provenance and an id index.

    `columns` is the engine's cache of per-field indexes (built on first use, kept for later
    runs over the same library); never mutate `views` after the first evaluation.
    """

    views: list[dict[str, Any]]
    provenance: list[Mapping[str, str]]
    index: dict[str, int] = field(default_factory=dict)
    columns: dict[Any, Any] = field(default_factory=dict, repr=False)
    counts: EnrichmentCounts | None = field(default=None, repr=False)
    """What the coverage report counts (None: not gathered, when built from models)."""
    ids: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ids = [view["id"] for view in self.views]
        if not self.index:
            self.index = {track_id: position for position, track_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.views)

    def view(self, track_id: str) -> dict[str, Any] | None:
        position = self.index.get(track_id)
        return None if position is None else self.views[position]

    def has_values(self, key: str) -> bool:
        """Whether any track has a value under `key` (None, "" and [] are missing); kept in
        `columns` (a key no track has costs one pass over the views)."""
        cache_key = ("has", key)
        found = self.columns.get(cache_key)
        if found is None:
            found = self.columns[cache_key] = any(_present(view.get(key)) for view in self.views)
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


def load_library_views(stores: Stores, *, precedence: Precedence | Sequence[str]) -> Library:
    """The whole library from tracks.json, sources.json and enrichments.json (read once each).

    Streams the two big files a line at a time as plain JSON (no pydantic models: for 100,000
    tracks x 4 providers, whole-file models cost gigabytes), so memory peaks near the size of
    the views themselves (see docs/performance.md).
    Data of an unexpected shape falls back to the validating path, which reports bad files.
    """
    try:
        return _library_from_raw(stores, precedence)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("library files have an unexpected shape (%s); reading them strictly", exc)
    return build_library(
        stores.tracks.load_tracks().values(),
        stores.enrichments.load_enrichments_cache(),
        stores.sources.load(),
        precedence=precedence,
    )


def _library_from_raw(stores: Stores, precedence: Precedence | Sequence[str]) -> Library:
    if not isinstance(precedence, Precedence):
        precedence = Precedence(precedence)  # one rank table for every track
    views: list[dict[str, Any]] = []
    provenance: list[Mapping[str, str]] = []
    index: dict[str, int] = {}
    shared_provenance: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    with paused_gc():
        membership = index_membership(stores.sources.load())
        counts = EnrichmentCounts(tracks=len(membership))
        # Enrichments first, a line at a time: only the merged views are kept.
        merged_views: dict[str, EnrichmentView] = {}
        for track_id, entries in stores.enrichments.iter_raw():
            if entries and (not membership or track_id in membership):
                view = merged_views[track_id] = build_enrichment_view(entries, precedence)
                if membership:  # coverage counts the tracks sources hold (none without)
                    counts.add(entries, view)
        for track_id, raw in stores.tracks.iter_raw():
            merged = merged_views.pop(track_id, None)
            member = membership.get(track_id)
            if (member is None and membership) or track_id in index:
                continue
            origin: Mapping[str, str] = {}
            if merged is not None:
                # Most tracks share one of a few provider combinations: keep one copy of each.
                origin = shared_provenance.setdefault(
                    tuple(merged.provenance.items()), merged.provenance
                )
                merged.provenance = origin  # the view (it is `merged`) keeps the shared one
            index[track_id] = len(views)
            views.append(_raw_track_view(raw, member, merged))
            provenance.append(origin)
    return Library(views, provenance, index, counts=counts)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def library_from_payload(tracks: Iterable[Mapping[str, Any]]) -> Library:
    """A library from the preview payload ``[{track_id, enrichment: {flat dict}}]``."""
    views: list[dict[str, Any]] = []
    provenance: list[Mapping[str, str]] = []
    for item in tracks:
        enrichment = item.get("enrichment") or {}
        view = {key: value for key, value in item.items() if key not in ("track_id", "enrichment")}
        view.update(enrichment)
        view["id"] = str(item.get("track_id") or item.get("id"))
        views.append(view)
        provenance.append(dict.fromkeys(enrichment, "payload"))
    return Library.from_views(views, provenance)
