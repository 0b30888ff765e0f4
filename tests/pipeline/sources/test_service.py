"""Track sources on real services: plan, fetch, commit and aggregate against the emulator."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from pathlib import Path

import pytest

from app.core.errors import AppError
from app.core.models import JobStatus, Track
from app.demo import DemoEnvironment
from app.pipeline.jobs.runner import JobManager
from app.pipeline.registry import default_registry
from app.pipeline.sources.aggregate import aggregate
from app.pipeline.sources.commit import commit_read
from app.pipeline.sources.planning import SourceRequest, plan_fetch
from app.pipeline.sources.service import fetch_many, fetch_source, import_csv
from tests.helpers.spotify_env import Playlists, track_ids_of, write_exportify_csv

LIKED = SourceRequest(source_type="liked")


def playlist(playlist_id: str) -> SourceRequest:
    return SourceRequest(source_type="playlist", source_id=playlist_id)


def stored(env: DemoEnvironment) -> dict[str, Track]:
    return env.services.stores.tracks.load_tracks()


def files(env: DemoEnvironment) -> dict[str, bytes | None]:
    directory = env.settings.cache_dir
    return {
        name: (directory / name).read_bytes() if (directory / name).exists() else None
        for name in ("tracks.json", "sources.json")
    }


def small_csv(path: Path, env: DemoEnvironment) -> Path:
    track_id = env.emulator.saved_track_ids()[5]
    return write_exportify_csv(
        path,
        [
            [track_id, "Known", "A" * 22, "Artist", "Album", "2018-06-01T12:00:00Z"],
            ["Z" * 22, "Unknown", "B" * 22, "Band", "Other", "2018-06-02T12:00:00Z"],
        ],
    )


# --- plan_fetch -------------------------------------------------------------------------------


def test_plan_fetch_returns_one_job_per_source(cli_env: DemoEnvironment, tmp_path: Path) -> None:
    demo_env = cli_env  # the CLI's services: a CSV path relative to the cwd is read
    kinds = Playlists.of(demo_env.emulator)
    owned, shared = kinds.owned[0], kinds.collaborative[0]
    csv = small_csv(tmp_path / "export.csv", demo_env)
    requests = [
        LIKED,
        SourceRequest(source_type="playlist", source_id=owned.id, label="mine"),
        playlist(shared.id),
        SourceRequest(source_type="csv", source_id="export.csv"),  # relative to the cwd
    ]
    planned = asyncio.run(plan_fetch(demo_env.services, requests))
    user = demo_env.emulator.library.user.id
    metadata = [source.metadata() for source in planned]  # what each fetch job is given
    assert metadata[0] == {"source_type": "liked"}
    assert metadata[1]["label"] == "mine"
    for meta, state in ((metadata[1], owned), (metadata[2], shared)):
        assert meta["source_type"] == "playlist" and meta["source_id"] == state.id
        hint = meta["playlist"]
        assert (hint["snapshot_id"], hint["total"], hint["user_id"]) == (
            state.snapshot_id,
            len(state.entries),
            user,
        )
        assert hint["collaborative"] is state.collaborative
    assert metadata[3] == {"source_type": "csv", "source_id": str(csv.resolve())}
    # One playlist listing serves every playlist of the plan.
    assert [r.path for r in demo_env.emulator.api_requests()].count("/me/playlists") == 1


def test_plan_fetch_of_liked_songs_needs_no_request(demo_env: DemoEnvironment) -> None:
    demo_env.emulator.requests.clear()
    [planned] = asyncio.run(plan_fetch(demo_env.services, [LIKED]))
    assert planned.metadata() == {"source_type": "liked"}
    assert demo_env.emulator.requests == []


def test_plan_fetch_plans_a_repeated_source_once(demo_env: DemoEnvironment) -> None:
    labelled = SourceRequest(source_type="liked", label="again")
    planned = asyncio.run(plan_fetch(demo_env.services, [LIKED, labelled, LIKED]))
    assert [source.metadata() for source in planned] == [{"source_type": "liked"}]


@pytest.mark.parametrize(
    ("kind", "status", "code", "words"),
    [
        ("none", 422, "no_sources", "at least one source"),
        ("unknown", 404, "playlist_not_found", "is not in your library"),
        ("followed", 403, "playlist_unreadable", "followed playlist owned by"),
        ("csv", 403, "csv_path_not_allowed", "SAP_CSV_IMPORT_DIR"),
    ],
)
def test_plan_fetch_refuses_what_it_cannot_fetch(
    demo_env: DemoEnvironment, kind: str, status: int, code: str, words: str
) -> None:
    followed = Playlists.of(demo_env.emulator).followed[0]
    requests = {
        "none": [],
        "unknown": [LIKED, playlist("1" * 22)],
        "followed": [playlist(followed.id)],
        "csv": [SourceRequest(source_type="csv", source_id="missing.csv")],
    }[kind]
    with pytest.raises(AppError) as caught:
        asyncio.run(plan_fetch(demo_env.services, requests))
    assert (caught.value.status_code, caught.value.code) == (status, code)
    assert words in caught.value.detail


def test_the_cli_plans_any_path_and_says_when_there_is_no_file(
    cli_env: DemoEnvironment, tmp_path: Path
) -> None:
    missing = SourceRequest(source_type="csv", source_id=str(tmp_path / "nowhere" / "a.csv"))
    with pytest.raises(AppError) as caught:
        asyncio.run(plan_fetch(cli_env.services, [missing]))
    assert (caught.value.status_code, caught.value.code) == (404, "csv_not_found")
    assert str(tmp_path / "nowhere" / "a.csv") in caught.value.detail


@pytest.mark.parametrize(("services", "warmed"), [("demo_env", True), ("cli_env", False)])
def test_a_fetch_warms_the_library_up_for_the_server_not_behind_a_cli_command(
    services: str, warmed: bool, request: pytest.FixtureRequest
) -> None:
    """The server's next preview finds the fetched library loaded; a CLI process, which ends
    with its command, starts no warm-up that its exit would cut short."""
    env: DemoEnvironment = request.getfixturevalue(services)
    planned = asyncio.run(plan_fetch(env.services, [LIKED]))
    assert asyncio.run(fetch_many(env.services, planned)).failed == 0
    warming = [thread for thread in threading.enumerate() if thread.name == "sap-warm-library"]
    for thread in warming:
        thread.join()
    assert bool(warming) is warmed  # started at the end of the fetch, or not at all
    assert env.services.library.is_warm() is warmed


# --- fetch_source, commit_read, aggregate -----------------------------------------------------


def test_fetch_source_saves_a_complete_read(demo_env: DemoEnvironment) -> None:
    summary = asyncio.run(fetch_source(demo_env.services, LIKED))
    liked = demo_env.emulator.saved_track_ids()
    assert (summary.mode, summary.entries, summary.requests) == ("full", 120, 3)
    record = demo_env.services.stores.sources.get("liked")
    assert record is not None
    assert [entry.track_id for entry in record.entries] == liked  # newest first, as served
    assert set(stored(demo_env)) == set(liked)
    view = aggregate(demo_env.services.stores, limit=10, offset=115)
    assert (view.total, len(view.tracks)) == (120, 5)
    assert view.sources[0].key == "liked" and view.sources[0].tracks == 120


def test_fetch_source_without_a_plan_looks_the_playlist_up(demo_env: DemoEnvironment) -> None:
    target = Playlists.of(demo_env.emulator).owned[1]
    summary = asyncio.run(fetch_source(demo_env.services, playlist(target.id)))
    assert summary.snapshot_id == target.snapshot_id
    assert summary.entries == len(track_ids_of(demo_env.emulator, target.id))
    followed = Playlists.of(demo_env.emulator).followed[0]
    with pytest.raises(AppError) as caught:
        asyncio.run(fetch_source(demo_env.services, playlist(followed.id)))
    assert caught.value.code == "playlist_unreadable"
    assert demo_env.services.stores.sources.get(f"playlist:{followed.id}") is None


def test_commit_read_writes_tracks_and_record(demo_env: DemoEnvironment, tmp_path: Path) -> None:
    path = small_csv(tmp_path / "Mix.csv", demo_env)
    read = import_csv(path, "label", max_bytes=1 << 20)
    commit_read(demo_env.services.stores, read)
    record = demo_env.services.stores.sources.get(f"csv:{path}")
    assert record is not None
    assert (record.name, record.label, record.total) == ("Mix", "label", 2)
    assert [entry.track_id for entry in record.entries] == [t.id for t in read.tracks]
    assert set(stored(demo_env)) == {t.id for t in read.tracks}
    # A read without tracks (an unchanged source) leaves tracks.json alone.
    before = files(demo_env)["tracks.json"]
    empty = import_csv(path, "label", max_bytes=1 << 20)
    empty.tracks = []
    commit_read(demo_env.services.stores, empty)
    assert files(demo_env)["tracks.json"] == before


def test_a_failure_after_the_plan_saves_nothing(demo_env: DemoEnvironment) -> None:
    emulator = demo_env.emulator
    target = max(Playlists.of(emulator).owned, key=lambda p: len(p.entries))
    asyncio.run(fetch_source(demo_env.services, LIKED))
    before = files(demo_env)
    [planned] = asyncio.run(plan_fetch(demo_env.services, [playlist(target.id)]))
    emulator.config.fail_rate = 1.0  # Spotify breaks down between the plan and the read
    with pytest.raises(AppError) as caught:
        asyncio.run(fetch_source(demo_env.services, playlist(target.id), planned.playlist))
    assert caught.value.code == "spotify_unavailable"
    assert f"playlists/{target.id}/items" in caught.value.detail
    assert "after 2 attempts" in caught.value.detail
    assert files(demo_env) == before


def test_fetch_many_saves_every_track_as_spotify_serves_it(demo_env: DemoEnvironment) -> None:
    """Sources read together are saved together, their tracks serialised while the others
    were still being read: each stored track must still be its own, field for field."""
    emulator = demo_env.emulator
    owned = Playlists.of(emulator).owned
    requests = [LIKED, playlist(owned[0].id), playlist(owned[1].id)]
    planned = asyncio.run(plan_fetch(demo_env.services, requests))
    result = asyncio.run(fetch_many(demo_env.services, planned))
    assert result.failed == 0
    liked_at = {saved.track_id: saved.added_at for saved in emulator.state.liked}
    first_seen: dict[str, datetime] = {}
    for listed in owned[:2]:  # the earliest sighting, whichever playlist it is in
        for entry in listed.entries:
            if entry.track_id and (
                entry.track_id not in first_seen or entry.added_at < first_seen[entry.track_id]
            ):
                first_seen[entry.track_id] = entry.added_at
    tracks = stored(demo_env)
    assert set(tracks) == set(liked_at) | set(first_seen)
    catalogue = emulator.state.library.tracks
    for track_id, track in tracks.items():
        source = catalogue[track_id]
        assert (track.name, track.duration_ms, track.explicit, track.isrc) == (
            source.name,
            source.duration_ms,
            source.explicit,
            source.isrc.upper() if source.isrc else None,
        )
        assert [artist.id for artist in track.artists] == list(source.artist_ids)
        assert track.album.id == source.album_id
        assert track.added_at == liked_at.get(track_id, first_seen.get(track_id))


# --- added_at: the liked date when liked, else the earliest sighting ---------------------------


def test_added_at_is_the_liked_date_else_the_first_sighting(demo_env: DemoEnvironment) -> None:
    emulator = demo_env.emulator
    kinds = Playlists.of(emulator)
    first, second = kinds.owned[0], kinds.owned[1]
    liked_at = {saved.track_id: saved.added_at for saved in emulator.state.liked}
    seen_at = {e.track_id: e.added_at for e in reversed(first.entries) if e.track_id}
    both = next(t for t in seen_at if t in liked_at)
    only_listed = next(t for t in seen_at if t not in liked_at)
    assert seen_at[both] != liked_at[both]

    asyncio.run(fetch_source(demo_env.services, playlist(first.id)))
    assert stored(demo_env)[both].added_at == seen_at[both]
    assert stored(demo_env)[only_listed].added_at == seen_at[only_listed]

    asyncio.run(fetch_source(demo_env.services, LIKED))
    assert stored(demo_env)[both].added_at == liked_at[both]  # the liked date wins
    assert stored(demo_env)[only_listed].added_at == seen_at[only_listed]

    # Both tracks show up in another playlist, added today: neither date moves.
    uris = [f"spotify:track:{t}" for t in (both, only_listed)]
    emulator.edit_playlist_as_other_user(second.id, add=uris)
    asyncio.run(fetch_source(demo_env.services, playlist(second.id)))
    assert stored(demo_env)[both].added_at == liked_at[both]
    assert stored(demo_env)[only_listed].added_at == seen_at[only_listed]
    view = aggregate(demo_env.services.stores, limit=1000)
    track = next(t for t in view.tracks if t.id == only_listed)
    dates = {member.key: member.added_at for member in track.sources}
    assert dates[f"playlist:{first.id}"] == seen_at[only_listed]
    assert isinstance(dates[f"playlist:{second.id}"], datetime)
    assert dates[f"playlist:{second.id}"] > seen_at[only_listed]


# --- cancellation -----------------------------------------------------------------------------


@pytest.mark.parametrize("cancel_at", [50, 120])  # after the first page, after the last one
def test_a_cancelled_fetch_saves_nothing(demo_env: DemoEnvironment, cancel_at: int) -> None:
    target = Playlists.of(demo_env.emulator).owned[0]
    asyncio.run(fetch_source(demo_env.services, playlist(target.id)))
    before = files(demo_env)
    manager = JobManager(demo_env.services, default_registry())
    seen: list[int] = []
    cancelled: list[int] = []

    def cancel_on_progress(done: int, total: int | None, _message: str | None) -> None:
        seen.append(done)
        if done >= cancel_at and not cancelled:
            cancelled.append(done)
            [running], _ = manager.list(status=JobStatus.RUNNING)
            manager.cancel(running.id)  # what POST /pipeline/jobs/{id}/cancel does

    job = manager.run_inline("fetch_tracks", {"source_type": "liked"}, cancel_on_progress)
    assert job.status is JobStatus.CANCELLED, job
    assert seen[0] == 50  # the first page of the liked songs
    assert cancelled == [cancel_at]
    assert job.cancel_requested is True
    assert files(demo_env) == before
    assert demo_env.services.stores.sources.get("liked") is None
