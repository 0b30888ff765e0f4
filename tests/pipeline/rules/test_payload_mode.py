"""Payload mode: the caller's keys are the fields.

The seed's front end flattens enrichments its own way, so a payload key may be spelled like an
alias of a built-in field (``title``, ``artist``, ``track_id``) or like a built-in in another
case (``Name``). A rule naming such a key reads the caller's value — through the preview
(`preview_payload`, `/pipeline/playlists/preview-from-rules`), the seed's
`build_rule_based_playlists` and `matches_rules`, and `/data/rules/evaluate`. The cases are
generated from the field table, so a new alias is covered without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app.api.app import create_app
from app.core.config import Settings
from app.pipeline.rules.engine.evaluate import build_rule_based_playlists, matches_rules
from app.pipeline.rules.fields.types import BUILTIN_FIELDS
from app.pipeline.rules.service import evaluate_group, preview_payload
from tests.helpers.api import api_client

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

ALIASES = [(alias, info.name) for info in BUILTIN_FIELDS for alias in info.aliases]
OTHER_CASE = [(info.name.upper(), info.name) for info in BUILTIN_FIELDS]


def test_the_field_table_has_aliases_to_test() -> None:
    assert {alias for alias, _ in ALIASES} >= {"title", "artist", "track_id"}


def _tracks(key: str) -> list[dict[str, Any]]:
    """Three tracks whose only value is `key`: text, text, then missing."""
    return [
        {"track_id": "t0", "enrichment": {key: "Blue Monday"}},
        {"track_id": "t1", "enrichment": {key: "Atmosphere"}},
        {"track_id": "t2", "enrichment": {"bpm": 120}},
    ]


def _rule(key: str) -> dict[str, Any]:
    return {
        "id": "picked",
        "name": "Picked",
        "rules": {"conditions": [{"field": key, "operator": "eq", "value": "blue monday"}]},
    }


SPELLINGS = pytest.mark.parametrize(
    ("key", "builtin"), ALIASES + OTHER_CASE, ids=[k for k, _ in ALIASES + OTHER_CASE]
)


@SPELLINGS
def test_a_payload_key_spelled_like_a_builtin_is_read_by_the_preview(
    key: str, builtin: str
) -> None:
    preview = preview_payload([_rule(key)], _tracks(key))
    assert [p.track_ids for p in preview.playlists] == [["t0"]], builtin
    assert preview.broken == []


@SPELLINGS
def test_a_payload_key_spelled_like_a_builtin_is_read_by_the_seed_functions(
    key: str, builtin: str
) -> None:
    [playlist] = build_rule_based_playlists([_rule(key)], _tracks(key))
    assert playlist["track_ids"] == ["t0"], builtin
    group = _rule(key)["rules"]
    assert matches_rules({key: "Blue Monday"}, group) is True
    assert matches_rules({key: "Atmosphere"}, group) is False
    assert evaluate_group(group, {key: "Blue Monday"}) is True


@pytest.mark.parametrize(("key", "builtin"), ALIASES, ids=[k for k, _ in ALIASES])
def test_a_rule_on_an_alias_in_another_case_reads_the_payload_key(key: str, builtin: str) -> None:
    rule = _rule(key.upper())
    assert [p.track_ids for p in preview_payload([rule], _tracks(key)).playlists] == [["t0"]]


def test_a_payload_key_wins_over_the_builtin_its_name_only_differs_from_by_case() -> None:
    # The rule says `name`, the caller sent `Name`: the caller's key is the field.
    assert [p.track_ids for p in preview_payload([_rule("name")], _tracks("Name")).playlists] == [
        ["t0"]
    ]


def test_a_builtin_spelled_exactly_keeps_its_type() -> None:
    # `release_date` is a date field: "1999" is the year 1999, not the text "1999".
    tracks = [
        {"track_id": "old", "enrichment": {"release_date": "1999"}},
        {"track_id": "new", "enrichment": {"release_date": "2021-03-04"}},
    ]
    rule = {
        "id": "nineties",
        "name": "Nineties",
        "rules": {"conditions": [{"field": "release_date", "operator": "lt", "value": "2000"}]},
    }
    assert [p.track_ids for p in preview_payload([rule], tracks).playlists] == [["old"]]


def test_an_alias_key_is_typed_from_the_payload() -> None:
    # `artist` given as one text per track (not the built-in's list of artists), compared as
    # text; and a number under an alias compares as a number.
    tracks = [
        {"track_id": "a", "enrichment": {"artist": "Joy Division", "title": 7}},
        {"track_id": "b", "enrichment": {"artist": "New Order", "title": 12}},
    ]
    rules = [
        {"id": "jd", "name": "JD", "rules": {"conditions": [
            {"field": "artist", "operator": "starts_with", "value": "joy"}]}},
        {"id": "big", "name": "Big", "rules": {"conditions": [
            {"field": "title", "operator": "gt", "value": 10}]}},
    ]  # fmt: skip
    preview = preview_payload(rules, tracks)
    assert {p.rule_id: p.track_ids for p in preview.playlists} == {"jd": ["a"], "big": ["b"]}


def test_an_alias_key_first_met_late_is_typed_from_the_tracks_that_have_it() -> None:
    # The first tracks lack `title` or hold null: its type comes from the values after them
    # (numbers), and a repeated track id keeps its first entry.
    tracks = [
        {"track_id": "a", "enrichment": {"energy": 0.5}},
        {"track_id": "b", "enrichment": {"title": None}},
        {"track_id": "c", "enrichment": {"title": 7}},
        {"track_id": "d", "enrichment": {"title": 12}},
        {"track_id": "c", "enrichment": {"title": 99}},
    ]
    rule = {"id": "big", "name": "Big", "rules": {"conditions": [
        {"field": "title", "operator": "gt", "value": 10}]}}  # fmt: skip
    preview = preview_payload([rule], tracks)
    assert [p.track_ids for p in preview.playlists] == [["d"]]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The real app over an empty data directory."""
    app = create_app(Settings(cache_dir=tmp_path, spotify_client_id="payload-mode-test"))
    with api_client(app) as client:
        yield client


@pytest.mark.parametrize(("key", "builtin"), ALIASES, ids=[k for k, _ in ALIASES])
def test_the_preview_route_reads_payload_keys_spelled_like_aliases(
    client: TestClient, key: str, builtin: str
) -> None:
    answer = client.post(
        "/pipeline/playlists/preview-from-rules",
        json={"rules": [_rule(key)], "tracks": _tracks(key)},
    )
    evaluated = client.post(
        "/data/rules/evaluate",
        json={"rules": _rule(key)["rules"], "enrichment": {key: "Blue Monday"}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["playlists"][0]["track_ids"] == ["t0"], builtin
    assert evaluated.status_code == 200, evaluated.text
    assert evaluated.json() == {"matches": True}


@pytest.mark.parametrize(
    ("tracks", "named"),
    [([{"track_id": "a"}, 7], "item 1 is not an object"), ("abc", "must be a list of objects")],
)
def test_payload_tracks_that_are_not_objects_are_refused_by_name(
    client: TestClient, tracks: Any, named: str
) -> None:
    answer = client.post(
        "/pipeline/playlists/preview-from-rules", json={"rules": [_rule("x")], "tracks": tracks}
    )
    assert answer.status_code == 422, answer.text
    assert named in answer.text
