"""The rules engine end to end: views and provenance, the pipeline stages, rule references,
explain, the seed's preview payload, loading from the stores, and a real Exportify library."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import RulesInvalidError
from app.core.models import AlbumRef, ArtistRef, Track, TrackEnrichment, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.pipeline.rules.engine.evaluate import build_rule_based_playlists, evaluate_rule_sets
from app.pipeline.rules.engine.explain import explain
from app.pipeline.rules.library.build import load_library_views
from app.pipeline.rules.library.enrichment_view import build_enrichment_view
from app.pipeline.rules.library.views import (
    Library,
    build_library,
    index_membership,
    track_view,
)
from app.pipeline.sources.exportify.reader import read_exportify_csv
from app.providers.registry import PROVIDERS
from tests.helpers.paths import SHARED

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def entry(source: str, **categories: Any) -> TrackEnrichment:
    return TrackEnrichment(source=source, categories=categories)


# --- views ---------------------------------------------------------------------------------------


def test_enrichment_view_precedence_and_list_merge() -> None:
    view = build_enrichment_view(
        [
            entry("lastfm", genres=["Rock", "indie"], tags=["chill"], tempo=99),
            entry("deezer", tempo=121.0, rank=5000),
            entry("manual", mood="calm", genres=["rock", "shoegaze"]),
            entry("llm:gpt", mood="sad", energy=0.4, audio={"key": 5}),
        ],
        PROVIDERS.precedence(),  # the registry's default order
    )
    assert view["mood"] == "calm" and view.provenance["mood"] == "manual"
    assert view["energy"] == 0.4 and view.provenance["energy"] == "llm:gpt"
    assert view["tempo"] == 121.0 and view.provenance["tempo"] == "deezer"
    # Lists: union in precedence order, case-insensitively de-duplicated, first spelling kept.
    assert view["genres"] == ["rock", "shoegaze", "indie"]
    assert view.provenance["genres"] == "manual, lastfm"
    assert view["audio.key"] == 5
    custom = build_enrichment_view(
        [entry("lastfm", tempo=99), entry("deezer", tempo=121)], precedence=("lastfm",)
    )
    assert custom["tempo"] == 99 and custom.provenance["tempo"] == "lastfm"


def _track(
    track_id: str,
    name: str,
    artist: str = "Artist",
    *,
    duration_ms: int = 200_000,
    isrc: str | None = None,
    release: str | None = "2001-02-03",
    added_at: datetime | None = None,
) -> Track:
    return Track(
        id=track_id,
        uri=f"spotify:track:{track_id}",
        name=name,
        artists=[ArtistRef(id=f"a-{artist}", name=artist)],
        album=AlbumRef(id="al", name="Album", release_date=release),
        duration_ms=duration_ms,
        isrc=isrc,
        added_at=added_at,
    )


def _sources() -> dict[str, SourceRecord]:
    return {
        "liked": SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            entries=[SourceEntry(track_id="t1"), SourceEntry(track_id="t2")],
        ),
        "playlist:p1": SourceRecord(
            key="playlist:p1",
            source_type=TrackSourceType.PLAYLIST,
            source_id="p1",
            name="Road Trip",
            entries=[
                SourceEntry(track_id="t2", added_at=datetime(2024, 1, 1, tzinfo=UTC)),
                SourceEntry(track_id="t3", added_at=datetime(2023, 1, 1, tzinfo=UTC)),
                SourceEntry(track_id="t3", added_at=datetime(2023, 2, 1, tzinfo=UTC)),
            ],
        ),
    }


def test_track_view_builtin_fields() -> None:
    membership = index_membership(_sources())
    enrichment = build_enrichment_view(
        [entry("lastfm", genres=["jazz"], name="ignored")], PROVIDERS.precedence()
    )
    view = track_view(_track("t2", "Song", isrc="X1"), membership["t2"], enrichment)
    assert view == {
        "genres": ["jazz"],
        "id": "t2",
        "uri": "spotify:track:t2",
        "name": "Song",  # built-in fields win a clash
        "artists": ["Artist"],
        "album": "Album",
        "release_date": "2001-02-03",
        "year": 2001,
        "added_at": datetime(2024, 1, 1, tzinfo=UTC),  # not liked-dated: first sighting
        "duration": 200.0,
        "duration_ms": 200_000,
        "explicit": False,
        "isrc": "X1",
        "is_local": False,
        "sources": ["liked", "playlist:p1"],
        "playlists": ["p1", "Road Trip"],
        "liked": True,
    }
    only_playlist = track_view(_track("t3", "Other"), membership["t3"])
    assert only_playlist["liked"] is False
    assert only_playlist["added_at"] == datetime(2023, 1, 1, tzinfo=UTC)


def test_load_library_views_from_the_stores(tmp_path: Path) -> None:
    stores = Stores.open(tmp_path)
    stores.tracks.upsert(
        [
            _track("t1", "One"),
            _track("t2", "Two"),
            _track("t3", "Three"),
            _track("t9", "In no source"),
        ]
    )
    for record in _sources().values():
        stores.sources.put(record)
    stores.enrichments.save_enrichments_cache({"t1": [entry("lastfm", genres=["jazz"])]})
    library = load_library_views(stores, precedence=PROVIDERS.precedence())
    assert library.ids == ["t1", "t2", "t3"]  # t9 is in no fetched source
    assert library.view("t1")["genres"] == ["jazz"]
    assert library.provenance[0] == {"genres": "lastfm"}


# --- pipeline stages -----------------------------------------------------------------------------


def _library(rows: list[dict[str, Any]]) -> Library:
    base = {"artists": ["A"], "duration_ms": 180_000, "sources": ["liked"]}
    return Library.from_views([{**base, **row} for row in rows])


def _run(rule_set: dict[str, Any], library: Library, **others: Any) -> Any:
    sets = [{"id": "r", "name": "R", **rule_set}, *others.get("extra", [])]
    by_strategy = {
        strategy: evaluate_rule_sets(sets, library, now=NOW, strategy=strategy)
        for strategy in ("views", "columns")
    }
    views, columns = by_strategy["views"], by_strategy["columns"]
    assert {k: v.to_dict() for k, v in views.items()} == {
        k: v.to_dict() for k, v in columns.items()
    }
    return views["r"]


ENERGY = {"field": "energy", "operator": "gte", "value": 0.5}


def test_sources_filter_candidates() -> None:
    library = _library(
        [
            {"id": "a", "energy": 0.9, "sources": ["liked"]},
            {"id": "b", "energy": 0.9, "sources": ["playlist:p1"]},
            {"id": "c", "energy": 0.1, "sources": ["playlist:p1"]},
        ]
    )
    result = _run({"rules": {"conditions": [ENERGY]}, "sources": ["playlist:p1"]}, library)
    assert result.track_ids == ["b"]
    assert (result.candidates, result.matched) == (2, 1)


def test_exclude_then_dedupe_by_isrc_and_id() -> None:
    library = _library(
        [
            {"id": "a", "energy": 0.9, "isrc": "X"},
            {"id": "b", "energy": 0.9, "isrc": "x"},
            {"id": "c", "energy": 0.9, "isrc": None},
            {"id": "d", "energy": 0.9, "isrc": None},
            {"id": "e", "energy": 0.9, "isrc": "Y"},
        ]
    )
    result = _run({"rules": {"conditions": [ENERGY]}, "exclude": ["a"], "dedupe": "isrc"}, library)
    assert result.track_ids == ["b", "c", "d", "e"]  # a is banned, so b is not a duplicate
    assert result.dropped == {"a": "excluded"}
    result = _run({"rules": {"conditions": [ENERGY]}, "dedupe": "isrc"}, library)
    assert result.track_ids == ["a", "c", "d", "e"]
    assert result.dropped == {"b": "deduped"}


def test_dedupe_by_recording_normalises_and_uses_duration() -> None:
    library = _library(
        [
            {"id": "a", "name": "Heroes", "artists": ["David Bowie"], "duration_ms": 371_000},
            {
                "id": "b",
                "name": "Heroes - 2017 Remaster",
                "artists": ["DAVID BOWIE"],
                "duration_ms": 373_500,
            },
            {"id": "c", "name": "Héroes", "artists": ["David Bowie"], "duration_ms": 210_000},
            {
                "id": "d",
                "name": "Heroes (Live)",
                "artists": ["David Bowie"],
                "duration_ms": 371_000,
            },
        ]
    )
    result = _run({"dedupe": "recording"}, library)
    assert result.track_ids == ["a", "c", "d"]  # c: another length; d: a live recording
    assert result.dropped == {"b": "deduped"}


def test_limit_selected_by_then_artist_cap_then_output_sort() -> None:
    library = _library(
        [
            {
                "id": f"t{i}",
                "energy": i / 10,
                "added_at": NOW - timedelta(days=i),
                "artists": ["Same" if i < 3 else f"Other {i}"],
            }
            for i in range(8)
        ]
    )
    rule_set = {
        "limit": {
            "value": 4,
            "unit": "tracks",
            "selected_by": [{"field": "added_at", "order": "desc"}],
        },
        "max_per_artist": 2,
        "sort": [{"field": "energy", "order": "desc"}],
    }
    result = _run(rule_set, library)
    # Newest four: t0..t3; the cap keeps the first two "Same" in choosing order (t0, t1).
    assert result.track_ids == ["t3", "t1", "t0"]
    assert result.dropped["t2"] == "artist cap"
    assert {result.dropped[f"t{i}"] for i in range(4, 8)} == {"over limit"}


def test_limit_in_minutes_and_percent() -> None:
    library = _library([{"id": f"t{i}", "duration_ms": 60_000 * (i + 1)} for i in range(5)])
    assert _run({"limit": {"value": 6, "unit": "minutes"}}, library).track_ids == [
        "t0",
        "t1",
        "t2",
    ]  # 1 + 2 + 3 minutes; t3 would make 10
    assert _run({"limit": {"value": 40, "unit": "percent"}}, library).track_ids == ["t0", "t1"]
    one = _library([{"id": "only"}])
    assert _run({"limit": {"value": 1, "unit": "percent"}}, one).track_ids == ["only"]


def test_sort_keys_missing_last_and_stable_random() -> None:
    library = _library(
        [
            {"id": "a", "mood": "sad", "energy": 0.5},
            {"id": "b", "mood": "Happy", "energy": None},
            {"id": "c", "mood": "happy", "energy": 0.9},
            {"id": "d", "energy": 0.1},
        ]
    )
    by_mood = _run({"sort": [{"field": "mood"}, {"field": "energy", "order": "desc"}]}, library)
    assert by_mood.track_ids == ["c", "b", "a", "d"]
    by_energy = _run({"sort": [{"field": "energy", "order": "desc"}]}, library)
    assert by_energy.track_ids == ["c", "a", "d", "b"]
    shuffled = [
        _run({"sort": [{"field": "random", "seed": seed}]}, library).track_ids
        for seed in (1, 1, 2, 3, 4)
    ]
    assert shuffled[0] == shuffled[1]
    assert len({tuple(order) for order in shuffled}) > 1
    assert all(sorted(order) == ["a", "b", "c", "d"] for order in shuffled)


def test_include_pins_survive_every_stage_but_exclude() -> None:
    library = _library([{"id": f"t{i}", "energy": i / 10} for i in range(6)])
    result = _run(
        {
            "rules": {"conditions": [{"field": "energy", "operator": "gte", "value": 0.3}]},
            "limit": {"value": 1, "unit": "tracks"},
            "include": ["t5", "t3", "t0", "t4", "gone"],
            "exclude": ["t4"],
        },
        library,
    )
    # t3 is chosen; t5 (over limit) and t0 (failed rules) are pinned back; t4 stays banned.
    assert result.track_ids == ["t3", "t5", "t0", "gone"]
    assert result.pinned == ["t5", "t3", "t0", "gone"]
    assert result.dropped == {"t4": "excluded"}


def test_in_rule_uses_final_results_in_dependency_order() -> None:
    library = _library([{"id": f"t{i}", "energy": i / 10} for i in range(10)])
    top = {
        "id": "top",
        "name": "Top",
        "sort": [{"field": "energy", "order": "desc"}],
        "limit": {"value": 3, "unit": "tracks"},
    }
    rest = {
        "id": "rest",
        "name": "Rest",
        "rules": {
            "conditions": [{"field": "id", "operator": "not_in_rule", "value": "top"}, ENERGY]
        },
    }
    both = {
        "id": "both",
        "name": "Both",
        "rules": {
            "operator": "or",
            "conditions": [
                {"field": "id", "operator": "in_rule", "value": "rest"},
                {"field": "id", "operator": "in_rule", "value": "top"},
            ],
        },
    }
    results = evaluate_rule_sets([both, rest, top], library, now=NOW)
    assert list(results) == ["top", "rest", "both"]  # children first
    assert results["top"].track_ids == ["t9", "t8", "t7"]
    assert results["rest"].track_ids == ["t5", "t6"]
    assert results["both"].track_ids == ["t5", "t6", "t7", "t8", "t9"]


def test_rule_cycles_are_rejected_with_the_cycle_named() -> None:
    library = _library([{"id": "t"}])

    def refers(rule_id: str, target: str) -> dict[str, Any]:
        return {
            "id": rule_id,
            "name": rule_id,
            "rules": {"conditions": [{"field": "id", "operator": "in_rule", "value": target}]},
        }

    with pytest.raises(RulesInvalidError, match="rules a → b → c → a form a cycle"):
        evaluate_rule_sets([refers("a", "b"), refers("b", "c"), refers("c", "a")], library, now=NOW)
    with pytest.raises(RulesInvalidError, match="rules s → s form a cycle"):
        evaluate_rule_sets([refers("s", "s")], library, now=NOW)
    with pytest.raises(RulesInvalidError, match="unknown rule 'nope'"):
        evaluate_rule_sets([refers("a", "nope")], library, now=NOW)


# --- explain -------------------------------------------------------------------------------------


def test_explain_reports_values_providers_and_the_stage() -> None:
    tracks = [
        _track("t1", "Blue in Green", "Miles Davis", isrc="I1"),
        _track("t2", "So What", "Miles Davis", isrc="I1"),
        _track("t3", "Pop Song", "Someone"),
    ]
    enrichments = {
        "t1": [entry("lastfm", genres=["jazz"]), entry("deezer", tempo=130)],
        "t2": [entry("lastfm", genres=["Jazz"]), entry("manual", tempo=125)],
        "t3": [entry("lastfm", genres=["pop"]), entry("deezer", tempo=130)],
    }
    library = build_library(tracks, enrichments, _sources(), precedence=PROVIDERS.precedence())
    rule_set = {
        "id": "jazz",
        "name": "Jazz",
        "rules": {
            "conditions": [
                {"field": "genres", "operator": "contains", "value": "jazz"},
                {
                    "operator": "or",
                    "conditions": [
                        {"field": "tempo", "operator": "gt", "value": 120},
                        {"field": "mood", "operator": "eq", "value": "calm"},
                    ],
                },
            ]
        },
        "dedupe": "isrc",
    }
    included = explain("t1", rule_set, library, now=NOW).model_dump(mode="json")
    assert included["outcome"] == "included" and included["included"] is True
    first, group = included["rules"]["conditions"]
    assert first == {
        "field": "genres",
        "operator": "contains",
        "value": "jazz",
        "case_sensitive": False,
        "accent_insensitive": False,
        "actual": ["jazz"],
        "provider": "lastfm",
        "passed": True,
    }
    assert group["passed"] is True and group["operator"] == "or"
    assert group["conditions"][0]["actual"] == 130 and group["conditions"][0]["provider"] == (
        "deezer"
    )
    assert group["conditions"][1] == {
        "field": "mood",
        "operator": "eq",
        "value": "calm",
        "case_sensitive": False,
        "accent_insensitive": False,
        "actual": None,
        "provider": None,
        "passed": False,
    }
    deduped = explain("t2", rule_set, library, now=NOW)
    assert deduped.outcome == "deduped" and deduped.matched_rules is True
    assert deduped.model_dump()["rules"]["conditions"][1]["conditions"][0]["provider"] == "manual"
    failed = explain("t3", rule_set, library, now=NOW)
    assert failed.outcome == "failed rules" and failed.rules.passed is False
    assert failed.rules.conditions[0].passed is False
    assert explain("zz", rule_set, library, now=NOW).outcome == "not in library"
    pinned = explain("t3", {**rule_set, "include": ["t3"]}, library, now=NOW)
    assert pinned.outcome == "pinned"
    other_source = explain("t1", {**rule_set, "sources": ["playlist:p1"]}, library, now=NOW)
    assert other_source.outcome == "not in sources"


# --- seed payload mode ---------------------------------------------------------------------------


def test_build_rule_based_playlists_seed_payload() -> None:
    rules = [
        {
            "id": "happy",
            "name": "Happy",
            "target_playlist_id": None,
            "rules": {
                "operator": "and",
                "conditions": [
                    {"field": "mood", "operator": "eq", "value": "happy"},
                    {"field": "energy", "operator": "gt", "value": 0.5},
                ],
            },
        },
        {"id": "off", "name": "Off", "enabled": False, "rules": {"conditions": []}},
        {
            "id": "any",
            "name": "Any",
            "rules": {
                "operator": "or",
                "conditions": [
                    {"field": "genre", "operator": "in", "value": ["jazz", "soul"]},
                    {"field": "mood", "operator": "not_exists"},
                ],
            },
        },
    ]
    tracks = [
        {"track_id": "1", "enrichment": {"mood": "Happy", "energy": 0.8, "genre": "pop"}},
        {"track_id": "2", "enrichment": {"mood": "happy", "energy": 0.2, "genre": "soul"}},
        {"track_id": "3", "enrichment": {"energy": 0.9}},
    ]
    assert build_rule_based_playlists(rules, tracks) == [
        {"rule_id": "happy", "rule_name": "Happy", "track_ids": ["1"], "track_count": 1},
        {"rule_id": "any", "rule_name": "Any", "track_ids": ["2", "3"], "track_count": 2},
    ]


# --- a real library ------------------------------------------------------------------------------

LIKED_CSV = SHARED / "datasets" / "exportify_seankmchenry" / "liked_songs.csv"


@pytest.mark.skipif(not LIKED_CSV.exists(), reason=f"shared dataset {LIKED_CSV} is absent")
def test_real_exportify_library_matches_a_plain_python_filter() -> None:
    # Expected: straight from the CSV with the csv module (headers may carry stray tabs).
    with LIKED_CSV.open(encoding="utf-8", newline="") as handle:
        rows = [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(handle)]
    expected = [
        row["Track ID"]
        for row in rows
        if any("jazz" in g.strip().lower() for g in row["Genres"].split(","))
        and row["Tempo"]
        and float(row["Tempo"]) > 120
    ]
    expected = list(dict.fromkeys(expected))
    assert 5 < len(expected) < len(rows)  # a real, non-trivial selection

    # Ours: the CSV as a source, its Genres/Tempo columns as one provider's enrichment.
    result = read_exportify_csv(LIKED_CSV)
    by_id = {row["Track ID"]: row for row in rows}
    tracks = [track for track, _ in result.tracks]
    enrichments = {
        track.id: [
            entry(
                "exportify",
                genres=[g.strip() for g in by_id[track.id]["Genres"].split(",") if g.strip()],
                tempo=float(by_id[track.id]["Tempo"]) if by_id[track.id]["Tempo"] else None,
            )
        ]
        for track in tracks
    }
    sources = {
        "csv:liked": SourceRecord(
            key="csv:liked",
            source_type=TrackSourceType.CSV,
            entries=[SourceEntry(track_id=track.id) for track in tracks],
        )
    }
    library = build_library(tracks, enrichments, sources, precedence=PROVIDERS.precedence())
    rule_set = {
        "id": "fast-jazz",
        "name": "Fast jazz",
        "rules": {
            "conditions": [
                {"field": "genres", "operator": "contains", "value": "JAZZ"},
                {"field": "tempo", "operator": "gt", "value": 120},
            ]
        },
    }
    for strategy in ("views", "columns"):
        results = evaluate_rule_sets([rule_set], library, now=NOW, strategy=strategy)
        assert results["fast-jazz"].track_ids == expected


# --- the per-field indexes' fast paths (one scalar type per column) -----------------------------


def _ids(rules: dict[str, Any], library: Library) -> list[str]:
    return sorted(_run({"rules": rules}, library).track_ids)


def test_number_columns_of_one_type_or_mixed_ints_and_floats_agree_with_per_track() -> None:
    library = _library(
        [
            {"id": "a", "tempo": 120.0, "year": 1999, "bpm": 120},
            {"id": "b", "tempo": float("nan"), "year": 2001, "bpm": 99.5},
            {"id": "c", "tempo": None, "year": None, "bpm": None},
            {"id": "d", "tempo": 80.5, "year": 2001, "bpm": 140.0},
            {"id": "e", "year": 1990, "bpm": 120.0},
        ]
    )
    between = {"operator": "between", "value": [90, 130]}
    assert _ids({"operator": "and", "conditions": [{"field": "tempo", **between}]}, library) == [
        "a"
    ]  # NaN is no number, missing is no match
    assert _ids({"operator": "and", "conditions": [{"field": "bpm", **between}]}, library) == [
        "a",
        "b",
        "e",
    ]  # 120 (int) and 120.0 (float) alike
    cond = {"field": "year", "operator": "gte", "value": 2000}
    assert _ids({"operator": "and", "conditions": [cond]}, library) == ["b", "d"]
    cond = {"field": "year", "operator": "eq", "value": 2001}
    assert _ids({"operator": "and", "conditions": [cond]}, library) == ["b", "d"]


def test_datetime_columns_naive_or_aware_and_text_columns_with_blanks() -> None:
    library = _library(
        [
            {"id": "a", "added_at": datetime(2026, 1, 2, tzinfo=UTC), "mood": "calm"},
            {"id": "b", "added_at": datetime(2026, 3, 1), "mood": ""},  # naive: taken as UTC
            {"id": "c", "added_at": None, "mood": "Calm"},
            {"id": "d", "added_at": datetime(2025, 12, 31, 23, tzinfo=UTC), "mood": None},
        ]
    )
    after = {"field": "added_at", "operator": "gte", "value": "2026-01-01"}
    assert _ids({"operator": "and", "conditions": [after]}, library) == ["a", "b"]
    calm = {"field": "mood", "operator": "eq", "value": "calm"}
    assert _ids({"operator": "and", "conditions": [calm]}, library) == ["a", "c"]
    blank = {"field": "mood", "operator": "not_exists"}
    assert _ids({"operator": "and", "conditions": [blank]}, library) == ["b", "d"]


def test_masks_kept_across_runs_follow_now_and_referenced_rule_sets() -> None:
    """The same library evaluated again: cached condition masks must not go stale."""
    library = _library(
        [
            {"id": "old", "energy": 0.9, "added_at": datetime(2026, 1, 1, tzinfo=UTC)},
            {"id": "new", "energy": 0.1, "added_at": datetime(2026, 3, 1, tzinfo=UTC)},
        ]
    )
    recent = {
        "id": "recent",
        "name": "Recent",
        "rules": {"conditions": [{"field": "added_at", "operator": "in_last", "value": "30d"}]},
    }
    loud = {"id": "loud", "name": "Loud", "rules": {"conditions": [ENERGY]}}
    follower = {
        "id": "follower",
        "name": "Follower",
        "rules": {"conditions": [{"field": "id", "operator": "in_rule", "value": "loud"}]},
    }
    quiet = {**loud, "rules": {"conditions": [{**ENERGY, "operator": "lt"}]}}

    def run(now: datetime, *sets: dict[str, Any]) -> dict[str, list[str]]:
        results = evaluate_rule_sets(list(sets), library, now=now, strategy="columns")
        return {rule_id: result.track_ids for rule_id, result in results.items()}

    january, march = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)
    assert run(january, recent, loud, follower) == {
        "recent": ["old"],
        "loud": ["old"],
        "follower": ["old"],
    }
    assert run(march, recent, quiet, follower) == {
        "recent": ["new"],
        "loud": ["new"],
        "follower": ["new"],
    }
    assert library.columns["masks"]  # the masks were kept on the library
