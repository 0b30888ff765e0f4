"""`sap jobs …` in demo mode: jobs are listed, shown and re-run on the demo's own data, and a
re-run that talks to Spotify reaches the demo's built-in emulator (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

from app.data import Stores
from tests.helpers import cli


def test_rerun_of_a_fetch_runs_against_the_demo_account(cache_dir: Path) -> None:
    assert cli.sap(cache_dir, "login", demo=True)[0] == 0
    code, _, err = cli.sap(cache_dir, "fetch", "--liked", demo=True)
    assert code == 0, err
    [fetch] = cli.sap_json(cache_dir, "jobs", "list", demo=True)["items"]
    assert fetch["status"] == "done"
    assert cli.sap_json(cache_dir, "jobs", "show", fetch["id"], demo=True)["id"] == fetch["id"]

    # Without --demo too: no client id configured means demo mode.
    for demo in (True, False):
        code, out, err = cli.sap(cache_dir, "jobs", "rerun", fetch["id"], demo=demo)
        assert code == 0, err
        assert "done" in out
    rerun = cli.sap_json(cache_dir, "jobs", "rerun", fetch["id"], demo=True)
    assert rerun["status"] == "done", rerun
    # It reached the emulated account: no source failed for want of a server on port 8888.
    assert "spotify_unavailable" not in json.dumps(rerun["payload"])
    assert rerun["payload"]["failed"] == 0
    assert rerun["step"] == fetch["step"]
    assert rerun["metadata"] == {**fetch["metadata"], "rerun_of": fetch["id"]}
    jobs = Stores.open(cache_dir / "demo").jobs.load_jobs()
    assert [job.status.value for job in jobs] == ["done"] * 4
    assert len(Stores.open(cache_dir / "demo").tracks.load_tracks()) == 120


def test_watch_shows_the_jobs_and_ends_when_none_is_running(cache_dir: Path) -> None:
    from app.core.models import JobProgress, JobStatus, PipelineJob

    jobs = Stores.open(cache_dir / "demo").jobs
    for job_id, status in (("a1b2c3d4e5f6", JobStatus.DONE), ("f6e5d4c3b2a1", JobStatus.FAILED)):
        jobs.add(
            PipelineJob(
                id=job_id,
                step="enrich",
                status=status,
                message=f"{status.value} here",
                progress=JobProgress(done=3, total=4),
            ),
            keep_finished=10,
        )
    code, out, err = cli.sap(cache_dir, "jobs", "watch", demo=True)
    assert code == 0, err
    assert "a1b2c3d4e5f6" in out and "failed here" in out and "3/4 (75%)" in out
    assert "2 job(s)" in out
