"""Applies that must never lose a playlist: what a plan adds is checked before any write, a write
refused half-way rolls the playlist back to its backup (duplicates included), an apply cut
short by the death of its process resumes into the same playlist, and the next plan does not
take the tool's own half-written playlist for someone's edit. Real code over the demo's
in-process emulator; faults come from a transport in front of it (tests/helpers/write_faults)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import AppError
from app.core.models import JobOwner, JobStatus, PipelineJob
from app.pipeline.services import Services
from app.pipeline.sync.applying import apply_plan
from app.pipeline.sync.plans import StoredPlan
from app.pipeline.sync.service import get_plan, plan_rule_sets
from tests.helpers.cli import sap
from tests.helpers.spotify_env import DemoServer, demo_settings, write_exportify_csv
from tests.helpers.write_faults import BAD_ID, Killed, StopAtWrite, services_over

UNKNOWN_ID = "0000000000000000000000"  # the shape of an id; Spotify has no such track


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DemoServer]:
    with DemoServer.open(demo_settings(tmp_path / "cache")) as server:
        server.login()
        server.fetch({"source_type": "liked"})
        yield server


def save_rule(server: DemoServer, rule_id: str, text: str, **fields: Any) -> None:
    body = {"id": rule_id, "name": rule_id.title(), "text": text, **fields}
    response = server.client.post("/data/rules", json=body)
    assert response.status_code == 200, response.text


def plan_one(services: Services, rule_id: str) -> StoredPlan:
    [made] = asyncio.run(plan_rule_sets(services, [rule_id])).plans
    return made


def messy_playlist(server: DemoServer, size: int = 37) -> str:
    """An owned playlist of `size` entries: liked tracks with 4 duplicated copies, a local file
    and an episode (edited "in the Spotify app" by its owner)."""
    emulator = server.emulator
    owned = next(p for p in server.playlists.owned if {e.kind for e in p.entries} >= {"local"})
    uris = [u for u in emulator.playlist_uris(owned.id) if u is not None]
    tracks = [u for u in uris if u.startswith("spotify:track:")]
    others = [u for u in uris if not u.startswith("spotify:track:")]
    liked = [f"spotify:track:{saved.track_id}" for saved in emulator.library.liked]
    body = liked[: size - len(others) - 4] + liked[:2] + liked[5:7]
    user = emulator.library.user.id
    emulator.edit_playlist_as_other_user(owned.id, remove=tracks, user_id=user)
    emulator.edit_playlist_as_other_user(owned.id, add=body, user_id=user)
    assert len(emulator.playlist_uris(owned.id)) == size
    return owned.id


def not_fetched_track(server: DemoServer) -> str:
    """A catalogue track that is neither liked nor in a fetched source."""
    library = server.env.services.stores.tracks.load_tracks()
    return next(t for t in server.emulator.library.tracks if t not in library)


def import_csv(server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids: list[str]):
    rows = [
        [track_id, f"Row {n}", "A" * 22, "Someone", "Album", ""] for n, track_id in enumerate(ids)
    ]
    path = write_exportify_csv(tmp_path / "export.csv", rows)
    for name, value in (("SAP_DEMO_TRACKS", "120"), ("SAP_DEMO_PLAYLISTS", "6")):
        monkeypatch.setenv(name, value)
    code, _out, err = sap(server.cache_dir.parent, "fetch", "--csv", str(path), demo=True)
    assert code == 0, err


# --- item 1: what a plan adds is checked first -------------------------------------------------


def test_tracks_spotify_cannot_add_are_left_out_of_the_plan_with_their_reason(
    server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    playlist_id = messy_playlist(server)
    before = server.emulator.playlist_uris(playlist_id)
    restricted = not_fetched_track(server)
    server.emulator.config.unplayable_tracks = frozenset({restricted})
    import_csv(server, tmp_path, monkeypatch, [UNKNOWN_ID, restricted])
    save_rule(
        server,
        "pinned",
        "duration > 100000000",  # nothing matches: only the pinned tracks and what is there
        target_playlist_id=playlist_id,
        sync_mode="append",
        include=[UNKNOWN_ID, restricted],
    )
    response = server.client.post("/pipeline/playlists/plan", json={"rule_ids": ["pinned"]})
    assert response.status_code == 200, response.text
    [made] = response.json()["plans"]
    assert {(e["uri"], e["reason"]) for e in made["excluded"]} == {
        (f"spotify:track:{UNKNOWN_ID}", "unknown"),
        (f"spotify:track:{restricted}", "unavailable"),
    }
    assert made["summary"]["excluded"] == 2 and made["summary"]["writes"] == 0
    assert made["plan"]["adds"] == []
    lookups = server.emulator.api_requests(f"/tracks/{UNKNOWN_ID}")
    assert [r.method for r in lookups] == ["GET"]
    # Tracks read from Spotify are known: no look-up for them.
    liked = server.emulator.library.liked[0].track_id
    assert server.emulator.api_requests(f"/tracks/{liked}") == []
    assert server.emulator.playlist_uris(playlist_id) == before

    # The CLI shows them too (its own emulator knows no market restriction: only the unknown).
    code, out, _err = sap(server.cache_dir.parent, "plan", "pinned", demo=True)
    assert code == 0
    assert "left out" in out and "Spotify does not know this track" in out


def test_a_merge_with_an_unknown_pinned_track_no_longer_empties_the_playlist(
    server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: 37 tracks, a merge whose adds held a track Spotify does not know."""
    playlist_id = messy_playlist(server)
    import_csv(server, tmp_path, monkeypatch, [UNKNOWN_ID])
    save_rule(
        server,
        "merged",
        "duration > 100000000",
        target_playlist_id=playlist_id,
        sync_mode="merge",
        include=[UNKNOWN_ID, server.emulator.library.liked[0].track_id],
    )
    services = server.env.services
    made = plan_one(services, "merged")
    assert [e.reason for e in made.excluded] == ["unknown"]
    asyncio.run(apply_plan(services, made.id, ["remove_share"]))
    assert server.emulator.playlist_uris(playlist_id) == made.plan.result
    assert made.plan.result != []


# --- write order and roll-back -----------------------------------------------------------------


def test_a_merge_adds_before_it_removes(server: DemoServer) -> None:
    playlist_id = messy_playlist(server)
    save_rule(server, "m", "duration > 200", target_playlist_id=playlist_id, sync_mode="merge")
    made = plan_one(server.env.services, "m")
    kinds = [call.kind for call in made.plan.calls]
    assert kinds == sorted(kinds, key=lambda kind: kind != "add") and "remove" in kinds


@pytest.mark.parametrize(("mode", "at"), [("merge", 2), ("replace", 2), ("replace", 1)])
def test_a_write_refused_half_way_rolls_the_playlist_back_to_its_backup(
    server: DemoServer, mode: str, at: int
) -> None:
    playlist_id = messy_playlist(server)
    before = server.emulator.playlist_uris(playlist_id)
    many = [t.track_id for t in server.emulator.library.liked[:150]]
    save_rule(
        server,
        "r",
        "duration > 150 and duration < 290",
        target_playlist_id=playlist_id,
        sync_mode=mode,
        include=many[40:150],  # 110 tracks the playlist lacks: two add calls
    )
    made = plan_one(server.env.services, "r")
    assert len(made.plan.calls) >= at
    faulty = services_over(server.env.services, StopAtWrite(at, refuse=BAD_ID))

    with pytest.raises(AppError) as caught:
        asyncio.run(apply_plan(faulty, made.id, [g.guard for g in made.guards]))

    assert server.emulator.playlist_uris(playlist_id) == before  # duplicates and all
    stored = get_plan(server.env.services, made.id)
    assert stored.status == "failed"
    assert stored.rollback is not None and stored.rollback.restored
    assert stored.rollback.backup_id == stored.backup_id
    backup = server.env.services.stores.backups.get(stored.backup_id or "")
    assert [item.uri for item in backup.items] == before
    assert "restored from backup" in caught.value.detail
    assert "non-existing ID" in caught.value.detail


def test_restore_puts_duplicates_back_exactly(server: DemoServer) -> None:
    playlist_id = messy_playlist(server)
    before = server.emulator.playlist_uris(playlist_id)
    save_rule(server, "dedup", "duration > 1", target_playlist_id=playlist_id)
    made = plan_one(server.env.services, "dedup")
    assert made.summary.duplicates == 4
    asyncio.run(apply_plan(server.env.services, made.id, [g.guard for g in made.guards]))
    assert len(server.emulator.playlist_uris(playlist_id)) != len(before)

    backup_id = get_plan(server.env.services, made.id).backup_id
    response = server.client.post("/pipeline/playlists/restore", json={"backup_id": backup_id})
    assert server.poll(response.json()["id"])["status"] == "done"
    assert server.emulator.playlist_uris(playlist_id) == before
    assert len(before) == 37


def test_an_apply_with_nothing_to_write_takes_no_backup(server: DemoServer) -> None:
    owned = server.playlists.owned[0]
    save_rule(server, "same", "duration > 1", target_playlist_id=owned.id, sync_mode="append")
    first = plan_one(server.env.services, "same")
    asyncio.run(apply_plan(server.env.services, first.id, [g.guard for g in first.guards]))
    backups = len(server.env.services.stores.backups.load())
    again = plan_one(server.env.services, "same")
    assert again.summary.writes == 0
    result = asyncio.run(apply_plan(server.env.services, again.id))
    assert result.backup_id is None and result.writes == 0
    assert len(server.env.services.stores.backups.load()) == backups


# --- item 2: an apply cut short by the death of its process ------------------------------------


@pytest.mark.parametrize(
    ("land", "then"), [(False, "reapply"), (True, "reapply"), (True, "replan")]
)
def test_an_apply_killed_after_creating_its_playlist_resumes_into_it(
    server: DemoServer, land: bool, then: str
) -> None:
    save_rule(server, "new", "duration > 1", target_playlist_name="Everything, new")
    made = plan_one(server.env.services, "new")
    assert made.create and len(made.plan.calls) == 2  # 120 tracks: two POSTs
    # Write 1 creates the playlist; die at write 2 (the first add), before or after it lands.
    killing = services_over(server.env.services, StopAtWrite(2, kill=True, land=land))
    with pytest.raises(Killed):
        asyncio.run(apply_plan(killing, made.id))

    services = server.env.services
    stored = get_plan(services, made.id)
    assert stored.status == "planned" and stored.playlist_id is not None
    assert stored.attempt is not None and stored.attempt.creating
    managed = services.stores.playlists.load()["new"]
    assert managed.playlist_id == stored.playlist_id and managed.created_by_us

    if then == "reapply":  # what a rerun of the interrupted job does
        result = asyncio.run(apply_plan(services, made.id))
        assert result.resumed and result.playlist_id == stored.playlist_id
    else:  # a new plan neither creates another playlist nor calls the half-write drift
        replanned = plan_one(services, "new")
        assert (replanned.playlist_id, replanned.create) == (stored.playlist_id, False)
        assert replanned.guards == []
        asyncio.run(apply_plan(services, replanned.id))
    assert server.emulator.playlist_uris(stored.playlist_id) == made.plan.result
    named = [
        pid
        for pid in server.emulator.playlist_ids()
        if server.emulator.playlist(pid).name == "Everything, new"
    ]
    assert named == [stored.playlist_id]
    assert services.stores.playlists.load()["new"].writing is None


def test_an_apply_killed_between_create_and_record_finds_its_playlist_by_name(
    server: DemoServer,
) -> None:
    save_rule(server, "new", "duration > 1", target_playlist_name="Found again")
    made = plan_one(server.env.services, "new")
    killing = services_over(server.env.services, StopAtWrite(1, kill=True, land=True))
    with pytest.raises(Killed):
        asyncio.run(apply_plan(killing, made.id))
    assert get_plan(server.env.services, made.id).playlist_id is None  # never recorded

    result = asyncio.run(apply_plan(server.env.services, made.id))
    named = [
        pid
        for pid in server.emulator.playlist_ids()
        if server.emulator.playlist(pid).name == "Found again"
    ]
    assert named == [result.playlist_id]
    assert server.emulator.playlist_uris(result.playlist_id) == made.plan.result


def test_a_new_plan_after_a_kill_mid_rewrite_sees_no_drift_but_an_edit_is_drift(
    server: DemoServer,
) -> None:
    playlist_id = messy_playlist(server)
    services = server.env.services
    save_rule(server, "rw", "duration > 1\nsort by duration desc", target_playlist_id=playlist_id)
    first = plan_one(services, "rw")
    asyncio.run(apply_plan(services, first.id, [g.guard for g in first.guards]))
    save_rule(server, "rw", "duration > 1\nsort by duration asc", target_playlist_id=playlist_id)
    flipped = plan_one(services, "rw")
    assert flipped.guards == [] and len(flipped.plan.calls) >= 3
    killing = services_over(services, StopAtWrite(2, kill=True, land=True))
    with pytest.raises(Killed):
        asyncio.run(apply_plan(killing, flipped.id))
    half = server.emulator.playlist_uris(playlist_id)
    assert half not in (first.plan.result, flipped.plan.result)

    after_kill = plan_one(services, "rw")
    assert after_kill.guards == []  # its own half-write is not someone's edit
    asyncio.run(apply_plan(services, after_kill.id))
    assert server.emulator.playlist_uris(playlist_id) == flipped.plan.result

    # Half-write again, then a real edit in the Spotify app: that is drift.
    save_rule(server, "rw", "duration > 1\nsort by duration desc", target_playlist_id=playlist_id)
    back = plan_one(services, "rw")
    with pytest.raises(Killed):
        asyncio.run(apply_plan(services_over(services, StopAtWrite(2, kill=True)), back.id))
    liked = f"spotify:track:{server.emulator.library.liked[-1].track_id}"
    server.emulator.edit_playlist_as_other_user(playlist_id, add=[liked])
    assert [g.guard for g in plan_one(services, "rw").guards] == ["drift"]


def test_a_plan_a_live_job_is_applying_is_not_applied_twice_at_once(server: DemoServer) -> None:
    save_rule(server, "busy", "duration > 1", target_playlist_name="Busy")
    made = plan_one(server.env.services, "busy")
    stores = server.env.services.stores
    # A job of another live process (the test's parent) that recorded the plan's attempt.
    running = PipelineJob(
        id="livejob00001",
        step="apply",
        status=JobStatus.RUNNING,
        owner=JobOwner(pid=os.getppid(), instance="elsewhere"),
    )
    stores.jobs.add(running, keep_finished=10)
    with stores.plans.update() as plans:
        plans[made.id]["attempt"] = {"started_at": "2026-01-01T00:00:00Z", "job_id": running.id}
    response = server.client.post("/pipeline/playlists/apply", json={"plan_id": made.id})
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "plan_being_applied"
    # Once that process is gone, applying it again resumes.
    with stores.jobs.update() as jobs:
        jobs[-1].owner = JobOwner(pid=2**22 + 1, instance="gone")  # no such process
    job = server.poll(
        server.client.post("/pipeline/playlists/apply", json={"plan_id": made.id}).json()["id"]
    )
    assert job["status"] == "done" and job["payload"]["applied"][0]["resumed"], job


def test_a_refused_write_into_a_new_playlist_keeps_it_for_the_next_apply(
    server: DemoServer,
) -> None:
    save_rule(server, "fresh", "duration > 1", target_playlist_name="Fresh")
    services = server.env.services
    made = plan_one(services, "fresh")
    # Write 1 creates the playlist, write 2 adds the first 100 tracks, write 3 is refused.
    with pytest.raises(AppError) as caught:
        asyncio.run(apply_plan(services_over(services, StopAtWrite(3, refuse=BAD_ID)), made.id))
    assert "the new playlist keeps what was written" in caught.value.detail
    stored = get_plan(services, made.id)
    assert stored.status == "failed" and stored.rollback is not None
    assert (stored.rollback.backup_id, stored.rollback.restored) == (None, False)
    assert len(server.emulator.playlist_uris(str(stored.playlist_id))) == 100

    again = plan_one(services, "fresh")
    assert (again.playlist_id, again.create, again.guards) == (stored.playlist_id, False, [])
    asyncio.run(apply_plan(services, again.id))
    assert server.emulator.playlist_uris(str(stored.playlist_id)) == made.plan.result
