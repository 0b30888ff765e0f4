"""/openapi.json documents every response, and what the server answers is what it publishes.

The web UI generates its TypeScript types from /openapi.json, so:

- every operation's success response is a named schema, or an array or map of typed values
  (never `{}` or an object of anything), and every route declares its response model;
- every operation lists its errors (at least 400, 404, 422, 500 and 503), each the one
  `ErrorBody`;
- the JSON the real server (in demo mode) serves on the user's path validates, with
  openapi-core, against the published spec with every object *closed*
  (`additionalProperties: false` where the schema does not say otherwise), so a key the spec
  does not document fails as surely as a missing or mistyped one;
- a finished job's payload is exactly the JSON of its step's model (jobs.json keeps it so).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from pydantic import BaseModel
from starlette.routing import BaseRoute

from app.pipeline.classify import BuildReport, ClassifySummary
from app.pipeline.enrichment.service import EnrichRunReport
from app.pipeline.health import VerifyReport
from app.pipeline.sources.service import FetchSourcesReport, SourceFetchReport
from app.pipeline.sync.plans import AppliedPlans, PlannedPlaylists, RestoreResult
from app.pipeline.sync.unattended import SyncReport
from tests.helpers.spotify_env import BASE_URL, DemoServer

Operation = tuple[str, str]  # (method, path template)

NOT_A_MODEL: dict[Operation, str] = {
    ("GET", "/auth/login"): "a 307 redirect to Spotify; the JSON of `?redirect=false` "
    "(LoginStart) is declared in `responses`",
    ("GET", "/auth/callback"): "an HTML page for the browser; the JSON asked for with "
    "`Accept: application/json` (LoginDone) is declared in `responses`",
    ("DELETE", "/data/rules/{rule_id}"): "204 No Content: no body",
    ("GET", "/pipeline/jobs/events"): "server-sent events (`text/event-stream`), not one JSON "
    "body; the schema of its 200 is that of one event, each a typed JSON `data`",
}
"""Routes without a response model, and why; each still documents what it answers."""

EVENT_STREAMS = {("GET", "/pipeline/jobs/events")}
"""Operations answering `text/event-stream`: their 200 documents each event's shape."""

STEP_PAYLOADS: dict[str, type[BaseModel]] = {
    "verify": VerifyReport,
    "fetch_tracks": SourceFetchReport,
    "tracks": SourceFetchReport,
    "fetch_sources": FetchSourcesReport,
    "enrich": EnrichRunReport,
    "external": EnrichRunReport,
    "classify": ClassifySummary,
    "build": BuildReport,
    "diff": PlannedPlaylists,
    "apply": AppliedPlans,
    "restore": RestoreResult,
    "sync": SyncReport,
}
"""Each built-in step's payload model."""


# --- the published spec ------------------------------------------------------------------------


def untyped(schema: dict[str, Any]) -> bool:
    """`{}`, or an object that says nothing of its keys or values."""
    if not schema:
        return True
    return (
        schema.get("type") == "object"
        and "properties" not in schema
        and schema.get("additionalProperties", True) in (True, {})
    )


def typed(schema: dict[str, Any]) -> bool:
    """A `$ref` to a component, a scalar, or an array / map / union of typed schemas."""
    if "$ref" in schema:
        return True
    if "anyOf" in schema:
        return all(typed(option) for option in schema["anyOf"])
    if untyped(schema):
        return False
    kind = schema.get("type")
    if kind == "array":
        return typed(schema.get("items", {}))
    if kind == "object":
        values = schema.get("additionalProperties")
        return "properties" in schema or (isinstance(values, dict) and typed(values))
    return kind in {"string", "integer", "number", "boolean", "null"}


def operations(spec: dict[str, Any]) -> Iterator[tuple[Operation, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield (method.upper(), path), operation


def json_schema(response: dict[str, Any]) -> dict[str, Any] | None:
    content = response.get("content", {}).get("application/json")
    return None if content is None else dict(content.get("schema", {}))


@pytest.fixture
def app(demo: DemoServer) -> FastAPI:
    application = demo.client.app
    assert isinstance(application, FastAPI)
    return application


@pytest.fixture
def spec(demo: DemoServer) -> dict[str, Any]:
    response = demo.client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_tables_name_operations_that_exist(spec: dict[str, Any]) -> None:
    known = {operation for operation, _ in operations(spec)}
    assert set(NOT_A_MODEL) <= known


def test_every_success_response_is_a_typed_schema(spec: dict[str, Any]) -> None:
    wrong: list[str] = []
    for operation, details in operations(spec):
        successes = {code: r for code, r in details["responses"].items() if code.startswith("2")}
        assert successes, f"{operation} documents no success response"
        if operation in EVENT_STREAMS:
            stream = successes["200"]["content"]["text/event-stream"]["schema"]
            for event in stream["oneOf"]:
                if not typed(event["properties"]["data"]):
                    wrong.append(f"{operation} has an untyped event {event}")
            continue
        schemas = [json_schema(response) for response in successes.values()]
        for code, schema in zip(successes, schemas, strict=True):
            if schema is None:
                if code != "204":
                    wrong.append(f"{operation} {code} has no JSON body")
            elif not typed(schema):
                wrong.append(f"{operation} {code} answers an untyped {schema}")
    assert wrong == []


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (which recent FastAPI versions keep as
    one route holding the router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def test_every_route_declares_its_response_model(app: FastAPI) -> None:
    routes = list(api_routes(app.routes))
    assert len(routes) > 40
    missing: list[str] = []
    for route in routes:
        for method in route.methods:
            operation = (method, route.path)
            if operation in NOT_A_MODEL:
                declared = set(route.responses) | {route.status_code}
                assert declared & {200, 204, 307}, f"{operation} documents no success"
            elif route.response_model is None:
                missing.append(f"{operation} declares no response model")
    assert missing == []


def test_every_error_response_is_the_error_body(spec: dict[str, Any]) -> None:
    for operation, details in operations(spec):
        errors = {code: r for code, r in details["responses"].items() if code[0] in "45"}
        assert {"400", "404", "422", "500", "503"} <= set(errors), operation
        for code, response in errors.items():
            schema = json_schema(response)
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (operation, code)


# --- what the server answers ---------------------------------------------------------------------


def closed(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with `additionalProperties: false` on every object schema that lists its
    properties and says nothing about others (`ErrorBody` allows extra context: it says so)."""

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    result = copy.deepcopy(spec)
    close(result)
    return result


@dataclass
class Recorder:
    """Sends requests through the demo server and validates each answer against the spec."""

    server: DemoServer
    openapi: OpenAPI
    seen: set[tuple[str, int]] = field(default_factory=set)

    def __call__(self, method: str, url: str, *, status: int = 200, **kwargs: Any) -> Any:
        response = self.server.client.request(method, url, **kwargs)
        assert response.status_code == status, (method, url, response.text)
        self.check(response)
        return response.json()

    def check(self, response: httpx.Response) -> None:
        request = response.request
        mock_request = MockRequest(
            BASE_URL,
            request.method.lower(),
            request.url.path,
            args=dict(request.url.params),
        )
        mock_response = MockResponse(
            response.content, response.status_code, content_type="application/json"
        )
        try:
            self.openapi.validate_response(mock_request, mock_response)
        except Exception as exc:  # openapi-core's errors nest the reason: show it all
            cause = getattr(exc, "__cause__", None)
            details = getattr(cause, "schema_errors", None) or cause or exc
            raise AssertionError(f"{request.method} {request.url.path}: {details}") from exc
        self.seen.add((request.url.path, response.status_code))

    def job(self, started: dict[str, Any]) -> dict[str, Any]:
        """Poll a job to its end, validating the job as served."""
        finished = self.server.poll(started["id"])
        self("GET", f"/pipeline/jobs/{started['id']}")
        assert finished["status"] == "done", finished
        return finished


@dataclass
class Walk:
    """What the walk through the API left: the finished jobs, and every answer it checked."""

    jobs: list[dict[str, Any]]
    recorder: Recorder


@pytest.fixture
def walk(demo: DemoServer, spec: dict[str, Any]) -> Walk:
    """The user's path through the API, every answer validated as it comes."""
    call = Recorder(demo, OpenAPI.from_dict(closed(spec)))
    jobs: list[dict[str, Any]] = []
    call("GET", "/")
    call("GET", "/pipeline/health")
    call("GET", "/pipeline/steps")
    call("GET", "/auth/status")
    call("GET", "/auth/login", params={"redirect": "false"})
    call("GET", "/spotify/playlists", status=401)  # ErrorBody with auth_url
    demo.login()
    call("GET", "/auth/status")
    call("GET", "/spotify/me")
    playlists = call("GET", "/spotify/playlists")
    owned = next(p for p in playlists if p["readable"])
    call("GET", f"/spotify/playlists/{owned['id']}/items")

    sources = [{"source_type": "liked"}, {"source_type": "playlist", "source_id": owned["id"]}]
    started = call("POST", "/pipeline/tracks/fetch-sources", status=202, json={"sources": sources})
    jobs += [call.job(job) for job in started["jobs"]]
    jobs.append(call.job(call("POST", "/pipeline/tracks/fetch-library", status=202)))
    jobs.append(call("POST", "/pipeline/tracks"))
    view = call("GET", "/pipeline/tracks/aggregate", params={"limit": 5})
    call("GET", "/data/tracks", params={"limit": 5, "source": "liked"})
    track_id = view["tracks"][0]["id"]

    call("GET", "/data/providers")
    body = {"providers": ["reccobeats"], "source": "liked"}
    jobs += [
        call.job(job) for job in call("POST", "/pipeline/enrich", status=202, json=body)["jobs"]
    ]
    jobs.append(
        call("POST", "/pipeline/external", json={"metadata": {"providers": ["reccobeats"]}})
    )
    call("GET", "/data/enrichments", params={"provider": "reccobeats"})
    call("GET", "/data/enrichments/coverage")
    call("GET", f"/data/enrichments/{track_id}")
    call("PATCH", f"/data/enrichments/{track_id}", json={"set": {"mood": "calm"}})
    call("POST", "/data/enrichments/manual", json={"track_ids": [track_id], "add_tags": ["x"]})
    call("GET", "/data/features/reccobeats")
    jobs.append(call("POST", "/pipeline/classify"))
    call("GET", "/data/classifications/mood_v1")
    call("PATCH", f"/data/classifications/mood_v1/{track_id}", json={"labels": {"mood": "sad"}})

    rule = {"id": "long", "name": "Long", "text": "duration > 200", "target_playlist_name": "Long"}
    call("POST", "/data/rules", json=rule)
    walk_rules(call, track_id)
    jobs.append(call("POST", "/pipeline/build", json={"metadata": {"source": "rules"}}))
    [plan] = call("POST", "/pipeline/playlists/plan", json={})["plans"]
    call("GET", f"/pipeline/playlists/plans/{plan['id']}")
    jobs.append(
        call.job(
            call("POST", "/pipeline/playlists/apply", status=202, json={"plan_id": plan["id"]})
        )
    )
    applied = call("GET", f"/pipeline/playlists/plans/{plan['id']}")
    assert applied["status"] == "applied" and applied["report"] is not None
    call("POST", "/pipeline/playlists/apply", status=409, json={"plan_id": plan["id"]})

    rule["text"] = "duration > 280"  # fewer tracks: the re-plan removes some
    assert demo.client.post("/data/rules", json=rule).status_code == 200
    jobs.append(call("POST", "/pipeline/diff", json={"metadata": {}}))
    jobs.append(
        call(
            "POST",
            "/pipeline/apply",
            json={"metadata": {"force": ["empty", "remove_share", "drift"]}},
        )
    )
    backups = call("GET", "/pipeline/playlists/backups")
    call("GET", "/pipeline/playlists/backups", params={"playlist_id": backups[0]["playlist_id"]})
    restore = {"backup_id": backups[0]["id"]}
    jobs.append(call.job(call("POST", "/pipeline/playlists/restore", status=202, json=restore)))
    jobs.append(
        call("POST", "/pipeline/sync", json={"metadata": {"fetch": False, "enrich": False}})
    )
    jobs.append(call("POST", "/pipeline/verify"))
    call("GET", "/pipeline/jobs", params={"limit": 3})
    library_query(call, track_id)

    call("GET", "/pipeline/jobs/no-such-job", status=404)
    call("POST", "/pipeline/no_such_step/run-async", status=404)  # known_steps
    call("POST", "/pipeline/verify/run-async", status=422, json={"metadata": "nope"})  # errors
    call("POST", "/auth/logout")
    return Walk(jobs, call)


def walk_rules(call: Recorder, track_id: str) -> None:
    """The rules routes: rule sets as JSON and text, fields, checks, previews, explain, .nsp."""
    call("GET", "/data/rules")
    call("GET", "/data/rules/long")
    call("GET", "/data/rules/fields")
    call("POST", "/data/rules/validate", json={"id": "x", "name": "X", "text": "tempoo > 1"})
    text = 'energy > 0.5 or name matches "^A"\nsort by name\nlimit 5'
    parsed = call("POST", "/data/rules/parse", json={"text": text})
    call("POST", "/data/rules/format", json=parsed)
    call("POST", "/data/rules/evaluate", json={"rules": parsed["rules"], "enrichment": {}})
    call("POST", "/pipeline/playlists/preview-from-rules", json={})
    payload_mode = {
        "rules": [{"id": "x", "name": "X", "rules": parsed["rules"]}],
        "tracks": [{"track_id": "a", "enrichment": {"energy": 0.9}}],
    }
    call("POST", "/pipeline/playlists/preview-from-rules", json=payload_mode)
    call("POST", "/pipeline/playlists/explain", json={"track_id": track_id, "rule_id": "long"})
    nsp = call("GET", "/data/rules/long/export-nsp")["nsp"]
    call("POST", "/data/rules/import-nsp", json={"nsp": nsp, "id": "long-nsp"})


def library_query(call: Recorder, track_id: str) -> None:
    """The library table's routes, and a bulk edit of all that match with its undo."""
    query = {"filter": "duration > 100", "sort": [{"field": "energy", "direction": "desc"}]}
    call("POST", "/data/library/query", json={**query, "limit": 5})
    call("POST", "/data/library/query", json={"filter": "duration >"}, status=422)
    call("POST", "/data/library/ids", json=query)
    edit = {"filter": "duration > 100", "add_tags": ["walked"]}
    call("POST", "/data/enrichments/manual", json=edit)
    call("GET", "/data/enrichments/manual/undo")
    call("POST", "/data/enrichments/manual/undo")
    call("POST", "/data/enrichments/manual/undo", status=409)


def test_what_the_server_answers_is_what_it_publishes(walk: Walk) -> None:
    served_paths = {path for path, _ in walk.recorder.seen}
    assert len(served_paths) > 30
    assert {status for _, status in walk.recorder.seen} >= {200, 202, 401, 404, 409, 422}


def test_a_jobs_payload_is_its_steps_model_as_json(walk: Walk) -> None:
    steps = {job["step"] for job in walk.jobs}
    assert steps == set(STEP_PAYLOADS), steps ^ set(STEP_PAYLOADS)
    for job in walk.jobs:
        model = STEP_PAYLOADS[job["step"]]
        payload = job["payload"]
        assert model.model_validate(payload).model_dump(mode="json") == payload, job["step"]


def test_a_jobs_payload_is_documented_as_its_steps_model(spec: dict[str, Any]) -> None:
    # What the web app's types and any client read: one of the steps' models, or null.
    payload = spec["components"]["schemas"]["PipelineJob"]["properties"]["payload"]
    documented = {option.get("$ref", "").rpartition("/")[2] for option in payload["anyOf"]}
    assert documented == {model.__name__ for model in STEP_PAYLOADS.values()} | {""}
    assert {"type": "null"} in payload["anyOf"]
    for step, model in STEP_PAYLOADS.items():
        assert f"`{step}`" in payload["description"], step
        assert model.__name__ in spec["components"]["schemas"], model.__name__


# --- what the middleware answers is documented too ---------------------------------------------

GUARD_ANSWERS = {"403", "413", "415", "422"}


def test_state_changing_operations_document_what_the_guards_answer(spec: dict[str, Any]) -> None:
    checked = 0
    for (method, path), details in operations(spec):
        documented = set(details["responses"])
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            assert documented >= GUARD_ANSWERS, (method, path, documented)
            checked += 1
        else:
            assert "415" not in documented and "413" not in documented, (method, path)
    assert checked > 20


def test_login_is_documented_as_a_redirect(spec: dict[str, Any]) -> None:
    redirect = spec["paths"]["/auth/login"]["get"]["responses"]["307"]
    assert "Location" in redirect["headers"]
    assert "content" not in redirect


def test_a_method_a_path_lacks_is_a_405_naming_exactly_its_methods(demo: DemoServer) -> None:
    cases = {
        ("OPTIONS", "/data/enrichments/manual"): "POST",  # not GET of /data/enrichments/{id}
        ("OPTIONS", "/data/rules"): "GET, HEAD, POST",
        ("PUT", "/data/rules/x"): "DELETE, GET, HEAD",  # 405 before the guard's 415
        ("DELETE", "/pipeline/health"): "GET, HEAD",  # not POST /pipeline/{step}
        ("GET", "/pipeline/verify/run-async"): "POST",
    }
    for (method, path), allow in cases.items():
        response = demo.client.request(method, path, headers={"content-type": "text/plain"})
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allow, (method, path)
        assert response.json()["error"] == "method_not_allowed"


def test_the_specs_examples_are_accepted_on_an_empty_library(
    demo: DemoServer, spec: dict[str, Any]
) -> None:
    tried = 0
    for (method, path), details in operations(spec):
        content = details.get("requestBody", {}).get("content", {}).get("application/json", {})
        for example in content.get("schema", {}).get("examples", []):
            response = demo.client.request(method, path, json=example)
            assert response.status_code < 300, (method, path, example, response.text)
            tried += 1
    assert tried >= 1
