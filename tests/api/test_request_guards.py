"""Other web pages cannot change state through the user's browser; bodies are bounded.

The state-changing routes are read from the app itself, so a route added later is covered
without anyone remembering to add it here.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Route

from app.api.app import create_app
from app.core.config import DEMO_EMULATORS_PREFIX, Settings
from app.pipeline.services import Services
from tests.helpers.api import JSON, LOCAL, api_client
from tests.helpers.spotify_env import DemoServer

STATE_CHANGING = ("post", "put", "patch", "delete")
OWN = {"origin": LOCAL, "sec-fetch-site": "same-origin"}
ATTACKS = {
    "a page of another site (Origin)": {"origin": "https://evil.example"},
    "a page of another port of this host": {"origin": "http://127.0.0.1:9999"},
    "a sandboxed page (Origin: null)": {"origin": "null"},
    "a cross-site fetch (Sec-Fetch-Site only)": {"sec-fetch-site": "cross-site"},
    "a sibling site (Sec-Fetch-Site)": {"sec-fetch-site": "same-site"},
    "own Origin but a cross-site fetch": {"origin": LOCAL, "sec-fetch-site": "cross-site"},
}


def _routes(routes: Sequence[BaseRoute]) -> Iterator[Route]:
    """Every route the app answers, also inside included routers and whether or not the
    OpenAPI document shows it (`include_in_schema=False` hides a route from the spec only)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, Route):
            yield route


def _state_changing_routes() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as cache_dir:
        settings = Settings(cache_dir=Path(cache_dir), spotify_client_id="route-table")
        routes = list(_routes(create_app(settings).routes))
    return sorted(
        (method, re.sub(r"\{[^}]+\}", "x", route.path))
        for route in routes
        for method in route.methods or ()
        if method.lower() in STATE_CHANGING
    )


ROUTES = _state_changing_routes()


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    with api_client(create_app(settings, services=services)) as test_client:
        yield test_client


def test_the_route_table_is_read() -> None:
    assert ("POST", "/pipeline/x/run-async") in ROUTES
    assert ("POST", "/auth/logout") in ROUTES
    assert ("DELETE", "/data/rules/x") in ROUTES
    # Routes added by later issues are found without being listed anywhere.
    for route in (
        "/data/library/ids",
        "/data/rules-file",
        "/pipeline/playlists/restore",
        "/pipeline/playlists/counts",
    ):
        assert ("POST", route) in ROUTES
    assert ("PUT", "/pipeline/playlists/unattended/x") in ROUTES
    assert len(ROUTES) > 30


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_cross_site_requests_are_refused_on_every_state_changing_route(
    client: TestClient, method: str, path: str, attack: str
) -> None:
    # JSON (a page's fetch), a form and no content type at all (body-less form posts): all 403.
    for content_type in ("application/json", "application/x-www-form-urlencoded", ""):
        headers = {**ATTACKS[attack], "content-type": content_type}
        response = client.request(method, path, headers=headers)
        assert response.status_code == 403, (content_type, response.text)
        assert response.json()["error"] == "cross_origin_refused"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_state_changing_routes_need_a_json_content_type_even_without_a_body(
    client: TestClient, method: str, path: str
) -> None:
    for content_type in ("", "application/x-www-form-urlencoded", "text/plain"):
        response = client.request(method, path, headers={"content-type": content_type})
        assert response.status_code == 415, (content_type, response.text)
        assert response.json()["error"] == "unsupported_media_type"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_own_pages_and_scripts_get_through_to_the_route(
    client: TestClient, method: str, path: str
) -> None:
    for headers in (OWN, {"sec-fetch-site": "none"}, {}):
        response = client.request(method, path, headers={**JSON, **headers})
        assert response.status_code not in {403, 415}, (headers, response.text)


def test_refused_requests_change_nothing(client: TestClient) -> None:
    # The attack the issue describes: two body-less form posts that planned, then applied.
    for path in ("/pipeline/diff", "/pipeline/apply", "/pipeline/verify/run-async"):
        form = client.post(path, headers={"content-type": "application/x-www-form-urlencoded"})
        cross = client.post(path, headers={**JSON, "origin": "https://evil.example"})
        assert (form.status_code, cross.status_code) == (415, 403)
    assert client.get("/pipeline/jobs").json()["total"] == 0


def test_a_configured_front_end_origin_may_change_state(
    settings: Settings, services: Services
) -> None:
    dev = "http://localhost:5173"
    app = create_app(settings.model_copy(update={"allowed_origins": [dev]}), services=services)
    with api_client(app) as client:
        allowed = client.post(
            "/pipeline/verify/run-async", headers={"origin": dev, "sec-fetch-site": "same-site"}
        )
        assert allowed.status_code == 202
        other = client.post("/pipeline/verify/run-async", headers={"origin": "http://x.test"})
        assert other.status_code == 403


def test_reads_are_not_refused_for_coming_from_elsewhere(client: TestClient) -> None:
    response = client.get("/pipeline/health", headers={"origin": "https://evil.example"})
    assert response.status_code == 200


@pytest.fixture
def small_limit_client(settings: Settings, services: Services) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_request_bytes": 2048}), services=services)
    with api_client(app) as test_client:
        yield test_client


def test_bodies_over_the_limit_are_413(small_limit_client: TestClient) -> None:
    big = b'{"metadata": {"pad": "' + b"x" * 4096 + b'"}}'
    response = small_limit_client.post("/pipeline/verify/run-async", content=big)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_streamed_bodies_are_counted_too(small_limit_client: TestClient) -> None:
    def chunks(count: int) -> Iterator[bytes]:
        yield b'{"metadata": {"rule_ids": ["'
        for _ in range(count):
            yield b"x" * 512
        yield b'"]}}'

    over = small_limit_client.post("/pipeline/diff/run-async", content=chunks(8))
    assert (over.status_code, over.json()["error"]) == (413, "request_too_large")
    under = small_limit_client.post("/pipeline/diff/run-async", content=chunks(1))
    assert under.status_code == 202
    assert under.json()["metadata"] == {"rule_ids": ["x" * 512]}


def test_the_demo_consent_page_may_post_its_form(demo: DemoServer) -> None:
    # The emulated accounts service speaks Spotify's formats; only the origin rule applies.
    form = {"content-type": "application/x-www-form-urlencoded", **OWN}
    decision = "/emulator/spotify/accounts/authorize/decision"
    answer = demo.client.post(decision, content=b"request=unknown&decision=accept", headers=form)
    assert answer.status_code not in {403, 415}, answer.text
    cross = demo.client.post(
        decision, content=b"request=unknown", headers={**form, "origin": "https://evil.example"}
    )
    assert cross.status_code == 403


def test_cross_site_requests_are_refused_by_every_demo_emulator(demo: DemoServer) -> None:
    # The demo mounts its emulated services (Spotify, its accounts, the providers) under
    # /emulator: a page of another site must not change the demo account either. The guard
    # answers before any routing, whatever the path under a service: a real route of each
    # kind, and a path no route has, for every service the demo mounts (read from it).
    services = demo.env.emulators.services
    assert {service.key for service in services} >= {"spotify_api", "spotify_accounts", "lastfm"}
    paths = [
        "/emulator/spotify/v1/playlists/x/items",
        "/emulator/spotify/v1/me/tracks",
        "/emulator/spotify/accounts/api/token",
        "/emulator/spotify/accounts/authorize/decision",
    ]
    paths += [f"{DEMO_EMULATORS_PREFIX}{service.path}/any/path" for service in services]
    for path in paths:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for attack in ATTACKS.values():
                response = demo.client.request(method, path, headers=attack)
                assert response.status_code == 403, (method, path, attack, response.text)
                assert response.json()["error"] == "cross_origin_refused"
    # The same requests from the app's own pages reach the emulators (not refused here).
    own = demo.client.request("PUT", "/emulator/spotify/v1/me/tracks", headers=OWN)
    assert own.status_code not in {403, 415}, own.text


def test_csv_uploads_are_json_so_other_sites_cannot_send_files(
    client: TestClient, settings: Settings
) -> None:
    """The upload route takes the file inside a JSON body, deliberately: a multipart form is a
    request any page may send cross-site without asking (no CORS preflight), so accepting one
    would rest the protection on Origin/Sec-Fetch-Site alone. JSON keeps both locks."""
    route = "/pipeline/tracks/import-csv"
    text = '"Track URI","Track Name"\n"spotify:track:' + "K" * 22 + '","One"\n'
    multipart = client.post(
        route,
        files={"file": ("a.csv", text.encode(), "text/csv")},
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert (multipart.status_code, multipart.json()["error"]) == (415, "unsupported_media_type")
    body = {"filename": "a.csv", "content": text}
    for attack in ATTACKS.values():
        cross = client.post(route, json=body, headers=attack)
        assert (cross.status_code, cross.json()["error"]) == (403, "cross_origin_refused")
    assert not (settings.cache_dir / "imports").exists()
    own = client.post(route, json=body, headers=OWN)
    assert own.status_code == 202, own.text
    assert [path.name for path in (settings.cache_dir / "imports").iterdir()] == ["a.csv"]
