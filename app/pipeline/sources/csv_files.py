"""Where a CSV source may be read from, uploads into the data directory, and reading safely.

A CSV source names a file on this machine, which the process reads with the user's rights.
From the CLI (`sap fetch --csv FILE`, typed in the user's own shell) any file the user names is
read. The HTTP server is another matter: whatever reaches it (a script, a page through a
browser hole, a job's hand-written metadata) would read `/etc/passwd` or `/proc/self/environ`.
So, when the services are not the CLI's (`Services.local_paths` false), a CSV path must lie in

- the data directory's `imports/` folder, where uploads are stored (`store_upload`), or
- the import folder the user configured (``SAP_CSV_IMPORT_DIR``; none by default).

The path is resolved first (``..`` and symlinks followed; a relative path is taken inside the
import folder), and only then compared with the folders: a path that leads outside is refused
with 403 before the file is even looked at, so the answer does not tell whether it exists.

Every read, from anywhere, takes a regular file only (a FIFO or a device would hang a job or
never end), opens it without following a final symlink (so a swap after the check cannot lead
out), and reads at most ``SAP_CSV_MAX_BYTES``.

    path = csv_source_path(services, "Road Trip.csv")  # → <import folder>/Road Trip.csv
    data = read_csv_file(path, services.settings.csv_max_bytes)
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import stat
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from app.core.config import Settings
from app.core.errors import AppError, ForbiddenError, NotFoundError, UnprocessableError
from app.core.fs import make_private_dir, write_chunks
from app.pipeline.services import Services

IMPORTS_DIR_NAME = "imports"
UPLOAD_NAME_LIMIT = 100  # characters of the stored name's stem
_NAME_PUNCTUATION = frozenset(" -_.()[],&'+")


class CsvTooLargeError(AppError):
    status_code = 413
    code = "csv_too_large"


class StoredUpload(BaseModel):
    """A CSV file uploaded to the server and stored in the data directory."""

    name: str = Field(description="The stored file's name, derived from the uploaded name.")
    path: str = Field(
        description="Where it is stored; fetch it again with this path as a csv source_id."
    )
    bytes: int


def imports_dir(settings: Settings) -> Path:
    """The data directory's folder of uploaded CSV files."""
    return settings.cache_dir / IMPORTS_DIR_NAME


def _refused(source_id: str) -> ForbiddenError:
    return ForbiddenError(
        f"the server reads CSV files by path only inside the import folder "
        f"(SAP_CSV_IMPORT_DIR) or among its uploads; {source_id[:200]!r} is neither. Send the "
        "file with POST /pipeline/tracks/import-csv, or run `sap fetch --csv FILE`",
        code="csv_path_not_allowed",
    )


def csv_source_path(services: Services, source_id: str | None) -> Path:
    """The absolute, resolved path of a CSV source; raises 403 for a path this process may
    not read (see the module docstring), 404 when it may but there is no file."""
    text = (source_id or "").strip()
    if not text or "\0" in text:
        raise UnprocessableError("a CSV source needs the file's path", code="csv_path_invalid")
    settings = services.settings
    try:
        if services.local_paths:
            path = Path(text).expanduser().resolve()
        else:
            path = _inside_allowed_folders(Path(text), settings, text)
    except (RuntimeError, OSError) as exc:  # "~nobody/x", a path too long…
        raise UnprocessableError(
            f"cannot use the CSV path {text[:200]!r}: {exc}", code="csv_path_invalid"
        ) from None
    if not path.exists():
        raise NotFoundError(f"CSV file {str(path)!r} does not exist", code="csv_not_found")
    if not path.is_file():
        raise _not_a_file(path)
    return path


def _inside_allowed_folders(raw: Path, settings: Settings, text: str) -> Path:
    folder = settings.csv_import_dir
    if raw.is_absolute():
        path = raw.resolve()
    elif folder is not None:
        path = (folder / raw).resolve()
    else:
        raise _refused(text)
    uploads = imports_dir(settings).resolve()
    roots = [uploads] if folder is None else [uploads, folder]
    if not any(path.is_relative_to(root) and path != root for root in roots):
        raise _refused(text)
    if path.is_relative_to(settings.cache_dir) and not path.is_relative_to(uploads):
        raise _refused(text)  # an import folder around the data directory: not tokens.json
    return path


def read_csv_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path` (no final symlink followed), at most
    `max_bytes` of them."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotFoundError(f"CSV file not found: {path}", code="csv_not_found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink put there after the path was checked
            raise ForbiddenError(
                f"CSV file {path} became a symbolic link; not followed",
                code="csv_path_not_allowed",
            ) from None
        raise UnprocessableError(
            f"cannot read CSV file {path}: {exc.strerror or exc}", code="csv_unreadable"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _not_a_file(path)
        if info.st_size > max_bytes:
            raise _too_large(path.name, max_bytes)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise _too_large(path.name, max_bytes)
    return data


def _not_a_file(path: Path) -> UnprocessableError:
    return UnprocessableError(
        f"{path} is not a regular file (a directory, pipe or device)", code="csv_not_a_file"
    )


def _too_large(what: str, max_bytes: int) -> CsvTooLargeError:
    return CsvTooLargeError(
        f"{what} is larger than {max_bytes} bytes, the most a CSV file may be (SAP_CSV_MAX_BYTES)"
    )


def upload_name(filename: str) -> str:
    """The stored name of an upload: the uploaded name's last part, letters, digits, spaces
    and a little punctuation kept, at most 100 characters, with a `.csv` suffix.

    >>> upload_name("../../Road Trip (2019).CSV"), upload_name("..")
    ('Road Trip (2019).csv', 'import.csv')
    """
    last = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = last[:-4] if last.casefold().endswith(".csv") else last
    kept = "".join(
        char
        for char in unicodedata.normalize("NFC", stem)
        if char.isalnum() or char in _NAME_PUNCTUATION
    )
    stem = " ".join(kept.split()).strip(" .")[:UPLOAD_NAME_LIMIT].strip(" .")
    return f"{stem or 'import'}.csv"


def upload_bytes(content: str, encoding: Literal["text", "base64"], max_bytes: int) -> bytes:
    """The file an upload carries: its text as UTF-8, or its base64 decoded."""
    # Bounded before decoding: a character is at least one byte, 4 base64 characters are 3.
    if len(content) > (max_bytes if encoding == "text" else (max_bytes + 2) // 3 * 4):
        raise _too_large("the uploaded file", max_bytes)
    if encoding == "text":
        try:
            return content.encode("utf-8")
        except UnicodeEncodeError as exc:  # JSON may carry a lone surrogate ("\ud800")
            raise UnprocessableError(
                f"the uploaded text holds a lone surrogate at character {exc.start}; send the "
                "file's bytes in base64 instead",
                code="csv_encoding",
            ) from None
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise UnprocessableError(
            "content is not valid base64 (encoding: base64)", code="csv_bad_base64"
        ) from None


def store_upload(settings: Settings, filename: str, data: bytes) -> StoredUpload:
    """Write an uploaded CSV file into `imports/` (mode 0600, atomically), named by the
    server from `filename`; an upload of the same name replaces the earlier one."""
    if len(data) > settings.csv_max_bytes:
        raise _too_large("the uploaded file", settings.csv_max_bytes)
    if not data.lstrip(b"\xef\xbb\xbf").strip():
        raise UnprocessableError("the uploaded file is empty", code="csv_empty")
    folder = imports_dir(settings)
    make_private_dir(folder)
    name = upload_name(filename)
    path = folder / name
    write_chunks(path, [data], mode=0o600)
    return StoredUpload(name=name, path=str(path), bytes=len(data))
