"""Child process for tests/core/test_fs_crash.py: rewrites one JSON file forever.

usage: crash_writer.py PATH FIRST_VERSION MAX_SECONDS

Prints ``ready`` once its imports are done, then writes version FIRST_VERSION, FIRST_VERSION + 1,
... of `make_version` to PATH with `write_json`, printing each version number (and flushing) after
its write returned. The parent kills it with SIGKILL; MAX_SECONDS only stops an orphan.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from app.core.fs import write_json

ITEMS = 100_000  # about 2 MB on disk with write_json's indentation


def make_version(n: int) -> dict[str, Any]:
    """The whole content of version `n`: a store envelope around one large rule document."""
    body = {"version": n, "items": [f"{n}-{i}" for i in range(ITEMS)], "tail": n}
    return {"schema_version": 1, "data": [body]}


def main(argv: list[str]) -> int:
    path, version, max_seconds = Path(argv[1]), int(argv[2]), float(argv[3])
    stop_at = time.monotonic() + max_seconds
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while time.monotonic() < stop_at:
        write_json(path, make_version(version))
        sys.stdout.write(f"{version}\n")
        sys.stdout.flush()
        version += 1
    sys.stderr.write("crash_writer: never killed, stopping\n")
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
