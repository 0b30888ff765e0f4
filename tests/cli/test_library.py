"""The library table and bulk edits from the command line, in demo mode: `sap library query`,
`sap tag`/`untag --filter` and `sap tag-undo`. The liked songs are fetched and enriched by
ReccoBeats for real (emulated); expected values come from the generator's truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.emulators.library.model import GeneratedLibrary
from tests.helpers.cli import sap, sap_json


@pytest.fixture
def enriched(cache_dir: Path) -> Path:
    assert sap(cache_dir, "login", "--demo")[0] == 0
    assert sap(cache_dir, "fetch", "--liked", "--demo")[0] == 0
    jobs = sap_json(cache_dir, "enrich", "--provider", "reccobeats", "--demo")
    assert jobs[0]["status"] == "done"
    return cache_dir


def _energy(library: GeneratedLibrary) -> dict[str, float]:
    """The energy ReccoBeats gives each liked song it knows."""
    found = {}
    for saved in library.liked:
        truth = library.tracks[saved.track_id].truth
        if truth.in_reccobeats and truth.energy is not None:
            found[saved.track_id] = truth.energy
    return found


def test_query_filters_and_sorts_the_library(enriched: Path, library: GeneratedLibrary) -> None:
    energy = _energy(library)
    args = ["library", "query", "-f", "energy >= 0.6", "-s", "energy:desc", "-s", "name"]
    page = sap_json(enriched, *args, "--fields", "name,energy", "--limit", "5", "--demo")
    expected = sorted((e for e in energy.values() if e >= 0.6), reverse=True)
    assert page["total"] == len(expected)
    assert [row["values"]["energy"] for row in page["rows"]] == expected[:5]
    assert page["rows"][0]["provenance"]["energy"][0]["provider"] == "reccobeats"
    every = sap_json(enriched, "library", "query", "-f", "energy >= 0.6", "--ids", "--demo")
    assert sorted(every["ids"]) == sorted(t for t, e in energy.items() if e >= 0.6)
    code, out, _ = sap(enriched, *args, "--fields", "energy", "--provenance", "--demo")
    assert code == 0 and "reccobeats" in out and f"of {len(expected)} matching" in out


def test_a_bad_filter_is_shown_with_a_caret(enriched: Path) -> None:
    code, out, err = sap(
        enriched, "library", "query", "-f", "energy >= 0.6 and\nenrgy < 1", "--demo"
    )
    assert (code, out) == (1, "")
    assert "line 2, column 1" in err and "did you mean 'energy'" in err
    assert "enrgy < 1\n^^^^^" in err


def test_tag_a_filter_then_undo_it(enriched: Path, library: GeneratedLibrary) -> None:
    calm = sorted(t for t, e in _energy(library).items() if e < 0.3)
    assert calm
    tagged = sap_json(enriched, "tag", "-f", "energy < 0.3", "-t", "calm", "--demo")
    assert sorted(tagged) == calm and all(v == {"tags": ["calm"]} for v in tagged.values())
    assert sap_json(enriched, "tag-undo", "--show", "--demo")["last"]["tracks"] == len(calm)
    code, _, err = sap(enriched, "untag", "-f", 'tags has any ["calm"]', "-t", "calm", "--demo")
    assert code == 0 and f"changed {len(calm)} track(s)" in err
    undone = sap_json(enriched, "tag-undo", "--demo")  # the untag: the tags are back
    assert undone["restored"] == len(calm)
    assert sap_json(enriched, "enrichment", calm[0], "--demo")["view"]["tags"] == ["calm"]
    code, _, err = sap(enriched, "tag-undo", "--demo")
    assert code == 1 and "nothing to undo" in err


def test_tag_takes_ids_or_a_filter_not_both(enriched: Path, library: GeneratedLibrary) -> None:
    track = library.liked[0].track_id
    code, _, err = sap(enriched, "tag", track, "-f", "energy > 0", "-t", "x", "--demo")
    assert code == 1 and "not both" in err
    code, _, err = sap(enriched, "tag", "-f", 'name = "no such song"', "-t", "x", "--demo")
    assert code == 1 and "no track matches the filter" in err


def test_charts_print_each_field_s_spread_with_the_filter_of_each_bar(
    enriched: Path, library: GeneratedLibrary
) -> None:
    energy = _energy(library)
    found = sap_json(enriched, "library", "charts", "-F", "energy", "--bins", "5", "--demo")
    [spread] = found["fields"]
    assert (found["tracks"], spread["present"]) == (len(library.liked), len(energy))
    assert sum(b["count"] for b in spread["bins"]) == len(energy)
    # Each bar's filter selects its tracks (energy 0.6 is in "energy >= 0.6 and energy < 0.8",
    # and counted there; the top value 1.0 is in the last bar, which says "<= 1").
    for bar in spread["bins"]:
        selected = sap_json(enriched, "library", "query", "-f", bar["filter"], "--ids", "--demo")
        assert selected["total"] == bar["count"], bar
    code, out, _ = sap(enriched, "library", "charts", "-F", "energy", "--bins", "5", "--demo")
    first = spread["bins"][0]
    assert code == 0 and f"energy: {len(energy)} of {len(library.liked)} tracks have it" in out
    assert f"{first['low']:g} to {first['high']:g}" in out and "█" in out
    code, out, err = sap(enriched, "library", "charts", "-F", "enrgy", "--demo")
    assert code == 1 and "did you mean 'energy'" in err
