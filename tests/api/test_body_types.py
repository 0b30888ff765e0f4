"""A body value of another JSON type than the spec says is refused, on every route.

The fuzzer (tests/api/test_fuzz.py) found `POST /data/library/distributions` answering 200 to
`{"top": true}`: pydantic's lax mode reads `true` as 1 and `"5"` as 5, and `"no"` as false for
a boolean, so the API accepted what its own document calls invalid. This walks the published
document instead of waiting for the fuzzer to draw such a case: for every JSON body, each
top-level field of one primitive type gets values of the other types (a route added later is
covered without being listed), and none may be accepted.
"""

from __future__ import annotations

from typing import Any

from tests.helpers.spotify_env import DemoServer

WRONG: dict[str, list[Any]] = {
    "integer": [True, "5", 5.5],
    "number": [True, "1.5"],
    "boolean": [1, 0, "yes", "no", "true"],
    "string": [5, True],
}
PATH_VALUES = {
    "{step}": "verify",
    "{rule_id}": "nope",
    "{job_id}": "nope",
    "{track_id}": "K" * 22,
    "{classifier}": "mood",
}


def _resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _types(spec: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = _resolved(spec, schema)
    if "type" in schema:
        return {schema["type"]}
    return {
        kind for key in ("anyOf", "oneOf") for s in schema.get(key, []) for kind in _types(spec, s)
    }


def _example(media: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The body the spec gives as its example (so required fields are there), else {}."""
    candidates = [media.get("example")]
    if isinstance(media.get("examples"), dict):
        candidates += [entry.get("value") for entry in media["examples"].values()]
    candidates += list(schema.get("examples") or [])
    return next((c for c in candidates if isinstance(c, dict)), {})


def test_a_field_sent_with_another_json_type_is_refused_on_every_route(
    connected: DemoServer,
) -> None:
    client = connected.client
    spec = client.get("/openapi.json").json()
    tried, accepted = 0, []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            schema = _resolved(spec, media["schema"])
            url = path
            for template, value in PATH_VALUES.items():
                url = url.replace(template, value)
            for name, field in schema.get("properties", {}).items():
                kinds = _types(spec, field) - {"null"}
                if len(kinds) != 1:
                    continue
                for wrong in WRONG.get(kinds.pop(), []):
                    body = {**_example(media, schema), name: wrong}
                    response = client.request(method.upper(), url, json=body)
                    tried += 1
                    if response.status_code < 400:
                        accepted.append(f"{method.upper()} {path} {name}={wrong!r}")
    assert accepted == []
    assert tried > 60
