"""`spotify-auto-playlists emulate`: a real server process any client can be pointed at."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.emulators.spotify.oauth import pkce_challenge


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_emulate_serves_every_service_with_the_requested_library() -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "app",
        "emulate",
        "--port",
        str(port),
        "--seed",
        "3",
        "--tracks",
        "120",
        "--playlists",
        "4",
        "--playlist-size",
        "30",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                index = httpx.get(f"{base}/", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "emulate did not start"
                time.sleep(0.2)
        assert index.json() == {
            "services": {
                "spotify_api": f"{base}/spotify/v1",
                "spotify_accounts": f"{base}/spotify/accounts",
                "musicbrainz": f"{base}/musicbrainz/ws/2",
                "listenbrainz": f"{base}/listenbrainz/1",
                "deezer": f"{base}/deezer",
                "reccobeats": f"{base}/reccobeats/v1",
                "lastfm": f"{base}/lastfm/2.0",
                "llm": f"{base}/llm/v1",
                "acousticbrainz": f"{base}/acousticbrainz",
            }
        }
        # Any client can get a token through the accounts service and read the library.
        verifier = "v" * 64
        authorize = httpx.get(
            f"{base}/spotify/accounts/authorize",
            params={
                "client_id": "cli-test",
                "response_type": "code",
                "redirect_uri": "http://127.0.0.1:9/cb",
                "scope": "user-library-read",
                "code_challenge_method": "S256",
                "code_challenge": pkce_challenge(verifier),
                "state": "s1",
            },
            timeout=5,
        )
        assert authorize.status_code in {302, 303}
        code = httpx.URL(authorize.headers["location"]).params["code"]
        token = httpx.post(
            f"{base}/spotify/accounts/api/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://127.0.0.1:9/cb",
                "client_id": "cli-test",
                "code_verifier": verifier,
            },
            timeout=5,
        ).json()["access_token"]
        liked = httpx.get(
            f"{base}/spotify/v1/me/tracks",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        assert liked["total"] == 120
        stats = httpx.get(f"{base}/_stats", timeout=5).json()
        assert stats["requests"]["spotify_api"] == 1
    finally:
        server.terminate()
        server.wait(10)
