"""`GET /data/library/distributions` through the real app in demo mode: histograms and most
frequent values over the demo's fetched liked songs, each bar's filter selecting exactly its
tracks through `POST /data/library/query`."""

from __future__ import annotations

import pytest

from tests.helpers.enriched_demo import liked_with_tempo_and_genres
from tests.helpers.spotify_env import DemoServer


@pytest.fixture
def library(connected: DemoServer) -> list[str]:
    """The fetched liked songs; tempo 60..109 on every other one, a genre on every third."""
    return liked_with_tempo_and_genres(connected, lambda i: 60.0 + i % 50)


def _count(server: DemoServer, text: str) -> int:
    response = server.client.post("/data/library/query", json={"filter": text, "limit": 1})
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


def test_a_histogram_counts_every_value_once_and_each_bar_filters_its_tracks(
    connected: DemoServer, library: list[str]
) -> None:
    response = connected.client.get(
        "/data/library/distributions", params={"fields": ["tempo", "genres"], "bins": 10}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tracks"] == len(library)
    tempo, genres = body["fields"]
    with_tempo = len(range(0, len(library), 2))
    assert (tempo["field"], tempo["kind"]) == ("tempo", "histogram")
    assert (tempo["present"], tempo["missing"]) == (with_tempo, len(library) - with_tempo)
    assert sum(b["count"] for b in tempo["bins"]) == with_tempo
    assert tempo["bins"][0]["low"] <= 60 and tempo["bins"][-1]["high"] > 109
    widths = {round(b["high"] - b["low"], 9) for b in tempo["bins"]}
    assert widths == {5.0}  # a round width: 50 values in at most 10 bins
    for bar in tempo["bins"]:
        assert _count(connected, bar["filter"]) == bar["count"], bar

    assert genres["kind"] == "top"
    assert [(v["value"], v["count"]) for v in genres["top"]] == [
        ("jazz", len(range(0, len(library), 3))),
        ("soul", len(range(0, len(library), 6))),
    ]
    assert genres["top"][0]["filter"] == 'genres has any ["jazz"]'
    for value in genres["top"]:
        assert _count(connected, value["filter"]) == value["count"]


def test_the_default_fields_and_an_unknown_field_in_words(
    connected: DemoServer, library: list[str]
) -> None:
    body = connected.client.get("/data/library/distributions").json()
    assert [f["field"] for f in body["fields"]] == [
        "year",
        "tempo",
        "energy",
        "duration",
        "genres",
        "tags",
    ]
    year = body["fields"][0]
    assert year["present"] == len(library)  # every fetched track has a release year
    assert sum(b["count"] for b in year["bins"]) == len(library)

    refused = connected.client.get("/data/library/distributions", params={"fields": "tempoo"})
    assert refused.status_code == 422
    assert refused.json()["error"] == "unknown_field"
    assert "did you mean 'tempo'" in refused.json()["detail"]


def test_distributions_are_computed_once_per_library_and_again_after_a_change(
    connected: DemoServer, library: list[str]
) -> None:
    queries = connected.env.services.queries
    params = {"fields": ["genres", "tempo"], "bins": 10}
    first = connected.client.get("/data/library/distributions", params=params).json()
    _views, kept = queries.current()
    assert kept.distributions_computed == 1
    again = connected.client.get("/data/library/distributions", params=params).json()
    assert again == first
    assert queries.current()[1] is kept and kept.distributions_computed == 1  # kept
    other = connected.client.get("/data/library/distributions", params={"fields": ["tempo"]})
    assert other.status_code == 200 and kept.distributions_computed == 2  # another question
    # A tag on two tracks changes the library: the next answer is computed from it.
    edit = connected.client.post(
        "/data/enrichments/manual",
        json={"track_ids": library[:2], "add_tags": ["cached-or-not"]},
    )
    assert edit.status_code == 200, edit.text
    tags = connected.client.get("/data/library/distributions", params={"fields": ["tags"]}).json()
    assert tags["fields"][0]["top"][0]["value"] == "cached-or-not"
    assert tags["fields"][0]["top"][0]["count"] == 2
    after = connected.client.get("/data/library/distributions", params=params).json()
    assert after == first  # the same values, computed afresh for the changed library
    assert queries.current()[1] is not kept
    assert queries.current()[1].distributions_computed == 2
