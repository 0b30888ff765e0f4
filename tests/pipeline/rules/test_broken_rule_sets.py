"""One bad rule set is one bad rule set: the engine evaluates each on its own, previews and
explain report the broken ones by id with their problems and show the others (beets'
smartplaylist skips a bad query the same way)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import RulesInvalidError
from app.core.models import Track, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.pipeline.rules.engine.evaluate import evaluate_each, evaluate_rule_sets
from app.pipeline.rules.engine.explain import explain
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.service import explain_track, preview_library, preview_payload
from app.providers.registry import PROVIDERS

NOW = datetime(2025, 6, 1, tzinfo=UTC)
RE2_REFUSES = "(?<=So)ng"  # a lookbehind: fine for Python's re, not for RE2


def rule_set(rule_id: str, *conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": rule_id.title(),
        "rules": {"conditions": list(conditions)},
        **extra,
    }


def name_regex(pattern: str) -> dict[str, Any]:
    return {"field": "name", "operator": "regex", "value": pattern}


def name_has(text: str) -> dict[str, Any]:
    return {"field": "name", "operator": "contains", "value": text}


def in_rule(rule_id: str) -> dict[str, Any]:
    return {"field": "id", "operator": "in_rule", "value": rule_id}


BAD = rule_set("bad", name_regex(RE2_REFUSES))
GOOD = rule_set("good", name_has("Song 1"))
USES_BAD = rule_set("uses-bad", in_rule("bad"))
USES_USES_BAD = rule_set("top", in_rule("uses-bad"), name_has("1"))

SONG_1X = ["t001", "t010", "t011"]  # "Song 1", "Song 10", "Song 11" of a 12-track library


def library() -> Library:
    return Library.from_views(
        {"id": f"t{i:03d}", "name": f"Song {i}", "uri": f"spotify:track:t{i:03d}"}
        for i in range(12)
    )


# --- the engine ----------------------------------------------------------------------------------


def test_a_regex_re2_cannot_compile_breaks_its_rule_set_only() -> None:
    evaluation = evaluate_each([BAD, GOOD], library(), now=NOW)
    assert list(evaluation.results) == ["good"]
    assert evaluation.results["good"].track_ids == SONG_1X
    [failure] = evaluation.failures.values()
    assert failure.rule_id == "bad" and failure.rule_name == "Bad"
    assert "name regex: invalid pattern" in failure.problems[0].message
    assert failure.broken_references == ()


def test_rule_sets_referring_to_a_broken_one_are_broken_naming_it() -> None:
    evaluation = evaluate_each([USES_USES_BAD, USES_BAD, BAD, GOOD], library(), now=NOW)
    assert list(evaluation.results) == ["good"]
    assert evaluation.failures["uses-bad"].broken_references == ("bad",)
    assert evaluation.failures["uses-bad"].problems[0].message == (
        "refers to rule set 'bad', which is broken"
    )
    assert evaluation.failures["top"].broken_references == ("uses-bad",)
    behind = evaluation.failures_behind(["top"])
    assert [failure.rule_id for failure in behind] == ["top", "uses-bad", "bad"]


def test_unknown_targets_and_cycles_break_only_the_rule_sets_involved() -> None:
    rule_sets = [
        rule_set("a", in_rule("b")),
        rule_set("b", in_rule("a")),
        rule_set("lost", in_rule("nowhere")),
        GOOD,
    ]
    evaluation = evaluate_each(rule_sets, library(), now=NOW)
    assert list(evaluation.results) == ["good"]
    assert evaluation.failures["lost"].problems[0].message == (
        "rule set 'lost' refers to unknown rule 'nowhere'"
    )
    assert "form a cycle" in evaluation.failures["a"].problems[0].message
    assert "form a cycle" in evaluation.failures["b"].problems[0].message


def test_the_strict_form_still_raises_the_first_problem() -> None:
    with pytest.raises(RulesInvalidError, match="invalid pattern"):
        evaluate_rule_sets([GOOD, BAD], library(), now=NOW)


def test_evaluating_each_gives_the_same_playlists_as_the_strict_form() -> None:
    rule_sets = [GOOD, rule_set("ones", name_has("1")), rule_set("in-good", in_rule("good"))]
    strict = evaluate_rule_sets(rule_sets, library(), now=NOW)
    each = evaluate_each(rule_sets, library(), now=NOW)
    assert each.failures == {}
    assert {k: v.track_ids for k, v in each.results.items()} == {
        k: v.track_ids for k, v in strict.items()
    }


def test_explain_needs_only_the_rule_sets_the_target_refers_to() -> None:
    why = explain("t010", GOOD, library(), now=NOW, rule_sets=[BAD, USES_BAD])
    assert why.outcome == "included"
    with pytest.raises(RulesInvalidError, match="refers to rule set 'bad', which is broken"):
        explain("t010", USES_BAD, library(), now=NOW, rule_sets=[BAD, GOOD])


# --- previews, explain over a stored library --------------------------------------------------


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    stores = Stores.open(tmp_path / "cache")
    tracks = [
        Track(id=f"t{i:03d}", uri=f"spotify:track:t{i:03d}", name=f"Song {i}") for i in range(12)
    ]
    stores.tracks.upsert(tracks)
    stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(tracks),
            entries=[SourceEntry(track_id=t.id) for t in tracks],
        )
    )
    return stores


def write_rules(stores: Stores, documents: list[dict[str, Any]]) -> None:
    """Straight into rules.json, as a file from before validation got stricter would be (the
    API refuses a regex RE2 cannot compile)."""
    with stores.rules.update() as stored:
        stored[:] = documents


def test_library_preview_shows_the_others_and_lists_the_broken(stores: Stores) -> None:
    write_rules(stores, [BAD, GOOD, USES_BAD])
    cache = LibraryCache(stores, PROVIDERS.precedence())
    preview = preview_library(stores, cache, now=NOW)
    assert [p.rule_id for p in preview.playlists] == ["good"]
    assert preview.playlists[0].track_ids == SONG_1X
    assert preview.partition.placed == len(SONG_1X)
    broken = {b.rule_id: b for b in preview.broken}
    assert list(broken) == ["bad", "uses-bad"]
    assert "invalid pattern" in broken["bad"].problems[0].message
    assert broken["uses-bad"].broken_references == ["bad"]
    # Asking for the broken one alone: nothing to preview, and why.
    alone = preview_library(stores, cache, ids=["uses-bad"], now=NOW)
    assert alone.playlists == []
    assert [b.rule_id for b in alone.broken] == ["uses-bad", "bad"]


def test_a_stored_rule_set_that_cannot_be_read_is_listed_not_dropped(stores: Stores) -> None:
    unreadable = {"id": "odd", "name": "Odd", "rules": {"operator": "xor", "conditions": []}}
    write_rules(stores, [unreadable, GOOD, rule_set("uses-odd", in_rule("odd"))])
    cache = LibraryCache(stores, PROVIDERS.precedence())
    preview = preview_library(stores, cache, now=NOW)
    assert [p.rule_id for p in preview.playlists] == ["good"]
    broken = {b.rule_id: b for b in preview.broken}
    assert set(broken) == {"odd", "uses-odd"}
    assert broken["odd"].problems[0].path == "rules.operator"
    assert broken["uses-odd"].broken_references == ["odd"]
    assert preview_library(stores, cache, ids=["odd"], now=NOW).broken[0].rule_id == "odd"


def test_payload_preview_shows_the_others_and_lists_the_broken() -> None:
    tracks = [{"track_id": f"t{i}", "enrichment": {"label": f"Song {i}"}} for i in range(3)]
    bad = rule_set("bad", {"field": "label", "operator": "regex", "value": RE2_REFUSES})
    good = rule_set("good", {"field": "label", "operator": "contains", "value": "2"})
    result = preview_payload([bad, good], tracks)
    assert result.model_dump(mode="json")["playlists"] == [
        {"rule_id": "good", "rule_name": "Good", "track_ids": ["t2"], "track_count": 1}
    ]
    assert [b.rule_id for b in result.broken] == ["bad"]


def test_explain_is_not_stopped_by_an_unrelated_broken_rule_set(stores: Stores) -> None:
    write_rules(stores, [BAD, GOOD, USES_BAD])
    cache = LibraryCache(stores, PROVIDERS.precedence())
    why = explain_track(stores, cache, "t010", "good", now=NOW)
    assert why.outcome == "included"
    with pytest.raises(RulesInvalidError) as caught:
        explain_track(stores, cache, "t010", "uses-bad", now=NOW)
    messages = [problem["message"] for problem in caught.value.extra["problems"]]
    assert messages[0] == "refers to rule set 'bad', which is broken"
    assert messages[1].startswith("bad: name regex: invalid pattern")
