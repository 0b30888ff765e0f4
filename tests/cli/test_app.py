"""The CLI over real stores: status, verify, jobs list/show/cancel/rerun, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import __version__
from app.cli import app
from app.core.models import JobOwner, JobStatus, PipelineJob
from app.data import Stores

runner = CliRunner()


@pytest.fixture(autouse=True)
def _real_account_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use a configured (non-demo) account; demo mode has its own tests."""
    monkeypatch.setenv("SAP_SPOTIFY_CLIENT_ID", "test-client-id")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _dead_owner() -> JobOwner:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return JobOwner(pid=process.pid, instance="gone")


def test_version() -> None:
    code, out, _ = invoke("version")
    assert (code, out.strip()) == (0, __version__)


def test_the_process_leaves_without_collecting_what_the_command_built() -> None:
    """Once a command is done, what it built is frozen out of the cyclic collector's sight:
    the process exits without scanning it all once more (docs/performance.md)."""
    script = (
        "import gc, sys\n"
        "from app.cli import main\n"
        "sys.argv = ['sap', 'version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print(exc.code or 0, gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 True"


def test_status_json_reports_the_cache_dir(cache_dir: Path) -> None:
    code, out, _ = invoke("status", "--cache-dir", str(cache_dir), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["cache_dir"] == str(cache_dir.resolve())
    assert report["status"] == "ok"
    assert report["jobs"]["done"] == 0


def test_cache_dir_comes_from_the_environment_too(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    monkeypatch.setenv("SAP_CACHE_DIR", str(cache_dir))
    code, out, _ = invoke("status", "--json")
    assert (code, json.loads(out)["cache_dir"]) == (0, str(cache_dir.resolve()))


def test_verify_runs_as_a_recorded_job(cache_dir: Path) -> None:
    code, out, _ = invoke("verify", "--cache-dir", str(cache_dir), "--json")
    assert code == 0
    job = json.loads(out)
    assert (job["step"], job["status"], job["payload"]["ok"]) == ("verify", "done", True)
    assert [j.id for j in Stores.open(cache_dir).jobs.load_jobs()] == [job["id"]]


def test_verify_fails_and_reports_a_corrupt_store(cache_dir: Path) -> None:
    cache_dir.mkdir()
    (cache_dir / "tracks.json").write_text("{oops")
    code, out, _ = invoke("verify", "--cache-dir", str(cache_dir), "--json")
    assert code == 1
    [moved] = json.loads(out)["payload"]["quarantined"]
    assert moved["original_name"] == "tracks.json"
    code, out, _ = invoke("status", "--cache-dir", str(cache_dir))
    assert code == 0
    assert "degraded" in out and "quarantined:" in out


def test_jobs_list_show_and_cancel(cache_dir: Path) -> None:
    stores = Stores.open(cache_dir)
    stores.jobs.add(
        PipelineJob(id="old", step="verify", status=JobStatus.DONE, payload={"ok": True}),
        keep_finished=10,
    )
    stores.jobs.add(PipelineJob(id="queued", step="verify", owner=_dead_owner()), keep_finished=10)
    code, out, _ = invoke("jobs", "list", "--cache-dir", str(cache_dir), "--json")
    assert code == 0
    assert [job["id"] for job in json.loads(out)["items"]] == ["queued", "old"]
    code, out, _ = invoke("jobs", "list", "--cache-dir", str(cache_dir), "--status", "done")
    assert code == 0 and "old" in out and "queued" not in out
    code, out, _ = invoke("jobs", "show", "old", "--cache-dir", str(cache_dir), "--json")
    assert (code, json.loads(out)["payload"]) == (0, {"ok": True})
    code, out, _ = invoke("jobs", "cancel", "queued", "--cache-dir", str(cache_dir))
    assert (code, out.strip()) == (0, "queued: cancelled (cancelled)")
    assert stores.jobs.get("queued").status is JobStatus.CANCELLED


def test_jobs_rerun_runs_the_step_again_here(cache_dir: Path) -> None:
    Stores.open(cache_dir).jobs.add(
        PipelineJob(id="broken", step="verify", status=JobStatus.FAILED), keep_finished=10
    )
    code, out, _ = invoke("jobs", "rerun", "broken", "--cache-dir", str(cache_dir), "--json")
    assert code == 0
    job = json.loads(out)
    assert (job["status"], job["metadata"]) == ("done", {"rerun_of": "broken"})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "show", "nope"], "error: no job with id 'nope'"),
        (["jobs", "cancel", "nope"], "error: no job with id 'nope'"),
    ],
)
def test_errors_are_one_line_and_exit_1(cache_dir: Path, args: list[str], message: str) -> None:
    code, out, err = invoke(*args, "--cache-dir", str(cache_dir))
    assert code == 1
    assert err.strip() == message
    assert "Traceback" not in out + err


def test_cancelling_a_finished_job_is_an_error(cache_dir: Path) -> None:
    Stores.open(cache_dir).jobs.add(
        PipelineJob(id="fin", step="verify", status=JobStatus.DONE), keep_finished=10
    )
    code, _, err = invoke("jobs", "cancel", "fin", "--cache-dir", str(cache_dir))
    assert code == 1
    assert err.strip() == "error: job fin already finished (done); nothing to cancel"


def test_a_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAP_JOB_WORKERS", "lots")
    code, _, err = invoke("status")
    assert code == 1
    assert err.strip().startswith("error: invalid setting SAP_JOB_WORKERS:")


def test_console_scripts_are_installed() -> None:
    bindir = Path(sys.executable).parent
    for name in ("spotify-auto-playlists", "sap"):
        result = subprocess.run(
            [str(bindir / name), "version"], capture_output=True, text=True, check=False
        )
        assert (result.returncode, result.stdout.strip()) == (0, __version__)
