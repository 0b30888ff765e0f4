"""A real `sap serve` for the benchmarks that measure the HTTP path.

    with sap_server(data_dir) as (process, client):   # the installed `sap`, its own process
        client.post("/pipeline/playlists/preview-from-rules", json={})

The server reads `data_dir` as a real account's data (a client id is set, so not the demo's
directory), logs warnings only, and is stopped when the block ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench._report import ROOT

SAP = str(Path(sys.executable).with_name("sap"))  # the installed entry point, as a user runs it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled(
    process: subprocess.Popen[bytes], *, window: float = 0.5, timeout: float = 120
) -> float:
    """Wait until `process` is idle (under 5% of a core over `window` seconds): what it started
    by itself (the library warm-up, reading ahead for the library table) is done and takes no
    CPU from the requests measured next. The seconds waited."""
    start = time.monotonic()
    used = cpu_seconds(process.pid)
    while time.monotonic() - start < timeout:
        time.sleep(window)
        now = cpu_seconds(process.pid)
        if now - used < 0.05 * window:
            break
        used = now
    return time.monotonic() - start


@contextmanager
def sap_server(
    data_dir: Path, *, env: Mapping[str, str] | None = None, timeout: float = 600
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """`sap serve` over `data_dir` on a free port, and a client once it answers health."""
    port = free_port()
    environment = {
        **os.environ,
        **(env or {}),
        "SAP_SPOTIFY_CLIENT_ID": "bench",
        "SAP_CACHE_DIR": str(data_dir),
        "SAP_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [SAP, "serve", "--port", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.get("/pipeline/health").raise_for_status()
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            yield process, client
    finally:
        process.terminate()
        process.wait(30)
