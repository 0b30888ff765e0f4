"""Bulk edits of your own values through the real app in demo mode: a selection or every track
matching a filter, counts of what changed, and one step of undo that puts back exactly what
was there (or refuses, saying why). The library is the demo account's liked songs, fetched
for real, with provider entries the tests write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from app.core.models import TrackEnrichment
from tests.helpers.spotify_env import DemoServer

AT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def library(connected: DemoServer) -> list[str]:
    """The liked songs' ids; every other one has Last.fm tags, every fourth one ["jazz"]."""
    [job] = connected.fetch({"source_type": "liked"})
    assert job["status"] == "done", job
    stores = connected.env.services.stores
    track_ids = list(stores.tracks.load_tracks())
    stores.enrichments.save_enrichments_cache(
        {
            track_id: [
                TrackEnrichment(
                    source="lastfm",
                    timestamp=AT,
                    categories={"tags": ["jazz"] if i % 4 == 0 else ["rock"]},
                )
            ]
            for i, track_id in enumerate(track_ids)
            if i % 2 == 0
        }
    )
    return track_ids


def _edit(server: DemoServer, status: int = 200, **body: Any) -> Any:
    response = server.client.post("/data/enrichments/manual", json=body)
    assert response.status_code == status, response.text
    return response.json()


def _undo(server: DemoServer, status: int = 200) -> Any:
    response = server.client.post("/data/enrichments/manual/undo")
    assert response.status_code == status, response.text
    return response.json()


def _stored(server: DemoServer) -> bytes:
    return (server.env.services.stores.enrichments.path).read_bytes()


def test_updated_counts_the_tracks_the_edit_changed_not_every_track_given(
    connected: DemoServer, library: list[str]
) -> None:
    first = _edit(connected, track_ids=library[:3], add_tags=["summer"])
    assert first["updated"] == 3
    again = _edit(connected, track_ids=library[:5], add_tags=["summer"])
    assert again["updated"] == 2  # three of the five had the tag already
    assert (first["unchanged"], again["unchanged"]) == (0, 3)
    assert again["manual"][library[0]] == {"tags": ["summer"]}
    assert set(again["manual"]) == set(library[:5])


def test_a_filter_edits_every_track_that_matches(connected: DemoServer, library: list[str]) -> None:
    text = 'tags has any ["jazz"]'
    matching = connected.client.post("/data/library/ids", json={"filter": text}).json()["ids"]
    assert len(matching) == len(library[::4])
    report = _edit(connected, filter=text, set={"mood": "late night"})
    assert report["updated"] == len(matching) and set(report["manual"]) == set(matching)
    assert report["undo"]["summary"] == f"set mood='late night' on {len(matching)} tracks"
    page = connected.client.post(
        "/data/library/query", json={"filter": 'mood = "late night"', "fields": ["mood"]}
    ).json()
    assert page["total"] == len(matching)
    assert page["rows"][0]["provenance"]["mood"][0]["provider"] == "manual"


def test_undo_puts_back_exactly_what_was_there(connected: DemoServer, library: list[str]) -> None:
    connected.client.patch(f"/data/enrichments/{library[1]}", json={"set": {"energy": 0.3}})
    _undo(connected)  # the PATCH was an edit too: undone, back to no manual values
    connected.client.patch(f"/data/enrichments/{library[1]}", json={"set": {"energy": 0.3}})
    before = _stored(connected)
    report = _edit(connected, track_ids=library[:6], add_tags=["road trip"], remove_tags=["jazz"])
    assert report["updated"] == 6
    state = connected.client.get("/data/enrichments/manual/undo").json()
    assert state == {"available": True, "last": report["undo"]}
    assert state["last"]["tracks"] == 6
    undone = _undo(connected)
    assert undone["undone"] == report["undo"] and undone["restored"] == 6
    assert undone["manual"][library[1]] == {"energy": 0.3}
    assert undone["manual"][library[0]] is None
    assert _stored(connected) == before  # byte for byte: entries, times, provider values
    assert connected.client.get("/data/enrichments/manual/undo").json() == {
        "available": False,
        "last": None,
    }
    nothing = _undo(connected, 409)
    assert nothing["error"] == "nothing_to_undo"


def test_undo_refuses_when_values_changed_since_and_restores_nothing(
    connected: DemoServer, library: list[str]
) -> None:
    _edit(connected, track_ids=library[:4], add_tags=["summer"])
    stores = connected.env.services.stores
    # A change the edit record does not know (enrichments.json edited by hand, say).
    stores.enrichments.save_enrichments_cache(
        {library[2]: [TrackEnrichment(source="manual", categories={"tags": ["winter"]})]}
    )
    changed = _stored(connected)
    refused = _undo(connected, 409)
    assert refused["error"] == "undo_unsafe"
    assert refused["changed"] == [library[2]]
    assert "1 of its 4 tracks changed since" in refused["detail"]
    assert _stored(connected) == changed
    assert connected.client.get("/data/enrichments/manual/undo").json()["available"] is True


def test_an_edit_that_changes_nothing_leaves_the_last_one_to_undo(
    connected: DemoServer, library: list[str]
) -> None:
    first = _edit(connected, track_ids=library[:2], add_tags=["summer"])
    same = _edit(connected, track_ids=library[:2], add_tags=["summer"])
    assert (same["updated"], same["undo"]) == (0, None)
    state = connected.client.get("/data/enrichments/manual/undo").json()
    assert state["last"] == first["undo"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"filter": 'name = "no such song at all"', "add_tags": ["x"]}, 404, "no_tracks_matched"),
        ({"filter": "tempoo > 1", "add_tags": ["x"]}, 422, "rules_invalid"),
        ({"add_tags": ["x"]}, 422, "validation_error"),
        ({"filter": "", "track_ids": ["a"], "add_tags": ["x"]}, 422, "validation_error"),
    ],
)
def test_what_cannot_be_edited_is_refused_saying_why(
    connected: DemoServer, library: list[str], body: dict[str, Any], status: int, code: str
) -> None:
    before = _stored(connected)
    assert _edit(connected, status, **body)["error"] == code
    assert _stored(connected) == before


def test_the_undo_record_is_a_file_of_its_own(connected: DemoServer, library: list[str]) -> None:
    report = _edit(connected, track_ids=library[:2], set={"bpm": 90})
    path = connected.env.services.stores.undo.path
    assert path.name == "undo.json" and path.stat().st_mode & 0o777 == 0o600
    [record] = orjson.loads(path.read_bytes())["data"]
    assert record["id"] == report["undo"]["id"]
    assert record["before"] == {library[0]: None, library[1]: None}
