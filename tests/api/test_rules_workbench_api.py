"""The rules workbench's backend through the real app in demo mode: a rule set's playlist as
the library table and its charts (saved or not), overlaps, starters, rule files up and down,
and each rule set's standing with Spotify — each checked against the preview or the library
query it must agree with."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.enriched_demo import liked_with_tempo_and_genres
from tests.helpers.spotify_env import DemoServer


@pytest.fixture
def server(connected: DemoServer) -> DemoServer:
    """The demo's liked songs fetched; tempo on every other track, a genre on every third."""
    liked_with_tempo_and_genres(connected, lambda i: 100.0 + i % 80)
    return connected


def save(server: DemoServer, rule_id: str, text: str, **more: Any) -> None:
    body = {"id": rule_id, "name": rule_id.title(), "text": text, **more}
    response = server.client.post("/data/rules", json=body)
    assert response.status_code == 200, response.text


def preview(server: DemoServer, **body: Any) -> dict[str, Any]:
    response = server.client.post("/pipeline/playlists/preview-from-rules", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def as_json(server: DemoServer, rule: dict[str, Any]) -> dict[str, Any]:
    """A rule set given as text, as JSON (what the preview takes)."""
    parsed = server.client.post("/data/rules/parse", json={"text": rule["text"]}).json()
    return {"id": rule["id"], "name": rule["name"], **parsed}


def query(server: DemoServer, **body: Any) -> dict[str, Any]:
    response = server.client.post("/data/library/query", json={"limit": 500, **body})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_the_library_query_shows_an_unsaved_rule_sets_playlist_in_its_order(
    server: DemoServer,
) -> None:
    rule = {"id": "fast", "name": "Fast", "text": "tempo > 130\nsort by tempo desc\nlimit 7"}
    [playlist] = preview(server, rules=[as_json(server, rule)])["playlists"]
    assert playlist["track_count"] == 7
    page = query(server, rule=rule, fields=["name", "tempo"])
    assert page["total"] == 7
    assert [row["id"] for row in page["rows"]] == playlist["track_ids"]
    tempos = [row["values"]["tempo"] for row in page["rows"]]
    assert tempos == sorted(tempos, reverse=True) and min(tempos) > 130
    assert page["rows"][0]["provenance"]["tempo"][0]["provider"] == "deezer"
    # A sort of the table's own, and a filter on top of the playlist.
    by_name = query(server, rule=rule, sort=[{"field": "name"}], fields=["name"])
    names = [row["values"]["name"] for row in by_name["rows"]]
    assert names == sorted(names, key=lambda n: str(n).casefold()) or len(set(names)) == 7
    jazz = query(server, rule=rule, filter='genres has any ["jazz"]')
    assert {row["id"] for row in jazz["rows"]} == {
        track_id
        for track_id in playlist["track_ids"]
        if track_id
        in {row["id"] for row in query(server, filter='genres has any ["jazz"]')["rows"]}
    }
    # Explain takes the same unsaved rule set: the eighth fastest is beyond the limit.
    by_tempo = query(server, sort=[{"field": "tempo", "direction": "desc"}], fields=["tempo"])
    eighth = by_tempo["rows"][7]["id"]
    why = server.client.post("/pipeline/playlists/explain", json={"track_id": eighth, "rule": rule})
    assert why.status_code == 200, why.text
    assert why.json()["outcome"] == "over limit"
    [condition] = why.json()["rules"]["conditions"]
    assert (condition["field"], condition["provider"]) == ("tempo", "deezer")
    broken = server.client.post(
        "/data/library/query", json={"rule": {"id": "x", "name": "X", "text": "tempoo > 1"}}
    )
    assert broken.status_code == 422 and broken.json()["error"] == "rules_invalid"
    assert "tempo" in broken.text  # did you mean


def test_a_playlists_distributions_count_its_tracks_on_the_librarys_bins(
    server: DemoServer,
) -> None:
    rule = {"id": "fast", "name": "Fast", "text": "tempo > 150"}
    count = server.client.post("/pipeline/playlists/count", json=rule).json()["track_count"]
    library = server.client.get("/data/library/distributions", params={"fields": ["tempo"]})
    response = server.client.post(
        "/data/library/distributions", json={"fields": ["tempo", "genres"], "rule": rule}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tracks"] == count > 0
    tempo, genres = body["fields"]
    assert tempo["present"] == count and sum(b["count"] for b in tempo["bins"]) == count
    whole = library.json()["fields"][0]["bins"]
    assert [(b["low"], b["high"]) for b in tempo["bins"]] == [(b["low"], b["high"]) for b in whole]
    assert all(b["count"] == 0 for b in tempo["bins"] if b["high"] <= 150)
    # Tracks with a tempo are the even ones: those with a genre have both (every sixth).
    with_genre = query(server, rule=rule, filter='genres has any ["jazz"]')["total"]
    assert {(v["value"], v["count"]) for v in genres["top"]} == {
        ("jazz", with_genre),
        ("soul", with_genre),
    }


def test_overlaps_agree_with_the_preview_and_each_filter_selects_its_tracks(
    server: DemoServer,
) -> None:
    save(server, "fast", "tempo > 140")
    save(server, "jazz", 'genres has any ["jazz"]')
    save(server, "soul", 'genres has any ["soul"]')
    save(server, "off", "tempo > 100", enabled=False)
    response = server.client.get("/pipeline/playlists/overlaps")
    assert response.status_code == 200, response.text
    body = response.json()
    playlists = {p["rule_id"]: set(p["track_ids"]) for p in preview(server)["playlists"]}
    ids = [item["rule_id"] for item in body["rule_sets"]]
    assert ids == ["fast", "jazz", "soul"]  # enabled ones only
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            assert body["matrix"][i][j] == len(playlists[a] & playlists[b]), (a, b)
    assert body["matrix"][1][2] == len(playlists["soul"]) > 0  # soul ⊂ jazz
    several = (
        (playlists["fast"] & playlists["jazz"])
        | (playlists["fast"] & playlists["soul"])
        | (playlists["jazz"] & playlists["soul"])
    )
    assert body["several"]["count"] == len(several)
    assert {r["id"] for r in query(server, filter=body["several"]["filter"])["rows"]} == several
    for pair in body["pairs"]:
        assert query(server, filter=pair["filter"])["total"] == pair["tracks"]
    liked = set(server.env.services.stores.tracks.load_tracks())  # the fetched liked songs
    nowhere = liked - set().union(*playlists.values())
    assert body["liked_nowhere"]["count"] == len(nowhere) > 0
    assert body["liked_nowhere"]["liked"] == len(liked)
    assert query(server, filter=body["liked_nowhere"]["filter"])["total"] == len(nowhere)


def test_starters_come_from_the_library_and_count_as_the_editor_does(server: DemoServer) -> None:
    response = server.client.get("/pipeline/playlists/starters")
    assert response.status_code == 200, response.text
    starters = response.json()["starters"]
    assert len(starters) >= 6
    keys = [starter["key"] for starter in starters]
    assert keys[:2] == ["genre-jazz", "genre-soul"]
    assert {"fast", "recent", "liked-nowhere"} <= set(keys)
    assert any(key.startswith("decade-") for key in keys)
    for starter in starters:
        body = {"id": "s", "name": starter["title"], "text": starter["text"]}
        counted = server.client.post("/pipeline/playlists/count", json=body).json()
        assert (starter["count"], starter["minutes"]) == (
            counted["track_count"],
            counted["minutes"],
        )
    nowhere = next(s for s in starters if s["key"] == "liked-nowhere")
    assert nowhere["needs"] == ["fetch your playlists (Sources) to know which songs are in one"]
    jazz = next(s for s in starters if s["key"] == "genre-jazz")
    assert jazz["needs"] == [] and jazz["count"] > 0
    assert "most common genre" in jazz["why"]
    # No mood or energy enriched: the last starter says what to run instead of matching.
    calm = starters[-1]
    assert calm["count"] == 0 and calm["needs"]
    assert calm["needs"][0].startswith("run enrichment for energy (")


def test_a_rules_file_goes_down_and_back_up_with_what_changes_shown_first(
    server: DemoServer,
) -> None:
    save(server, "fast", "tempo > 140\nsort by tempo desc")
    save(server, "jazz", 'genres has any ["jazz"]')
    down = server.client.get("/data/rules/export")
    assert down.status_code == 200, down.text
    text = down.json()["text"]
    assert "[fast] Fast\ntempo > 140" in text and "[jazz] Jazz" in text

    unchanged = server.client.post("/data/rules-file/check", json={"text": text}).json()
    assert unchanged["applicable"] is True
    assert [(e["id"], e["change"]) for e in unchanged["rule_sets"]] == [
        ("fast", "unchanged"),
        ("jazz", "unchanged"),
    ]
    edited = text.replace("tempo > 140", "tempo > 150") + '\n[soul] Soul\ngenres has any ["soul"]\n'
    edited = edited.replace("[jazz] Jazz\n", "").replace('genres has any ["jazz"]\n', "", 1)
    check = server.client.post("/data/rules-file/check", json={"text": edited}).json()
    assert [(e["id"], e["change"]) for e in check["rule_sets"]] == [
        ("fast", "changed"),
        ("soul", "new"),
    ]
    assert check["kept"] == ["jazz"]
    assert check["rule_sets"][0]["changed_fields"] == ["rules"]
    assert check["rule_sets"][0]["stored_text"].startswith("tempo > 140")
    assert server.client.get("/data/rules/fast").json()["text"].startswith("tempo > 140")

    bad = server.client.post("/data/rules-file/check", json={"text": "[x] X\ntempoo > 1\n"}).json()
    assert bad["applicable"] is False and bad["rule_sets"][0]["change"] == "invalid"
    assert "tempo" in bad["rule_sets"][0]["report"]["errors"][0]["rendered"]

    applied = server.client.post("/data/rules-file", json={"text": edited})
    assert applied.status_code == 200, applied.text
    assert [item["id"] for item in applied.json()] == ["fast", "soul"]
    assert server.client.get("/data/rules/fast").json()["text"].startswith("tempo > 150")
    refused = server.client.post("/data/rules-file", json={"text": "[x] X\ntempoo > 1\n"})
    assert refused.status_code == 422 and refused.json()["error"] == "rules_invalid"
    garbage = server.client.post("/data/rules-file/check", json={"text": "no header"})
    assert garbage.status_code == 422 and garbage.json()["error"] == "rules_file_invalid"


def test_sync_status_follows_the_latest_plan_and_the_last_apply(server: DemoServer) -> None:
    save(server, "long", "duration > 240", target_playlist_name="Long ones")
    save(server, "short", "duration < 120")

    def states() -> dict[str, dict[str, Any]]:
        response = server.client.get("/pipeline/playlists/sync-status")
        assert response.status_code == 200, response.text
        return {item["rule_id"]: item for item in response.json()}

    assert {k: v["status"] for k, v in states().items()} == {
        "long": "not checked",
        "short": "not checked",
    }
    planned = server.client.post("/pipeline/playlists/plan", json={}).json()["plans"]
    [first] = planned
    now = states()["long"]
    assert now["status"] == "would change" and now["plan"]["id"] == first["id"]
    assert now["plan"]["summary"]["adds"] == first["summary"]["adds"] > 0
    assert now["checked_at"] is not None and now["last_apply"] is None
    job = server.client.post("/pipeline/playlists/apply", json={"plan_id": first["id"]})
    assert server.poll(job.json()["id"])["status"] == "done"
    applied = states()["long"]
    assert applied["status"] == "in sync"
    assert applied["last_apply"]["plan_id"] == first["id"]
    assert applied["last_apply"]["writes"] >= 1
    playlist_id = applied["last_apply"]["playlist_id"]
    server.client.post("/pipeline/playlists/plan", json={})
    assert states()["long"]["status"] == "in sync"  # the new plan has nothing to do
    # Someone removes a track on Spotify: the next plan sees the drift.
    first_uri = server.emulator.playlist_uris(playlist_id)[0]
    assert first_uri is not None
    server.emulator.edit_playlist_as_other_user(playlist_id, remove=[first_uri])
    server.client.post("/pipeline/playlists/plan", json={})
    assert states()["long"]["status"] == "drift"
    assert states()["short"]["status"] == "not checked"  # no target: never planned
