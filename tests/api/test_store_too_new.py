"""A store file written by a newer release stops nothing else.

Before: a `jobs.json` of schema version 99 stopped the server at start-up (recovering
interrupted jobs read it), and `sap status` failed with the store's error. Now the server
starts, `/pipeline/health` says which file is too new (status "degraded"), `sap status` shows
the same, and the file is left untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.api.app import create_app
from app.cli import app as cli
from app.core.config import Settings
from app.data import Stores
from tests.helpers.api import api_client

NEWER = b'{"schema_version": 99, "data": {}}'
STORE_FILES = [store.filename for store in Stores.open(Path("unused")).all()]


@pytest.mark.parametrize("filename", STORE_FILES)
def test_the_server_starts_and_health_names_the_newer_file(
    settings: Settings, filename: str
) -> None:
    settings.cache_dir.mkdir(parents=True)
    newer = settings.cache_dir / filename
    newer.write_bytes(NEWER)
    with api_client(create_app(settings)) as client:
        health = client.get("/pipeline/health")
        assert health.status_code == 200, health.text
        report = health.json()
        assert report["status"] == "degraded"
        [problem] = [store for store in report["stores"] if store["problem"]]
        assert problem["file"] == str(newer)
        assert problem["file_schema_version"] == 99
        assert "newer than this release understands" in problem["problem"]
        assert client.get("/pipeline/steps").status_code == 200  # the rest answers
    assert newer.read_bytes() == NEWER  # never rewritten


def test_jobs_of_a_newer_jobs_file_are_refused_with_503_naming_it(settings: Settings) -> None:
    settings.cache_dir.mkdir(parents=True)
    (settings.cache_dir / "jobs.json").write_bytes(NEWER)
    with api_client(create_app(settings)) as client:
        response = client.post("/pipeline/verify/run-async")
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "store_too_new"
        assert "jobs.json" in response.json()["detail"]


def test_status_works_and_shows_the_newer_file(cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True)
    (cache_dir / "jobs.json").write_bytes(NEWER)
    result = CliRunner().invoke(
        cli, ["status", "--cache-dir", str(cache_dir)], env={"SAP_SPOTIFY_CLIENT_ID": "x"}
    )
    assert result.exit_code == 0, result.output
    assert "degraded" in result.stdout
    assert "jobs.json" in result.stdout and "schema version 99" in result.stdout


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("", "error: --cache-dir: the data directory is empty"),
        (
            "~nouser-of-this-machine/x",
            "error: --cache-dir: cannot expand '~nouser-of-this-machine'",
        ),
    ],
)
def test_a_cache_dir_that_names_no_directory_is_one_line(given: str, said: str) -> None:
    result = CliRunner().invoke(cli, ["status", "--cache-dir", given])
    assert result.exit_code == 1
    assert result.stderr.startswith(said)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output
