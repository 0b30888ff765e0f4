"""The field registry: operators per type, discovery from stored enrichments, describe()."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.models import AlbumRef, ArtistRef, Track, TrackEnrichment, TrackSourceType
from app.core.rules import RuleOperator
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.library.account import generate_library
from app.emulators.library.model import TrackTruth
from app.pipeline.rules.fields.discovery import (
    SAMPLE_VALUES,
    infer_type,
    registry_from_library,
    sample_type,
)
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import BUILTIN_FIELDS, TRACK_FIELD, FieldInfo, operators_for


def _track(index: int, **changes: Any) -> Track:
    values: dict[str, Any] = {
        "id": f"t{index}",
        "uri": f"spotify:track:t{index}",
        "name": f"Song {index}",
        "artists": [ArtistRef(name="Artist")],
        "album": AlbumRef(name="Album", release_date="1999-05-17"),
        "duration_ms": 200_000,
        "isrc": f"ISRC{index}",
    }
    values.update(changes)
    return Track(**values)


def _entry(source: str, **categories: Any) -> TrackEnrichment:
    return TrackEnrichment(source=source, categories=categories)


def _ops(*names: str) -> tuple[RuleOperator, ...]:
    return tuple(RuleOperator(name) for name in names)


# --- operators per type -----------------------------------------------------------------------


def test_operators_per_type_follow_the_design_table() -> None:
    text = FieldInfo("t", "text")
    number = FieldInfo("n", "number")
    date = FieldInfo("d", "date")
    flag = FieldInfo("b", "bool")
    tags = FieldInfo("l", "text", is_list=True)
    assert operators_for(text) == _ops(
        "eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with",
        "not_starts_with", "ends_with", "not_ends_with", "regex", "not_regex", "exists",
        "not_exists",
    )  # fmt: skip
    assert operators_for(number) == _ops(
        "eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between", "in", "not_in",
        "exists", "not_exists",
    )  # fmt: skip
    assert operators_for(date) == _ops(
        "eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between", "before", "after",
        "in_last", "not_in_last", "exists", "not_exists",
    )  # fmt: skip
    assert operators_for(flag) == _ops("eq", "ne", "exists", "not_exists")
    assert set(operators_for(tags)) == set(operators_for(text)) | set(
        _ops("has_any", "has_all", "has_none")
    )


def test_track_pseudo_field_takes_only_membership_operators() -> None:
    registry = FieldRegistry.builtin()
    assert registry.operators("track") == _ops(
        "in_playlist", "not_in_playlist", "in_rule", "not_in_rule"
    )
    assert registry.operators("Track") == registry.operators(TRACK_FIELD)
    assert registry.operators("nope") == ()


def test_resolve_names_aliases_and_case() -> None:
    registry = FieldRegistry.builtin()
    registry.add(FieldInfo("BPM", "number"))
    assert registry.resolve("title") is registry.fields["name"]
    assert registry.resolve("Artist") is registry.fields["artists"]
    assert registry.resolve("bpm") is registry.fields["BPM"]
    assert registry.resolve("nope") is None
    assert registry.suggest("artsts") == ["artists"]
    assert registry.suggest("titel") == ["title"]
    assert registry.suggest("zzzzzz") == []


# --- inference --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rock", "text"),
        ("120", "text"),
        ("1999", "text"),
        ("1999-05", "date"),
        ("1999-05-17", "date"),
        ("2024-01-02T03:04:05Z", "date"),
        (datetime(2024, 1, 2, tzinfo=UTC), "date"),
        (True, "bool"),
        (3, "number"),
        (0.5, "number"),
        ({"a": 1}, None),
    ],
)
def test_infer_type(value: Any, expected: str | None) -> None:
    assert infer_type(value) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([120, 98.5], "number"),
        ([["rock", "pop"], "jazz"], "text"),
        (["1999-05", "2001-01-02"], "date"),
        (["1999"], "text"),  # a bare year in text is not a date
        ([True, False], "bool"),
        ([1, "one"], "text"),  # mixed kinds read as text
        ([None, "", []], None),  # nothing present
    ],
)
def test_sample_type_of_a_field_the_registry_does_not_know(
    values: list[Any], expected: str | None
) -> None:
    assert sample_type(values) == expected


def test_registry_from_a_small_library() -> None:
    tracks = {t.id: t for t in (_track(i) for i in range(4))}
    tracks["t3"] = _track(3, isrc=None, album=AlbumRef(name="Album"))
    enrichments = {
        "t0": [
            _entry("reccobeats", energy=0.8, tempo=120, live=False, released="2001-02-03"),
            _entry("lastfm", tags=["rock", "indie"], mood="happy"),
        ],
        "t1": [
            _entry("reccobeats", energy=0.5, tempo=None, live=True, released=""),
            _entry("lastfm", tags=["rock"], mood="calm"),
        ],
        "t2": [_entry("deezer", tempo=128, gain=-7.5), _entry("lastfm", tags=[], mood="happy")],
        "elsewhere": [_entry("deezer", only_outside=1)],
    }
    registry = registry_from_library(tracks, enrichments)

    energy = registry.fields["energy"]
    assert (energy.type, energy.is_list, energy.origin) == ("number", False, "enrichment")
    assert energy.providers == ("reccobeats",)
    assert energy.coverage == 0.5
    tempo = registry.fields["tempo"]
    assert tempo.providers == ("deezer", "reccobeats")
    assert tempo.coverage == 0.5  # t1's None is missing
    tags = registry.fields["tags"]
    assert (tags.type, tags.is_list, tags.coverage) == ("text", True, 0.5)  # [] is missing
    assert tags.examples[0] == "rock"
    assert registry.fields["mood"].examples == ("happy", "calm")
    assert registry.fields["mood"].coverage == 0.75
    assert registry.fields["live"].type == "bool"
    released = registry.fields["released"]
    assert (released.type, released.coverage) == ("date", 0.25)  # "" is missing
    assert "only_outside" not in registry.fields

    # Built-ins get their coverage from the tracks.
    assert registry.fields["isrc"].coverage == 0.75
    assert registry.fields["release_date"].coverage == 0.75
    assert registry.fields["year"].examples == ("1999",)
    assert registry.fields["name"].coverage == 1.0


def test_conflicting_types_take_the_majority_and_say_so() -> None:
    tracks = [_track(i) for i in range(5)]
    values: list[Any] = [1, 2, 3, "fast", "slow"]
    enrichments = {f"t{i}": [_entry("p", bpm=value)] for i, value in enumerate(values)}
    info = registry_from_library(tracks, enrichments).fields["bpm"]
    assert info.type == "number"
    assert info.notes == (
        "mixed types in 5 sampled values (number: 3, text: 2); treated as number",
    )
    assert info.coverage == 1.0


def test_objects_are_not_fields_and_builtin_names_are_not_shadowed() -> None:
    tracks = [_track(0)]
    enrichments = {"t0": [_entry("musicbrainz", nested={"a": 1}, year=1999, Title="x")]}
    registry = registry_from_library(tracks, enrichments)
    assert "nested" not in registry.fields
    assert registry.fields["year"].origin == "track"
    assert registry.fields["year"].notes == (
        "enrichment key 'year' (from musicbrainz) is shadowed by this built-in field",
    )
    assert "Title" not in registry.fields


def test_sampling_bounds_type_inference_but_not_coverage() -> None:
    count = SAMPLE_VALUES + 50
    tracks = [_track(i) for i in range(count)]
    enrichments = {
        f"t{i}": [_entry("p", score=i if i < SAMPLE_VALUES else "late text")] for i in range(count)
    }
    info = registry_from_library(tracks, enrichments).fields["score"]
    assert info.type == "number"
    assert info.notes == ()
    assert info.coverage == 1.0


def test_sources_give_coverage_and_examples_of_source_fields() -> None:
    tracks = [_track(i) for i in range(4)]
    sources = {
        "liked": SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            entries=[SourceEntry(track_id="t0"), SourceEntry(track_id="t1")],
        ),
        "playlist:p1": SourceRecord(
            key="playlist:p1",
            source_type=TrackSourceType.PLAYLIST,
            source_id="p1",
            name="Road trip",
            entries=[SourceEntry(track_id="t1"), SourceEntry(track_id="t2")],
        ),
    }
    registry = registry_from_library(tracks, {}, sources)
    assert registry.fields["sources"].coverage == 0.75
    assert registry.fields["sources"].examples == ("liked", "playlist:p1")
    assert registry.fields["playlists"].coverage == 0.5
    assert registry.fields["playlists"].examples == ("Road trip",)
    assert registry.fields["liked"].coverage == 1.0


def test_empty_library_gives_the_builtins() -> None:
    registry = registry_from_library({}, {})
    assert registry.names() == sorted(info.name for info in BUILTIN_FIELDS)
    assert all(info.coverage is None for info in registry.fields.values())


# --- generated library ------------------------------------------------------------------------


def truth_enrichments(truth: TrackTruth) -> list[TrackEnrichment]:
    entries = []
    if truth.in_reccobeats:
        entries.append(
            _entry("reccobeats", energy=truth.energy, tempo=truth.tempo, mode=truth.mode)
        )
    if truth.in_deezer:
        entries.append(_entry("deezer", gain=truth.gain, rank=truth.rank))
    if truth.in_lastfm:
        entries.append(_entry("lastfm", tags=list(truth.tags)))
    entries.append(_entry("musicbrainz", genres=list(truth.genres), language=truth.language))
    entries.append(_entry("classifier", mood=truth.mood))
    return entries


def test_registry_on_a_generated_library() -> None:
    demo = generate_library(seed=5, tracks=300, playlists=0)
    tracks = [
        Track(id=t.id, uri=f"spotify:track:{t.id}", name=t.name, isrc=t.isrc)
        for t in demo.tracks.values()
    ]
    enrichments = {t.id: truth_enrichments(t.truth) for t in demo.tracks.values()}
    registry = registry_from_library(tracks, enrichments)
    truths = [t.truth for t in demo.tracks.values()]
    total = len(truths)

    energy = registry.fields["energy"]
    assert energy.type == "number"
    assert energy.coverage == sum(t.in_reccobeats for t in truths) / total
    tempo = registry.fields["tempo"]
    assert tempo.coverage == sum(t.in_reccobeats and t.tempo is not None for t in truths) / total
    assert registry.fields["rank"].coverage == sum(t.in_deezer for t in truths) / total
    tags = registry.fields["tags"]
    assert (tags.type, tags.is_list, tags.providers) == ("text", True, ("lastfm",))
    genres = registry.fields["genres"]
    assert (genres.type, genres.is_list, genres.coverage) == ("text", True, 1.0)
    counts: dict[str, int] = {}
    for truth in truths:
        for genre in truth.genres:
            counts[genre] = counts.get(genre, 0) + 1
    assert counts[genres.examples[0]] == max(counts.values())
    mood = registry.fields["mood"]
    assert set(mood.examples) <= {t.mood for t in truths}
    assert registry.fields["isrc"].coverage == sum(t.isrc is not None for t in tracks) / total


# --- describe ---------------------------------------------------------------------------------


def test_describe_rows_are_json_ready() -> None:
    registry = FieldRegistry.builtin()
    registry.add(
        FieldInfo(
            "energy", "number", providers=("reccobeats",), examples=("0.5",), coverage=0.81234
        )
    )
    rows = [row.model_dump(mode="json") for row in registry.describe()]
    names = [row["name"] for row in rows]
    assert names[: len(BUILTIN_FIELDS)] == [info.name for info in BUILTIN_FIELDS]
    assert names[len(BUILTIN_FIELDS) :] == ["track", "energy"]
    assert rows[-1] == {
        "name": "energy",
        "type": "number",
        "list": False,
        "operators": [
            "eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between", "in", "not_in",
            "exists", "not_exists",
        ],
        "examples": ["0.5"],
        "coverage": 0.8123,
        "origin": "enrichment",
        "providers": ["reccobeats"],
        "declared_by": [],
        "aliases": [],
        "description": "",
        "notes": [],
    }  # fmt: skip
    track = rows[len(BUILTIN_FIELDS)]
    assert track["type"] == "track"
    assert track["operators"] == ["in_playlist", "not_in_playlist", "in_rule", "not_in_rule"]
    artists = rows[1]
    assert (artists["list"], artists["aliases"]) == (True, ["artist"])
    assert "has_any" in artists["operators"]
