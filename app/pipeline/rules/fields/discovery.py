"""Discovery: the field registry of a library, from its tracks, sources and enrichments.

Discovery (`registry_from_library`) reads every stored `TrackEnrichment.categories` once: a key's
coverage is the share of library tracks with a value from any provider (None, "" and [] are
missing; "" and [] are looked for only from providers seen sending text or lists), its
providers are every source that sent it, and its type and examples are inferred from the first
`SAMPLE_VALUES` non-missing values seen (the majority type wins; a conflict is noted in `notes`).
Enrichment keys are registered under their own name, merged across providers; a key that
collides with a built-in field (or its alias) is not registered: rules read the built-in.
Built-in fields get their coverage (and, for `year`, `sources` and `playlists`, examples) from
the tracks and sources.

Payload mode (`registry_from_payload`) turns that round: the caller's keys are the fields, so
a payload key spelled like a built-in's alias or in another case wins over the built-in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import chain, islice
from typing import Any

from app.core.models import Track, TrackEnrichment, TrackSourceType
from app.data.sources import SourceRecord
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import FieldInfo, FieldType
from app.pipeline.rules.values import as_text, is_date_like

SAMPLE_VALUES = 2000
"""Values per enrichment key from which its type and examples are inferred."""

MAX_EXAMPLES = 5


_DATE_TEXT = re.compile(
    r"\d{4}-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?\Z"
)
_Kind = tuple[FieldType, bool]  # (element type, is_list)


def infer_type(value: Any) -> FieldType | None:
    """The rule type of one scalar value: ISO-looking text (``1999-05``…) counts as a date,
    other text as text (numeric text stays text); None for what rules cannot test."""
    kind = type(value)
    if kind is str:
        return "date" if value[:1].isdigit() and _DATE_TEXT.match(value) else "text"
    if kind is bool:
        return "bool"
    if kind is int or kind is float:
        return "number"
    if isinstance(value, datetime | date):
        return "date"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return infer_type(str(value))
    return None


def _example(value: Any) -> str:
    return as_text(value)


class _KeyStats:
    __slots__ = ("dropped", "kinds", "sampled", "values")

    def __init__(self) -> None:
        self.kinds: Counter[_Kind] = Counter()
        self.values: Counter[Any] = Counter()
        self.sampled = 0
        self.dropped = 0  # values of a shape rules cannot test (objects…)

    def observe(self, value: Any) -> None:
        self.sampled += 1
        if isinstance(value, list | tuple):
            element_kinds: Counter[FieldType] = Counter()
            for item in value:
                item_kind = infer_type(item)
                if item_kind is not None:
                    element_kinds[item_kind] += 1
            if not element_kinds:
                self.dropped += 1
                return
            self.kinds[(element_kinds.most_common(1)[0][0], True)] += 1
            self.values.update(item for item in value if isinstance(item, str | int | float))
            return
        kind = infer_type(value)
        if kind is None:
            self.dropped += 1
            return
        self.kinds[(kind, False)] += 1
        if isinstance(value, str | int | float | date):
            self.values[value] += 1


def _infer(stats: _KeyStats) -> tuple[_Kind, tuple[str, ...]] | None:
    if not stats.kinds:
        return None
    ranked = stats.kinds.most_common()
    kind = ranked[0][0]
    notes: list[str] = []
    if len(ranked) > 1:
        seen = ", ".join(f"{_kind_label(k)}: {n}" for k, n in ranked)
        notes.append(
            f"mixed types in {stats.sampled} sampled values ({seen}); "
            f"treated as {_kind_label(kind)}"
        )
    if stats.dropped:
        notes.append(f"{stats.dropped} sampled value(s) of an unsupported shape ignored")
    return kind, tuple(notes)


def _kind_label(kind: _Kind) -> str:
    return f"list of {kind[0]}" if kind[1] else kind[0]


class _RawTrack:
    """The attributes `_builtin_coverage` reads, over a track's stored JSON."""

    __slots__ = ("added_at", "album", "artists", "duration_ms", "id", "isrc")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        # Only what coverage counts: keep no reference into the parsed line (memory).
        self.id = raw["id"]
        self.artists = bool(raw.get("artists"))
        album = raw.get("album") or {}
        release = album.get("release_date")
        self.album = _RawAlbum("x" if album.get("name") else "", release[:4] if release else None)
        self.added_at = True if raw.get("added_at") else None
        self.duration_ms = raw.get("duration_ms") or 0
        self.isrc = bool(raw.get("isrc"))


@dataclass(frozen=True, slots=True)
class _RawAlbum:
    name: str
    release_date: str | None


@dataclass(frozen=True, slots=True)
class _RawEntry:
    source: str
    categories: Mapping[str, Any]


def _entry_of(entry: TrackEnrichment | Mapping[str, Any]) -> TrackEnrichment | _RawEntry:
    if isinstance(entry, TrackEnrichment):
        return entry
    return _RawEntry(entry["source"], entry.get("categories") or {})


@dataclass(frozen=True, slots=True)
class SourceOutline:
    """What the coverage of the built-in fields reads of a source: its kind, the name its
    playlist is counted under, and its tracks' ids — without the entries' models, which are
    most of a hundred MB at 100,000 tracks (the library's build drops them early)."""

    source_type: TrackSourceType
    name: str
    track_ids: tuple[str, ...]


def outline_sources(sources: Mapping[str, SourceRecord]) -> dict[str, SourceOutline]:
    """Each source as `SourceOutline`, by key."""
    return {
        key: SourceOutline(
            record.source_type,
            record.name or record.source_id or key,
            tuple(entry.track_id for entry in record.entries),
        )
        for key, record in sources.items()
    }


def registry_from_library(
    tracks: Mapping[str, Track] | Iterable[Track | Mapping[str, Any]],
    enrichments: Mapping[str, Sequence[TrackEnrichment]]
    | Iterable[tuple[str, Sequence[TrackEnrichment | Mapping[str, Any]]]],
    sources: Mapping[str, SourceRecord] | None = None,
) -> FieldRegistry:
    """Built-in fields (with their coverage) plus every enrichment key found in the store.

    Coverage is the share of library tracks (`tracks`; all enriched tracks when it is empty)
    with a value: None, "" and [] count as missing. Enrichments of tracks outside the library
    are ignored. See the module docstring for how types are inferred. Tracks and entries may
    be models or their stored JSON, and `enrichments` a stream of ``(track_id, entries)``
    pairs, so the whole library never has to be held as models (`Discovery` is the same
    pass, fed by a caller that streams the stores for its own purpose too).
    """
    discovery = Discovery()
    for track in tracks.values() if isinstance(tracks, Mapping) else tracks:
        discovery.add_track(track)
    for track_id, entries in (
        enrichments.items() if isinstance(enrichments, Mapping) else enrichments
    ):
        discovery.add_entries(track_id, entries)
    if sources is not None:
        discovery.add_sources(sources)
    return discovery.registry()


class Discovery:
    """`registry_from_library` one track and one track's entries at a time: the sources
    (`add_sources`, at any time before `registry`), every track (`add_track`), then the
    entries (`add_entries`), then `registry`."""

    def __init__(self) -> None:
        self._tracks: list[Any] = []  # `Track`s or `_RawTrack`s
        self._library_ids: set[str] = set()
        self._enriched = 0
        self._present: list[str] = []  # each track's keys with a value, counted at the end
        self._stats: dict[str, _KeyStats] = {}
        self._open: dict[str, _KeyStats] = {}  # keys still sampling
        self._providers: dict[str, set[str]] = {}
        self._closed: set[str] = set()  # keys done sampling
        self._textual: set[str] = set()  # providers seen sending text or lists (maybe empty)
        self._sources: dict[str, SourceOutline] | None = None

    def add_track(self, track: Track | Mapping[str, Any]) -> None:
        item = track if isinstance(track, Track) else _RawTrack(track)
        self._tracks.append(item)
        self._library_ids.add(item.id)

    def add_entries(
        self, track_id: str, raw_entries: Sequence[TrackEnrichment | Mapping[str, Any]]
    ) -> None:
        library_ids = self._library_ids
        if library_ids and track_id not in library_ids:
            return
        self._enriched += 1
        closed, textual, providers = self._closed, self._textual, self._providers
        stats, open_keys = self._stats, self._open
        seen: set[str] = set()
        for entry in map(_entry_of, raw_entries):
            categories = entry.categories
            given = providers.get(entry.source)
            if given is None:
                given = providers[entry.source] = set()
            given.update(categories)
            # Fast path (C loops only): every key done sampling and no missing value ("" and []
            # are looked for only from providers seen sending text or lists at all).
            if closed.issuperset(categories):
                values = categories.values()
                if None not in values and (
                    entry.source not in textual or ("" not in values and [] not in values)
                ):
                    seen.update(categories)
                    continue
            for key, value in categories.items():
                if value is None:
                    continue
                kind = type(value)
                if kind is str or kind is list:
                    textual.add(entry.source)
                    if not value:
                        continue
                seen.add(key)
                sampling = open_keys.get(key)
                if sampling is None:
                    if key in stats:
                        continue
                    sampling = stats[key] = open_keys[key] = _KeyStats()
                sampling.observe(value)
                if sampling.sampled >= SAMPLE_VALUES:
                    del open_keys[key]
                    closed.add(key)
        self._present.extend(seen)

    def add_sources(self, sources: Mapping[str, SourceRecord]) -> None:
        """The sources, for the coverage of `sources`, `playlists` and `liked` (only their
        outlines are kept)."""
        self._sources = outline_sources(sources)

    def registry(self) -> FieldRegistry:
        """The registry of everything added (see `registry_from_library`)."""
        sources = self._sources
        registry = FieldRegistry.builtin()
        _builtin_coverage(registry, self._tracks, sources)
        presence = Counter(self._present)
        stats, providers = self._stats, self._providers
        total = len(self._library_ids) or self._enriched
        taken = {spelling.casefold() for spelling in registry.spellings()}
        for key in sorted(stats):
            inferred = _infer(stats[key])
            if inferred is None:
                continue
            (field_type, is_list), notes = inferred
            given_by = tuple(sorted(p for p, keys in providers.items() if key in keys))
            if key.casefold() in taken:
                builtin = registry.resolve(key)
                if builtin is not None:
                    note = (
                        f"enrichment key {key!r} (from {', '.join(given_by)}) is shadowed by "
                        "this built-in field"
                    )
                    registry.add(replace(builtin, notes=(*builtin.notes, note)))
                continue
            examples = tuple(
                _example(value) for value, _count in stats[key].values.most_common(MAX_EXAMPLES)
            )
            registry.add(
                FieldInfo(
                    name=key,
                    type=field_type,
                    is_list=is_list,
                    origin="enrichment",
                    providers=given_by,
                    examples=examples,
                    coverage=presence[key] / total if total else None,
                    notes=notes,
                )
            )
        return registry


def registry_from_payload(views: Iterable[Mapping[str, Any]]) -> FieldRegistry:
    """The fields of payload mode, where the caller's keys are the fields.

    A key spelled exactly as a built-in field is that field (and keeps its type). A key the
    built-ins would otherwise take for one of theirs — an alias (``title``, ``artist``,
    ``track_id``) or a name in another case (``Name``) — is a field of its own, typed from
    its values, found before the built-ins (so ``TITLE`` reads the caller's ``title`` too),
    and the built-in it shadows is left out unless the payload also has its exact name.
    Other keys need no entry: the engine types them from the payload's values.

        registry_from_payload([{"id": "t1", "title": "Blue Monday"}]).resolve("title").name
        # 'title' (the built-ins alone would read the track's `name`)
    """
    builtin = FieldRegistry.builtin()
    views = views if isinstance(views, Sequence) else list(views)
    # Every key once, in the order first met (a pass in C: most payloads shadow nothing, and
    # only the keys that do are read again, for their first values).
    shadowing: dict[str, str | None] = {}  # payload key -> the built-in it shadows, if any
    for key in dict.fromkeys(chain.from_iterable(views)):
        info = None if key in builtin.fields else builtin.resolve(key)
        shadowing[key] = None if info is None else info.name
    samples: dict[str, list[Any]] = {}
    for key, shadowed in shadowing.items():
        if shadowed is not None:
            values = (view.get(key) for view in views)
            samples[key] = list(islice((v for v in values if v is not None), SAMPLE_VALUES))
    own = {
        key: FieldInfo(
            name=key,
            type=sample_type(samples.get(key, ())) or "text",
            is_list=any(isinstance(value, list | tuple) for value in samples.get(key, ())),
            origin="enrichment",
            providers=("payload",),
        )
        for key, shadowed in shadowing.items()
        if shadowed is not None
    }
    left_out = {name for name in shadowing.values() if name is not None} - set(shadowing)
    kept = {name: info for name, info in builtin.fields.items() if name not in left_out}
    return FieldRegistry({**own, **kept})


def _builtin_coverage(
    registry: FieldRegistry,
    tracks: list[Any],  # `Track`s or `_RawTrack`s
    sources: Mapping[str, SourceOutline] | None,
) -> None:
    total = len(tracks)
    if not total:
        return
    counts = Counter[str]()
    years: Counter[str] = Counter()
    for track in tracks:
        if track.artists:
            counts["artists"] += 1
        if track.album.name:
            counts["album"] += 1
        release = track.album.release_date
        if release:
            counts["release_date"] += 1
            years[release[:4]] += 1
        if track.added_at is not None:
            counts["added_at"] += 1
        if track.duration_ms > 0:
            counts["duration"] += 1
        if track.isrc:
            counts["isrc"] += 1
    counts["year"] = counts["release_date"]
    counts["duration_ms"] = counts["duration"]
    for name in ("name", "explicit", "is_local", "id", "uri"):
        counts[name] = total
    examples: dict[str, tuple[str, ...]] = {
        "year": tuple(year for year, _ in years.most_common(MAX_EXAMPLES)),
    }
    if sources:
        library = {track.id for track in tracks}
        in_source: set[str] = set()
        in_playlist: set[str] = set()
        liked: set[str] = set()
        by_source: Counter[str] = Counter()
        by_playlist: Counter[str] = Counter()
        for key, record in sources.items():
            ids = library.intersection(record.track_ids)
            in_source |= ids
            by_source[key] = len(ids)
            if record.source_type is TrackSourceType.PLAYLIST:
                in_playlist |= ids
                by_playlist[record.name] = len(ids)
            elif record.source_type is TrackSourceType.LIKED:
                liked |= ids
        counts["sources"] = len(in_source)
        counts["playlists"] = len(in_playlist)
        counts["liked"] = total  # every track is liked or not once the liked songs are known
        if not any(r.source_type is TrackSourceType.LIKED for r in sources.values()):
            counts.pop("liked")
        examples["sources"] = tuple(k for k, _ in by_source.most_common(MAX_EXAMPLES))
        examples["playlists"] = tuple(k for k, _ in by_playlist.most_common(MAX_EXAMPLES))
    for name, info in list(registry.fields.items()):
        if name in counts or name in examples:
            registry.fields[name] = replace(
                info,
                coverage=counts[name] / total if name in counts else info.coverage,
                examples=examples.get(name, info.examples),
            )


def sample_type(values: Iterable[Any]) -> FieldType | None:
    """The type of a field from sampled present values: bool, number, date (ISO texts), else
    text (what the engine assumes for a field the registry does not know)."""
    kinds: set[str] = set()
    for value in values:
        items = value if value.__class__ is list or value.__class__ is tuple else (value,)
        for item in items:
            if item is None or item == "":
                continue
            if isinstance(item, bool):
                kinds.add("bool")
            elif isinstance(item, int | float):
                kinds.add("number")
            elif is_date_like(item):
                kinds.add("date")
            else:
                kinds.add("text")
    if not kinds:
        return None
    if len(kinds) == 1:
        return kinds.pop()  # type: ignore[return-value]
    return "text"
