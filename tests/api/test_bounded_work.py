"""Work a request can cause is bounded: one rule-text limit for parse, validate and save, and
v1 steps that answer once `SAP_STEP_WAIT` has passed.

Before: a 10 MB rule text was accepted, took the parser 18 to 47 s and made `/pipeline/health`
answer in 6.6 s. Now every route that reads rule text refuses one longer than
`MAX_RULE_TEXT_CHARS` before parsing it, with the same words.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.config import Settings
from app.core.rules import MAX_RULE_TEXT_CHARS
from app.pipeline.registry import default_registry
from app.pipeline.services import Services
from tests.api.test_pipeline_api import poll
from tests.helpers.api import api_client
from tests.helpers.steps import Gate


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    with api_client(create_app(settings, services=services)) as test_client:
        yield test_client


def _text(length: int) -> str:
    head = "duration > 1\n"
    return head + "#" * (length - len(head))  # a comment fills the rest


ROUTES = ["/data/rules/parse", "/data/rules/validate", "/data/rules"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_rule_text_over_the_limit_is_refused_naming_it(client: TestClient, route: str) -> None:
    text = _text(MAX_RULE_TEXT_CHARS + 1)
    body = {"text": text} if route.endswith("parse") else {"id": "t", "name": "T", "text": text}
    response = client.post(route, json=body)
    said = "the rule text has 100,001 characters; at most 100,000 are accepted"
    if route.endswith("validate"):
        assert response.status_code == 200, response.text
        assert response.json()["valid"] is False
        assert response.json()["errors"][0]["message"] == said
    else:
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "rules_invalid"
        assert response.json()["detail"].startswith(said)
        assert len(response.text) < 1000  # the text is not echoed back
    assert client.get("/data/rules").json() == []


@pytest.mark.parametrize("route", ROUTES)
def test_a_rule_text_at_the_limit_is_read(client: TestClient, route: str) -> None:
    text = _text(MAX_RULE_TEXT_CHARS)
    body = {"text": text} if route.endswith("parse") else {"id": "t", "name": "T", "text": text}
    response = client.post(route, json=body)
    assert response.status_code == 200, response.text


# Routes added since (issues 14-16) read rule text too: the same limit, before parsing.
SAID = "the rule text has 100,001 characters; at most 100,000 are accepted"
RULE_SET = {"id": "t", "name": "T"}
NEWER_ROUTES = {
    "/pipeline/playlists/count": lambda text: {**RULE_SET, "text": text},
    "/pipeline/playlists/explain": lambda text: {
        "track_id": "K" * 22,
        "rule": {**RULE_SET, "text": text},
    },
    "/pipeline/playlists/preview-from-rules": lambda text: {"rules": [{**RULE_SET, "text": text}]},
}


@pytest.mark.parametrize("route", sorted(NEWER_ROUTES))
def test_the_newer_routes_that_read_rule_text_refuse_the_same_length(
    client: TestClient, route: str
) -> None:
    response = client.post(route, json=NEWER_ROUTES[route](_text(MAX_RULE_TEXT_CHARS + 1)))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "rules_invalid"
    assert response.json()["detail"].startswith(SAID)
    assert len(response.text) < 1000


def test_a_rules_file_holding_a_rule_set_over_the_limit_is_refused_or_reported(
    client: TestClient,
) -> None:
    file = {"text": "[t] T\n" + _text(MAX_RULE_TEXT_CHARS + 1)}
    applied = client.post("/data/rules-file", json=file)
    assert (applied.status_code, applied.json()["error"]) == (422, "rules_invalid")
    assert "at most 100,000 are accepted" in applied.json()["detail"]
    checked = client.post("/data/rules-file/check", json=file)
    assert checked.status_code == 200, checked.text
    [entry] = checked.json()["rule_sets"]
    assert entry["change"] == "invalid"
    assert "at most 100,000 are accepted" in entry["report"]["errors"][0]["message"]
    assert client.get("/data/rules").json() == []
    # A whole file is bounded too: ten rule sets' worth.
    huge = client.post(
        "/data/rules-file/check", json={"text": "#" * (10 * MAX_RULE_TEXT_CHARS + 1)}
    )
    assert (huge.status_code, huge.json()["error"]) == (422, "validation_error")


@pytest.mark.parametrize("route", ["/data/library/query", "/data/library/ids"])
def test_a_library_filter_over_the_limit_is_refused(client: TestClient, route: str) -> None:
    response = client.post(route, json={"filter": _text(MAX_RULE_TEXT_CHARS + 1)})
    assert response.status_code == 422, response.text
    assert "at most 100000 characters" in response.json()["detail"]


# --- v1 steps run as jobs, and a request waits for one only so long ---------------------------


def test_a_v1_step_longer_than_the_wait_answers_202_and_goes_on(settings: Settings) -> None:
    gate = Gate()
    registry = default_registry()
    registry.register("gated", gate, "waits for the test")
    quick = settings.model_copy(update={"step_wait": 0.05})
    services = Services.from_settings(quick)
    with api_client(create_app(quick, services=services, registry=registry)) as client:
        response = client.post("/pipeline/gated", json={"metadata": {"total": 2}})
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["status"] in {"pending", "running"}
        gate.open.set()
        done = poll(client, job["id"])
        assert (done["status"], done["payload"]) == ("done", {"units": 2})


def test_a_v1_step_within_the_wait_answers_the_finished_job(client: TestClient) -> None:
    response = client.post("/pipeline/verify")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"
    assert response.json()["payload"]["ok"] is True


def test_a_v1_step_failing_with_a_domain_error_answers_its_status(client: TestClient) -> None:
    response = client.post("/pipeline/restore", json={"metadata": {"backup_id": "nope"}})
    assert response.status_code == 404, response.text
    [job] = client.get("/pipeline/jobs").json()["items"]
    assert (job["status"], job["error"]["code"]) == ("failed", response.json()["error"])
