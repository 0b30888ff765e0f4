"""The field registry: every field a rule may test, with its type and where it comes from.

Built-in fields come from the track itself and from where it was found (sources, playlists);
enrichment fields are discovered in the stored enrichments with an inferred type. The registry
drives validation ("`has_any` needs a list field; `tempo` is a number"), the UI's drop-downs and
did-you-mean suggestions, and tells the engine how to compare values (dates, case…).

Operators per type (`operators_for`), in the order of `RuleOperator`:

    text    eq ne in not_in contains not_contains starts_with not_starts_with ends_with
            not_ends_with regex not_regex exists not_exists
    number  eq ne gt gte lt lte between not_between in not_in exists not_exists
    date    eq ne gt gte lt lte between not_between before after in_last not_in_last
            exists not_exists
    bool    eq ne exists not_exists
    list of T   has_any has_all has_none + every operator of T (a scalar operator on a list
            matches when any element does; an empty list is a missing value)
    track   in_playlist not_in_playlist in_rule not_in_rule — only on the pseudo-field
            `TRACK_FIELD` ("track"): the text form `in playlist "x"` is the condition
            ``{"field": "track", "operator": "in_playlist", "value": "x"}``.

Discovery (`registry_from_library`) reads every stored `TrackEnrichment.categories` once: a key's
coverage is the share of library tracks with a value from any provider (None, "" and [] are
missing; "" and [] are looked for only from providers seen sending text or lists), its
providers are every source that sent it, and its type and examples are inferred from the first
`SAMPLE_VALUES` non-missing values seen (the majority type wins; a conflict is noted in `notes`).
Enrichment keys are registered under their own name, merged across providers; a key that
collides with a built-in field (or its alias) is not registered: rules read the built-in.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from app.core.models import Track, TrackEnrichment, TrackSourceType
from app.core.rules import RuleOperator
from app.data.sources import SourceRecord
from app.pipeline.rules_values import as_text

FieldType = Literal["text", "number", "date", "bool"]
FieldOrigin = Literal["track", "source", "enrichment"]

TRACK_FIELD = "track"
"""The pseudo-field of the track-level operators (`in_playlist`, `in_rule` and negations)."""

SAMPLE_VALUES = 2000
"""Values per enrichment key from which its type and examples are inferred."""

MAX_EXAMPLES = 5

Op = RuleOperator

_EXISTENCE = {Op.EXISTS, Op.NOT_EXISTS}
_EQUALITY = {Op.EQ, Op.NE}
_ORDER = {Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN, Op.NOT_BETWEEN}
_MEMBERSHIP = {Op.IN, Op.NOT_IN}
_TEXT_MATCH = {
    Op.CONTAINS,
    Op.NOT_CONTAINS,
    Op.STARTS_WITH,
    Op.NOT_STARTS_WITH,
    Op.ENDS_WITH,
    Op.NOT_ENDS_WITH,
    Op.REGEX,
    Op.NOT_REGEX,
}
_DATE_ONLY = {Op.BEFORE, Op.AFTER, Op.IN_LAST, Op.NOT_IN_LAST}
LIST_OPERATORS: frozenset[RuleOperator] = frozenset({Op.HAS_ANY, Op.HAS_ALL, Op.HAS_NONE})
TRACK_OPERATORS: tuple[RuleOperator, ...] = (
    Op.IN_PLAYLIST,
    Op.NOT_IN_PLAYLIST,
    Op.IN_RULE,
    Op.NOT_IN_RULE,
)


def _ordered(operators: set[RuleOperator] | frozenset[RuleOperator]) -> tuple[RuleOperator, ...]:
    return tuple(op for op in RuleOperator if op in operators)


SCALAR_OPERATORS: dict[FieldType, tuple[RuleOperator, ...]] = {
    "text": _ordered(_EQUALITY | _MEMBERSHIP | _TEXT_MATCH | _EXISTENCE),
    "number": _ordered(_EQUALITY | _ORDER | _MEMBERSHIP | _EXISTENCE),
    "date": _ordered(_EQUALITY | _ORDER | _DATE_ONLY | _EXISTENCE),
    "bool": _ordered(_EQUALITY | _EXISTENCE),
}
"""Operators a single-valued field of each type accepts."""


@dataclass(frozen=True)
class FieldInfo:
    """One field: `type` of its values; `is_list` when it holds several (genres, artists…)."""

    name: str
    type: FieldType
    is_list: bool = False
    origin: FieldOrigin = "enrichment"
    description: str = ""
    aliases: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()  # enrichment sources seen giving it
    examples: tuple[str, ...] = ()
    coverage: float | None = None  # share of library tracks with a value
    notes: tuple[str, ...] = ()  # e.g. a type conflict seen during discovery


def operators_for(info: FieldInfo) -> tuple[RuleOperator, ...]:
    """Operators valid on `info`, in `RuleOperator` order (see the module's table)."""
    allowed = set(SCALAR_OPERATORS[info.type])
    if info.is_list:
        allowed |= LIST_OPERATORS
    return _ordered(allowed)


def type_label(info: FieldInfo) -> str:
    """``a number``, ``text``, ``true/false``, ``a list of text``… as messages say it."""
    if info.is_list:
        return f"a list of {info.type}"
    return {"text": "text", "number": "a number", "date": "a date", "bool": "true/false"}[info.type]


BUILTIN_FIELDS: tuple[FieldInfo, ...] = (
    FieldInfo("name", "text", origin="track", description="track title", aliases=("title",)),
    FieldInfo(
        "artists",
        "text",
        is_list=True,
        origin="track",
        description="artist names",
        aliases=("artist",),
    ),
    FieldInfo("album", "text", origin="track", description="album name"),
    FieldInfo("release_date", "date", origin="track", description="album release date"),
    FieldInfo("year", "number", origin="track", description="release year"),
    FieldInfo(
        "added_at",
        "date",
        origin="track",
        description="when the track was liked (else first seen in a source)",
    ),
    FieldInfo("duration", "number", origin="track", description="length in seconds"),
    FieldInfo("duration_ms", "number", origin="track", description="length in milliseconds"),
    FieldInfo("explicit", "bool", origin="track", description="explicit lyrics"),
    FieldInfo("isrc", "text", origin="track", description="International Standard Recording Code"),
    FieldInfo("is_local", "bool", origin="track", description="a local file"),
    FieldInfo("id", "text", origin="track", description="Spotify track id", aliases=("track_id",)),
    FieldInfo("uri", "text", origin="track", description="Spotify URI"),
    FieldInfo(
        "sources",
        "text",
        is_list=True,
        origin="source",
        description="source keys the track came from (liked, playlist:<id>, csv:<name>)",
    ),
    FieldInfo(
        "playlists",
        "text",
        is_list=True,
        origin="source",
        description="names and ids of the fetched playlists holding the track",
    ),
    FieldInfo("liked", "bool", origin="source", description="in the liked songs"),
)

_ORIGIN_ORDER = {"track": 0, "source": 1, "enrichment": 2}
_TRACK_ROW_DESCRIPTION = (
    "the track itself: membership in a playlist (id or name) or in another rule set's result"
)


@dataclass
class FieldRegistry:
    """Fields by name (aliases resolve to their field)."""

    fields: dict[str, FieldInfo] = field(default_factory=dict)

    @classmethod
    def builtin(cls) -> FieldRegistry:
        return cls({info.name: info for info in BUILTIN_FIELDS})

    def add(self, info: FieldInfo) -> None:
        self.fields[info.name] = info

    def resolve(self, name: str) -> FieldInfo | None:
        """The field called `name` (or aliased so): exactly, else case-insensitively."""
        exact = self.fields.get(name)
        if exact is not None:
            return exact
        key = name.strip().casefold()
        for info in self.fields.values():
            if info.name.casefold() == key or key in info.aliases:
                return info
        return None

    def names(self) -> list[str]:
        return sorted(self.fields)

    def spellings(self) -> list[str]:
        """Every name a rule may use: fields, aliases and the pseudo-field `track`."""
        names = [TRACK_FIELD]
        for info in self.fields.values():
            names.append(info.name)
            names.extend(info.aliases)
        return names

    def suggest(self, name: str, *, limit: int = 1) -> list[str]:
        """The closest known spellings of a mistyped field name (did-you-mean), best first."""
        return closest(name, self.spellings(), limit=limit)

    def operators(self, name: str) -> tuple[RuleOperator, ...]:
        """Operators valid on the field `name` (`TRACK_OPERATORS` for `track`); () if unknown."""
        if name.strip().casefold() == TRACK_FIELD:
            return TRACK_OPERATORS
        info = self.resolve(name)
        return () if info is None else operators_for(info)

    def describe(self) -> list[dict[str, Any]]:
        """JSON-ready rows for `GET /data/rules/fields`, built-ins first, then by name."""
        builtin_order = {info.name: index for index, info in enumerate(BUILTIN_FIELDS)}
        infos = sorted(
            self.fields.values(),
            key=lambda i: (
                _ORIGIN_ORDER[i.origin],
                builtin_order.get(i.name, len(builtin_order)),
                i.name.casefold(),
            ),
        )
        rows = [_row(info) for info in infos]
        track_row = {
            "name": TRACK_FIELD,
            "type": "track",
            "list": False,
            "operators": [op.value for op in TRACK_OPERATORS],
            "examples": [],
            "coverage": None,
            "origin": "track",
            "providers": [],
            "aliases": [],
            "description": _TRACK_ROW_DESCRIPTION,
            "notes": [],
        }
        split = sum(1 for info in infos if info.origin != "enrichment")
        return [*rows[:split], track_row, *rows[split:]]


def _row(info: FieldInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "type": info.type,
        "list": info.is_list,
        "operators": [op.value for op in operators_for(info)],
        "examples": list(info.examples),
        "coverage": None if info.coverage is None else round(info.coverage, 4),
        "origin": info.origin,
        "providers": list(info.providers),
        "aliases": list(info.aliases),
        "description": info.description,
        "notes": list(info.notes),
    }


def closest(word: str, candidates: Iterable[str], *, limit: int = 1) -> list[str]:
    """Up to `limit` candidates close to `word` (difflib ratio ≥ 0.6, case-insensitive)."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    matches = difflib.get_close_matches(word.casefold(), list(by_folded), n=limit, cutoff=0.6)
    return [by_folded[match] for match in matches]


# --- discovery --------------------------------------------------------------------------------

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
    pairs, so the whole library never has to be held as models.
    """
    items = tracks.values() if isinstance(tracks, Mapping) else tracks
    track_list: list[Any] = [
        track if isinstance(track, Track) else _RawTrack(track) for track in items
    ]
    library_ids = {track.id for track in track_list}
    pairs = enrichments.items() if isinstance(enrichments, Mapping) else enrichments
    registry = FieldRegistry.builtin()
    _builtin_coverage(registry, track_list, sources)
    enriched = 0

    present: list[str] = []  # each track's keys with a value, counted once at the end
    stats: dict[str, _KeyStats] = {}
    open_keys: dict[str, _KeyStats] = {}  # keys still sampling
    providers: dict[str, set[str]] = {}
    closed: set[str] = set()  # keys done sampling
    textual: set[str] = set()  # providers seen sending text or lists (which may be empty)
    for track_id, raw_entries in pairs:
        if library_ids and track_id not in library_ids:
            continue
        enriched += 1
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
        present.extend(seen)

    presence = Counter(present)
    del present
    total = len(library_ids) or enriched
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
                    f"enrichment key {key!r} (from {', '.join(given_by)}) is shadowed by this "
                    "built-in field"
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


def _builtin_coverage(
    registry: FieldRegistry,
    tracks: list[Any],  # `Track`s or `_RawTrack`s
    sources: Mapping[str, SourceRecord] | None,
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
            ids = {entry.track_id for entry in record.entries} & library
            in_source |= ids
            by_source[key] = len(ids)
            if record.source_type is TrackSourceType.PLAYLIST:
                in_playlist |= ids
                by_playlist[record.name or record.source_id or key] = len(ids)
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
