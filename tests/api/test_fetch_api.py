"""Fetching track sources through the real app in demo mode (v2 fetch-sources + aggregate,
v1 synchronous `POST /pipeline/tracks`, /data/tracks), checked against the emulator's account.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.spotify_env import (
    DemoServer,
    demo_settings,
    track_ids_of,
    write_exportify_csv,
)

LIKED: dict[str, Any] = {"source_type": "liked"}
LOGIN_URL = "http://127.0.0.1:8888/auth/login"


def upload_csv(server: DemoServer, path: Path, **extra: Any) -> dict[str, Any]:
    """POST the file as the web app does (JSON: its name and text); the stored file and job."""
    body = {"filename": path.name, "content": path.read_text(encoding="utf-8"), **extra}
    response = server.client.post("/pipeline/tracks/import-csv", json=body)
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def playlist(playlist_id: str, **extra: Any) -> dict[str, Any]:
    return {"source_type": "playlist", "source_id": playlist_id, **extra}


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def all_tracks(server: DemoServer, **params: Any) -> list[dict[str, Any]]:
    view = server.aggregate(limit=1000, **params)
    assert view["total"] == len(view["tracks"])
    tracks: list[dict[str, Any]] = view["tracks"]
    return tracks


def matches(track: dict[str, Any], needle: str) -> bool:
    words = [track["name"], track["album"]["name"], *(a["name"] for a in track["artists"])]
    return needle.casefold() in " ".join(words).casefold()


def api_paths(server: DemoServer) -> Counter[str]:
    return Counter(record.path for record in server.emulator.api_requests())


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[DemoServer]:
    """A logged-in demo that waits out at most 5 s of Retry-After."""
    with DemoServer.open(demo_settings(tmp_path / "cache", spotify_max_retry_after=5)) as server:
        server.login()
        yield server


# --- v2: fetch-sources and aggregate -------------------------------------------------------


def test_fetch_liked_and_a_playlist_then_aggregate(connected: DemoServer) -> None:
    emulator = connected.emulator
    target = connected.playlists.owned[0]
    entries = track_ids_of(emulator, target.id)
    liked_ids = emulator.saved_track_ids()

    response = connected.client.post(
        "/pipeline/tracks/fetch-sources", json={"sources": [LIKED, playlist(target.id)]}
    )
    assert response.status_code == 202
    started = response.json()["jobs"]
    assert [job["step"] for job in started] == ["fetch_tracks", "fetch_tracks"]
    assert [job["metadata"]["source_type"] for job in started] == ["liked", "playlist"]
    assert started[1]["metadata"]["playlist"]["snapshot_id"] == target.snapshot_id
    liked_job, playlist_job = (connected.poll(job["id"]) for job in started)

    assert liked_job["status"] == "done", liked_job
    assert liked_job["payload"]["mode"] == "full"
    assert liked_job["payload"]["entries"] == len(liked_ids) == 120
    assert liked_job["payload"]["requests"] == 3  # 120 liked songs, 50 a page
    assert playlist_job["status"] == "done", playlist_job
    summary = playlist_job["payload"]
    assert summary["source"]["key"] == f"playlist:{target.id}"
    assert summary["source"]["name"] == target.name
    assert summary["snapshot_id"] == target.snapshot_id
    assert summary["entries"] == len(entries)
    assert summary["tracks"] == len(set(entries))
    others = Counter(e.kind for e in target.entries if e.kind != "track")
    assert summary["skipped"] == dict(others)
    assert sum(others.values()) > 0  # the playlist holds a local file or an episode

    view = connected.aggregate(limit=1000)
    assert view["total"] == len(set(liked_ids) | set(entries))
    assert {track["id"] for track in view["tracks"]} == set(liked_ids) | set(entries)
    liked_at = {saved.track_id: saved.added_at for saved in emulator.state.liked}
    playlist_at: dict[str, datetime] = {}
    for entry in target.entries:
        if entry.kind == "track" and entry.track_id is not None:
            playlist_at.setdefault(entry.track_id, entry.added_at)
    both = 0
    for track in view["tracks"]:
        sources = {member["key"]: when(member["added_at"]) for member in track["sources"]}
        expected: dict[str, datetime | None] = {}
        if track["id"] in liked_at:
            expected["liked"] = liked_at[track["id"]]
        if track["id"] in playlist_at:
            expected[f"playlist:{target.id}"] = playlist_at[track["id"]]
        assert sources == expected, track["id"]
        both += len(expected) == 2
    assert both > 0  # some tracks come from both sources: they are listed once
    counts = {source["key"]: source for source in view["sources"]}
    assert set(counts) == {"liked", f"playlist:{target.id}"}
    assert (counts["liked"]["entries"], counts["liked"]["tracks"]) == (120, 120)
    assert counts[f"playlist:{target.id}"]["entries"] == len(entries)
    assert counts[f"playlist:{target.id}"]["tracks"] == len(set(entries))
    assert counts[f"playlist:{target.id}"]["snapshot_id"] == target.snapshot_id


def test_aggregate_filters_by_source_and_text_and_paginates(connected: DemoServer) -> None:
    target = connected.playlists.collaborative[0]
    entries = track_ids_of(connected.emulator, target.id)
    assert len(entries) > len(set(entries))  # duplicates in the playlist are one track
    jobs = connected.fetch(LIKED, playlist(target.id))
    assert [job["status"] for job in jobs] == ["done", "done"]
    everything = all_tracks(connected)

    only_playlist = all_tracks(connected, source=f"playlist:{target.id}")
    assert {track["id"] for track in only_playlist} == set(entries)
    assert len(all_tracks(connected, source="liked")) == 120

    artist = everything[7]["artists"][0]["name"]
    needle = artist.split()[0].upper()
    found = all_tracks(connected, q=needle)
    expected = [track["id"] for track in everything if matches(track, needle)]
    assert [track["id"] for track in found] == expected
    assert everything[7]["id"] in expected and len(expected) < len(everything)
    assert all_tracks(connected, q="no such words anywhere") == []

    pages = [connected.aggregate(limit=50, offset=offset) for offset in (0, 50, 100, 150)]
    assert {page["total"] for page in pages} == {len(everything)}
    paged = [track["id"] for page in pages for track in page["tracks"]]
    assert paged == [track["id"] for track in everything][:200]
    assert len(set(paged)) == len(paged)
    assert [len(page["tracks"]) for page in pages][-1] == max(0, min(50, len(everything) - 150))

    unknown = connected.client.get("/pipeline/tracks/aggregate", params={"source": "playlist:x"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "source_not_found"
    assert "liked" in unknown.json()["detail"]


@pytest.mark.parametrize(
    ("sources", "where"),
    [
        ([{"source_type": "album", "source_id": "x"}], "body.sources.0.source_type"),
        ([{"source_type": "playlist"}], "source_id is required for a playlist source"),
        ([{"source_type": "csv", "source_id": "  "}], "source_id is required for a csv source"),
        ([{"source_type": "liked", "colour": "red"}], "body.sources.0.colour"),
        ([], "body.sources"),
    ],
)
def test_invalid_source_requests_are_422(
    connected: DemoServer, sources: list[dict[str, Any]], where: str
) -> None:
    response = connected.client.post("/pipeline/tracks/fetch-sources", json={"sources": sources})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert where in response.json()["detail"]


def test_unknown_playlist_is_404_and_nothing_starts(connected: DemoServer) -> None:
    response = connected.client.post(
        "/pipeline/tracks/fetch-sources",
        json={"sources": [LIKED, playlist("0000000000000000000000")]},
    )
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "playlist_not_found"
    assert "'0000000000000000000000' is not in your library" in body["detail"]
    assert "GET /spotify/playlists" in body["detail"]
    # Every source is checked before any job starts: the liked songs were not fetched either.
    assert connected.client.get("/pipeline/jobs").json()["total"] == 0
    assert api_paths(connected)["/me/tracks"] == 0


def test_followed_playlist_is_403_with_the_reason(connected: DemoServer) -> None:
    followed = connected.playlists.followed[0]
    owner = connected.emulator.library.users()[followed.owner_id].display_name
    response = connected.client.post(
        "/pipeline/tracks/fetch-sources", json={"sources": [playlist(followed.id)]}
    )
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "playlist_unreadable"
    assert body["detail"].startswith(
        f"cannot read playlist {followed.name!r}: followed playlist owned by {owner}"
    )
    assert "own or collaborate on" in body["detail"]
    assert connected.client.get("/pipeline/jobs").json()["total"] == 0
    assert api_paths(connected)[f"/playlists/{followed.id}/items"] == 0


def test_spotify_sources_need_a_login_before_any_job_starts(
    demo: DemoServer, tmp_path: Path
) -> None:
    for sources in ([LIKED], [{"source_type": "playlist", "source_id": "x" * 22}]):
        response = demo.client.post("/pipeline/tracks/fetch-sources", json={"sources": sources})
        assert response.status_code == 401
        assert response.json()["error"] == "login_required"
        assert response.json()["auth_url"] == LOGIN_URL
    assert demo.client.get("/pipeline/jobs").json()["total"] == 0
    # A CSV file needs no Spotify account.
    path = write_exportify_csv(tmp_path / "a.csv", [["K" * 22, "One", "A" * 22, "Ann", "X", ""]])
    job = demo.poll(upload_csv(demo, path)["job"]["id"])
    assert (job["status"], job["payload"]["entries"]) == ("done", 1)


def test_a_csv_that_is_not_an_export_fails_its_job_and_saves_nothing(
    connected: DemoServer, tmp_path: Path
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("Title,Singer\nSong,Someone\n", encoding="utf-8")
    job = connected.poll(upload_csv(connected, path)["job"]["id"])
    assert job["status"] == "failed"
    assert job["error"]["code"] == "csv_columns_missing"
    assert "is not an Exportify export" in job["error"]["message"]
    assert connected.store_bytes() == {"tracks.json": None, "sources.json": None}


def test_csv_source_reports_bad_rows_and_joins_the_library(
    connected: DemoServer, tmp_path: Path
) -> None:
    library = connected.emulator.library
    liked_first = connected.emulator.saved_track_ids()[0]
    not_liked = next(
        t for t in library.tracks if t not in set(connected.emulator.saved_track_ids())
    )
    assert connected.fetch(LIKED)[0]["status"] == "done"
    path = write_exportify_csv(
        tmp_path / "Road Trip.csv",
        [
            [liked_first, "First", "A" * 22, "Someone", "Album A", "2019-03-02T10:00:00Z"],
            [not_liked, "Second", "B" * 22, "Other\\, Jr.", "Album B", "2020-01-01T00:00:00Z"],
            ["not-a-track-id", "Broken", "C" * 22, "Nobody", "Album C", "2020-01-01T00:00:00Z"],
            ["Q" * 22, "Third", "D" * 22, "Third Artist", "Album D", ""],
        ],
    )
    uploaded = upload_csv(connected, path, label="trip")
    job = connected.poll(uploaded["job"]["id"])
    assert job["status"] == "done", job
    summary = job["payload"]
    key = f"csv:{uploaded['file']['path']}"
    assert summary["source"]["key"] == key
    assert summary["source"]["name"] == "Road Trip"
    assert summary["source"]["label"] == "trip"
    assert (summary["entries"], summary["tracks"], summary["requests"]) == (3, 3, 0)
    assert summary["skipped"] == {"bad_rows": 1}
    [bad] = summary["bad_rows"]
    assert bad["line"] == 4  # header on line 1, the broken row is the third data row
    assert bad["message"].startswith("malformed track id in column 'Track URI'")

    from_csv = {track["id"]: track for track in all_tracks(connected, source=key)}
    assert set(from_csv) == {liked_first, not_liked, "Q" * 22}
    assert from_csv[not_liked]["artists"][0]["name"] == "Other, Jr."
    # A liked song keeps its liked date; the CSV adds itself as one more source.
    liked_at = connected.emulator.state.liked[0].added_at
    keys = {member["key"]: when(member["added_at"]) for member in from_csv[liked_first]["sources"]}
    assert keys == {"liked": liked_at, key: datetime.fromisoformat("2019-03-02T10:00:00+00:00")}
    assert when(from_csv[liked_first]["added_at"]) == liked_at
    assert when(from_csv[not_liked]["added_at"]) == datetime.fromisoformat(
        "2020-01-01T00:00:00+00:00"
    )
    assert from_csv["Q" * 22]["added_at"] is None
    sources = {source["key"]: source for source in connected.aggregate()["sources"]}
    assert sources[key]["source_type"] == "csv"
    assert sources[key]["skipped"] == {"bad_rows": 1}
    assert connected.aggregate()["total"] == 120 + 2


def test_a_second_fetch_reads_only_what_changed(connected: DemoServer) -> None:
    emulator = connected.emulator
    target = connected.playlists.owned[0]
    first = connected.fetch(LIKED, playlist(target.id))
    assert [job["payload"]["mode"] for job in first] == ["full", "full"]
    tracks_file = connected.cache_dir / "tracks.json"
    written = tracks_file.read_bytes()

    emulator.requests.clear()
    liked_job, playlist_job = connected.fetch(LIKED, playlist(target.id))
    assert (liked_job["payload"]["mode"], liked_job["payload"]["requests"]) == ("unchanged", 1)
    assert (playlist_job["payload"]["mode"], playlist_job["payload"]["requests"]) == (
        "unchanged",
        0,
    )
    assert playlist_job["payload"]["entries"] == first[1]["payload"]["entries"]
    # The emulator saw one listing (the plan), one page of liked songs, and no playlist read.
    assert api_paths(connected) == Counter({"/me/playlists": 1, "/me/tracks": 1})
    assert tracks_file.read_bytes() == written  # no new tracks: tracks.json is not rewritten

    # Then a like and a playlist edit "in the Spotify app": only those are read again.
    liked = set(emulator.saved_track_ids())
    new_like, new_entry = [t for t in emulator.library.tracks if t not in liked][:2]
    emulator.save_tracks([new_like])
    snapshot = emulator.edit_playlist_as_other_user(target.id, add=[f"spotify:track:{new_entry}"])
    liked_job, playlist_job = connected.fetch(LIKED, playlist(target.id))
    assert (liked_job["payload"]["mode"], liked_job["payload"]["new_entries"]) == (
        "incremental",
        1,
    )
    assert liked_job["payload"]["entries"] == 121
    assert playlist_job["payload"]["mode"] == "full"
    assert playlist_job["payload"]["snapshot_id"] == snapshot
    assert playlist_job["payload"]["entries"] == first[1]["payload"]["entries"] + 1
    ids = {track["id"] for track in all_tracks(connected)}
    assert {new_like, new_entry} <= ids


def test_an_unliked_song_leaves_the_library_view(connected: DemoServer) -> None:
    emulator = connected.emulator
    connected.fetch(LIKED)
    gone = emulator.saved_track_ids()[30]
    emulator.remove_saved_tracks([gone])
    [job] = connected.fetch(LIKED)
    assert (job["payload"]["mode"], job["payload"]["entries"]) == ("full", 119)
    view = connected.aggregate(limit=1000)
    assert view["total"] == 119
    assert gone not in {track["id"] for track in view["tracks"]}


def test_a_source_failing_mid_read_saves_nothing(limited: DemoServer) -> None:
    emulator = limited.emulator
    target = max(limited.playlists.owned, key=lambda p: len(p.entries))
    assert len(target.entries) > 100  # several pages
    jobs = limited.fetch(LIKED, playlist(target.id))
    assert [job["status"] for job in jobs] == ["done", "done"]
    before = limited.store_bytes()
    assert all(before.values())
    # The playlist changes in the Spotify app, then Spotify refuses requests once two were
    # answered: the plan's playlist listing and the first page of the playlist.
    first_track = track_ids_of(emulator, target.id)[0]
    emulator.edit_playlist_as_other_user(target.id, remove=[f"spotify:track:{first_track}"])
    emulator.requests.clear()
    emulator.config.rate_limit = 2  # per access token, per rolling 30 s window

    response = limited.client.post(
        "/pipeline/tracks/fetch-sources", json={"sources": [playlist(target.id)]}
    )
    assert response.status_code == 202
    failed = limited.poll(response.json()["jobs"][0]["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "rate_limited"
    assert "asked to wait" in failed["error"]["message"]
    assert "more than the 5s we wait (SAP_SPOTIFY_MAX_RETRY_AFTER)" in failed["error"]["message"]
    served = [r for r in emulator.api_requests(f"/playlists/{target.id}/items") if r.status == 200]
    assert len(served) == 1  # the first page was read, then the read failed
    assert limited.store_bytes() == before

    emulator.config.rate_limit = None
    [done] = limited.fetch(playlist(target.id))
    assert (done["status"], done["payload"]["mode"]) == ("done", "full")
    assert done["payload"]["entries"] == len(track_ids_of(emulator, target.id))
    assert limited.store_bytes()["sources.json"] != before["sources.json"]


def test_liked_songs_failing_mid_read_save_nothing(limited: DemoServer) -> None:
    emulator = limited.emulator
    assert limited.fetch(LIKED)[0]["status"] == "done"
    before = limited.store_bytes()
    emulator.remove_saved_tracks([emulator.saved_track_ids()[70]])  # forces a full read
    emulator.requests.clear()
    emulator.config.rate_limit = 2
    [failed] = limited.fetch(LIKED)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "rate_limited"
    assert [r.status for r in emulator.api_requests("/me/tracks")][:2] == [200, 200]
    assert 429 in [r.status for r in emulator.api_requests("/me/tracks")]
    assert limited.store_bytes() == before


def test_a_rate_limit_beyond_the_cap_fails_at_once_naming_the_wait(
    connected: DemoServer,
) -> None:
    connected.emulator.config.throttle_rate = 1.0
    connected.emulator.config.throttle_retry_after = 600
    [failed] = connected.fetch(LIKED)
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "code": "rate_limited",
        "message": "Spotify is rate limiting this app and asked to wait 600s, more than the "
        "120s we wait (SAP_SPOTIFY_MAX_RETRY_AFTER); try again later",
    }
    assert len(connected.emulator.api_requests("/me/tracks")) == 1  # no retry, no sleep
    assert not (connected.cache_dir / "sources.json").exists()


# --- v1: synchronous tracks, run-async, /data/tracks ---------------------------------------


def test_v1_sync_tracks_returns_the_finished_job(connected: DemoServer) -> None:
    response = connected.client.post("/pipeline/tracks")
    assert response.status_code == 200
    job = response.json()
    assert (job["step"], job["status"]) == ("tracks", "done")
    assert job["payload"]["source"]["key"] == "liked"
    assert (job["payload"]["mode"], job["payload"]["entries"]) == ("full", 120)
    assert job["progress"] == {
        "done": 120,
        "total": 120,
        "fraction": 1.0,
        "parts": [],
        "note": None,
    }
    assert connected.client.get(f"/pipeline/jobs/{job['id']}").json()["status"] == "done"

    started = connected.client.post("/pipeline/tracks/run-async")
    assert started.status_code == 202
    again = connected.poll(started.json()["id"])
    assert (again["status"], again["payload"]["mode"]) == ("done", "unchanged")
    assert again["payload"]["requests"] == 1


def test_v1_sync_tracks_while_logged_out_is_401(demo: DemoServer) -> None:
    response = demo.client.post("/pipeline/tracks")
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "login_required"
    assert body["auth_url"] == LOGIN_URL
    jobs = demo.client.get("/pipeline/jobs", params={"step": "tracks"}).json()["items"]
    assert [(job["status"], job["error"]["code"]) for job in jobs] == [("failed", "login_required")]


def test_data_tracks_pages_and_searches(connected: DemoServer) -> None:
    connected.client.post("/pipeline/tracks")
    full = connected.client.get("/data/tracks", params={"limit": 1000}).json()
    assert set(full) == {"total", "limit", "offset", "tracks"}
    assert full["total"] == 120
    assert {track["id"] for track in full["tracks"]} == set(connected.emulator.saved_track_ids())
    page = connected.client.get("/data/tracks", params={"limit": 50, "offset": 100}).json()
    assert (page["total"], page["limit"], page["offset"]) == (120, 50, 100)
    assert [t["id"] for t in page["tracks"]] == [t["id"] for t in full["tracks"][100:]]
    needle = full["tracks"][3]["name"].split()[0].lower()
    found = connected.client.get("/data/tracks", params={"q": needle, "limit": 1000}).json()
    assert [track["id"] for track in found["tracks"]] == [
        track["id"] for track in full["tracks"] if matches(track, needle)
    ]
    assert full["tracks"][3]["id"] in {track["id"] for track in found["tracks"]}
    assert found["total"] == len(found["tracks"]) < 120
    bad = connected.client.get("/data/tracks", params={"limit": 0})
    assert bad.status_code == 422


def test_fetch_library_reads_liked_songs_and_every_readable_playlist(
    connected: DemoServer,
) -> None:
    library = connected.emulator.library
    readable = [p.id for p in library.playlists if p.readable_by(library.user.id)]
    response = connected.client.post("/pipeline/tracks/fetch-library")
    assert response.status_code == 202, response.text
    job = connected.poll(response.json()["id"])
    assert (job["step"], job["status"]) == ("fetch_sources", "done"), job
    keys = [summary["source"]["key"] for summary in job["payload"]["sources"]]
    assert keys == ["liked", *(f"playlist:{pid}" for pid in readable)]
    aggregate = connected.client.get("/pipeline/tracks/aggregate", params={"limit": 1}).json()
    assert {source["key"] for source in aggregate["sources"]} == set(keys)


def test_fetch_library_needs_a_login(demo: DemoServer) -> None:
    response = demo.client.post("/pipeline/tracks/fetch-library")
    assert response.status_code == 401
    assert "auth_url" in response.json()


# --- failed sources, lost tracks ----------------------------------------------------------------


def test_a_fetch_job_with_a_failed_source_ends_partial_naming_it(connected: DemoServer) -> None:
    unknown = "1" * 22
    response = connected.client.post(
        "/pipeline/fetch_sources/run-async",
        json={"metadata": {"sources": [LIKED, playlist(unknown)]}},
    )
    assert response.status_code == 202, response.text
    job = connected.poll(response.json()["id"])
    assert job["status"] == "partial", job
    assert job["error"]["code"] == "sources_failed"
    assert job["message"] == job["error"]["message"]
    assert job["message"].startswith(f"1 of 2 sources failed: playlist '{unknown}' (")
    liked, failed = job["payload"]["sources"]
    assert (liked["source"]["key"], liked["mode"]) == ("liked", "full")
    assert failed["source"]["key"] == f"playlist:{unknown}"
    assert failed["error"]["code"] == "spotify_not_found"
    listed = connected.client.get("/pipeline/jobs", params={"status": "partial"}).json()
    assert [item["id"] for item in listed["items"]] == [job["id"]]
    assert connected.client.get("/pipeline/health").json()["jobs"]["partial"] == 1


def test_health_names_the_sources_that_lost_tracks_until_a_fetch(connected: DemoServer) -> None:
    fetched = connected.poll(connected.client.post("/pipeline/tracks/fetch-library").json()["id"])
    assert fetched["status"] == "done"
    healthy = connected.client.get("/pipeline/health").json()
    assert (healthy["status"], healthy["library"]["complete"]) == ("ok", True)

    (connected.cache_dir / "tracks.json").unlink()
    degraded = connected.client.get("/pipeline/health").json()
    assert degraded["status"] == "degraded"
    library = degraded["library"]
    assert library["complete"] is False
    assert library["missing_tracks"] == len(
        {
            track_id
            for source in connected.env.services.stores.sources.load().values()
            for track_id in (entry.track_id for entry in source.entries)
        }
    )
    fetched_keys = [summary["source"]["key"] for summary in fetched["payload"]["sources"]]
    assert [source["key"] for source in library["sources"]] == fetched_keys
    assert library["sources"][0]["name"] == "Liked Songs"
    assert "run `sap fetch` (or POST /pipeline/tracks/fetch-library)" in library["advice"]

    with connected.env.services.stores.rules.update() as documents:
        documents[:] = [
            {
                "id": "liked",
                "name": "Liked",
                "rules": {"conditions": [{"field": "liked", "operator": "eq", "value": True}]},
                "target_playlist_name": "Liked again",
            }
        ]
    refused = connected.client.post("/pipeline/playlists/plan", json={})
    assert refused.status_code == 409
    assert refused.json()["error"] == "library_incomplete"
    assert "run `sap fetch`" in refused.json()["detail"]

    rebuilt = connected.poll(connected.client.post("/pipeline/tracks/fetch-library").json()["id"])
    assert rebuilt["status"] == "done"
    assert {s["mode"] for s in rebuilt["payload"]["sources"]} == {"full"}
    again = connected.client.get("/pipeline/health").json()
    assert (again["status"], again["library"]["advice"]) == ("ok", None)
    planned = connected.client.post("/pipeline/playlists/plan", json={})
    assert planned.status_code == 200, planned.text
