"""A rule set's settings (pins, bans, target, mode, enabled, hold for review, description)
saved through its text over real stores: what a text leaves out is kept, what it says is
applied, `none` clears; rule files carry them both ways."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.errors import RulesInvalidError
from app.data import Stores
from app.pipeline.rules.rule_files import apply_rules_file, export_rule_sets, parse_rules_file
from app.pipeline.rules.rule_sets import (
    document,
    get_rule_set,
    save_rule_set,
    validation_report,
    whole_text_payload,
)
from app.pipeline.services import Services

ROAD = "37i9dQZF1DXcBWIGoYBM5M"
STORED: dict[str, Any] = {
    "id": "road",
    "name": "Road trip",
    "description": "For the car",
    "enabled": False,
    "rules": {"conditions": [{"field": "tempo", "operator": "gt", "value": 120}]},
    "include": ["4uLU6hMCjMI75M1A2tKUQC"],
    "exclude": ["7ouMYWpwJ422jRcDASZB7P"],
    "target_playlist_id": ROAD,
    "sync_mode": "merge",
    "auto_apply": False,
}
SETTINGS = (
    "name",
    "description",
    "enabled",
    "include",
    "exclude",
    "target_playlist_id",
    "target_playlist_name",
    "sync_mode",
    "auto_apply",
)


@pytest.fixture
def stores(services: Services) -> Stores:
    save_rule_set(services.stores, STORED)
    return services.stores


def settings_of(stores: Stores, rule_id: str = "road") -> dict[str, Any]:
    return get_rule_set(stores, rule_id).model_dump(include=set(SETTINGS))


def test_a_text_that_leaves_the_settings_out_keeps_them(stores: Stores) -> None:
    before = settings_of(stores)
    saved = save_rule_set(stores, {"id": "road", "text": "tempo > 150\nsort by tempo desc"})
    assert saved.rules.conditions[0].value == 150  # type: ignore[union-attr]
    assert settings_of(stores) == before
    assert saved.text.splitlines()[:2] == ["tempo > 150", "sort by tempo desc"]


def test_what_the_text_states_is_applied_and_none_clears(stores: Stores) -> None:
    save_rule_set(
        stores,
        {
            "id": "road",
            "text": 'tempo > 120\npin none\nban "t9"\ntarget playlist named "Drive"\n'
            "mode replace\napply by itself\nenabled\ndescription none",
        },
    )
    assert settings_of(stores) == {
        "name": "Road trip",
        "description": None,
        "enabled": True,
        "include": [],
        "exclude": ["t9"],
        "target_playlist_id": None,
        "target_playlist_name": "Drive",
        "sync_mode": "replace",
        "auto_apply": True,
    }
    save_rule_set(stores, {"id": "road", "text": "tempo > 120\ntarget none"})
    assert get_rule_set(stores, "road").target_playlist_name is None


def test_json_sent_with_the_text_beats_the_stored_value_and_the_text_beats_both(
    stores: Stores,
) -> None:
    save_rule_set(
        stores,
        {
            "id": "road",
            "name": "Road",
            "sync_mode": "append",
            "enabled": True,
            "text": "energy > 0.5",
        },
    )
    assert (settings_of(stores)["name"], settings_of(stores)["sync_mode"]) == ("Road", "append")
    save_rule_set(stores, {"id": "road", "sync_mode": "append", "text": "energy > 0.5\nmode merge"})
    assert settings_of(stores)["sync_mode"] == "merge"


def test_the_whole_text_as_rules_edit_saves_it_clears_a_deleted_clause(stores: Stores) -> None:
    rule_set = get_rule_set(stores, "road")
    before = settings_of(stores)
    text = document(rule_set).text
    assert 'pin "4uLU6hMCjMI75M1A2tKUQC"' in text.splitlines()
    edited = "\n".join(line for line in text.splitlines() if not line.startswith("pin "))
    save_rule_set(stores, whole_text_payload(rule_set, edited))
    assert settings_of(stores) == {**before, "include": []}


def test_a_target_that_is_not_a_spotify_id_is_a_problem(stores: Stores) -> None:
    report = validation_report(
        stores, {"id": "road", "text": 'energy > 0.5\ntarget playlist "pl1"'}
    )
    assert not report.valid
    [problem] = report.errors
    assert (problem.path, problem.line, problem.column) == ("target_playlist_id", 2, 1)
    assert problem.rendered.splitlines()[1:] == ['target playlist "pl1"', "^^^^^^"]
    with pytest.raises(RulesInvalidError):
        save_rule_set(stores, {"id": "road", "text": 'energy > 0.5\ntarget playlist "pl1"'})


def test_an_older_rules_file_without_settings_keeps_them_and_export_round_trips(
    stores: Stores,
) -> None:
    before = settings_of(stores)
    apply_rules_file(stores, "[road] Road trip\ntempo > 130\n\n[calm] Calm\nenergy < 0.4\n")
    assert settings_of(stores) == before
    exported = export_rule_sets(stores)
    assert exported.splitlines()[1:] == [
        "",
        "[road] Road trip",
        "tempo > 130",
        'pin "4uLU6hMCjMI75M1A2tKUQC"',
        'ban "7ouMYWpwJ422jRcDASZB7P"',
        f'target playlist "{ROAD}"',
        "mode merge",
        "hold for review",
        "disabled",
        'description "For the car"',
        "",
        "[calm] Calm",
        "energy < 0.4",
    ]
    documents = stores.rules.load_rules()
    with stores.rules.update() as stored:
        stored.clear()
    apply_rules_file(stores, exported)
    assert stores.rules.load_rules() == documents
    assert [p["id"] for p in parse_rules_file(export_rule_sets(stores, ["calm"]))] == ["calm"]
