"""Spotify's OpenAPI spec (the community one in the shared folder) as a test oracle.

`SpecValidator` checks a response (or, with `validate_request`, a request our client sent)
against `$SAP_SHARED_DIR/spotify/openapi.yml` (default `<repo>/../shared`) with openapi-core.
Responses of statuses an operation does not list (400, 404, 5xx) are validated against the
spec's own error schema (`components.responses.*` → `ErrorObject`) with
openapi-schema-validator, openapi-core's validator.

`SPEC_RELAXATIONS` are the only changes made to the spec before validating; each is a place
where the real API (and design/spotify-api.md) differs from the spec, or a spec bug.
"""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.helpers.paths import SHARED

# Read at import: the autouse fixture of tests/conftest.py hides SAP_* variables from tests.
SPEC_PATH = SHARED / "spotify" / "openapi.yml"

# (schema, property): why the real API sends null there.
SPEC_RELAXATIONS: dict[tuple[str, str], str] = {
    ("PlaylistTrackObject", "item"): "unavailable entries are served as `item: null`",
    ("PlaylistTrackObject", "track"): "the deprecated twin of `item` is null too",
    ("TrackObject", "id"): "local files have no id",
    ("TrackObject", "href"): "local files have no href",
    ("SimplifiedArtistObject", "id"): "a local file's artist is only a name",
    ("SimplifiedArtistObject", "href"): "a local file's artist is only a name",
    ("SimplifiedArtistObject", "uri"): "a local file's artist is only a name",
    ("AlbumBase", "album_type"): "a local file's album is only a name",
    ("AlbumBase", "id"): "a local file's album is only a name",
    ("AlbumBase", "href"): "a local file's album is only a name",
    ("AlbumBase", "uri"): "a local file's album is only a name",
    ("AlbumBase", "release_date"): "a local file's album has no release date",
    ("AlbumBase", "release_date_precision"): "a local file's album has no release date",
}
NULL = {"type": "object", "nullable": True, "enum": [None]}
ERROR_RESPONSES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}


def relaxed_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with `SPEC_RELAXATIONS` applied (nullable, with null added to enums), and the
    item/track discriminator dropped: it maps `type` values to schemas named "track" and
    "episode" that do not exist (a spec bug openapi-core trips on); plain `oneOf` suffices
    because `TrackObject.type` and `EpisodeObject.type` are distinct enums."""
    schemas = spec["components"]["schemas"]
    for schema, name in SPEC_RELAXATIONS:
        prop = schemas[schema]["properties"][name]
        if "oneOf" in prop:
            prop.pop("discriminator", None)
            prop["oneOf"].append(NULL)
            continue
        prop["nullable"] = True
        if "enum" in prop:
            prop["enum"].append(None)
    return spec


class SpecValidator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.openapi = OpenAPI.from_dict(spec)
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT4)
        self.registry: Registry[Any] = Registry().with_resource("urn:spotify", resource)

    def __call__(self, response: httpx.Response) -> None:
        """Raise if `response` does not match the spec."""
        operation = self._operation(response.request)
        statuses = operation["responses"]
        if str(response.status_code) in statuses:
            path = "/v1" + response.request.url.path.split("/v1", 1)[1]
            request = MockRequest(
                "https://api.spotify.com",
                response.request.method.lower(),
                path,
                args=dict(response.request.url.params),
            )
            content_type = response.headers["content-type"].split(";")[0]
            mock = MockResponse(response.content, response.status_code, content_type=content_type)
            self.openapi.validate_response(request, mock)
            return
        name = ERROR_RESPONSES.get(response.status_code, "BadRequest")  # 5xx: same body
        pointer = f"urn:spotify#/components/responses/{name}/content/application~1json/schema"
        OAS30Validator({"$ref": pointer}, registry=self.registry).validate(response.json())

    def validate_request(self, request: httpx.Request) -> None:
        """Raise if a request our client sent does not match the spec (path, parameters,
        body)."""
        self._operation(request)  # a path the spec does not know fails here
        path = "/v1" + request.url.path.split("/v1", 1)[1]
        content_type = request.headers.get("content-type", "application/json").split(";")[0]
        mock = MockRequest(
            "https://api.spotify.com",
            request.method.lower(),
            path,
            args=dict(request.url.params),
            data=request.content or None,
            content_type=content_type,
            headers={"Authorization": request.headers.get("authorization", "")},
        )
        with warnings.catch_warnings():
            # openapi-core does not check OAuth 2 schemes (the emulator does): nothing to warn.
            warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
            self.openapi.validate_request(mock)

    def _operation(self, request: httpx.Request) -> dict[str, Any]:
        path = request.url.path.split("/v1", 1)[1]
        for template, item in self.spec["paths"].items():
            parts, actual = template.strip("/").split("/"), path.strip("/").split("/")
            if len(parts) == len(actual) and all(
                p == a or p.startswith("{") for p, a in zip(parts, actual, strict=True)
            ):
                return dict(item[request.method.lower()])
        raise AssertionError(f"{request.method} {path} is not in the spec")


def load_validator() -> SpecValidator:
    """The validator over the relaxed spec; skips the test when the spec is not there."""
    if not SPEC_PATH.is_file():
        pytest.skip(f"Spotify OpenAPI spec not found at {SPEC_PATH} (set SAP_SHARED_DIR)")
    return SpecValidator(relaxed_spec(yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))))
