"""`POST /data/library/query` and `/data/library/ids` through the real app in demo mode: the demo
account's liked songs and a playlist, fetched for real, and enrichment entries the tests write.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.models import TrackEnrichment
from tests.helpers.spotify_env import DemoServer

AT = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def library(connected: DemoServer) -> list[str]:
    """The fetched track ids (stored order); every third has a tempo from Deezer."""
    owned = connected.playlists.owned[0]
    jobs = connected.fetch(
        {"source_type": "liked"}, {"source_type": "playlist", "source_id": owned.id}
    )
    assert [job["status"] for job in jobs] == ["done", "done"], jobs
    stores = connected.env.services.stores
    track_ids = list(stores.tracks.load_tracks())
    stores.enrichments.save_enrichments_cache(
        {
            track_id: [
                TrackEnrichment(source="deezer", timestamp=AT, categories={"tempo": 60.0 + i % 50})
            ]
            for i, track_id in enumerate(track_ids)
            if i % 3 == 0
        }
    )
    return track_ids


def _query(server: DemoServer, status: int = 200, **body: Any) -> Any:
    response = server.client.post("/data/library/query", json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_the_filter_gives_the_ids_the_preview_gives_for_that_rule(
    connected: DemoServer, library: list[str]
) -> None:
    text = 'tempo >= 80 and (liked = true or name matches "^[A-M]")'
    rule = connected.client.post("/data/rules/parse", json={"text": text}).json()
    preview = connected.client.post(
        "/pipeline/playlists/preview-from-rules",
        json={"rules": [{"id": "f", "name": "F", **rule}]},
    ).json()
    [playlist] = preview["playlists"]
    assert playlist["track_ids"]
    page = _query(connected, filter=text, fields=["tempo"], limit=500)
    assert [row["id"] for row in page["rows"]] == playlist["track_ids"]
    assert page["total"] == len(playlist["track_ids"])
    ids = connected.client.post("/data/library/ids", json={"filter": text}).json()
    assert ids == {"total": len(playlist["track_ids"]), "ids": playlist["track_ids"]}


def test_a_sorted_page_shows_values_and_who_said_them(
    connected: DemoServer, library: list[str]
) -> None:
    page = _query(
        connected,
        sort=[{"field": "tempo", "direction": "desc"}, {"field": "name"}],
        fields=["name", "tempo"],
        limit=3,
    )
    assert page["total"] == page["library_tracks"] == len(library)
    assert page["sort"] == [
        {"field": "tempo", "direction": "desc"},
        {"field": "name", "direction": "asc"},
    ]
    assert page["columns"] == [
        {"name": "name", "type": "text", "list": False, "origin": "track"},
        {"name": "tempo", "type": "number", "list": False, "origin": "enrichment"},
    ]
    top = [row["values"]["tempo"] for row in page["rows"]]
    assert top == sorted(top, reverse=True) and top[0] == 109.0
    assert page["rows"][0]["provenance"] == {
        "tempo": [{"provider": "deezer", "at": "2026-11-30T00:00:00Z"}]
    }
    stored = connected.client.get(f"/data/enrichments/{page['rows'][0]['id']}").json()
    assert stored["view"]["tempo"] == 109.0 and stored["provenance"]["tempo"] == "deezer"


def test_a_bad_filter_is_a_422_naming_line_and_column(
    connected: DemoServer, library: list[str]
) -> None:
    body = _query(connected, 422, filter="tempo > 80 and\n  tempoo < 3")
    assert body["error"] == "rules_invalid"
    [problem] = body["problems"]
    assert (problem["line"], problem["column"], problem["length"]) == (2, 3, 6)
    assert problem["hint"] == "did you mean 'tempo'?"
    assert "\n  tempoo < 3\n  ^^^^^^" in problem["rendered"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"sort": [{"field": "bpmm"}]}, "unknown_field"),
        ({"fields": ["nme"]}, "unknown_field"),
        ({"limit": 501}, "validation_error"),
        ({"sort": [{"field": "name", "direction": "up"}]}, "validation_error"),
        ({"filter": "tempo > 1\nlimit 10"}, "rules_invalid"),
        ({"columns": ["name"]}, "validation_error"),
    ],
)
def test_what_cannot_be_answered_is_a_422_saying_why(
    connected: DemoServer, library: list[str], body: dict[str, Any], code: str
) -> None:
    assert _query(connected, 422, **body)["error"] == code


def test_an_empty_library_answers_an_empty_page(demo: DemoServer) -> None:
    page = _query(demo, filter="tempo > 1")
    assert page["total"] == 0 and page["rows"] == [] and page["library_tracks"] == 0


def test_rows_name_the_album_and_artist_ids_spotify_links_need(
    connected: DemoServer, library: list[str]
) -> None:
    page = _query(connected, fields=["name", "album", "artists"], limit=500)
    stored = connected.env.services.stores.tracks.load_tracks()
    assert len(page["rows"]) == len(library)
    for row in page["rows"]:
        track = stored[row["id"]]
        assert row["links"] == {
            "album": [track.album.id],
            "artists": [artist.id for artist in track.artists],
        }
    assert len({row["links"]["album"][0] for row in page["rows"]}) > 1
    without = _query(connected, fields=["name", "tempo"], limit=3)
    assert [row["links"] for row in without["rows"]] == [{}, {}, {}]


def test_ids_of_a_range_of_rows_match_the_rows_of_the_pages(
    connected: DemoServer, library: list[str]
) -> None:
    sort = [{"field": "tempo", "direction": "desc"}, {"field": "name"}]
    page = _query(connected, sort=sort, fields=["name"], offset=5, limit=20)
    ranged = connected.client.post(
        "/data/library/ids", json={"sort": sort, "offset": 5, "limit": 20}
    ).json()
    assert ranged == {"total": len(library), "ids": [row["id"] for row in page["rows"]]}
    bad = connected.client.post("/data/library/ids", json={"offset": -1, "limit": 0})
    assert bad.status_code == 422
