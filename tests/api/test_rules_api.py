"""Rule sets through the real app in demo mode: /data/rules (CRUD, validate, parse, format,
fields, evaluate) and the playlist previews (/pipeline/playlists/preview-from-rules, explain).

The library is the demo account's liked songs, fetched for real, plus enrichments the tests
write (energy from one provider, genres from another); every expected playlist is computed here
in plain Python from the stored tracks and those enrichments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.core.models import TrackEnrichment
from app.pipeline.rules.fields.declared import declared_fields
from tests.helpers.spotify_env import DemoServer

DECLARED = declared_fields()
GENRES: list[list[str]] = [["rock"], ["Jazz", "indie rock"], ["metal"], []]


@dataclass
class Library:
    """The fetched demo library and the enrichment values the tests wrote, by track id."""

    server: DemoServer
    track_ids: list[str]  # in stored order
    energy: dict[str, float]  # missing for every 7th track
    genres: dict[str, list[str]]

    @property
    def client(self) -> Any:
        return self.server.client

    def where(self, test: Callable[[str], bool]) -> list[str]:
        return [track_id for track_id in self.track_ids if test(track_id)]

    def energetic(self, track_id: str) -> bool:
        return self.energy.get(track_id, -1.0) >= 0.5

    def has_genre(self, track_id: str, *wanted: str) -> bool:
        return any(g.casefold() in {w.casefold() for w in wanted} for g in self.genres[track_id])


@pytest.fixture
def library(connected: DemoServer) -> Library:
    [job] = connected.fetch({"source_type": "liked"})
    assert job["status"] == "done", job
    stores = connected.env.services.stores
    track_ids = list(stores.tracks.load_tracks())
    assert len(track_ids) == 120
    energy: dict[str, float] = {}
    genres: dict[str, list[str]] = {}
    entries: dict[str, list[TrackEnrichment]] = {}
    for index, track_id in enumerate(track_ids):
        genres[track_id] = GENRES[index % 4]
        entries[track_id] = [
            TrackEnrichment(source="lastfm", categories={"genres": genres[track_id]})
        ]
        if index % 7 != 6:
            energy[track_id] = round((index % 10) / 10, 1)
            entries[track_id].append(
                TrackEnrichment(source="reccobeats", categories={"energy": energy[track_id]})
            )
    stores.enrichments.save_enrichments_cache(entries)
    return Library(connected, track_ids, energy, genres)


def rules_file(server: DemoServer) -> Path:
    return server.env.services.stores.rules.path


def stored_documents(server: DemoServer) -> list[dict[str, Any]]:
    return server.env.services.stores.rules.load_rules()


def post_rule(library: Library, body: dict[str, Any]) -> dict[str, Any]:
    response = library.client.post("/data/rules", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def preview(library: Library, **body: Any) -> dict[str, Any]:
    response = library.client.post("/pipeline/playlists/preview-from-rules", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def condition(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {
        "field": field,
        "operator": operator,
        "value": value,
        "case_sensitive": False,
        "accent_insensitive": False,
    }


# --- CRUD ------------------------------------------------------------------------------------


def test_upsert_json_and_text_then_list_get_delete(library: Library) -> None:
    client = library.client
    rules = {
        "operator": "and",
        "conditions": [
            {"field": "energy", "operator": "gte", "value": 0.5},
            {"field": "genres", "operator": "has_any", "value": ["rock"]},
        ],
    }
    saved = post_rule(library, {"id": "loud", "name": "Loud rock", "rules": rules})
    assert saved["text"] == 'energy >= 0.5 and genres has any ["rock"]'
    assert saved["rules"] == {
        "operator": "and",
        "negate": False,
        "conditions": [condition("energy", "gte", 0.5), condition("genres", "has_any", ["rock"])],
    }

    text = 'energy < 0.3 or genres has any ["jazz", "metal"]\nsort by energy desc\nlimit 10'
    calm = post_rule(library, {"id": "calm", "name": "Calm", "text": text})
    assert calm["rules"] == {
        "operator": "or",
        "negate": False,
        "conditions": [
            condition("energy", "lt", 0.3),
            condition("genres", "has_any", ["jazz", "metal"]),
        ],
    }
    assert calm["sort"] == [{"field": "energy", "order": "desc", "seed": None}]
    assert calm["limit"] == {"value": 10, "unit": "tracks", "selected_by": []}
    assert (
        calm["text"]
        == 'energy < 0.3 or genres has any ["jazz", "metal"]\nsort by energy desc\nlimit 10 tracks'
    )
    # The store keeps the JSON model only; the text is derived from it.
    assert [doc["id"] for doc in stored_documents(library.server)] == ["loud", "calm"]
    assert all("text" not in doc for doc in stored_documents(library.server))

    listing = client.get("/data/rules").json()
    assert [(item["id"], item["text"]) for item in listing] == [
        ("loud", saved["text"]),
        ("calm", calm["text"]),
    ]
    # The save answers the document and its warnings (none here: every field has values).
    assert calm.pop("warnings") == []
    assert client.get("/data/rules/calm").json() == calm

    # Upsert by id replaces in place.
    renamed = post_rule(library, {"id": "loud", "name": "Louder", "text": "energy >= 0.9"})
    assert renamed["name"] == "Louder"
    assert [(d["id"], d["name"]) for d in stored_documents(library.server)] == [
        ("loud", "Louder"),
        ("calm", "Calm"),
    ]

    deleted = client.delete("/data/rules/loud")
    assert deleted.status_code == 204 and deleted.content == b""
    again = client.delete("/data/rules/loud")
    assert again.status_code == 404 and again.json()["error"] == "rule_not_found"
    assert client.get("/data/rules/loud").status_code == 404
    assert [item["id"] for item in client.get("/data/rules").json()] == ["calm"]


def test_a_seed_rule_set_loads_saves_and_evaluates_unchanged(library: Library) -> None:
    seed: dict[str, Any] = {
        "id": "seed-rule",
        "name": "Seed rule",
        "description": "written by the seed",
        "enabled": True,
        "target_playlist_id": "37i9dQZF1DXcBWIGoYBM5M",
        "rules": {
            "operator": "and",
            "conditions": [
                {"field": "energy", "operator": "gte", "value": 0.5},
                {"field": "energy", "operator": "ne", "value": 0.7},
                {"field": "genres", "operator": "eq", "value": "rock"},
                {"field": "genres", "operator": "regex", "value": "^ro"},
            ],
        },
    }
    # As the seed left it on disk, then read by the app.
    library.server.env.services.stores.rules.save_rules([seed])
    [loaded] = library.client.get("/data/rules").json()
    for key, value in seed.items():
        if key != "rules":
            assert loaded[key] == value, key
    assert loaded["rules"]["conditions"] == [
        {**c, "case_sensitive": False, "accent_insensitive": False}
        for c in seed["rules"]["conditions"]
    ]
    assert (
        loaded["text"]
        == 'energy >= 0.5 and energy != 0.7 and genres = "rock" and genres matches "^ro"\n'
        'target playlist "37i9dQZF1DXcBWIGoYBM5M"\ndescription "written by the seed"'
    )

    # Saved back through the API: same document.
    saved = post_rule(library, seed)
    assert {k: v for k, v in saved.items() if k not in ("text", "warnings")} == {
        k: v for k, v in loaded.items() if k != "text"
    }

    expected = library.where(
        lambda t: library.energetic(t) and library.energy[t] != 0.7 and library.has_genre(t, "rock")
    )
    assert expected  # the test means something
    [playlist] = preview(library)["playlists"]
    assert playlist["rule_id"] == "seed-rule"
    assert playlist["track_ids"] == expected
    assert playlist["track_count"] == len(expected)


# --- validation ------------------------------------------------------------------------------


def test_invalid_text_is_422_with_positions_and_nothing_is_stored(library: Library) -> None:
    text = 'genres has any ["rock"]\nand energyy > 0.5'
    response = library.client.post("/data/rules", json={"id": "x", "name": "X", "text": text})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "rules_invalid"
    rendered = (
        "line 2, column 5: unknown field 'energyy' — did you mean 'energy'?\n"
        "and energyy > 0.5\n"
        "    ^^^^^^^"
    )
    assert body["problems"] == [
        {
            "message": "unknown field 'energyy'",
            "line": 2,
            "column": 5,
            "length": 7,
            "path": "rules.conditions[1].field",
            "hint": "did you mean 'energy'?",
            "rendered": rendered,
        }
    ]
    assert body["detail"] == rendered

    syntax = library.client.post(
        "/data/rules", json={"id": "x", "name": "X", "text": "energy > 0.5 and and genres = 1"}
    )
    assert syntax.status_code == 422
    [problem] = syntax.json()["problems"]
    assert (problem["line"], problem["column"], problem["length"]) == (1, 18, 3)
    assert problem["rendered"].splitlines()[1:] == [
        "energy > 0.5 and and genres = 1",
        "                 ^^^",
    ]
    assert not rules_file(library.server).exists()
    assert library.client.get("/data/rules").json() == []


def test_invalid_json_is_422_with_paths_and_the_store_is_unchanged(library: Library) -> None:
    post_rule(library, {"id": "keep", "name": "Keep", "text": "energy > 0.1"})
    before = rules_file(library.server).read_bytes()
    body = {
        "id": "keep",
        "name": "Replaced",
        "rules": {
            "operator": "and",
            "conditions": [
                {"field": "energy", "operator": "bogus", "value": 1},
                {"field": "energy", "operator": "between", "value": [0.9, 0.1]},
            ],
        },
    }
    response = library.client.post("/data/rules", json=body)
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [(p["path"], p["message"]) for p in problems] == [
        ("rules.conditions[0].operator", "unknown operator 'bogus'"),
        ("rules.conditions[1].value", "low 0.9 is greater than high 0.1"),
    ]
    assert problems[1]["hint"] == "write [0.1, 0.9]"
    assert all(p["line"] is None for p in problems)
    assert rules_file(library.server).read_bytes() == before
    assert library.client.get("/data/rules/keep").json()["name"] == "Keep"


def test_validate_reports_without_saving(library: Library) -> None:
    client = library.client
    good = client.post(
        "/data/rules/validate", json={"id": "g", "name": "G", "text": "energy > 0.5"}
    )
    assert good.status_code == 200
    assert good.json() == {"valid": True, "errors": [], "warnings": []}
    bad = client.post(
        "/data/rules/validate",
        json={"id": "b", "name": "B", "text": "energyy > 0.5 and tempo > 120"},
    )
    assert bad.status_code == 200
    report = bad.json()
    assert report["valid"] is False
    assert [(e["line"], e["column"], e["message"], e["hint"]) for e in report["errors"]] == [
        (1, 1, "unknown field 'energyy'", "did you mean 'energy'?"),
    ]
    assert report["errors"][0]["rendered"].endswith("energyy > 0.5 and tempo > 120\n^^^^^^^")
    # No track has `tempo` yet (no Deezer or ReccoBeats run): a warning, not an error.
    assert report["warnings"] == [
        {
            "message": "no track has 'tempo' yet",
            "line": 1,
            "column": 19,
            "length": 5,
            "path": "rules.conditions[1].field",
            "hint": "run enrichment for deezer or reccobeats: "
            "`sap enrich --provider deezer --provider reccobeats`",
            "field": "tempo",
            "providers": ["deezer", "reccobeats"],
            "rendered": "line 1, column 19: no track has 'tempo' yet — run enrichment for "
            "deezer or reccobeats: `sap enrich --provider deezer --provider reccobeats`\n"
            "energyy > 0.5 and tempo > 120\n                  ^^^^^",
        }
    ]
    assert client.get("/data/rules").json() == []


def test_a_rule_on_a_field_no_track_has_yet_is_saved_and_previewed_with_a_warning(
    library: Library,
) -> None:
    client = library.client
    saved = client.post("/data/rules", json={"id": "fast", "name": "Fast", "text": "tempo > 120"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["id"] == "fast" and body["text"] == "tempo > 120"
    assert [(w["field"], w["providers"]) for w in body["warnings"]] == [
        ("tempo", ["deezer", "reccobeats"])
    ]
    assert [d["id"] for d in stored_documents(library.server)] == ["fast"]
    [playlist] = preview(library, rule_ids=["fast"])["playlists"]
    assert playlist["track_ids"] == []
    assert [(w["field"], w["message"]) for w in playlist["warnings"]] == [
        ("tempo", "no track has 'tempo' yet")
    ]
    loud = post_rule(library, {"id": "loud", "name": "Loud", "text": "energy >= 0.5"})
    assert loud["warnings"] == []
    # The answers are typed in the published schema.
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "warnings" in schemas["ValidationReport"]["properties"]
    assert "warnings" in schemas["SavedRuleSet"]["properties"]
    assert "warnings" in schemas["LibraryPreviewPlaylist"]["properties"]
    assert set(schemas["RenderedWarning"]["properties"]) >= {"field", "providers", "rendered"}


def test_parse_and_format_round_trip(library: Library) -> None:
    client = library.client
    text = 'energy > 0.5 and (genres has any ["metal"] or not (name contains "live"))\nlimit 5'
    parsed = client.post("/data/rules/parse", json={"text": text})
    assert parsed.status_code == 200
    tree = parsed.json()
    assert tree["rules"] == {
        "operator": "and",
        "negate": False,
        "conditions": [
            condition("energy", "gt", 0.5),
            {
                "operator": "or",
                "negate": False,
                "conditions": [
                    condition("genres", "has_any", ["metal"]),
                    condition("name", "not_contains", "live"),
                ],
            },
        ],
    }
    assert tree["limit"] == {"value": 5, "unit": "tracks", "selected_by": []}
    canonical = (
        'energy > 0.5 and (genres has any ["metal"] or name not contains "live")\nlimit 5 tracks'
    )
    # The parse result, a whole rule set and a bare group each format back.
    assert client.post("/data/rules/format", json=tree).json() == {"text": canonical}
    rule_set = {"id": "r", "name": "R", **tree}
    assert client.post("/data/rules/format", json=rule_set).json() == {"text": canonical}
    group = client.post("/data/rules/format", json=tree["rules"]).json()
    assert group == {"text": canonical.splitlines()[0]}
    assert client.post("/data/rules/parse", json={"text": canonical}).json() == tree

    broken = client.post("/data/rules/parse", json={"text": "energy >"})
    assert broken.status_code == 422
    assert broken.json()["problems"][0]["line"] == 1
    bad_json = client.post(
        "/data/rules/format", json={"conditions": [{"field": "a", "operator": "bogus"}]}
    )
    assert bad_json.status_code == 422
    assert bad_json.json()["problems"][0]["path"] == "conditions[0].operator"
    no_text_form = client.post("/data/rules/format", json={"operator": "or", "conditions": []})
    assert no_text_form.status_code == 422
    assert no_text_form.json()["error"] == "rules_invalid"


def test_fields_list_builtins_and_discovered_enrichment_keys(library: Library) -> None:
    rows = library.client.get("/data/rules/fields").json()
    names = [row["name"] for row in rows]
    assert names == [
        "name",
        "artists",
        "album",
        "release_date",
        "year",
        "added_at",
        "duration",
        "duration_ms",
        "explicit",
        "isrc",
        "is_local",
        "id",
        "uri",
        "sources",
        "playlists",
        "liked",
        "track",
        "energy",
        "genres",
        *sorted((name for name in DECLARED if name not in ("energy", "genres")), key=str.casefold),
    ]
    by_name = {row["name"]: row for row in rows}
    # Fields a provider gives that no track has yet: listed after, with coverage 0.
    assert (by_name["tempo"]["coverage"], by_name["tempo"]["providers"]) == (0.0, [])
    assert by_name["tempo"]["declared_by"] == ["deezer", "reccobeats"]
    assert by_name["genres"]["declared_by"] == ["musicbrainz", "deezer"]
    energy, genres = by_name["energy"], by_name["genres"]
    assert (energy["type"], energy["list"], energy["origin"]) == ("number", False, "enrichment")
    assert energy["providers"] == ["reccobeats"]
    assert energy["coverage"] == round(len(library.energy) / 120, 4)
    assert "between" in energy["operators"] and "has_any" not in energy["operators"]
    assert (genres["type"], genres["list"], genres["providers"]) == ("text", True, ["lastfm"])
    assert genres["coverage"] == 0.75  # one track in four has no genre
    assert "has_any" in genres["operators"]
    assert by_name["name"]["aliases"] == ["title"]
    assert by_name["track"]["operators"] == [
        "in_playlist",
        "not_in_playlist",
        "in_rule",
        "not_in_rule",
    ]


def test_evaluate_keeps_the_seed_contract(library: Library) -> None:
    group = {
        "operator": "and",
        "conditions": [
            {"field": "mood", "operator": "eq", "value": "Happy"},
            {"field": "bpm", "operator": "gt", "value": 120},
            {"field": "tags", "operator": "contains", "value": "rock"},
        ],
    }

    def evaluate(enrichment: dict[str, Any], rules: dict[str, Any] = group) -> Any:
        response = library.client.post(
            "/data/rules/evaluate", json={"rules": rules, "enrichment": enrichment}
        )
        return response.status_code, response.json()

    assert evaluate({"mood": "happy", "bpm": 128, "tags": ["indie rock"]}) == (
        200,
        {"matches": True},
    )
    assert evaluate({"mood": "happy", "bpm": 100, "tags": ["indie rock"]}) == (
        200,
        {"matches": False},
    )
    assert evaluate({"bpm": 128, "tags": ["rock"]}) == (200, {"matches": False})
    either = {**group, "operator": "or"}
    assert evaluate({"bpm": 128}, either) == (200, {"matches": True})
    status, body = evaluate({}, {"conditions": [{"field": "a", "operator": "bogus"}]})
    assert status == 422
    assert body["problems"][0]["path"] == "conditions[0].operator"


# --- previews --------------------------------------------------------------------------------


def test_preview_in_payload_mode_keeps_the_seed_contract(library: Library) -> None:
    tracks: list[dict[str, Any]] = [
        {"track_id": f"t{n}", "enrichment": {"bpm": 90 + 10 * n, "mood": ["calm", "happy"][n % 2]}}
        for n in range(8)
    ]
    rules = [
        {
            "id": "fast-happy",
            "name": "Fast and happy",
            "rules": {
                "operator": "and",
                "conditions": [
                    {"field": "bpm", "operator": "gte", "value": 120},
                    {"field": "mood", "operator": "eq", "value": "happy"},
                ],
            },
        },
        {
            "id": "slow",
            "name": "Slow",
            "rules": {"conditions": [{"field": "bpm", "operator": "lt", "value": 110}]},
        },
        {"id": "off", "name": "Off", "enabled": False, "rules": {"conditions": []}},
    ]
    fast_happy = [
        t["track_id"]
        for t in tracks
        if t["enrichment"]["bpm"] >= 120 and t["enrichment"]["mood"] == "happy"
    ]
    slow = [t["track_id"] for t in tracks if t["enrichment"]["bpm"] < 110]
    assert preview(library, rules=rules, tracks=tracks) == {
        "playlists": [
            {
                "rule_id": "fast-happy",
                "rule_name": "Fast and happy",
                "track_ids": fast_happy,
                "track_count": len(fast_happy),
            },
            {"rule_id": "slow", "rule_name": "Slow", "track_ids": slow, "track_count": len(slow)},
        ]
    }
    bad = library.client.post(
        "/pipeline/playlists/preview-from-rules",
        json={"rules": [{"id": "x", "name": "X", "rules": {"operator": "maybe"}}], "tracks": []},
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["path"] == "[0].rules.operator"


def test_preview_in_library_mode_with_the_partition(library: Library) -> None:
    post_rule(library, {"id": "loud", "name": "Loud", "text": "energy >= 0.5"})
    post_rule(
        library, {"id": "guitars", "name": "Guitars", "text": 'genres has any ["rock", "METAL"]'}
    )
    post_rule(library, {"id": "off", "name": "Off", "text": "energy >= 0"})
    post_rule(library, {"id": "off", "name": "Off", "enabled": False, "text": "energy >= 0"})

    loud = library.where(library.energetic)
    guitars = library.where(lambda t: library.has_genre(t, "rock", "metal"))
    both = [t for t in loud if t in guitars]
    nowhere = [t for t in library.track_ids if t not in loud and t not in guitars]
    assert both and nowhere  # the fixture's data makes every part non-empty

    result = preview(library)
    playlists = {p["rule_id"]: p for p in result["playlists"]}
    assert list(playlists) == ["loud", "guitars"]  # the disabled one is not shown
    assert playlists["loud"]["track_ids"] == loud
    assert playlists["loud"]["track_count"] == len(loud)
    assert playlists["guitars"]["track_ids"] == guitars
    tracks = library.server.env.services.stores.tracks.load_tracks()
    minutes = round(sum(tracks[t].duration_ms for t in loud) / 60000, 1)
    assert playlists["loud"]["minutes"] == minutes

    partition = result["partition"]
    assert partition["tracks"] == 120
    assert partition["placed"] == 120 - len(nowhere)
    assert "track_rules" not in partition  # per-track detail only when asked
    assert partition["overlaps"] == [{"rule_ids": ["guitars", "loud"], "tracks": len(both)}]
    assert partition["nowhere"] == {"count": len(nowhere), "track_ids": nowhere}
    expected_rules = {
        t: [rule for rule, ids in (("loud", loud), ("guitars", guitars)) if t in ids]
        for t in library.track_ids
        if t not in nowhere
    }
    detailed = preview(library, detail=True)
    assert detailed["partition"]["track_rules"] == expected_rules
    assert {**detailed["partition"], "track_rules": None} == {**partition, "track_rules": None}

    only = preview(library, rule_ids=["guitars"])
    assert [p["rule_id"] for p in only["playlists"]] == ["guitars"]
    assert only["partition"]["nowhere"]["count"] == 120 - len(guitars)
    missing = library.client.post(
        "/pipeline/playlists/preview-from-rules", json={"rule_ids": ["nope"]}
    )
    assert missing.status_code == 404 and missing.json()["error"] == "rule_not_found"


def test_preview_from_rules_takes_inline_rule_sets_in_text(library: Library) -> None:
    post_rule(library, {"id": "loud", "name": "Loud", "text": "energy >= 0.5"})
    pinned = library.track_ids[0]
    post_rule(library, {"id": "pinned", "name": "Pinned", "text": f'energy >= 0.9\npin "{pinned}"'})
    stored = preview(library, rule_ids=["loud", "pinned"])["playlists"]
    inline = preview(
        library,
        rules=[
            {"id": "loud", "name": "Loud", "text": "energy >= 0.5"},
            # Unsaved edits of a saved rule set keep what it has (its pin), as saving would.
            {"id": "pinned", "text": "energy >= 0.9"},
            {"id": "guitars", "name": "G", "text": 'genres has any ["rock"]'},
        ],
    )["playlists"]
    assert [p["track_ids"] for p in inline[:2]] == [p["track_ids"] for p in stored]
    assert pinned in inline[1]["track_ids"]
    assert inline[2]["track_ids"] == library.where(lambda t: library.has_genre(t, "rock"))

    # A text that does not parse: 422 with line and column, as /data/rules/validate names it.
    text = "energy >= 0.5\nsort by"
    bad = library.client.post(
        "/pipeline/playlists/preview-from-rules",
        json={
            "rules": [
                {"id": "ok", "name": "OK", "text": "energy > 0"},
                {"id": "b", "name": "B", "text": text},
            ]
        },
    )
    assert bad.status_code == 422
    [problem] = bad.json()["problems"]
    validated = library.client.post(
        "/data/rules/validate", json={"id": "b", "name": "B", "text": text}
    )
    [expected] = validated.json()["errors"]
    assert (problem["line"], problem["column"], problem["message"]) == (
        expected["line"],
        expected["column"],
        expected["message"],
    )
    assert (problem["line"], problem["path"]) == (2, "[1].text")
    # The seed's payload mode takes text too.
    payload = library.client.post(
        "/pipeline/playlists/preview-from-rules",
        json={
            "rules": [{"id": "big", "name": "Big", "text": "energy > 0.5"}],
            "tracks": [
                {"track_id": "a", "enrichment": {"energy": 0.9}},
                {"track_id": "b", "enrichment": {"energy": 0.1}},
            ],
        },
    )
    assert payload.json()["playlists"][0]["track_ids"] == ["a"]


def test_rule_sets_export_as_a_rules_file(library: Library) -> None:
    post_rule(library, {"id": "loud", "name": "Loud", "text": "energy >= 0.5\nmode merge"})
    post_rule(library, {"id": "calm", "name": "Calm", "text": "energy < 0.3\ndisabled"})
    text = library.client.get("/data/rules/export").json()["text"]
    assert text.split("\n\n")[1:] == [
        "[loud] Loud\nenergy >= 0.5\nmode merge",
        "[calm] Calm\nenergy < 0.3\ndisabled\n",
    ]
    only = library.client.get("/data/rules/export", params={"ids": ["calm"]}).json()["text"]
    assert only.split("\n\n")[1:] == ["[calm] Calm\nenergy < 0.3\ndisabled\n"]
    missing = library.client.get("/data/rules/export", params={"ids": ["nope"]})
    assert missing.status_code == 404 and missing.json()["error"] == "rule_not_found"


def test_in_rule_references_and_cycles(library: Library) -> None:
    client = library.client
    unknown = client.post("/data/rules", json={"id": "a", "name": "A", "text": 'in rule "b"'})
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["message"] == "unknown rule 'b'"

    post_rule(library, {"id": "b", "name": "B", "text": "energy >= 0.5"})
    post_rule(library, {"id": "a", "name": "A", "text": 'in rule "b" and genres has any ["rock"]'})
    post_rule(library, {"id": "c", "name": "C", "text": 'energy >= 0.5 and not in rule "a"'})
    expected_a = library.where(lambda t: library.energetic(t) and library.has_genre(t, "rock"))
    expected_c = [t for t in library.where(library.energetic) if t not in expected_a]
    playlists = {p["rule_id"]: p["track_ids"] for p in preview(library)["playlists"]}
    assert playlists["a"] == expected_a
    assert playlists["c"] == expected_c

    before = rules_file(library.server).read_bytes()
    cycle = client.post("/data/rules", json={"id": "b", "name": "B", "text": 'in rule "c"'})
    assert cycle.status_code == 422
    [problem] = cycle.json()["problems"]
    assert problem["message"] == "rules a → b → c → a form a cycle"
    itself = client.post("/data/rules", json={"id": "d", "name": "D", "text": 'in rule "d"'})
    assert itself.status_code == 422
    assert itself.json()["problems"][0]["message"] == "rule d refers to itself"
    assert rules_file(library.server).read_bytes() == before


def test_explain_an_included_and_an_excluded_track(library: Library) -> None:
    post_rule(
        library, {"id": "loud", "name": "Loud", "text": 'energy >= 0.5 and genres has any ["rock"]'}
    )
    included = library.where(lambda t: library.energetic(t) and library.has_genre(t, "rock"))[0]
    excluded = library.where(lambda t: t in library.energy and library.energy[t] < 0.5)[0]

    def explain(track_id: str) -> dict[str, Any]:
        response = library.client.post(
            "/pipeline/playlists/explain", json={"track_id": track_id, "rule_id": "loud"}
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    yes = explain(included)
    assert (yes["outcome"], yes["included"], yes["rule_name"]) == ("included", True, "Loud")
    energy, genres = yes["rules"]["conditions"]
    assert energy == {
        **condition("energy", "gte", 0.5),
        "actual": library.energy[included],
        "provider": "reccobeats",
        "passed": True,
    }
    assert (genres["actual"], genres["provider"], genres["passed"]) == (
        library.genres[included],
        "lastfm",
        True,
    )

    no = explain(excluded)
    assert (no["outcome"], no["included"], no["position"]) == ("failed rules", False, None)
    assert no["rules"]["passed"] is False
    energy = no["rules"]["conditions"][0]
    assert (energy["actual"], energy["provider"], energy["passed"]) == (
        library.energy[excluded],
        "reccobeats",
        False,
    )

    unsaved = library.client.post(
        "/pipeline/playlists/explain",
        json={"track_id": excluded, "rule": {"id": "x", "name": "X", "rules": {"conditions": []}}},
    )
    assert unsaved.json()["outcome"] == "included"
    # An unsaved edit in text explains as its JSON does; a stored id's settings are kept.
    in_text = library.client.post(
        "/pipeline/playlists/explain",
        json={
            "track_id": excluded,
            "rule": {"id": "loud", "text": f'energy > 0.9\nban "{included}"'},
        },
    )
    assert (in_text.json()["outcome"], in_text.json()["rule_name"]) == ("failed rules", "Loud")
    banned = library.client.post(
        "/pipeline/playlists/explain",
        json={
            "track_id": included,
            "rule": {"id": "loud", "text": f'energy > 0\nban "{included}"'},
        },
    )
    assert banned.json()["outcome"] == "excluded"
    bad_text = library.client.post(
        "/pipeline/playlists/explain",
        json={"track_id": included, "rule": {"id": "loud", "text": "energy >"}},
    )
    assert bad_text.status_code == 422 and bad_text.json()["problems"][0]["column"] == 9
    missing = library.client.post(
        "/pipeline/playlists/explain", json={"track_id": "nope", "rule_id": "loud"}
    )
    assert missing.json()["outcome"] == "not in library"
    assert json.loads(json.dumps(no)) == no


# --- one bad rule set is one bad rule set ------------------------------------------------------

RE2_REFUSES = "(?<=a)b"  # a lookbehind: Python's re takes it, RE2 does not


def store_broken_rule_sets(library: Library, *, enabled: bool = True) -> None:
    """A good rule set ("loud"), then stored around it one whose regex RE2 refuses ("bad", first)
    and one that refers to it ("on-bad", last; disabled unless `enabled`)."""
    post_rule(library, {"id": "loud", "name": "Loud", "text": "energy >= 0.5"})
    bad = {
        "id": "bad",
        "name": "Bad",
        "rules": {"conditions": [{"field": "name", "operator": "regex", "value": RE2_REFUSES}]},
    }
    on_bad = {
        "id": "on-bad",
        "name": "On bad",
        "enabled": enabled,
        "rules": {"conditions": [{"field": "id", "operator": "in_rule", "value": "bad"}]},
    }
    assert library.client.post("/data/rules", json=bad).status_code == 422  # refused now
    # Written through the store, as a rules.json from before validation got stricter holds it.
    with library.server.env.services.stores.rules.update() as documents:
        documents[:0] = [bad]
        documents.append(on_bad)


def test_a_broken_stored_rule_set_is_listed_and_the_others_previewed(library: Library) -> None:
    store_broken_rule_sets(library)

    result = preview(library)
    assert [p["rule_id"] for p in result["playlists"]] == ["loud"]
    assert result["playlists"][0]["track_ids"] == library.where(library.energetic)
    assert result["partition"]["placed"] == len(library.where(library.energetic))
    broken = {b["rule_id"]: b for b in result["broken"]}
    assert list(broken) == ["bad", "on-bad"]
    assert broken["bad"]["rule_name"] == "Bad"
    assert broken["bad"]["problems"][0]["message"].startswith("name regex: invalid pattern")
    assert broken["bad"]["broken_references"] == []
    assert broken["on-bad"]["problems"][0]["message"] == (
        "refers to rule set 'bad', which is broken"
    )
    assert broken["on-bad"]["broken_references"] == ["bad"]
    # Explaining another rule set is not stopped by the broken one.
    why = library.client.post(
        "/pipeline/playlists/explain",
        json={"track_id": library.track_ids[0], "rule_id": "loud"},
    )
    assert why.status_code == 200, why.text


def test_payload_mode_previews_the_others_and_lists_the_broken(library: Library) -> None:
    tracks = [{"track_id": f"t{n}", "enrichment": {"bpm": 90 + 10 * n}} for n in range(4)]
    rules = [
        {"id": "bad", "name": "Bad", "rules": {"conditions": [
            {"field": "bpm", "operator": "regex", "value": RE2_REFUSES}]}},
        {"id": "fast", "name": "Fast", "rules": {"conditions": [
            {"field": "bpm", "operator": "gte", "value": 110}]}},
    ]  # fmt: skip
    result = preview(library, rules=rules, tracks=tracks)
    assert result["playlists"] == [
        {"rule_id": "fast", "rule_name": "Fast", "track_ids": ["t2", "t3"], "track_count": 2}
    ]
    [broken] = result["broken"]
    assert broken["rule_id"] == "bad" and "invalid pattern" in broken["problems"][0]["message"]


def test_the_preview_response_is_documented(library: Library) -> None:
    spec = library.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["BrokenRuleSet"]["properties"]) == {
        "rule_id",
        "rule_name",
        "problems",
        "broken_references",
    }
    assert "broken" in schemas["LibraryPreview"]["properties"]
    assert "broken" in schemas["PayloadPreview"]["properties"]


# --- answers sized for their reader: counts per stage, explain on demand, the editor's count ---


def staged_rule_set(library: Library) -> tuple[dict[str, Any], dict[str, Any]]:
    """A rule set every stage acts on, and what each stage should remove from the library."""
    loud = library.where(library.energetic)
    quiet = library.where(lambda t: not library.energetic(t))
    rule_set = {
        "id": "staged",
        "name": "Staged",
        "text": "energy >= 0.5\nlimit 10 tracks\ndedupe by id",
        "exclude": loud[:2],
        "include": [quiet[0], loud[0]],  # loud[0] is excluded too: it stays out
    }
    removed = {
        "rules": 120 - len(loud),
        "excluded": 2,
        "deduped": 0,
        "over_limit": len(loud) - 2 - 10,
        "artist_cap": 0,
        "pins": 1,
    }
    return rule_set, removed


def test_a_preview_answers_counts_per_stage_and_per_track_reasons_only_when_asked(
    library: Library,
) -> None:
    rule_set, removed = staged_rule_set(library)
    post_rule(library, rule_set)
    [playlist] = preview(library)["playlists"]
    assert "dropped" not in playlist
    assert (playlist["candidates"], playlist["matched"]) == (120, 120 - removed["rules"])
    assert playlist["removed"] == removed
    assert playlist["track_count"] == 11
    stages = playlist["removed"]
    assert (
        playlist["candidates"]
        - sum(stages[stage] for stage in ("rules", "excluded", "deduped", "over_limit"))
        - stages["artist_cap"]
        + stages["pins"]
        == playlist["track_count"]
    )

    [detailed] = preview(library, detail=True)["playlists"]
    assert {**detailed, "dropped": None} == {**playlist, "dropped": None}
    excluded = rule_set["exclude"]
    assert {
        t: stage for t, stage in detailed["dropped"].items() if stage == "excluded"
    } == dict.fromkeys(excluded, "excluded")
    over = [t for t, stage in detailed["dropped"].items() if stage == "over limit"]
    assert len(over) == removed["over_limit"]

    def why(track_id: str) -> str:
        response = library.client.post(
            "/pipeline/playlists/explain", json={"track_id": track_id, "rule_id": "staged"}
        )
        assert response.status_code == 200, response.text
        outcome: str = response.json()["outcome"]
        return outcome

    assert why(excluded[1]) == "excluded"
    assert why(over[0]) == "over limit"
    assert why(rule_set["include"][0]) == "pinned"


def test_the_count_of_one_rule_set_equals_its_preview(library: Library) -> None:
    rule_set, removed = staged_rule_set(library)
    unsaved = library.client.post("/pipeline/playlists/count", json=rule_set)
    assert unsaved.status_code == 200, unsaved.text
    post_rule(library, rule_set)
    [playlist] = preview(library)["playlists"]
    fields = ("rule_id", "rule_name", "track_count", "candidates", "matched", "removed")
    count = unsaved.json()
    assert {f: count[f] for f in fields} == {f: playlist[f] for f in fields}
    assert (count["minutes"], count["duration_ms"]) == (
        playlist["minutes"],
        playlist["duration_ms"],
    )
    assert count["removed"] == removed

    # Referring to a stored rule set: only the two are evaluated, with the same result.
    post_rule(library, {"id": "guitars", "name": "Guitars", "text": 'genres has any ["rock"]'})
    referring = {"id": "both", "name": "Both", "text": 'in rule "guitars" and energy >= 0.5'}
    counted = library.client.post("/pipeline/playlists/count", json=referring).json()
    expected = library.where(lambda t: library.energetic(t) and library.has_genre(t, "rock"))
    assert counted["track_count"] == len(expected)


def test_counting_an_invalid_rule_set_is_422_naming_the_problem_as_validate_does(
    library: Library,
) -> None:
    body = {"id": "bad", "name": "Bad", "text": "energy >= 0.5 and\nnosuchfield = 3"}
    response = library.client.post("/pipeline/playlists/count", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "rules_invalid"
    validated = library.client.post("/data/rules/validate", json=body).json()
    assert not validated["valid"]
    messages = [problem["message"] for problem in response.json()["problems"]]
    assert messages == [problem["message"] for problem in validated["errors"]]
    assert any("nosuchfield" in message for message in messages)


def test_the_count_says_what_each_condition_and_group_matches_removes_and_adds(
    library: Library,
) -> None:
    text = 'energy >= 0.5 and (genres has any ["rock"] or genres has any ["metal"])'
    response = library.client.post(
        "/pipeline/playlists/count", json={"id": "nodes", "name": "Nodes", "text": text}
    )
    assert response.status_code == 200, response.text
    nodes = {node["path"]: node for node in response.json()["nodes"]}
    assert list(nodes) == ["", "0", "1", "1.0", "1.1"]

    def count(test: Callable[[str], bool]) -> int:
        return len(library.where(test))

    def rock(t: str) -> bool:
        return library.has_genre(t, "rock")

    def metal(t: str) -> bool:
        return library.has_genre(t, "metal")

    def energetic(t: str) -> bool:
        return library.energetic(t)

    matched = count(lambda t: energetic(t) and (rock(t) or metal(t)))
    assert response.json()["matched"] == matched
    assert nodes[""] == {
        "path": "",
        "kind": "group",
        "text": "all of",
        "matches": matched,
        "removes": 120 - matched,
        "adds": 0,
    }
    assert nodes["0"] == {
        "path": "0",
        "kind": "condition",
        "text": "energy >= 0.5",
        "matches": count(energetic),
        "removes": count(lambda t: (rock(t) or metal(t)) and not energetic(t)),
        "adds": 0,
    }
    assert nodes["1"] == {
        "path": "1",
        "kind": "group",
        "text": "any of",
        "matches": count(lambda t: rock(t) or metal(t)),
        "removes": count(lambda t: energetic(t) and not (rock(t) or metal(t))),
        "adds": 0,
    }
    assert nodes["1.0"] == {
        "path": "1.0",
        "kind": "condition",
        "text": 'genres has any ["rock"]',
        "matches": count(rock),
        "removes": 0,
        "adds": count(lambda t: rock(t) and not metal(t)),
    }
    assert nodes["1.1"]["adds"] == count(lambda t: metal(t) and not rock(t))
    assert all(node["removes"] > 0 or node["adds"] > 0 for node in nodes.values())


def test_node_counts_measure_within_the_sources_and_apply_a_groups_own_not(
    library: Library,
) -> None:
    rules = {
        "operator": "and",
        "conditions": [
            {
                "operator": "or",
                "negate": True,
                "conditions": [condition("genres", "has_any", ["metal"])],
            },
            condition("energy", "exists", None),
        ],
    }
    body = {"id": "n2", "name": "N2", "rules": rules, "sources": ["liked"]}
    response = library.client.post("/pipeline/playlists/count", json=body)
    assert response.status_code == 200, response.text
    nodes = {node["path"]: node for node in response.json()["nodes"]}

    def metal(t: str) -> bool:
        return library.has_genre(t, "metal")

    def has_energy(t: str) -> bool:
        return t in library.energy

    not_metal = len(library.where(lambda t: not metal(t)))
    assert (nodes["0"]["text"], nodes["0"]["matches"]) == ("not any of", not_metal)
    assert nodes["0"]["removes"] == len(library.where(lambda t: has_energy(t) and metal(t)))
    # Inside the negated group, its member is measured before the group's `not`.
    assert nodes["0.0"]["matches"] == 120 - not_metal
    assert nodes["0.0"]["adds"] == 120 - not_metal
    assert nodes["1"]["removes"] == len(library.where(lambda t: not metal(t) and not has_energy(t)))


# --- completion: what the editor offers while typing ---


def test_completion_offers_fields_known_values_most_common_first_and_rule_sets(
    library: Library,
) -> None:
    post_rule(library, {"id": "guitars", "name": "Guitars", "text": 'genres has any ["rock"]'})
    response = library.client.get("/data/rules/completion")
    assert response.status_code == 200, response.text
    answer = response.json()

    fields = {row["name"]: row for row in answer["fields"]}
    assert fields["energy"]["type"] == "number"
    assert "gte" in fields["energy"]["operators"] and "has_any" not in fields["energy"]["operators"]
    assert fields["genres"]["list"] and "has_any" in fields["genres"]["operators"]

    # genres: rock, Jazz, indie rock and metal, each on a quarter of the 120 tracks but the
    # empty one; counted per track.
    held: dict[str, int] = {}
    for genres in library.genres.values():
        for genre in genres:
            held[genre] = held.get(genre, 0) + 1
    genres = answer["values"]["genres"]
    assert {v["value"]: v["tracks"] for v in genres} == held
    assert [v["tracks"] for v in genres] == sorted((v["tracks"] for v in genres), reverse=True)

    artists = answer["values"]["artists"]
    tracks = library.server.env.services.stores.tracks.load_tracks()
    top = artists[0]
    assert top["tracks"] == sum(
        any(a.name == top["value"] for a in track.artists) for track in tracks.values()
    )
    assert "energy" not in answer["values"]  # a number: no vocabulary
    assert "id" not in answer["values"] and "name" not in answer["values"]
    assert answer["rule_sets"] == [{"id": "guitars", "name": "Guitars", "enabled": True}]
    assert "uri" not in answer["values"]  # an identifier, not a vocabulary


# --- the rules list's counts: every stored rule set's figures, without track ids -------------


def counts(library: Library, **body: Any) -> dict[str, Any]:
    response = library.client.post("/pipeline/playlists/counts", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_lists_counts_equal_the_preview_of_every_rule_set_without_track_ids(
    library: Library,
) -> None:
    staged, removed = staged_rule_set(library)
    post_rule(library, staged)
    post_rule(library, {"id": "guitars", "name": "Guitars", "text": 'genres has any ["rock"]'})
    post_rule(library, {"id": "off", "name": "Off", "enabled": False, "text": "energy < 0.3"})
    post_rule(
        library, {"id": "both", "name": "Both", "text": 'in rule "guitars" and energy >= 0.5'}
    )
    post_rule(library, {"id": "fast", "name": "Fast", "text": "tempo > 120"})
    ids = ["staged", "guitars", "off", "both", "fast"]

    answer = counts(library)
    assert answer == counts(library, rule_ids=[])
    assert [c["rule_id"] for c in answer["counts"]] == ids  # stored order, disabled one too
    assert answer["broken"] == []
    listed = {c["rule_id"]: c for c in answer["counts"]}
    playlists = {p["rule_id"]: p for p in preview(library, rule_ids=ids)["playlists"]}
    for rule_id in ids:
        shown = playlists[rule_id]
        assert listed[rule_id] == {key: shown[key] for key in listed[rule_id]}, rule_id
    assert set(listed["staged"]) == {
        "rule_id", "rule_name", "enabled", "track_count", "candidates", "matched", "removed",
        "duration_ms", "minutes", "warnings",
    }  # fmt: skip
    # Real values, not just equal ones: computed here from the enrichments the fixture wrote.
    assert listed["staged"]["removed"] == removed and listed["staged"]["track_count"] == 11
    assert listed["off"]["enabled"] is False
    assert listed["off"]["track_count"] == len(
        library.where(lambda t: library.energy.get(t, 1) < 0.3)
    )
    both = library.where(lambda t: library.energetic(t) and library.has_genre(t, "rock"))
    assert listed["both"]["track_count"] == len(both) > 0
    tracks = library.server.env.services.stores.tracks.load_tracks()
    assert listed["both"]["duration_ms"] == sum(tracks[t].duration_ms for t in both)
    assert [w["field"] for w in listed["fast"]["warnings"]] == ["tempo"]
    assert listed["fast"]["track_count"] == 0
    # No track id anywhere in the answer: it is sized for the list.
    text = json.dumps(answer)
    assert not any(track_id in text for track_id in library.track_ids)

    only = counts(library, rule_ids=["off", "guitars"])
    assert [c["rule_id"] for c in only["counts"]] == ["guitars", "off"]  # stored order
    assert only["counts"][0] == listed["guitars"]


def test_a_broken_rule_set_is_listed_while_the_others_are_counted(library: Library) -> None:
    store_broken_rule_sets(library, enabled=False)

    answer = counts(library)
    assert [(c["rule_id"], c["track_count"]) for c in answer["counts"]] == [
        ("loud", len(library.where(library.energetic)))
    ]
    assert answer["broken"] == preview(library, rule_ids=["bad", "loud", "on-bad"])["broken"]
    broken = {b["rule_id"]: b for b in answer["broken"]}
    assert list(broken) == ["bad", "on-bad"]  # the disabled one too: the list shows it
    assert broken["bad"]["problems"][0]["message"].startswith("name regex: invalid pattern")
    assert broken["on-bad"]["broken_references"] == ["bad"]


def test_counting_unknown_rule_ids_is_404_naming_them_as_the_preview_does(
    library: Library,
) -> None:
    post_rule(library, {"id": "loud", "name": "Loud", "text": "energy >= 0.5"})
    body = {"rule_ids": ["loud", "nope", "gone"]}
    missing = library.client.post("/pipeline/playlists/counts", json=body)
    assert missing.status_code == 404, missing.text
    assert (
        missing.json()
        == library.client.post("/pipeline/playlists/preview-from-rules", json=body).json()
    )
    assert missing.json()["error"] == "rule_not_found"
    assert "'nope', 'gone'" in missing.json()["detail"]
    for bad in ({"rule_ids": ["x" * 129]}, {"rule_ids": "loud"}, {"rules": []}):
        refused = library.client.post("/pipeline/playlists/counts", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    schema = library.client.get("/openapi.json").json()["components"]["schemas"]
    assert "track_ids" not in schema["CountedRuleSet"]["properties"]
    assert "nodes" not in schema["CountedRuleSet"]["properties"]
