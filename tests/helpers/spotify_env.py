"""A wired demo: the real app (or services) over the real in-process Spotify emulator.

    with DemoServer.open(demo_settings(tmp_path)) as server:
        server.login()
        jobs = server.client.post("/pipeline/tracks/fetch-sources", json=...).json()["jobs"]
        server.poll(jobs[0]["id"])
        server.emulator.save_tracks([...])      # a change "in the Spotify app"

Nothing here replaces our own code: tests steer the emulator (faults, clock, edits) and read
its request log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.config import Settings
from app.demo import DemoEnvironment
from app.emulators.spotify.emulator import SpotifyEmulator
from app.emulators.spotify.state import PlaylistState
from tests.helpers.api import api_client

BASE_URL = "http://127.0.0.1:8888"  # the demo's redirect URI points here
FINISHED = {"done", "partial", "failed", "cancelled"}

# A small account keeps every test fast: 120 liked songs (3 pages), 6 playlists of which
# 3 are owned, 1 collaborative and 2 followed.
SMALL_DEMO: dict[str, Any] = {"demo_tracks": 120, "demo_playlists": 6}


def demo_settings(cache_dir: Path, **overrides: Any) -> Settings:
    """Demo-mode settings (no client id) over a small generated account."""
    return Settings(cache_dir=cache_dir, **{**SMALL_DEMO, **overrides})


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Playlists:
    """The emulated account's playlists by kind, as the emulator holds them."""

    owned: list[PlaylistState]
    collaborative: list[PlaylistState]
    followed: list[PlaylistState]

    @classmethod
    def of(cls, emulator: SpotifyEmulator) -> Playlists:
        user = emulator.library.user.id
        states = [emulator.playlist(pid) for pid in emulator.playlist_ids()]
        return cls(
            owned=[p for p in states if p.owner_id == user and not p.collaborative],
            collaborative=[p for p in states if p.owner_id != user and p.collaborative],
            followed=[p for p in states if p.owner_id != user and not p.collaborative],
        )


def track_ids_of(emulator: SpotifyEmulator, playlist_id: str) -> list[str]:
    """The playlist's track entries (duplicates kept), without local files/episodes/gaps."""
    return [
        entry.track_id
        for entry in emulator.playlist_entries(playlist_id)
        if entry.kind == "track" and entry.track_id is not None
    ]


@dataclass
class DemoServer:
    env: DemoEnvironment
    client: TestClient

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[DemoServer]:
        env = DemoEnvironment.create(settings)
        app = create_app(env.settings, demo=env)
        with api_client(app, BASE_URL) as client:
            yield cls(env, client)

    @property
    def emulator(self) -> SpotifyEmulator:
        return self.env.emulator

    @property
    def cache_dir(self) -> Path:
        return self.env.settings.cache_dir

    @property
    def playlists(self) -> Playlists:
        return Playlists.of(self.emulator)

    def login(self) -> dict[str, Any]:
        """The real browser flow: /auth/login → emulator /authorize → /auth/callback."""
        response = self.client.get(
            "/auth/login", follow_redirects=True, headers={"accept": "application/json"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["connected"] is True
        return body

    def poll(self, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
        """GET the job until it is finished."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(f"/pipeline/jobs/{job_id}")
            assert response.status_code == 200, response.text
            job: dict[str, Any] = response.json()
            if job["status"] in FINISHED:
                return job
            assert time.monotonic() < deadline, f"job stuck: {job}"
            time.sleep(0.02)

    def fetch(self, *sources: dict[str, Any]) -> list[dict[str, Any]]:
        """POST fetch-sources and wait for every job; returns the finished jobs in order."""
        response = self.client.post(
            "/pipeline/tracks/fetch-sources", json={"sources": list(sources)}
        )
        assert response.status_code == 202, response.text
        return [self.poll(job["id"]) for job in response.json()["jobs"]]

    def aggregate(self, **params: Any) -> dict[str, Any]:
        response = self.client.get("/pipeline/tracks/aggregate", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def store_bytes(self) -> dict[str, bytes | None]:
        """tracks.json and sources.json as they are on disk (None: not written yet)."""
        files = {}
        for name in ("tracks.json", "sources.json"):
            path = self.cache_dir / name
            files[name] = path.read_bytes() if path.exists() else None
        return files


def write_exportify_csv(path: Path, rows: list[list[str]]) -> Path:
    """An Exportify export (current layout) with `rows` of
    [track id, name, artist id, artist name, album name, added at]."""
    header = (
        '"Track URI","Track Name","Artist URI(s)","Artist Name(s)","Album Name",'
        '"Album Release Date","Track Duration (ms)","Explicit","Added At"'
    )
    lines = [header]
    for track_id, name, artist_id, artist, album, added_at in rows:
        cells = [
            f"spotify:track:{track_id}" if len(track_id) == 22 else track_id,
            name,
            f"spotify:artist:{artist_id}",
            artist,
            album,
            "2001-05-17",
            "201000",
            "false",
            added_at,
        ]
        lines.append(",".join('"' + cell.replace('"', '""') + '"' for cell in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
