"""No secret in the server's log: every line a real `serve` process writes while a user logs in
(the OAuth callback) and enriches with keyed providers, grepped for the secrets.

The server runs as the user runs it (`python -m app serve`, DEBUG logging, uvicorn's access
log on), against `python -m app emulate` for Spotify, Last.fm and the LLM; the configured keys,
the OAuth `code` and `state`, and the tokens Spotify granted must appear nowhere in its output,
although the lines that would carry them (httpx's request lines, the access log's callback
line) are there.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

LASTFM_KEY = "lastfm-key-0123456789abcdef"
LLM_KEY = "sk-llm-key-fedcba9876543210"
JSON = {"content-type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path, ready: str) -> Iterator[None]:
    """Run `command` with its output in `log` until the block ends (SIGINT, as Ctrl-C)."""
    with log.open("wb") as output:
        running = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(ready, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert running.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"{command} did not start"
                time.sleep(0.1)
            yield
        finally:
            running.send_signal(signal.SIGINT)
            try:
                running.wait(20)
            except subprocess.TimeoutExpired:
                running.kill()
                running.wait()


def poll(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(f"/pipeline/jobs/{job_id}").json()
        if job["status"] in {"done", "failed", "cancelled"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@pytest.mark.slow
def test_the_server_log_holds_no_key_code_or_token(tmp_path: Path) -> None:
    emulator_port, port = free_port(), free_port()
    emulated = f"http://127.0.0.1:{emulator_port}"
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAP_")}
    env.update(
        {
            "SAP_CACHE_DIR": str(tmp_path / "cache"),
            "SAP_PORT": str(port),
            "SAP_LOG_LEVEL": "DEBUG",
            "SAP_SPOTIFY_CLIENT_ID": "log-test-client",
            "SAP_SPOTIFY_API_URL": f"{emulated}/spotify/v1",
            "SAP_SPOTIFY_ACCOUNTS_URL": f"{emulated}/spotify/accounts",
            "SAP_SPOTIFY_REDIRECT_URI": f"{base}/auth/callback",
            "SAP_CONTACT": "tests@spotify-auto-playlists.invalid",
            "SAP_LASTFM_URL": f"{emulated}/lastfm/2.0",
            "SAP_LASTFM_API_KEY": LASTFM_KEY,
            "SAP_LLM_BASE_URL": f"{emulated}/llm/v1",
            "SAP_LLM_MODEL": "emulated-llm",
            "SAP_LLM_API_KEY": LLM_KEY,
        }
    )
    emulate = [sys.executable, "-m", "app", "emulate", "--port", str(emulator_port)]
    emulate += ["--tracks", "8", "--playlists", "1"]
    serve = [sys.executable, "-m", "app", "serve"]
    server_log = tmp_path / "server.log"
    with (
        process(emulate, env, tmp_path / "emulator.log", f"{emulated}/"),
        process(serve, env, server_log, f"{base}/pipeline/health"),
        httpx.Client(base_url=base, headers=JSON, timeout=30) as client,
    ):
        # The browser's way through the login: our redirect, Spotify's consent, our callback.
        to_spotify = client.get("/auth/login")
        assert to_spotify.status_code in {302, 307}, to_spotify.text
        back = httpx.get(to_spotify.headers["location"], timeout=10)
        assert back.status_code in {302, 303}, back.text
        callback = httpx.URL(back.headers["location"])
        code, state = callback.params["code"], callback.params["state"]
        done = client.get(f"/auth/callback?{callback.query.decode()}")
        assert done.status_code == 200, done.text

        fetched = client.post(
            "/pipeline/tracks/fetch-sources", json={"sources": [{"source_type": "liked"}]}
        )
        assert poll(client, fetched.json()["jobs"][0]["id"])["status"] == "done"
        enrich = client.post("/pipeline/enrich", json={"providers": ["lastfm", "llm"]})
        assert enrich.status_code == 202, enrich.text
        [job] = [poll(client, job["id"]) for job in enrich.json()["jobs"]]
        assert job["status"] == "done", job
        reports = job["payload"]["providers"]
        assert [r["provider"] for r in reports] == ["lastfm", "llm"], job
        assert all(report["matched"] > 0 for report in reports), job

    token = json.loads((tmp_path / "cache" / "tokens.json").read_text())["data"]
    log = server_log.read_text(encoding="utf-8", errors="replace")
    # The lines that would carry the secrets are there…
    assert "GET /auth/callback?" in log
    assert "HTTP Request: GET " + f"{emulated}/lastfm/2.0/?" in log
    assert "HTTP Request: POST " + f"{emulated}/llm/v1/chat/completions" in log
    assert "HTTP Request: POST " + f"{emulated}/spotify/accounts/api/token" in log
    # …the secrets are not.
    secrets = {
        "the Last.fm key": LASTFM_KEY,
        "the LLM key": LLM_KEY,
        "the OAuth code": code,
        "the OAuth state": state,
        "the access token": token["access_token"],
        "the refresh token": token["refresh_token"],
    }
    leaks = {
        name: [line for line in log.splitlines() if secret in line]
        for name, secret in secrets.items()
    }
    assert {name: lines for name, lines in leaks.items() if lines} == {}
    assert "[redacted]" in log
