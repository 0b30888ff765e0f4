"""Stores: envelope and migrations, refusal of newer files, quarantine, modes, façades."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.errors import NotFoundError, StoreError, StoreVersionError
from app.core.fs import list_quarantined
from app.core.models import JobStatus, PipelineJob, Track, TrackEnrichment
from app.data import Stores
from app.data.rules import RuleStore


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    return Stores.open(tmp_path)


def _track(track_id: str, name: str = "Song") -> Track:
    return Track(id=track_id, uri=f"spotify:track:{track_id}", name=name)


def test_files_are_written_in_an_envelope_with_the_schema_version(stores: Stores) -> None:
    stores.tracks.upsert([_track("a")])
    raw = json.loads(stores.tracks.path.read_text())
    assert raw["schema_version"] == 1
    assert raw["data"]["a"]["uri"] == "spotify:track:a"


def test_seed_bare_track_list_loads_as_version_zero_and_migrates(stores: Stores) -> None:
    bare = [
        {"id": "t1", "uri": "spotify:track:t1", "name": "One", "unknown_field": 1},
        {"id": "t2", "uri": "spotify:track:t2", "name": "Two"},
    ]
    stores.tracks.path.write_text(json.dumps(bare))
    tracks = stores.tracks.load_tracks()
    assert sorted(tracks) == ["t1", "t2"]
    assert tracks["t1"].name == "One"
    stores.tracks.upsert([_track("t3")])  # the next save writes the current version
    assert json.loads(stores.tracks.path.read_text())["schema_version"] == 1
    assert sorted(stores.tracks.load_tracks()) == ["t1", "t2", "t3"]


def test_seed_bare_rules_and_enrichments_load_unchanged(stores: Stores) -> None:
    rules = [{"id": "chill", "name": "Chill", "rules": {"operator": "and", "conditions": []}}]
    stores.rules.path.write_text(json.dumps(rules))
    assert stores.rules.load_rules() == rules
    enrichments = {
        "t1": [
            {
                "source": "musicbrainz",
                "version": 2,
                "timestamp": "2025-01-01T00:00:00Z",
                "categories": {"genres": ["jazz"]},
            }
        ]
    }
    stores.enrichments.path.write_text(json.dumps(enrichments))
    [entry] = stores.enrichments.load_enrichments_cache()["t1"]
    assert entry.version == "2"
    assert entry.categories == {"genres": ["jazz"]}


def test_seed_job_mapping_migrates_to_a_list(stores: Stores) -> None:
    stores.jobs.path.write_text(json.dumps({"j1": {"step": "tracks", "status": "done"}}))
    [job] = stores.jobs.load_jobs()
    assert (job.id, job.step, job.status) == ("j1", "tracks", JobStatus.DONE)


def test_a_file_from_a_newer_release_is_neither_read_nor_overwritten(stores: Stores) -> None:
    newer = json.dumps({"schema_version": 99, "data": [{"id": "future"}]})
    stores.rules.path.write_text(newer)
    with pytest.raises(StoreVersionError, match="schema version 99"):
        stores.rules.load()
    with pytest.raises(StoreVersionError), stores.rules.update():
        pass  # never reached: opening the update already refuses
    assert stores.rules.path.read_text() == newer
    assert list_quarantined(stores.directory) == []


def test_content_of_the_wrong_shape_is_quarantined_not_overwritten(stores: Stores) -> None:
    stores.jobs.path.write_text(json.dumps({"schema_version": 1, "data": [{"step": 3}]}))
    assert stores.jobs.load_jobs() == []
    [moved] = list_quarantined(stores.directory)
    assert moved.original_name == "jobs.json"
    assert json.loads(moved.path.read_text())["data"] == [{"step": 3}]


def test_corrupt_store_is_quarantined_then_new_writes_keep_the_copy(stores: Stores) -> None:
    stores.rules.path.write_text('[{"id": "precious"')
    with stores.rules.update() as rules:
        assert rules == []
        rules.append({"id": "fresh"})
    [moved] = list_quarantined(stores.directory)
    assert moved.path.read_text() == '[{"id": "precious"'
    assert stores.rules.load_rules() == [{"id": "fresh"}]


def test_update_that_raises_writes_nothing(stores: Stores) -> None:
    stores.rules.save_rules([{"id": "kept"}])

    def clear_then_fail() -> None:
        with stores.rules.update() as rules:
            rules.clear()
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        clear_then_fail()
    assert stores.rules.load_rules() == [{"id": "kept"}]


def test_token_file_is_private(stores: Stores) -> None:
    stores.tokens.save_token({"access_token": "secret", "refresh_token": "also-secret"})
    assert stat.S_IMODE(stores.tokens.path.stat().st_mode) == 0o600
    assert stores.tokens.load_token() == {"access_token": "secret", "refresh_token": "also-secret"}


def test_cache_directory_is_created_private(tmp_path: Path) -> None:
    stores = Stores.open(tmp_path / "new-cache")
    stores.rules.save_rules([])
    assert stat.S_IMODE((tmp_path / "new-cache").stat().st_mode) == 0o700


def test_enrichment_entries_merge_by_source(stores: Stores) -> None:
    old = TrackEnrichment(source="deezer", categories={"bpm": 120})
    stores.enrichments.save_enrichments_cache(
        {"t1": [old, TrackEnrichment(source="manual", categories={"mood": "calm"})]}
    )
    stores.enrichments.save_enrichments_cache(
        {
            "t1": [TrackEnrichment(source="deezer", categories={"bpm": 122})],
            "t2": [TrackEnrichment(source="deezer", categories={"bpm": 90})],
        }
    )
    cache = stores.enrichments.load_enrichments_cache()
    assert {e.source: e.categories for e in cache["t1"]} == {
        "deezer": {"bpm": 122},
        "manual": {"mood": "calm"},
    }
    assert [e.categories for e in cache["t2"]] == [{"bpm": 90}]


def test_job_history_prunes_oldest_finished_jobs_only(stores: Stores) -> None:
    running = PipelineJob(id="live", step="s", status=JobStatus.RUNNING)
    stores.jobs.add(running, keep_finished=3)
    for index in range(6):
        stores.jobs.add(
            PipelineJob(id=f"done{index}", step="s", status=JobStatus.DONE), keep_finished=3
        )
    assert [job.id for job in stores.jobs.load_jobs()] == ["live", "done3", "done4", "done5"]


def test_modify_unknown_job_is_not_found(stores: Stores) -> None:
    with pytest.raises(NotFoundError, match="no job with id 'nope'"):
        stores.jobs.modify("nope", lambda job: None)


def test_status_reports_size_and_time_without_parsing(stores: Stores) -> None:
    before = stores.rules.status()
    assert (before.exists, before.size_bytes, before.modified_at) == (False, 0, None)
    stores.rules.path.parent.mkdir(parents=True, exist_ok=True)
    stores.rules.path.write_text("not even json")
    after = stores.rules.status()
    assert after.exists and after.size_bytes == len("not even json")
    assert after.modified_at is not None
    assert abs((datetime.now(UTC) - after.modified_at).total_seconds()) < 60
    assert stores.rules.path.exists()  # status never quarantines


def test_a_lock_held_too_long_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    lock_file = tmp_path / ".locks" / "rules.json.lock"
    lock_file.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_file)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        store = RuleStore(tmp_path, lock_timeout=0.3)
        with pytest.raises(StoreError, match=r"rules.json is locked by another process") as info:
            store.save_rules([{"id": "blocked"}])
        assert info.value.code == "store_locked"
        assert not store.path.exists()
    finally:
        holder.kill()
        holder.wait(10)
    RuleStore(tmp_path, lock_timeout=5).save_rules([{"id": "after"}])  # released on death
    assert RuleStore(tmp_path).load_rules() == [{"id": "after"}]


HOLD_LOCK = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""
