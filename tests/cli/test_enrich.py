"""The enrichment commands in demo mode: providers, enrich, enrichment, coverage, tag, untag.

Each invocation builds its own in-process emulators over the same seeded demo account, as
`sap` does from a shell; enrichment results are checked against the generator's truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.data import Stores
from app.emulators.library.model import GeneratedLibrary
from app.pipeline.rules.fields.stored import load_stored_library
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.views import Library
from app.providers.registry import PROVIDERS, Precedence
from tests.helpers.cli import sap, sap_json


@pytest.fixture
def fetched(cache_dir: Path) -> Path:
    assert sap(cache_dir, "login", "--demo")[0] == 0
    assert sap(cache_dir, "fetch", "--liked", "--demo")[0] == 0
    return cache_dir


def test_providers_lists_status_and_reasons(cache_dir: Path) -> None:
    rows = {row["id"]: row for row in sap_json(cache_dir, "providers", "--demo")}
    assert rows["musicbrainz"]["enabled"]  # the demo sets a contact, a Last.fm key, a model…
    assert rows["lastfm"]["enabled"] and rows["llm"]["enabled"]
    assert rows["deezer"]["service"]["state"] == "up"  # the demo's emulator answered
    code, out, _ = sap(cache_dir, "providers", "--demo")
    assert code == 0 and "reccobeats" in out and "enabled" in out
    assert "up: Deezer" in " ".join(out.split())


def test_enrich_then_show_a_track_and_coverage(fetched: Path, library: GeneratedLibrary) -> None:
    jobs = sap_json(fetched, "enrich", "--provider", "reccobeats", "--demo")
    assert [job["status"] for job in jobs] == ["done"]
    covered = [s.track_id for s in library.liked if library.tracks[s.track_id].truth.in_reccobeats]
    assert jobs[0]["payload"]["matched"] == len(covered)
    track_id = next(t for t in covered if library.tracks[t].truth.energy is not None)
    detail = sap_json(fetched, "enrichment", track_id, "--demo")
    assert detail["view"]["energy"] == library.tracks[track_id].truth.energy
    assert detail["provenance"]["energy"] == "reccobeats"
    coverage = sap_json(fetched, "coverage", "--demo")
    energy = next(row for row in coverage["fields"] if row["field"] == "energy")
    assert energy["providers"] == {"reccobeats": energy["tracks"]}
    # The table form, and a second run that costs nothing.
    code, out, _ = sap(fetched, "enrich", "--provider", "reccobeats", "--demo")
    assert code == 0 and "reccobeats" in out
    again = sap_json(fetched, "enrich", "--provider", "reccobeats", "--demo")
    assert again[0]["payload"]["requests"] == 0


def test_enrich_runs_its_providers_in_one_job_with_a_bar_each(
    fetched: Path, library: GeneratedLibrary
) -> None:
    code, out, err = sap(fetched, "enrich", "-p", "reccobeats", "-p", "deezer", "--demo")
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["deezer", "reccobeats"]
    assert "deezer" in err and "reccobeats" in err  # one progress bar each, on stderr
    [job] = sap_json(fetched, "enrich", "-p", "deezer", "-p", "reccobeats", "--demo")
    assert job["step"] == "enrich" and job["status"] == "done"
    assert job["metadata"]["providers"] == ["deezer", "reccobeats"]
    assert [part["id"] for part in job["progress"]["parts"]] == ["deezer", "reccobeats"]
    reports = job["payload"]["providers"]
    assert [(r["provider"], r["state"], r["requests"]) for r in reports] == [
        ("deezer", "done", 0),  # answered by the first run
        ("reccobeats", "done", 0),
    ]
    assert job["payload"]["cached"] == sum(r["cached"] for r in reports) > 0


def test_tag_and_untag(fetched: Path, library: GeneratedLibrary) -> None:
    first, second = (s.track_id for s in library.liked[:2])
    out = sap_json(
        fetched,
        "tag",
        first,
        f"spotify:track:{second}",
        "mood=calm",
        "bpm=92",
        "-t",
        "late night",
        "--demo",
    )
    assert out[first] == {"mood": "calm", "bpm": 92, "tags": ["late night"]}
    assert out[second] == out[first]
    out = sap_json(fetched, "untag", second, "bpm", "-t", "late night", "--demo")
    assert out[second] == {"mood": "calm", "tags_removed": ["late night"]}
    assert sap_json(fetched, "enrichment", second, "--demo")["view"] == {"mood": "calm"}


def test_tag_checks_values_against_the_fields_type(
    fetched: Path, library: GeneratedLibrary
) -> None:
    track = library.liked[0].track_id
    code, out, err = sap(fetched, "tag", track, "energy=abc", "--demo")
    assert (code, out) == (1, "")
    assert err.splitlines() == ["error: 'energy' takes a number (got 'abc')"]
    assert sap_json(fetched, "enrichment", track, "--demo")["view"] == {}
    # Read as the field's type: `era` is text (the LLM's decade), `energy` a number.
    out = sap_json(fetched, "tag", track, "era=1990", "energy=0.7", "mine=12", "--demo")
    assert out[track] == {"era": "1990", "energy": 0.7, "mine": 12}


def test_untag_of_nothing_exits_1_saying_so(fetched: Path, library: GeneratedLibrary) -> None:
    track = library.liked[0].track_id
    assert sap(fetched, "tag", track, "mood=calm", "--demo")[0] == 0
    code, out, err = sap(fetched, "untag", track, "nosuchkey", "--demo")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "error: nothing to remove: no track given has your value 'nosuchkey' (only your own "
        "values can be removed; providers' values stay)"
    ]
    code, _, err = sap(fetched, "untag", track, "-t", "jazz", "--demo")
    assert code == 1
    assert err.splitlines() == ["error: nothing to remove: no track given has the tag 'jazz'"]
    assert sap_json(fetched, "enrichment", track, "--demo")["view"] == {"mood": "calm"}
    assert sap_json(fetched, "untag", track, "mood", "--demo") == {track: None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tag", "mood=calm"], "give at least one track id"),
        (["tag", "{track}", "oops"], "neither a track id nor key=value"),
        (["tag", "{track}", "year=1999"], "built-in track field"),
        (["enrich", "--provider", "nope"], "unknown provider 'nope'"),
        (["enrichment", "0000000000000000000000"], "no track"),
    ],
)
def test_mistakes_get_one_clear_line(
    fetched: Path, library: GeneratedLibrary, args: list[str], message: str
) -> None:
    track = library.liked[0].track_id
    code, _, err = sap(fetched, *[a.replace("{track}", track) for a in args], "--demo")
    assert code == 1
    assert message in " ".join(err.split())


def test_classify_and_relabel(fetched: Path, library: GeneratedLibrary) -> None:
    summary = sap_json(fetched, "classify", "--demo")
    assert summary["tracks"] == len(library.liked)
    track_id = library.liked[0].track_id
    result = sap_json(fetched, "relabel", track_id, "mood=calm", "year=1999", "--demo")
    assert (
        result["manual"] and result["labels"]["mood"] == "calm" and result["labels"]["year"] == 1999
    )
    assert sap_json(fetched, "classify", "--demo")["manual_kept"] == 1
    code, _, err = sap(fetched, "relabel", track_id, "colour=red", "--demo")
    assert code == 1 and "unknown label" in err


def test_tag_leaves_the_library_snapshot_current(fetched: Path, library: GeneratedLibrary) -> None:
    """A manual edit, like a fetch or an enrichment, writes the library's snapshot before the
    command returns: the next `sap preview` loads it instead of building it."""
    track = library.liked[0].track_id
    assert sap(fetched, "tag", track, "mood=calm", "--demo")[0] == 0
    stores = Stores.open(fetched / "demo")  # the demo's data directory
    builds: list[str] = []

    def counted(stores: Stores, precedence: Precedence) -> Library:
        builds.append("build")
        return load_stored_library(stores, precedence)

    loaded = LibraryCache(stores, PROVIDERS.precedence(), load=counted).views()
    assert builds == []
    assert loaded.view(track)["mood"] == "calm"  # type: ignore[index]
