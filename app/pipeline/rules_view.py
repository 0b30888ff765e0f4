"""What rules read: one flat view per track, built once and shared by every rule set.

`build_enrichment_view` merges a track's enrichment entries (one per provider) into one mapping in
which every value keeps its provenance: a scalar comes from the most trusted provider that has it
(manual > llm > external providers, in a configurable order); a list (genres, tags…) is the
order-preserving, case-insensitively de-duplicated union over all providers. Nested category
objects are flattened with dots (``{"audio": {"tempo": 120}}`` → ``audio.tempo``).

`track_view` adds the built-in fields of the field registry (`rules_fields.BUILTIN_FIELDS`) to
the enrichment keys; built-in fields win a name clash. Values keep their natural types: text,
numbers, booleans, lists, `datetime` for `added_at`, ISO text for `release_date` ("1999",
"1999-05" or "1999-05-17"). A missing value is absent, `None`, ``""`` or an empty list.

A `Library` is the views of every fetched track in library order, with their provenance, an id
index and (filled lazily by the engine) per-field columns for set-based evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.core.fs import paused_gc
from app.core.models import Track, TrackEnrichment

if TYPE_CHECKING:
    from app.data import Stores
    from app.data.sources import SourceRecord

DEFAULT_PRECEDENCE: tuple[str, ...] = (
    "manual",
    "llm",
    "musicbrainz",
    "deezer",
    "reccobeats",
    "acousticbrainz",
    "lastfm",
)
"""Most trusted first. A source ``llm:model`` ranks as ``llm``; unlisted sources rank last."""

TRACK_PROVIDER = "spotify"
SOURCE_PROVIDER = "sources"


class EnrichmentView(dict[str, Any]):
    """A track's merged enrichment: key → value, and `provenance`: key → provider(s)."""

    __slots__ = ("provenance",)

    def __init__(self) -> None:
        super().__init__()
        self.provenance: dict[str, str] = {}


def _rank(source: str, precedence: Sequence[str]) -> int:
    for index, name in enumerate(precedence):
        if source == name or source.startswith(name + ":"):
            return index
    return len(precedence)


def _flatten(categories: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in categories.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, name + ".")
        else:
            yield name, value


def _dedupe_key(item: Any) -> Any:
    if isinstance(item, str):
        return item.casefold()
    try:
        hash(item)
    except TypeError:
        return repr(item)
    return (item.__class__, item)


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def build_enrichment_view(
    entries: Iterable[TrackEnrichment], precedence: Sequence[str] = DEFAULT_PRECEDENCE
) -> EnrichmentView:
    """Merge one track's provider entries (see the module docstring)."""
    view = EnrichmentView()
    seen: dict[str, set[Any]] = {}  # list keys: dedupe keys already present
    for entry in sorted(entries, key=lambda e: (_rank(e.source, precedence), e.source)):
        for key, value in _flatten(entry.categories):
            if _missing(value):
                continue
            current = view.get(key)
            if current is None:
                if isinstance(value, list | tuple):
                    unique: dict[Any, Any] = {}
                    for item in value:
                        if not _missing(item):
                            unique.setdefault(_dedupe_key(item), item)  # first spelling wins
                    view[key] = list(unique.values())
                    seen[key] = set(unique)
                else:
                    view[key] = value
                view.provenance[key] = entry.source
                continue
            if not isinstance(value, list | tuple) and not isinstance(current, list):
                continue  # a more trusted provider already gave this scalar
            if not isinstance(current, list):  # a scalar meets a list: merge as lists
                current = view[key] = [current]
                seen[key] = {_dedupe_key(current[0])}
            known = seen[key]
            added = False
            for item in value if isinstance(value, list | tuple) else (value,):
                marker = _dedupe_key(item)
                if not _missing(item) and marker not in known:
                    known.add(marker)
                    current.append(item)
                    added = True
            if added and entry.source not in view.provenance[key].split(", "):
                view.provenance[key] += f", {entry.source}"
    return view


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
        for entry in record.entries:
            track_keys = keys.setdefault(entry.track_id, [])
            if record.key in track_keys:
                continue
            track_keys.append(record.key)
            if is_playlist:
                playlists.setdefault(entry.track_id, []).extend(names)
            if entry.added_at is not None:
                earlier = first.get(entry.track_id)
                if earlier is None or entry.added_at < earlier:
                    first[entry.track_id] = entry.added_at
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
    member = membership or _NO_MEMBERSHIP
    album = track.album
    release = album.release_date
    year: int | None = None
    if release and release[:4].isdigit():
        year = int(release[:4])
    view: dict[str, Any] = dict(enrichment_view) if enrichment_view else {}
    view.update(
        {
            "id": track.id,
            "uri": track.uri,
            "name": track.name,
            "artists": [artist.name for artist in track.artists],
            "album": album.name,
            "release_date": release,
            "year": year,
            "added_at": track.added_at or member.first_added,
            "duration": track.duration_ms / 1000,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "isrc": track.isrc,
            "is_local": track.is_local,
            "sources": list(member.sources),
            "playlists": list(member.playlists),
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
    precedence: Sequence[str] = DEFAULT_PRECEDENCE,
) -> Library:
    """Views for `tracks`. When sources exist, only tracks held by one of them are included."""
    with paused_gc():  # millions of new containers, no cycles: see docs/performance.md
        return _build_library(tracks, enrichments, sources, precedence)


def _build_library(
    tracks: Iterable[Track],
    enrichments: Mapping[str, Sequence[TrackEnrichment]],
    sources: Mapping[str, SourceRecord],
    precedence: Sequence[str],
) -> Library:
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


def load_library_views(
    stores: Stores, *, precedence: Sequence[str] = DEFAULT_PRECEDENCE
) -> Library:
    """The whole library from tracks.json, sources.json and enrichments.json (read once each)."""
    return build_library(
        stores.tracks.load_tracks().values(),
        stores.enrichments.load_enrichments_cache(),
        stores.sources.load(),
        precedence=precedence,
    )
