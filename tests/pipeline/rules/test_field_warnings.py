"""A rule on a field no track has (yet): a warning naming the providers that would give it.

Before any ReccoBeats run, `energy < 0.4` is a good rule that matches nothing yet: validating and
saving it succeed with a warning ("run enrichment for reccobeats"), and a preview says why its
playlist is empty instead of showing an empty playlist calmly. A name no provider gives and no
track has is still an unknown field (most likely a typo).
"""

from __future__ import annotations

from typing import Any

import pytest

from app.core.errors import RulesInvalidError
from app.core.models import Track, TrackEnrichment, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.pipeline.rules.fields.types import BUILTIN_FIELDS
from app.pipeline.rules.rule_files import (
    apply_rules_file,
    parse_rules_file,
    validate_rules_file,
)
from app.pipeline.rules.rule_sets import field_registry, save_rule_set, validation_report
from app.pipeline.rules.service import preview_library
from app.pipeline.services import Services
from app.providers.registry import PROVIDERS

ENERGY = [0.9, 0.1, 0.6, 0.3]


@pytest.fixture
def stores(services: Services) -> Stores:
    """Four liked tracks, enriched by Deezer only (tempo and genres, no energy)."""
    stores = services.stores
    tracks = [
        Track(id=f"t{i}", uri=f"spotify:track:t{i}", name=f"Song {i}", duration_ms=200_000)
        for i in range(4)
    ]
    stores.tracks.upsert(tracks)
    stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=4,
            entries=[SourceEntry(track_id=t.id) for t in tracks],
        )
    )
    stores.enrichments.save_enrichments_cache(
        {
            t.id: [TrackEnrichment(source="deezer", categories={"tempo": 100 + 10 * i})]
            for i, t in enumerate(tracks)
        }
    )
    return stores


def _reccobeats_ran(stores: Stores) -> None:
    stores.enrichments.save_enrichments_cache(
        {
            f"t{i}": [TrackEnrichment(source="reccobeats", categories={"energy": energy})]
            for i, energy in enumerate(ENERGY)
        }
    )


def _warnings(report: Any) -> list[tuple[str, list[str], str, str | None]]:
    return [(w.field, w.providers, w.message, w.hint) for w in report.warnings]


def test_validating_a_rule_on_a_field_no_track_has_yet_warns_and_names_its_provider(
    stores: Stores,
) -> None:
    report = validation_report(stores, {"id": "calm", "name": "Calm", "text": "energy < 0.4"})
    assert report.valid and report.errors == []
    [warning] = report.warnings
    assert (warning.field, warning.providers) == ("energy", ["reccobeats"])
    assert warning.message == "no track has 'energy' yet"
    assert warning.hint == "run enrichment for reccobeats: `sap enrich --provider reccobeats`"
    assert (warning.line, warning.column, warning.length) == (1, 1, 6)
    assert warning.rendered == (
        "line 1, column 1: no track has 'energy' yet — run enrichment for reccobeats: "
        "`sap enrich --provider reccobeats`\nenergy < 0.4\n^^^^^^"
    )


def test_every_provider_giving_the_field_is_named_in_run_order(stores: Stores) -> None:
    report = validation_report(
        stores, {"id": "g", "name": "G", "text": 'genres has any ["rock"] and danceable > 0.5'}
    )
    assert report.valid
    assert _warnings(report) == [
        (
            "genres",
            ["musicbrainz", "deezer"],
            "no track has 'genres' yet",
            "run enrichment for musicbrainz or deezer: "
            "`sap enrich --provider musicbrainz --provider deezer`",
        ),
        (
            "danceable",
            ["acousticbrainz"],
            "no track has 'danceable' yet",
            "run enrichment for acousticbrainz: `sap enrich --provider acousticbrainz`",
        ),
    ]


def test_sort_and_selected_by_fields_warn_too_once_per_field(stores: Stores) -> None:
    text = "energy > 0.1 or energy < 0.05\nlimit 2 tracks selected by valence desc\nsort by energy"
    report = validation_report(stores, {"id": "s", "name": "S", "text": text})
    assert report.valid
    assert [(w.field, w.line) for w in report.warnings] == [("energy", 1), ("valence", 2)]


def test_saving_a_rule_on_a_field_no_track_has_succeeds_with_the_warning(stores: Stores) -> None:
    saved = save_rule_set(stores, {"id": "calm", "name": "Calm", "text": "energy < 0.4"})
    assert saved.id == "calm" and saved.text == "energy < 0.4"
    assert [(w.field, w.providers) for w in saved.warnings] == [("energy", ["reccobeats"])]
    assert [d["id"] for d in stores.rules.load_rules()] == ["calm"]


def test_a_field_tracks_have_does_not_warn(stores: Stores) -> None:
    report = validation_report(stores, {"id": "fast", "name": "Fast", "text": "tempo > 105"})
    assert report.valid and report.warnings == []
    _reccobeats_ran(stores)
    report = validation_report(stores, {"id": "calm", "name": "Calm", "text": "energy < 0.4"})
    assert report.valid and report.warnings == []


def test_builtin_fields_never_warn(stores: Stores) -> None:
    text = " and ".join(f"{info.name} is present" for info in BUILTIN_FIELDS)
    report = validation_report(stores, {"id": "b", "name": "B", "text": text})
    assert report.valid and report.warnings == []


def test_a_name_no_provider_gives_and_no_track_has_is_still_an_unknown_field(
    stores: Stores,
) -> None:
    report = validation_report(stores, {"id": "x", "name": "X", "text": "energyy < 0.4"})
    assert not report.valid
    assert [e.message for e in report.errors] == ["unknown field 'energyy'"]
    assert report.errors[0].hint == "did you mean 'energy'?"
    with pytest.raises(RulesInvalidError):
        save_rule_set(stores, {"id": "x", "name": "X", "text": "playcount > 3"})


def test_every_declared_provider_field_is_known_to_the_registry(stores: Stores) -> None:
    registry = field_registry(stores)
    for provider in PROVIDERS:
        for spec in provider.fields:
            info = registry.resolve(spec.name)
            assert info is not None, (provider.id, spec.name)
            if info.origin == "enrichment":
                assert provider.id in info.declared_by or provider.type == "manual"
    energy = registry.resolve("energy")
    assert energy is not None
    assert (energy.type, energy.coverage, energy.providers) == ("number", 0.0, ())
    assert energy.declared_by == ("reccobeats",)


def test_a_rules_file_reports_and_applies_with_warnings(stores: Stores) -> None:
    content = "[calm] Calm\nenergy < 0.4\n\n[fast] Fast\ntempo > 105\n"
    report = validate_rules_file(stores, parse_rules_file(content))
    assert [r.valid for r in report.rule_sets] == [True, True]
    assert [[(w.field, w.line) for w in r.warnings] for r in report.rule_sets] == [
        [("energy", 2)],
        [],
    ]
    applied = apply_rules_file(stores, content)
    assert [rs.id for rs in applied] == ["calm", "fast"]
    assert [[w.field for w in rs.warnings] for rs in applied] == [["energy"], []]


def test_a_preview_says_why_a_playlist_is_empty(services: Services, stores: Stores) -> None:
    save_rule_set(stores, {"id": "calm", "name": "Calm", "text": "energy < 0.4"})
    save_rule_set(stores, {"id": "fast", "name": "Fast", "text": "tempo > 105"})
    preview = preview_library(stores, services.library)
    by_id = {p.rule_id: p for p in preview.playlists}
    assert by_id["calm"].track_ids == []
    assert [(w.field, w.providers, w.message) for w in by_id["calm"].warnings] == [
        ("energy", ["reccobeats"], "no track has 'energy' yet")
    ]
    assert by_id["fast"].track_ids == ["t1", "t2", "t3"] and by_id["fast"].warnings == []

    _reccobeats_ran(stores)
    preview = preview_library(stores, services.library)
    by_id = {p.rule_id: p for p in preview.playlists}
    assert by_id["calm"].track_ids == ["t1", "t3"] and by_id["calm"].warnings == []


def test_a_previewed_rule_set_not_saved_warns_on_a_field_nobody_gives(
    services: Services, stores: Stores
) -> None:
    rules = [{"id": "x", "name": "X", "rules": {"conditions": [
        {"field": "playcount", "operator": "gt", "value": 3}]}}]  # fmt: skip
    [playlist] = preview_library(stores, services.library, rules=rules).playlists
    [warning] = playlist.warnings
    assert (warning.field, warning.providers, warning.path) == (
        "playcount",
        [],
        "rules.conditions[0].field",
    )
    assert warning.hint == (
        "no provider gives it: set it yourself (`sap tag TRACK playcount=VALUE`) or check "
        "the spelling"
    )


def test_a_field_named_in_another_case_reads_the_library_field(
    services: Services, stores: Stores
) -> None:
    # Validation resolves names case-insensitively, so the engine must read the same field.
    _reccobeats_ran(stores)
    save_rule_set(stores, {"id": "calm", "name": "Calm", "text": "Energy < 0.4"})
    [playlist] = preview_library(stores, services.library).playlists
    assert playlist.track_ids == ["t1", "t3"] and playlist.warnings == []
