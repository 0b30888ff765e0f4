"""CSV sources over HTTP: uploads into the data directory, paths only from the import folder,
and errors that never quote a file (docs/operations.md, "CSV imports").

The server is reachable by other programs of this machine (and, through item 6's guard, never
by other sites): a path it is handed is read with the user's rights. So over HTTP a CSV file
arrives as an upload, or is named inside the folder the user configured for that; `sap fetch
--csv FILE` alone reads any file the user names (tests/cli/test_spotify.py).
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.spotify_env import DemoServer, demo_settings, write_exportify_csv

# What /etc/passwd or /proc/self/environ look like: a first line that must never come back.
PASSWD_LINE = "root:x:0:0:root:/root:/bin/bash"  # noqa: S105 - a bait, not a password
ENV_SECRET = "SAP_LASTFM_API_KEY=do-not-show-me-0123456789"  # noqa: S105 - a bait


def _exportify(*rows: list[str]) -> str:
    header = '"Track URI","Track Name","Artist URI(s)","Artist Name(s)","Album Name","Added At"'
    lines = [header]
    for track_id, name in rows:
        cells = [f"spotify:track:{track_id}", name, "", "Someone", "Album", ""]
        lines.append(",".join('"' + cell + '"' for cell in cells))
    return "\n".join(lines) + "\n"


@pytest.fixture
def import_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


@pytest.fixture
def server(tmp_path: Path, import_dir: Path) -> Iterator[DemoServer]:
    """A demo server with an import folder configured (CSV sources need no login)."""
    settings = demo_settings(tmp_path / "cache", csv_import_dir=import_dir)
    with DemoServer.open(settings) as opened:
        yield opened


@pytest.fixture
def secret_files(tmp_path: Path) -> dict[str, Path]:
    """Files outside the import folder whose first line must never leak."""
    outside = tmp_path / "private"
    outside.mkdir()
    passwd = outside / "passwd"
    passwd.write_text(PASSWD_LINE + "\ndaemon:x:1:1::/:/sbin/nologin\n", encoding="utf-8")
    environ = outside / "environ"
    environ.write_bytes(ENV_SECRET.encode() + b"\0SAP_OTHER=1\0")
    return {"passwd": passwd, "environ": environ}


def fetch_csv(server: DemoServer, source_id: str) -> Any:
    return server.client.post(
        "/pipeline/tracks/fetch-sources",
        json={"sources": [{"source_type": "csv", "source_id": source_id}]},
    )


def assert_nothing_leaked(text: str) -> None:
    assert "root:x" not in text and "/bin/bash" not in text
    assert "do-not-show-me" not in text and "SAP_OTHER" not in text


def upload(server: DemoServer, filename: str, content: str, **extra: Any) -> Any:
    return server.client.post(
        "/pipeline/tracks/import-csv", json={"filename": filename, "content": content, **extra}
    )


# --- paths over HTTP ------------------------------------------------------------------------


def test_a_path_outside_the_import_folder_is_refused_before_any_read(
    server: DemoServer, secret_files: dict[str, Path], import_dir: Path
) -> None:
    symlink = import_dir / "innocent.csv"
    symlink.symlink_to(secret_files["passwd"])
    attempts = [
        str(secret_files["passwd"]),
        str(secret_files["environ"]),
        "/etc/passwd",
        "/proc/self/environ",
        str(import_dir / ".." / "private" / "passwd"),  # `..` out of the folder
        "../private/passwd",  # relative to the folder, then out of it
        str(symlink),  # a symlink inside that leads out
        "innocent.csv",
        str(secret_files["passwd"].parent / "missing.csv"),  # no hint whether it exists
    ]
    for attempt in attempts:
        response = fetch_csv(server, attempt)
        assert response.status_code == 403, (attempt, response.text)
        assert response.json()["error"] == "csv_path_not_allowed"
        assert "SAP_CSV_IMPORT_DIR" in response.json()["detail"]
        assert_nothing_leaked(response.text)
    assert server.client.get("/pipeline/jobs").json()["total"] == 0


def test_without_an_import_folder_no_path_is_accepted_over_http(
    demo: DemoServer, tmp_path: Path
) -> None:
    path = write_exportify_csv(tmp_path / "mine.csv", [["K" * 22, "One", "A" * 22, "A", "X", ""]])
    response = fetch_csv(demo, str(path))
    assert response.status_code == 403
    assert response.json()["error"] == "csv_path_not_allowed"
    assert "import-csv" in response.json()["detail"]  # it says how to send the file instead


def test_a_file_in_the_import_folder_is_read_by_path_absolute_or_relative(
    server: DemoServer, import_dir: Path
) -> None:
    (import_dir / "sub").mkdir()
    path = import_dir / "sub" / "Road Trip.csv"
    path.write_text(_exportify(["K" * 22, "One"], ["M" * 22, "Two"]), encoding="utf-8")
    for source_id in (
        str(path),
        "sub/Road Trip.csv",
        str(import_dir / "sub" / ".." / "sub" / path.name),
    ):
        [job] = server.fetch({"source_type": "csv", "source_id": source_id})
        assert job["status"] == "done", job
        assert job["payload"]["source"]["key"] == f"csv:{path.resolve()}"
        assert job["payload"]["entries"] == 2
    missing = fetch_csv(server, "sub/absent.csv")
    assert (missing.status_code, missing.json()["error"]) == (404, "csv_not_found")


def test_jobs_started_by_hand_cannot_read_a_path_either(
    server: DemoServer, secret_files: dict[str, Path]
) -> None:
    """The fetch steps read their metadata, which any client may write: they check too."""
    client = server.client
    target = str(secret_files["passwd"])
    source = {"source_type": "csv", "source_id": target}
    started = [
        client.post("/pipeline/fetch_tracks/run-async", json={"metadata": source}),
        client.post("/pipeline/fetch_sources/run-async", json={"metadata": {"sources": [source]}}),
    ]
    for response in started:
        assert response.status_code == 202, response.text
        job = server.poll(response.json()["id"])
        # fetch_tracks fails; fetch_sources names the failed source (its job's own outcome is
        # the fetch jobs' rule, docs/reliability.md).
        text = str(job)
        assert "csv_path_not_allowed" in text, job
        assert_nothing_leaked(text)
    assert server.store_bytes() == {"tracks.json": None, "sources.json": None}


def test_a_fifo_or_a_device_in_the_import_folder_is_refused_not_waited_on(
    server: DemoServer, import_dir: Path
) -> None:
    fifo = import_dir / "pipe.csv"
    os.mkfifo(fifo)
    response = server.client.post(
        "/pipeline/fetch_tracks/run-async",
        json={"metadata": {"source_type": "csv", "source_id": str(fifo)}},
    )
    job = server.poll(response.json()["id"])
    assert (job["status"], job["error"]["code"]) == ("failed", "csv_not_a_file")


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, import_dir: Path) -> None:
    big = import_dir / "big.csv"
    big.write_text(_exportify(*[["K" * 22, "x" * 100]] * 50), encoding="utf-8")
    settings = demo_settings(tmp_path / "cache", csv_import_dir=import_dir, csv_max_bytes=1024)
    with DemoServer.open(settings) as server:
        [job] = server.fetch({"source_type": "csv", "source_id": str(big)})
        assert (job["status"], job["error"]["code"]) == ("failed", "csv_too_large")
        assert "SAP_CSV_MAX_BYTES" in job["error"]["message"]


# --- errors name rows and columns, never the text -------------------------------------------


def test_errors_never_quote_the_file(server: DemoServer, import_dir: Path) -> None:
    (import_dir / "passwd.csv").write_text(PASSWD_LINE + "\nbin:x:2:2::/:/bin/false\n")
    (import_dir / "environ.csv").write_bytes(ENV_SECRET.encode() + b"\0SAP_OTHER=1\0")
    for name in ("passwd.csv", "environ.csv"):
        [job] = server.fetch({"source_type": "csv", "source_id": name})
        assert (job["status"], job["error"]["code"]) == ("failed", "csv_columns_missing"), job
        assert "is not an Exportify export" in job["error"]["message"]
        assert_nothing_leaked(str(job))
    rows = _exportify(["K" * 22, "Fine"], ["root:x:0:0:root:/root:/bin/bash", "Bad"])
    (import_dir / "rows.csv").write_text(rows, encoding="utf-8")
    [job] = server.fetch({"source_type": "csv", "source_id": "rows.csv"})
    assert job["status"] == "done"
    assert job["payload"]["bad_rows"] == [
        {
            "line": 3,
            "message": "malformed track id in column 'Track URI' (a Spotify id is 22 letters "
            "and digits)",
        }
    ]
    assert_nothing_leaked(str(job))


# --- uploads --------------------------------------------------------------------------------


def test_an_upload_is_stored_privately_and_fetched(server: DemoServer) -> None:
    response = upload(server, "Road Trip.csv", _exportify(["K" * 22, "One"], ["M" * 22, "Two"]))
    assert response.status_code == 202, response.text
    body = response.json()
    stored = Path(body["file"]["path"])
    imports = server.cache_dir / "imports"
    assert stored == imports / "Road Trip.csv"
    assert body["file"]["bytes"] == stored.stat().st_size
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(imports.stat().st_mode) == 0o700
    job = server.poll(body["job"]["id"])
    assert job["status"] == "done", job
    key = f"csv:{stored}"
    assert (job["payload"]["source"]["key"], job["payload"]["source"]["name"]) == (key, "Road Trip")
    assert job["payload"]["entries"] == 2

    # The same name again replaces the file: one source, now with the new rows.
    again = upload(server, "Road Trip.csv", _exportify(["Q" * 22, "Three"]), label="trip")
    job = server.poll(again.json()["job"]["id"])
    assert (job["payload"]["source"]["key"], job["payload"]["entries"]) == (key, 1)
    assert sorted(path.name for path in imports.iterdir()) == ["Road Trip.csv"]
    # And the stored upload can be fetched again by its path.
    [refetched] = server.fetch({"source_type": "csv", "source_id": str(stored)})
    assert refetched["status"] == "done"


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        ("../../../outside.csv", "outside.csv"),
        ("/etc/passwd", "passwd.csv"),
        ("C:\\Users\\me\\Liked Songs.CSV", "Liked Songs.csv"),
        ("..", "import.csv"),
        (".hidden.csv", "hidden.csv"),
        ("a/../../b<>|:*?.csv", "b.csv"),
        ("x" * 300 + ".csv", "x" * 100 + ".csv"),
    ],
)
def test_the_server_names_the_stored_upload(server: DemoServer, filename: str, stored: str) -> None:
    response = upload(server, filename, _exportify(["K" * 22, "One"]))
    assert response.status_code == 202, response.text
    imports = server.cache_dir / "imports"
    assert Path(response.json()["file"]["path"]) == imports / stored
    assert [path.name for path in imports.iterdir()] == [stored]


def test_an_upload_may_be_base64(server: DemoServer) -> None:
    data = b"\xef\xbb\xbf" + _exportify(["K" * 22, "Caf\u00e9"]).encode()
    response = upload(server, "b.csv", base64.b64encode(data).decode(), encoding="base64")
    job = server.poll(response.json()["job"]["id"])
    assert (job["status"], job["payload"]["entries"]) == ("done", 1)
    latin1 = _exportify(["K" * 22, "Caf\u00e9"]).encode("latin-1")
    response = upload(server, "l.csv", base64.b64encode(latin1).decode(), encoding="base64")
    job = server.poll(response.json()["job"]["id"])
    assert (job["status"], job["error"]["code"]) == ("failed", "csv_encoding")


def test_bad_uploads_are_4xx_and_store_nothing(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "cache", csv_max_bytes=1024)
    with DemoServer.open(settings) as server:
        cases = [
            (upload(server, "a.csv", "x" * 2000), 413, "csv_too_large"),
            (upload(server, "a.csv", "!!not base64!!", encoding="base64"), 422, "csv_bad_base64"),
            (upload(server, "a.csv", ""), 422, "csv_empty"),
            (upload(server, "", _exportify(["K" * 22, "One"])), 422, "validation_error"),
        ]
        for response, status, code in cases:
            assert (response.status_code, response.json()["error"]) == (status, code), response.text
        assert not (server.cache_dir / "imports").exists() or not any(
            (server.cache_dir / "imports").iterdir()
        )
        assert server.client.get("/pipeline/jobs").json()["total"] == 0
