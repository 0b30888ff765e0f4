"""Where CSV sources may be read from, and how: the rules of `app.pipeline.sources.csv_files`
on real files (the HTTP side is tests/api/test_csv_imports.py)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.errors import AppError
from app.pipeline.services import Services
from app.pipeline.sources.csv_files import (
    csv_source_path,
    imports_dir,
    read_csv_file,
    store_upload,
    upload_bytes,
    upload_name,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "exports"
    made.mkdir()
    (made / "mine.csv").write_text("Track URI,Track Name\n")
    return made


def services_for(tmp_path: Path, folder: Path | None, *, local_paths: bool) -> Services:
    settings = Settings(cache_dir=tmp_path / "cache", spotify_client_id="x", csv_import_dir=folder)
    return Services.from_settings(settings, local_paths=local_paths)


def code_of(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(AppError) as caught:
        call()
    return caught.value.status_code, caught.value.code


def test_the_cli_reads_any_path_relative_to_where_it_runs(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = services_for(tmp_path, None, local_paths=True)
    monkeypatch.chdir(folder)
    assert csv_source_path(cli, "mine.csv") == folder / "mine.csv"
    assert csv_source_path(cli, str(folder / ".." / "exports" / "mine.csv")) == folder / "mine.csv"
    assert code_of(lambda: csv_source_path(cli, "absent.csv")) == (404, "csv_not_found")
    assert code_of(lambda: csv_source_path(cli, str(folder))) == (422, "csv_not_a_file")
    assert code_of(lambda: csv_source_path(cli, "~nobody-here-xyz/a.csv")) == (
        422,
        "csv_path_invalid",
    )
    assert code_of(lambda: csv_source_path(cli, "a\0b")) == (422, "csv_path_invalid")


def test_the_server_reads_only_the_import_folder_and_its_uploads(
    tmp_path: Path, folder: Path
) -> None:
    server = services_for(tmp_path, folder, local_paths=False)
    assert csv_source_path(server, "mine.csv") == folder / "mine.csv"
    upload = store_upload(server.settings, "up.csv", b"Track URI,Track Name\n")
    assert csv_source_path(server, upload.path) == imports_dir(server.settings) / "up.csv"
    # The data directory itself (tokens.json lives there) is not an import folder.
    (tmp_path / "cache" / "tokens.csv").write_text("secret")
    for refused in (
        str(tmp_path / "cache" / "tokens.csv"),
        str(imports_dir(server.settings) / ".." / "tokens.csv"),
        "../cache/tokens.csv",
        str(folder),  # the folder itself
        "/",
    ):
        assert code_of(lambda refused=refused: csv_source_path(server, refused)) == (
            403,
            "csv_path_not_allowed",
        ), refused


def test_an_import_folder_around_the_data_directory_does_not_open_it(tmp_path: Path) -> None:
    server = services_for(tmp_path, tmp_path, local_paths=False)  # the cache is inside
    (tmp_path / "mine.csv").write_text("x")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "tokens.json").write_text("{}")
    assert csv_source_path(server, "mine.csv") == tmp_path / "mine.csv"
    assert code_of(lambda: csv_source_path(server, "cache/tokens.json")) == (
        403,
        "csv_path_not_allowed",
    )
    upload = store_upload(server.settings, "up.csv", b"x\n")
    assert csv_source_path(server, upload.path) == Path(upload.path)


def test_reads_take_regular_files_only_without_a_final_symlink(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: reading it would wait forever
    assert code_of(lambda: read_csv_file(fifo, 1024)) == (422, "csv_not_a_file")
    assert code_of(lambda: read_csv_file(Path("/dev/zero"), 1024)) == (422, "csv_not_a_file")
    target = tmp_path / "real.csv"
    target.write_bytes(b"a,b\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert code_of(lambda: read_csv_file(link, 1024)) == (403, "csv_path_not_allowed")
    assert read_csv_file(target, 1024) == b"a,b\n"
    assert read_csv_file(target, 4) == b"a,b\n"
    assert code_of(lambda: read_csv_file(target, 3)) == (413, "csv_too_large")
    assert code_of(lambda: read_csv_file(tmp_path / "absent", 3)) == (404, "csv_not_found")


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("Road Trip (2019).CSV", "Road Trip (2019).csv"),
        ("../../Road Trip.csv", "Road Trip.csv"),
        ("C:\\Users\\me\\b.csv", "b.csv"),
        ("..", "import.csv"),
        ("...csv", "import.csv"),
        ("  spaced   out  .csv", "spaced out.csv"),
        ("Grüße – 曲.csv", "Grüße 曲.csv"),
        ("no extension", "no extension.csv"),
        ("x\0y\nz.csv", "xyz.csv"),
    ],
)
def test_the_server_names_uploads(uploaded: str, stored: str) -> None:
    assert upload_name(uploaded) == stored


def test_uploads_are_private_and_replace_their_namesake(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", spotify_client_id="x")
    first = store_upload(settings, "a.csv", b"one\n")
    second = store_upload(settings, "A.csv", b"two\n")  # another name: another file
    third = store_upload(settings, "a.csv", b"three\n")
    assert first.path == third.path != second.path
    assert Path(third.path).read_bytes() == b"three\n"
    assert stat.S_IMODE(Path(third.path).stat().st_mode) == 0o600
    assert stat.S_IMODE(imports_dir(settings).stat().st_mode) == 0o700
    assert sorted(p.name for p in imports_dir(settings).iterdir()) == ["A.csv", "a.csv"]


def test_upload_contents_are_bounded_before_they_are_decoded() -> None:
    assert upload_bytes("é", "text", 1024) == "é".encode()
    assert upload_bytes("aGk=", "base64", 1024) == b"hi"
    assert code_of(lambda: upload_bytes("x" * 1025, "text", 1024)) == (413, "csv_too_large")
    assert code_of(lambda: upload_bytes("QUFB" * 400, "base64", 1024)) == (413, "csv_too_large")
    assert code_of(lambda: upload_bytes("a?b=", "base64", 1024)) == (422, "csv_bad_base64")
    assert code_of(lambda: upload_bytes("\ud800", "text", 1024)) == (422, "csv_encoding")
