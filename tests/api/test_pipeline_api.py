"""/pipeline endpoints through the real app: jobs in the background, errors, request guards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.config import Settings
from app.pipeline.jobs.steps import StepContext, StepRegistry
from app.pipeline.registry import default_registry
from app.pipeline.services import Services
from tests.helpers.api import api_client
from tests.helpers.steps import Gate


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def registry(gate: Gate) -> StepRegistry:
    registry = default_registry()
    registry.register("gated", gate, "waits for the test")

    @registry.step("explode")
    def explode(ctx: StepContext) -> None:
        raise RuntimeError("kaput")

    return registry


@pytest.fixture
def client(
    settings: Settings, services: Services, registry: StepRegistry, gate: Gate
) -> Iterator[TestClient]:
    app = create_app(settings, services=services, registry=registry)
    with api_client(app) as test_client:
        yield test_client
        gate.open.set()


def poll(
    client: TestClient, job_id: str, until: str = "finished", timeout: float = 10.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/pipeline/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        finished = job["status"] in {"done", "partial", "failed", "cancelled"}
        if (until == "finished" and finished) or job["status"] == until:
            return job
        assert time.monotonic() < deadline, f"job stuck: {job}"
        time.sleep(0.02)


def test_run_async_returns_at_once_and_get_shows_progress(client: TestClient, gate: Gate) -> None:
    response = client.post("/pipeline/gated/run-async", json={"metadata": {"total": 5}})
    assert response.status_code == 202
    job = response.json()
    assert (job["step"], job["status"], job["metadata"]) == ("gated", "pending", {"total": 5})
    assert gate.started.wait(5)
    running = poll(client, job["id"], until="running")
    assert running["progress"] == {
        "done": 1,
        "total": 5,
        "fraction": 0.2,
        "parts": [],
        "note": None,
    }
    assert running["message"] == "first unit"
    # Polling reads the job; it never runs the step (which is still waiting on the gate).
    for _ in range(5):
        polled = client.get(f"/pipeline/jobs/{job['id']}").json()
        assert (polled["status"], polled["progress"]["done"]) == ("running", 1)
    assert gate.runs == 1
    gate.open.set()
    done = poll(client, job["id"])
    assert (done["status"], done["payload"]) == ("done", {"units": 5})
    assert done["progress"]["fraction"] == 1.0


def test_run_async_without_a_body_uses_empty_metadata(client: TestClient) -> None:
    response = client.post("/pipeline/verify/run-async")
    assert response.status_code == 202
    done = poll(client, response.json()["id"])
    assert done["status"] == "done"
    assert done["metadata"] == {}
    assert done["payload"]["ok"] is True
    assert [store["name"] for store in done["payload"]["stores"]] == [
        "tracks",
        "enrichments",
        "rules",
        "jobs",
        "classifications",
        "playlists",
        "tokens",
        "sources",
        "source-checks",
        "plans",
        "backups",
        "undo",
    ]


def test_unknown_step_is_404_listing_known_steps(client: TestClient) -> None:
    response = client.post("/pipeline/fetch_everything/run-async", json={})
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "unknown_step"
    known = sorted(
        [
            "apply",
            "build",
            "classify",
            "diff",
            "enrich",
            "explode",
            "external",
            "fetch_sources",
            "fetch_tracks",
            "gated",
            "restore",
            "sync",
            "tracks",
            "verify",
        ]
    )
    assert body["detail"] == (
        f"unknown pipeline step 'fetch_everything'; known steps: {', '.join(known)}"
    )
    assert body["known_steps"] == known


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"metadata": 3}, "body.metadata: Input should be a valid dictionary"),
        ({"metadata": {}, "priority": "high"}, "body.priority: Extra inputs are not permitted"),
        ([1, 2], "body: Input should be a valid dictionary"),
    ],
)
def test_bad_body_is_422_with_a_useful_message(client: TestClient, body: Any, detail: str) -> None:
    response = client.post("/pipeline/verify/run-async", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["detail"].startswith(detail)


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/pipeline/verify/run-async",
        content=b'{"metadata": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("request body is not valid JSON")


def test_cancel_endpoint_stops_a_running_job(client: TestClient, gate: Gate) -> None:
    job = client.post("/pipeline/gated/run-async").json()
    assert gate.started.wait(5)
    response = client.post(f"/pipeline/jobs/{job['id']}/cancel")
    assert response.status_code == 200
    assert poll(client, job["id"])["status"] == "cancelled"
    again = client.post(f"/pipeline/jobs/{job['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"] == "job_finished"


def test_failed_job_reports_its_error_and_can_be_rerun(client: TestClient) -> None:
    job = client.post("/pipeline/explode/run-async", json={"metadata": {"x": 1}}).json()
    failed = poll(client, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "internal_error", "message": "RuntimeError: kaput"}
    rerun = client.post(f"/pipeline/jobs/{job['id']}/rerun")
    assert rerun.status_code == 202
    assert rerun.json()["metadata"] == {"x": 1, "rerun_of": job["id"]}


def test_jobs_list_filters_and_paginates(client: TestClient) -> None:
    ids = [client.post("/pipeline/verify/run-async").json()["id"] for _ in range(3)]
    boom = client.post("/pipeline/explode/run-async").json()["id"]
    for job_id in [*ids, boom]:
        poll(client, job_id)
    page = client.get("/pipeline/jobs", params={"limit": 2}).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 0)
    assert [job["id"] for job in page["items"]] == [boom, ids[2]]
    page = client.get("/pipeline/jobs", params={"step": "verify", "offset": 2}).json()
    assert [job["id"] for job in page["items"]] == [ids[0]]
    page = client.get("/pipeline/jobs", params={"status": "failed"}).json()
    assert [job["id"] for job in page["items"]] == [boom]
    bad = client.get("/pipeline/jobs", params={"status": "sleeping", "limit": 0})
    assert bad.status_code == 422
    assert "query.status" in bad.json()["detail"] and "query.limit" in bad.json()["detail"]


def test_unknown_job_is_404(client: TestClient) -> None:
    response = client.get("/pipeline/jobs/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {
        "error": "job_not_found",
        "detail": "no job with id 'does-not-exist'",
    }


def test_health_reports_version_cache_dir_and_quarantined_files(
    client: TestClient, settings: Settings
) -> None:
    healthy = client.get("/pipeline/health").json()
    assert healthy["status"] == "ok"
    assert healthy["cache_dir"] == str(settings.cache_dir)
    assert healthy["quarantined"] == []
    assert "verify" in healthy["steps"]
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    (settings.cache_dir / "rules.json").write_text('[{"id": "half a rule"')
    # Loading the store (here through the verify step) finds the corruption.
    verified = poll(client, client.post("/pipeline/verify/run-async").json()["id"])
    assert verified["payload"]["ok"] is False
    degraded = client.get("/pipeline/health").json()
    assert degraded["status"] == "degraded"
    [moved] = degraded["quarantined"]
    assert moved["original_name"] == "rules.json"
    assert moved["file"].startswith(str(settings.cache_dir / "rules.json.corrupt-"))
    assert moved["size_bytes"] == len('[{"id": "half a rule"')


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io", "attacker.com:8888"])
def test_foreign_host_headers_are_refused(client: TestClient, host: str) -> None:
    response = client.get("/pipeline/health", headers={"host": host})
    assert response.status_code == 400
    assert response.json()["error"] == "host_not_allowed"


@pytest.mark.parametrize("host", ["127.0.0.1:8888", "localhost:8888", "[::1]:8888", "localhost"])
def test_loopback_host_headers_are_accepted(client: TestClient, host: str) -> None:
    assert client.get("/pipeline/health", headers={"host": host}).status_code == 200


def test_configured_extra_host_is_accepted(settings: Settings, services: Services) -> None:
    app = create_app(
        settings.model_copy(update={"allowed_hosts": ["music.lan"]}), services=services
    )
    with api_client(app, "http://music.lan") as client:
        assert client.get("/pipeline/health").status_code == 200


def test_non_json_bodies_are_415(client: TestClient) -> None:
    response = client.post(
        "/pipeline/verify/run-async",
        content=b"metadata=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    missing = client.get("/pipeline/no/such/thing")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    wrong = client.delete("/pipeline/health")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")


def test_unexpected_errors_are_500_without_a_traceback(
    settings: Settings, services: Services
) -> None:
    app = create_app(settings, services=services)

    @app.get("/crash")
    def crash() -> None:
        raise KeyError("secret internals")

    with api_client(app, "http://127.0.0.1", raise_server_exceptions=False) as client:
        response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "detail": "unexpected server error; the details are in the server log",
    }
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_openapi_documents_the_job_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/pipeline/health",
        "/pipeline/{step}/run-async",
        "/pipeline/jobs",
        "/pipeline/jobs/{job_id}",
        "/pipeline/jobs/{job_id}/cancel",
    ]:
        assert path in paths, path
    assert "202" in paths["/pipeline/{step}/run-async"]["post"]["responses"]
    assert "404" in paths["/pipeline/{step}/run-async"]["post"]["responses"]
    assert client.get("/docs").status_code == 200
