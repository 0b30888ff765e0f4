"""The server serves the built web app beside the API (app/api/web.py): index.html for the app's
routes and only for them, hashed assets cached for a year, a page saying how to build when
there is no build, the API documentation offline, and the security headers on every answer.

The build here is a small real folder laid out as Vite writes one (index.html, assets/ with
hashed names, a file at the top); the browser tests (tests/web/) serve the real build.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.config import Settings
from tests.helpers.api import api_client

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INDEX = '<!doctype html><title>app</title><script type="module" src="/assets/index-Ab12.js">'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX, encoding="utf-8")
    (folder / "assets" / "index-Ab12.js").write_text("console.log('app')", encoding="utf-8")
    (folder / "theme-init.js").write_text("/* theme */", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not to be served", encoding="utf-8")
    return folder


def _client(tmp_path: Path, dist: Path) -> Iterator[TestClient]:
    settings = Settings(cache_dir=tmp_path / "cache", spotify_client_id="x", web_dist=dist)
    with api_client(create_app(settings)) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path, dist: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, dist)


@pytest.fixture
def unbuilt(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, tmp_path / "no-build-here")


@pytest.mark.parametrize("path", ["/", "/account", "/sources", "/library?q=energy%20%3E%200.5"])
def test_a_browser_gets_the_app_on_its_routes(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["vary"] == "Accept"


def test_api_clients_still_get_the_json_index_at_the_root(client: TestClient) -> None:
    response = client.get("/", headers={"accept": "*/*"})
    assert response.status_code == 200
    assert response.json()["docs"] == "/docs"
    assert response.headers["vary"] == "Accept"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/pipeline/health", "application/json"),
        ("/auth/status", "application/json"),
        ("/openapi.json", "application/json"),
        ("/docs", "text/html"),
        ("/redoc", "text/html"),
    ],
)
def test_api_paths_never_become_the_app(client: TestClient, path: str, kind: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert response.text != INDEX


@pytest.mark.parametrize(
    "path",
    [
        "/assets/index-Zz99.js",  # a missing asset: never index.html (a stale page must fail)
        "/favicon.ico",  # a missing file with an extension
        "/pipeline/no/such/path",
        "/assets/../../secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
    ],
)
def test_what_does_not_exist_is_the_json_404(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code in {404, 405}, response.text
    assert response.headers["content-type"] == "application/json"
    assert "not to be served" not in response.text


def test_a_screen_stays_the_apps_beside_an_api_prefix_of_its_name(
    tmp_path: Path, dist: Path
) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", spotify_client_id="x", web_dist=dist)
    app = create_app(settings)

    @app.get("/library/query")
    def query() -> dict[str, int]:
        return {"total": 0}

    with api_client(app) as client:
        assert client.get("/library", headers=HTML).text == INDEX
        assert client.get("/library/query", headers=HTML).json() == {"total": 0}
        assert client.get("/library/nope", headers=HTML).status_code == 404


def test_an_unknown_path_is_a_404_for_api_clients(client: TestClient) -> None:
    response = client.get("/account", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_hashed_assets_are_cached_for_a_year_and_other_files_revalidated(
    client: TestClient,
) -> None:
    asset = client.get("/assets/index-Ab12.js")
    assert asset.status_code == 200
    assert asset.text == "console.log('app')"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/javascript")
    top = client.get("/theme-init.js")
    assert top.status_code == 200
    assert top.headers["cache-control"] == "no-cache"


def test_without_a_build_the_page_says_how_to_make_one(unbuilt: TestClient) -> None:
    response = unbuilt.get("/sources", headers=HTML)
    assert response.status_code == 503
    assert "make run" in response.text
    assert "npm ci" in response.text and "npm run build" in response.text
    assert unbuilt.get("/pipeline/health").status_code == 200
    assert unbuilt.get("/", headers={"accept": "*/*"}).json()["name"] == "spotify-auto-playlists"


def test_the_documentation_works_offline_without_inline_scripts(client: TestClient) -> None:
    for page, assets in {
        "/docs": ["swagger-ui-bundle.js", "swagger-init.js", "swagger-ui.css"],
        "/redoc": ["redoc.standalone.js"],
    }.items():
        html = client.get(page).text
        assert "http://" not in html and "https://" not in html, page  # no CDN
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts and all('src="' in attrs and body == "" for attrs, body in scripts), page
        for name in assets:
            served = client.get(f"/docs-assets/{name}")
            assert served.status_code == 200, name
            assert len(served.content) > 500, name
    assert client.get("/docs-assets/../app.py").status_code == 404
    assert client.get("/docs-assets/nope.js").json()["error"] == "not_found"


CSP_SCRIPTS = "script-src 'self';"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/account", HTML, 200),
        ("GET", "/pipeline/health", {}, 200),
        ("GET", "/nope.txt", {}, 404),
        ("DELETE", "/pipeline/health", {}, 405),
        ("POST", "/auth/logout", {"origin": "https://evil.example"}, 403),  # the guard's refusal
    ],
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == status
    policy = response.headers["content-security-policy"]
    assert CSP_SCRIPTS in policy
    assert "frame-ancestors 'none'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_documentation_pages_allow_only_the_styles_and_worker_they_need(
    client: TestClient,
) -> None:
    policy = client.get("/redoc").headers["content-security-policy"]
    assert CSP_SCRIPTS in policy
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "worker-src 'self' blob:" in policy
    assert "unsafe-eval" not in policy


def test_the_host_check_covers_the_app(client: TestClient) -> None:
    response = client.get("/sources", headers={**HTML, "host": "rebound.example"})
    assert response.status_code == 400
    assert response.json()["error"] == "host_not_allowed"
