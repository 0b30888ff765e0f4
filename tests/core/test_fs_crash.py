"""Crash consistency of `write_json`: a writer killed at any moment never leaves a broken file.

A child process (tests/helpers/crash_writer.py) rewrites one ~2 MB store file in a tight loop with
`write_json`; version n's content is a pure function of n. The test SIGKILLs it many times, at
random delays and right after a temp file appears, and restarts it from the version on disk.
After every kill the file parses, equals exactly some whole version, and that version is the last
one the child confirmed or the one it was finishing: never older, never partial. A temp file a
kill leaves behind holds only a prefix of the version being written, and is never renamed over the
file later; the first `JsonStore` write in the directory sweeps such files away.
"""

from __future__ import annotations

import os
import random
import select
import signal
import stat
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import orjson
import pytest

from app.core.fs import dumps, list_quarantined, write_json
from app.data.rules import RuleStore
from tests.helpers.crash_writer import make_version

HELPER = Path(__file__).resolve().parents[1] / "helpers" / "crash_writer.py"
KILLS = 36
MAX_DELAY = 0.12  # seconds; the child writes a version every ~20-40 ms
WAIT = 30.0  # seconds for any single wait on the child, so a hang fails instead of blocking
TEMP_WAIT = 2.0  # seconds to watch for a temp file before killing anyway
TEMP_GLOB = ".rules.json.*.tmp"


@lru_cache(maxsize=4)
def version_bytes(n: int) -> bytes:
    return dumps(make_version(n))


def is_temp(name: str) -> bool:
    return name.startswith(".rules.json.") and name.endswith(".tmp")


def temp_files(directory: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in directory.glob(TEMP_GLOB):
        try:
            found[entry.name] = entry.read_bytes()
        except FileNotFoundError:  # the live child renamed it away meanwhile
            continue
    return found


def wait_ready(proc: subprocess.Popen[bytes], where: str) -> None:
    assert proc.stdout is not None
    readable, _, _ = select.select([proc.stdout], [], [], WAIT)
    line = proc.stdout.readline() if readable else b""
    if line != b"ready\n":
        proc.kill()
        _, err = proc.communicate(timeout=WAIT)
        pytest.fail(f"{where}: child did not start (got {line!r}); stderr:\n{err.decode()}")


def wait_for_new_temp(proc: subprocess.Popen[bytes], directory: Path, known: set[str]) -> None:
    """Return as soon as the child has a temp file of its own open (or died, or TEMP_WAIT)."""
    deadline = time.monotonic() + TEMP_WAIT
    while proc.poll() is None and time.monotonic() < deadline:
        with os.scandir(directory) as entries:
            if any(is_temp(e.name) and e.name not in known for e in entries):
                return


def disk_version(path: Path, where: str) -> int:
    raw = path.read_bytes()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        pytest.fail(f"{where}: file does not parse after the kill ({len(raw)} bytes): {exc}")
    version = doc["data"][0]["version"]
    assert isinstance(version, int), f"{where}: bad version {version!r}"
    assert doc == make_version(version), f"{where}: content is not exactly version {version}"
    assert raw == version_bytes(version), f"{where}: bytes differ from version {version}"
    return version


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_write_json_survives_sigkill_at_any_moment(tmp_path: Path) -> None:
    seed = int(os.environ.get("FS_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    directory = tmp_path / "cache"
    path = directory / "rules.json"
    write_json(path, make_version(0))

    version = 0
    temps = temp_files(directory)
    mid_write_kills = 0
    unconfirmed_landed = 0  # kills between a completed write and its confirmation
    versions_written = 0
    proc: subprocess.Popen[bytes] | None = None
    try:
        for kill in range(KILLS):
            mode = "after-temp" if kill % 2 else "delay"
            where = f"seed={seed} kill #{kill} ({mode}, started at version {version + 1})"
            start = version + 1
            proc = subprocess.Popen(
                [sys.executable, str(HELPER), str(path), str(start), str(WAIT * 4)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
            wait_ready(proc, where)
            if mode == "delay":
                time.sleep(rng.uniform(0.0, MAX_DELAY))
            else:
                wait_for_new_temp(proc, directory, set(temps))
                if rng.random() < 0.5:
                    time.sleep(rng.uniform(0.0, 0.003))
            proc.send_signal(signal.SIGKILL)
            out, err = proc.communicate(timeout=WAIT)
            assert proc.returncode == -signal.SIGKILL, (
                f"{where}: child ended by itself with {proc.returncode}; stderr:\n{err.decode()}"
            )

            confirmed = [int(line) for line in out.split()]
            assert confirmed == list(range(start, start + len(confirmed))), where
            last = confirmed[-1] if confirmed else start - 1
            version = disk_version(path, where)
            assert version in (last, last + 1), (
                f"{where}: file holds version {version}, child last confirmed {last}"
            )
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, where
            versions_written += version - start + 1
            unconfirmed_landed += version == last + 1

            now = temp_files(directory)
            assert set(temps) <= set(now), f"{where}: an old temp file was renamed or removed"
            for name, content in temps.items():
                assert now[name] == content, f"{where}: old temp file {name} changed"
            new = set(now) - set(temps)
            assert len(new) <= 1, f"{where}: one kill left several temp files: {sorted(new)}"
            for name in new:
                # The rename never happened, so the file still holds the version before.
                assert version == last, f"{where}: {name} left behind, yet version {version} landed"
                assert version_bytes(version + 1).startswith(now[name]), (
                    f"{where}: {name} is not a prefix of version {version + 1}"
                )
                mid_write_kills += 1
            temps = now
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=WAIT)

    print(
        f"seed={seed}: {KILLS} kills, {mid_write_kills} left a temp file, "
        f"{unconfirmed_landed} landed a write they did not confirm, "
        f"{versions_written} versions written, last version {version}"
    )
    assert mid_write_kills >= 1, f"seed={seed}: no kill landed while a temp file existed"

    # A JsonStore opened on the directory reads the survivor and sweeps every stale temp file of
    # its own (one killed writers left, plus one planted by hand) on its first write.
    (directory / ".rules.json.planted.tmp").write_bytes(b'{"schema_version": 1, "da')
    other_store_temp = directory / ".tracks.json.planted.tmp"
    other_store_temp.write_bytes(b"not ours")
    assert len(list(directory.glob(TEMP_GLOB))) == mid_write_kills + 1

    store = RuleStore(directory)
    survivor = make_version(version)["data"]
    assert store.load() == survivor
    with store.update() as rules:
        rules.append({"id": "after-crash"})

    assert list(directory.glob(TEMP_GLOB)) == []
    assert other_store_temp.read_bytes() == b"not ours"
    assert list_quarantined(directory) == []
    assert RuleStore(directory).load() == [*survivor, {"id": "after-crash"}]
