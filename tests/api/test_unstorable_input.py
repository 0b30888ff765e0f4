"""What the fuzzer found answered 500 is a 4xx naming the problem.

Each row is a request schemathesis sent to the running server that crashed it: JSON that
Python reads but the stores (orjson) cannot write back — integers beyond 64 bits, nesting
hundreds of levels deep, a lone surrogate — and rule texts whose numbers are out of range.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.config import Settings
from app.pipeline.services import Services
from tests.helpers.api import JSON, api_client
from tests.helpers.spotify_env import DemoServer


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    with api_client(create_app(settings, services=services)) as test_client:
        yield test_client


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


BODIES = {
    "an integer beyond 64 bits": (
        '{"metadata": {"x": 32589158477190044731}}',
        "body.metadata.x: integer 32589158477190044731 does not fit in 64 bits",
    ),
    "a negative integer beyond 64 bits": (
        '{"metadata": {"x": [1, -9223372036854775809]}}',
        "body.metadata.x[1]: integer -9223372036854775809 does not fit in 64 bits",
    ),
    "nesting 300 levels deep": (
        '{"metadata": ' + _deep(300) + "}",
        "body.metadata.a.a…: nested more than 64 levels deep",
    ),
    "nesting beyond Python's recursion limit": (
        '{"metadata": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "nested more than 64 levels deep",
    ),
    "a lone surrogate in a value": (
        '{"metadata": {"name": "a\\ud800b"}}',
        "body.metadata.name: text holds a lone surrogate (\\ud800)",
    ),
    "a lone surrogate in a key": (
        '{"metadata": {"\\udc00": 1}}',
        "body.metadata: a key holds a lone surrogate (\\udc00)",
    ),
    "a number too large for a double": (
        '{"metadata": {"x": 1e400}}',
        "body.metadata.x: number 1e400 is too large",
    ),
    "NaN, which is not JSON": (
        '{"metadata": {"x": NaN}}',
        "NaN is not a JSON value",
    ),
    "Infinity, which is not JSON": (
        '{"metadata": {"x": -Infinity}}',
        "-Infinity is not a JSON value",
    ),
}


@pytest.mark.parametrize("name", BODIES)
def test_json_the_stores_cannot_keep_is_refused_with_its_place(
    client: TestClient, name: str
) -> None:
    body, named = BODIES[name]
    response = client.post("/pipeline/verify/run-async", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "unsupported_json"
    assert named in answer["detail"]
    assert client.get("/pipeline/jobs").json()["total"] == 0  # nothing was queued


def test_the_same_refusal_on_every_route_with_a_body(client: TestClient) -> None:
    big = '{"id": "x", "name": "X", "rules": {"operator": "and", "conditions": [{"field": '
    big += '"year", "operator": "gt", "value": 123456789012345678901234567890}]}}'
    response = client.post("/data/rules", content=big, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "unsupported_json"
    assert "body.rules.conditions[0].value" in response.json()["detail"]


def test_broken_json_keeps_its_own_message(client: TestClient) -> None:
    response = client.post("/pipeline/verify/run-async", content='{"metadata": ', headers=JSON)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert "not valid JSON" in response.json()["detail"]


def test_64_bit_integers_and_ordinary_unicode_pass(client: TestClient) -> None:
    response = client.post(
        "/data/rules/evaluate",
        content='{"rules": {"operator": "and", "conditions": [{"field": "plays", "operator": '
        '"gt", "value": 9223372036854775807}]}, "enrichment": {"plays": 1, "t": "\\ud83c\\udfb5"}}',
        headers=JSON,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"matches": False}


@pytest.mark.parametrize(("levels", "refused"), [(63, False), (64, True)])
def test_the_depth_limit_is_the_same_for_bodies_decoded_once(
    client: TestClient, levels: int, refused: bool
) -> None:
    """The rules routes take the body the middleware decoded (orjson, then a walk over its
    containers): 64 levels pass, 65 are refused, as the slower reader says."""
    body = '{"rules": {"conditions": []}, "enrichment": ' + _deep(levels) + "}"
    response = client.post("/data/rules/evaluate", content=body, headers=JSON)
    if refused:
        assert response.status_code == 422, response.text
        assert "nested more than 64 levels deep" in response.json()["detail"]
    else:
        assert response.status_code == 200, response.text
        assert response.json() == {"matches": True}


def test_a_decoded_body_that_is_not_the_routes_shape_is_named(client: TestClient) -> None:
    broken = client.post("/pipeline/playlists/preview-from-rules", content="{", headers=JSON)
    assert broken.status_code == 422
    assert "not valid JSON" in broken.json()["detail"]
    wrong = client.post(
        "/pipeline/playlists/preview-from-rules", content='{"tracks": 3}', headers=JSON
    )
    assert wrong.status_code == 422 and "tracks" in wrong.json()["detail"]


RULE_TEXTS = {
    "a limit beyond a double": ("duration > 1\nlimit 1e400 tracks", "1e400 is too large"),
    "a huge integer value": ("year > 123456789012345678901234567890", "does not fit"),
    "a huge decimal value": ("duration > 1" + "0" * 400 + ".5", "too large"),
    "a huge limit integer": ("duration > 1\nlimit 99999999999999999999 tracks", "64 bits"),
    "a limit beyond any library": (
        "duration > 1\nlimit 2000000000 tracks",
        "at most 1,000,000,000",
    ),
    "a huge number in a list": ("year in [1, 99999999999999999999]", "does not fit"),
}


@pytest.mark.parametrize("name", RULE_TEXTS)
@pytest.mark.parametrize(
    "route",
    [
        "/data/rules/parse",
        "/data/rules/validate",
        "/data/rules",
        # Routes added since (issues 14-16) that read rule text.
        "/pipeline/playlists/count",
        "/data/rules-file",
        "/data/library/query",
    ],
)
def test_rule_texts_with_numbers_out_of_range_are_refused_everywhere(
    client: TestClient, name: str, route: str
) -> None:
    text, named = RULE_TEXTS[name]
    body: dict[str, object] = {"id": "n", "name": "N", "text": text}
    if route.endswith("parse"):
        body = {"text": text}
    elif route.endswith("rules-file"):
        body = {"text": "[n] N\n" + text}
    elif route.endswith("query"):
        body = {"filter": text}
    response = client.post(route, json=body)
    if route.endswith("validate") and response.status_code == 200:
        report = response.json()
        assert report["valid"] is False, report
        assert any(named in problem["message"] for problem in report["errors"]), report
    else:
        assert response.status_code == 422, response.text
        assert named in response.text
    assert client.get("/data/rules").json() == []  # nothing half-saved


def test_a_control_character_in_a_playlist_id_is_refused_by_name(connected: DemoServer) -> None:
    # Playlist ids are checked for Spotify's shape before any URL is built (issue 13, item 8).
    response = connected.client.get("/spotify/playlists/%02/items")
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert "playlist_id" in response.json()["detail"]
