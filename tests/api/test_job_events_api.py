"""`GET /pipeline/jobs/events` over a real uvicorn server, read by an httpx streaming client
while jobs run: the snapshot, each job's changes as they happen, keep-alives, reconnecting,
and the end of the stream when the server stops. The jobs are a real step whose pace the test
controls (`Gate`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.api.app import create_app
from app.core.config import Settings
from app.pipeline.registry import default_registry
from tests.helpers.live_server import live_server
from tests.helpers.steps import Gate

JSON = {"content-type": "application/json"}


@dataclass
class Event:
    """One server-sent event as a browser's EventSource sees it (comments kept apart)."""

    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return orjson.loads("\n".join(self.data))


def events(lines: Iterator[str]) -> Iterator[Event]:
    """Events from the stream's lines (the SSE format: fields until a blank line)."""
    current = Event()
    for line in lines:
        if line == "":
            if current.data or current.comments:
                yield current
            current = Event()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                current.data.append(value)
            elif name == "event":
                current.event = value
            elif name == "id":
                current.id = value


@dataclass
class Served:
    base: str
    gate: Gate
    app: Any

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    gate = Gate()
    registry = default_registry()
    registry.register("gated", gate, "waits for the test")
    settings = Settings(
        cache_dir=tmp_path / "cache", spotify_client_id="events-test", events_keepalive=0.2
    )
    app = create_app(settings, registry=registry)
    try:
        with live_server(app) as base:
            yield Served(base, gate, app)
    finally:
        gate.open.set()


def test_a_snapshot_then_each_change_of_a_running_job(served: Served) -> None:
    with served.client() as client:
        earlier = client.post("/pipeline/verify/run-async", headers=JSON).json()
        served.gate.open.clear()
        with client.stream("GET", "/pipeline/jobs/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            stream = (e for e in events(response.iter_lines()) if e.event != "message")
            snapshot = next(stream)
            assert snapshot.event == "snapshot" and snapshot.id == "1"
            listed = client.get("/pipeline/jobs").json()
            assert snapshot.json()["items"][-1]["id"] == earlier["id"]
            assert snapshot.json().keys() == listed.keys()

            job = client.post("/pipeline/gated/run-async", json={"metadata": {"total": 3}})
            job_id = job.json()["id"]
            seen: list[dict[str, Any]] = []
            ids: list[int] = []
            for event in stream:
                if event.event != "job" or event.json()["id"] != job_id:
                    continue
                ids.append(int(event.id or 0))
                seen.append(event.json())
                state = seen[-1]
                if state["status"] == "running" and state["progress"]["done"] == 1:
                    assert state["message"] == "first unit"
                    served.gate.open.set()  # the step goes on only now
                if state["status"] == "done":
                    break
            assert ids == sorted(ids) and len(set(ids)) == len(ids)
            statuses = [state["status"] for state in seen]
            assert statuses[0] in {"pending", "running"} and statuses[-1] == "done"
            assert "running" in statuses
            assert seen[-1] == client.get(f"/pipeline/jobs/{job_id}").json()
            assert seen[-1]["payload"] == {"units": 3}


def test_a_quiet_stream_sends_keep_alive_comments_and_a_reader_may_leave(
    served: Served,
) -> None:
    watchers = served.app.state.jobs.events
    with served.client() as client, client.stream("GET", "/pipeline/jobs/events") as response:
        for event in events(response.iter_lines()):
            if "keep-alive" in event.comments:
                assert watchers.watching() == 1
                break  # (leaving the loop closes the response: the reader has gone)
    deadline = time.monotonic() + 10
    while watchers.watching():  # the server notices the closed connection and lets go
        assert time.monotonic() < deadline, "the subscription outlived its reader"
        time.sleep(0.02)


def test_reconnecting_with_last_event_id_starts_with_a_fresh_snapshot(served: Served) -> None:
    headers = {"Last-Event-ID": "41"}
    with (
        served.client() as client,
        client.stream("GET", "/pipeline/jobs/events", headers=headers) as response,
    ):
        first = next(e for e in events(response.iter_lines()) if e.event != "message")
        assert (first.event, first.id) == ("snapshot", "42")
        assert first.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_the_stream_ends_when_the_server_stops(served: Served) -> None:
    with served.client() as client, client.stream("GET", "/pipeline/jobs/events") as response:
        lines = response.iter_lines()
        snapshot = next(e for e in events(lines) if e.event == "snapshot")
        assert snapshot.json()["total"] == 0
        served.app.state.jobs.begin_shutdown()  # what SIGTERM does first in `sap serve`
        rest = list(events(lines))  # the stream ends: no error, no hang
        assert all(event.event != "job" for event in rest)


def test_the_stream_is_a_read_it_needs_no_json_content_type(served: Served) -> None:
    # A GET from another origin's page is allowed (it changes nothing; the Host check holds).
    foreign = {"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"}
    with (
        served.client() as client,
        client.stream("GET", "/pipeline/jobs/events", headers=foreign) as response,
    ):
        assert response.status_code == 200
    with (
        httpx.Client(base_url=served.base, headers={"Host": "evil.example"}) as client,
        client.stream("GET", "/pipeline/jobs/events") as response,
    ):
        assert response.status_code == 400


def test_jobs_that_cannot_be_read_end_the_stream_with_an_error_event(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "jobs.json").write_text('{"schema_version": 99, "data": []}')  # a newer release's
    settings = Settings(cache_dir=cache, spotify_client_id="events-test")
    app = create_app(settings)
    with (
        live_server(app) as base,
        httpx.Client(base_url=base, timeout=10) as client,
        client.stream("GET", "/pipeline/jobs/events") as response,
    ):
        assert response.status_code == 200
        [error] = [e for e in events(response.iter_lines()) if e.event != "message"]
    assert error.event == "error" and error.id == "1"
    assert error.json()["error"] == "store_too_new"
    assert "jobs.json has schema version 99" in error.json()["detail"]
