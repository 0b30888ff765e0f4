"""A step's metadata is checked before its job is queued, and the queue has a cap.

Before: `POST /pipeline/restore/run-async` with `{}` answered 202 and the job died with a
traceback; `"refresh": "no"` was read as true. Each built-in step now declares its input
model (app/pipeline/registry.py), and the API answers 422 naming the field, queueing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.config import Settings
from app.core.errors import UnprocessableError
from app.pipeline.jobs.runner import JobManager
from app.pipeline.jobs.steps import StepInput, StepRegistry
from app.pipeline.registry import default_registry
from app.pipeline.services import Services
from tests.helpers.api import api_client
from tests.helpers.steps import Gate


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def client(settings: Settings, services: Services, gate: Gate) -> Iterator[TestClient]:
    registry = default_registry()
    registry.register("gated", gate, "waits for the test")
    with api_client(create_app(settings, services=services, registry=registry)) as test_client:
        yield test_client
        gate.open.set()


def test_every_built_in_step_declares_its_input() -> None:
    registry = default_registry()
    for spec in registry.specs():
        assert spec.input_model is not None, f"{spec.name} declares no input model"
        assert issubclass(spec.input_model, StepInput), spec.name


REFUSED: dict[str, tuple[str, dict[str, Any], str]] = {
    "restore without its backup": ("restore", {}, "metadata.backup_id: Field required"),
    "enrich naming its providers twice": (
        "enrich",
        {"provider": "deezer", "providers": ["deezer"]},
        "give providers or provider, not both",
    ),
    "a string for a boolean": (
        "external",
        {"refresh": "no"},
        "metadata.refresh: Input should be a valid boolean",
    ),
    "a key no step reads": ("verify", {"fast": True}, "metadata.fast: Extra inputs"),
    "a misspelt key": ("sync", {"aply": True}, "metadata.aply: Extra inputs"),
    "a number for a list": ("diff", {"rule_ids": 3}, "metadata.rule_ids: Input should be"),
    "fetch_sources with no sources": (
        "fetch_sources",
        {"sources": []},
        "metadata.sources: List should have at least 1 item",
    ),
    "a source of an unknown type": (
        "fetch_tracks",
        {"source_type": "vinyl"},
        "metadata.source_type: Input should be 'liked', 'playlist' or 'csv'",
    ),
    "a guard that does not exist": (
        "apply",
        {"force": ["everything"]},
        "metadata.force.0: Input should be 'empty', 'remove_share' or 'drift'",
    ),
}


CASES = [
    (name, route)
    for route in ("/pipeline/{step}/run-async", "/pipeline/{step}")
    for name, (step, _, _) in REFUSED.items()
    if not (route == "/pipeline/{step}" and step == "enrich")  # that is the v2 route's path
]


@pytest.mark.parametrize(("name", "route"), CASES)
def test_bad_metadata_is_a_422_naming_the_field_and_nothing_is_queued(
    client: TestClient, name: str, route: str
) -> None:
    step, metadata, named = REFUSED[name]
    response = client.post(route.format(step=step), json={"metadata": metadata})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "bad_metadata"
    assert named in body["detail"], body["detail"]
    assert f"step {step}" in body["detail"]
    assert client.get("/pipeline/jobs").json()["total"] == 0


def test_good_metadata_is_stored_as_sent(client: TestClient) -> None:
    response = client.post("/pipeline/verify/run-async", json={"metadata": {}})
    assert response.status_code == 202
    assert response.json()["metadata"] == {}
    sent = {"rule_ids": ["a"], "apply": False, "fetch": False, "enrich": False}
    job = client.post("/pipeline/sync/run-async", json={"metadata": sent}).json()
    assert job["metadata"] == sent


def test_a_step_without_a_model_takes_any_metadata(services: Services, gate: Gate) -> None:
    registry = StepRegistry()
    registry.register("gated", gate, "waits for the test")
    assert registry.check_input("gated", {"anything": [1, {"x": None}]}) == {
        "anything": [1, {"x": None}]
    }


def test_the_cli_path_checks_too(services: Services) -> None:
    manager = JobManager(services, default_registry())
    with pytest.raises(UnprocessableError) as refused:
        manager.run_inline("restore", {"backup": "b1"})
    assert refused.value.code == "bad_metadata"
    assert "metadata.backup_id: Field required" in refused.value.detail
    assert manager.store.load_jobs() == []


def test_a_full_queue_is_a_503_naming_the_setting(
    settings: Settings, services: Services, gate: Gate
) -> None:
    registry = default_registry()
    registry.register("gated", gate, "waits for the test")
    capped = settings.model_copy(update={"job_workers": 1, "job_queue_limit": 2})
    services = Services.from_settings(capped)
    with api_client(create_app(capped, services=services, registry=registry)) as client:
        first = client.post("/pipeline/gated/run-async").json()  # runs, waiting on the gate
        assert gate.started.wait(5)
        queued = [client.post("/pipeline/gated/run-async") for _ in range(2)]
        assert [r.status_code for r in queued] == [202, 202]
        full = client.post("/pipeline/gated/run-async")
        assert full.status_code == 503, full.text
        assert full.json()["error"] == "job_queue_full"
        assert "2 jobs are waiting" in full.json()["detail"]
        assert "SAP_JOB_QUEUE_LIMIT" in full.json()["detail"]
        assert client.get("/pipeline/jobs").json()["total"] == 3  # the refused one is not kept
        # The cap counts waiting jobs, and every job of one request fits or none is queued.
        gate.open.set()
        assert client.get(f"/pipeline/jobs/{first['id']}").status_code == 200
