"""The web app and the API's documentation pages, served by the API server itself.

- **The app** (Vite's build, `web/dist`, or `SAP_WEB_DIST`): a `GET` that accepts HTML on `/`,
  or on a path no API route has whose last segment has no extension (`/sources`,
  `/library?q=…`: the app's own routes, deep links and reloads), answers the build's
  `index.html` with `Cache-Control: no-cache`; the app's router shows the screen. The API keeps
  every path it has: `/pipeline/…`, `/openapi.json`, `/docs` never become the app, and a client
  that does not ask for HTML (curl, scripts: `Accept: */*`) still gets `GET /`'s JSON index.
  `/assets/…` are Vite's content-hashed files, cached for a year (`immutable`); a missing one
  is the usual JSON 404, never `index.html`. Other files at the top of the build (the theme
  script, the icon) are served with `no-cache`.
- **Not built** (a developer who did not run `make run`): the app's pages answer 503 with a
  page saying how to build it; the API and its documentation work as ever.
- **`/docs` and `/redoc`**: Swagger UI and ReDoc from the files the `fastapi-offline` package
  installs (no CDN, so they work with no network), started by our own script file rather than
  an inline script, so the pages keep the Content-Security-Policy below.
- **Headers on every answer** (`SecurityHeaders`): a Content-Security-Policy that runs only
  this server's own script files (`script-src 'self'`, nothing inline, no `eval`), lets no
  other site frame a page (`frame-ancestors 'none'`), and sends requests only here
  (`connect-src 'self'`); `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
  `X-Frame-Options: DENY`. The documentation pages also allow inline styles and a blob
  worker, which Swagger UI and ReDoc need to draw themselves; their scripts are still ours only.

The Host check and the cross-site guard (`middleware.py`) sit in front of all of this.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Sequence
from functools import cached_property
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Final

from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response

APP_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS: Final = ("/docs", "/redoc")
SECURITY_HEADERS: Final = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
IMMUTABLE: Final = "public, max-age=31536000, immutable"
NO_CACHE: Final = "no-cache"
ASSETS_PREFIX: Final = "/assets/"
DOCS_ASSETS: Final = "/docs-assets"

_OWN_STATIC = Path(str(files("app.api") / "static"))
_OFFLINE_STATIC = Path(str(files("fastapi_offline") / "static"))


def default_web_dist() -> Path:
    """`web/dist` of the source tree this package lives in."""
    return Path(__file__).resolve().parents[2] / "web" / "dist"


class SecurityHeaders:
    """Adds the module docstring's headers to every HTTP answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        docs = path in DOCS_PATHS or path.startswith(DOCS_ASSETS + "/")
        policy = DOCS_CSP if docs else APP_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                wanted = {**SECURITY_HEADERS, "content-security-policy": policy}
                for name, value in wanted.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _route_paths(routes: Sequence[BaseRoute]) -> Iterator[str]:
    """The path of every route and mount, also inside included routers."""
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str):
            yield path
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _route_paths(included.routes)


def _wants_html(headers: Headers) -> bool:
    return "text/html" in headers.get("accept", "").lower()


class WebApp:
    """Serves the built app (module docstring) in front of the API's routes."""

    def __init__(self, app: ASGIApp, *, dist: Path, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.dist = dist
        self._routes = routes

    @cached_property
    def _api_prefixes(self) -> frozenset[str]:
        """The first path segment of every route and mount (`pipeline`, `auth`, `docs`…),
        read once, after every router is added."""
        return frozenset(
            path.strip("/").split("/", 1)[0]
            for path in _route_paths(self._routes)
            if path.strip("/") and not path.startswith("/{")
        )

    def _route_has(self, scope: Scope) -> bool:
        """Whether the path is the API's: a route (of any method) or a mount has it, or it lies
        below one of the API's prefixes (`/pipeline/no/such/path` is the API's 404). A single
        segment no route has stays the app's (`/library` is a screen even beside an API
        route `/library/query`)."""
        path: str = scope["path"]
        segments = path.strip("/").split("/")
        if len(segments) > 1 and segments[0] in self._api_prefixes:
            return True
        probe = {**scope, "method": "GET"}
        return any(route.matches(probe)[0] is not Match.NONE for route in self._routes)

    def _file(self, relative: str) -> Path | None:
        """The build's file at `relative`, if it is a regular file inside the build."""
        root = self.dist.resolve()
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        response = self._answer(scope)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    def _answer(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        if path.startswith(ASSETS_PREFIX):
            asset = self._file(path.lstrip("/"))
            if asset is None:
                return None  # the router's JSON 404
            return FileResponse(asset, headers={"cache-control": IMMUTABLE})
        if path != "/" and self._route_has(scope):
            return None
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if "." in last:
            top = self._file(last) if path.count("/") == 1 else None
            if top is None:
                return None
            media_type = mimetypes.guess_type(top.name)[0] or "application/octet-stream"
            return FileResponse(top, media_type=media_type, headers={"cache-control": NO_CACHE})
        if not _wants_html(Headers(scope=scope)):
            return None  # `GET /` for API clients, the JSON 404 for the rest
        index = self._file("index.html")
        if index is None:
            return not_built_page(self.dist)
        return FileResponse(
            index,
            media_type="text/html",
            headers={"cache-control": NO_CACHE, "vary": "Accept"},
        )


def not_built_page(dist: Path) -> HTMLResponse:
    """What the app's pages say when there is no build to serve."""
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        "<title>spotify-auto-playlists: the web app is not built</title>"
        "<h1>The web app is not built yet</h1>"
        f"<p>This server serves the web app from <code>{escape(str(dist))}</code>, "
        "which does not hold a build.</p>"
        "<p>Stop the server and start it with <code>make run</code>: it builds the app "
        "(Node.js 20.19 or newer and npm are needed) and serves it. Or build it by hand: "
        "<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then reload "
        "this page.</p>"
        '<p>The API works meanwhile: its documentation is at <a href="/docs">/docs</a>.</p>'
        "</html>"
    )
    return HTMLResponse(
        body, status_code=503, headers={"cache-control": NO_CACHE, "vary": "Accept"}
    )


# --- the API's documentation, offline --------------------------------------------------------

_DOCS_FILES = {
    "swagger-ui-bundle.js": _OFFLINE_STATIC / "swagger-ui-bundle.js",
    "swagger-ui.css": _OFFLINE_STATIC / "swagger-ui.css",
    "redoc.standalone.js": _OFFLINE_STATIC / "redoc.standalone.js",
    "favicon.png": _OFFLINE_STATIC / "favicon.png",
    "swagger-init.js": _OWN_STATIC / "swagger-init.js",
}


def _docs_page(title: str, head: str, body: str) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f'<link rel="icon" href="{DOCS_ASSETS}/favicon.png">{head}</head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(page, headers={"cache-control": NO_CACHE})


def swagger_ui(_request: Request) -> HTMLResponse:
    return _docs_page(
        "spotify-auto-playlists API: Swagger UI",
        f'<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">',
        '<main id="swagger-ui" data-spec-url="/openapi.json"></main>'
        f'<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>'
        f'<script src="{DOCS_ASSETS}/swagger-init.js"></script>',
    )


def redoc(_request: Request) -> HTMLResponse:
    return _docs_page(
        "spotify-auto-playlists API: ReDoc",
        "",
        '<redoc spec-url="/openapi.json"></redoc>'
        f'<script src="{DOCS_ASSETS}/redoc.standalone.js"></script>',
    )


def docs_asset(request: Request) -> Response:
    name: str = request.path_params["name"]
    path = _DOCS_FILES.get(name)
    if path is None:
        return error_response(404, "not_found", f"no documentation file {name[:100]!r}")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers={"cache-control": NO_CACHE})


docs_routes: list[BaseRoute] = [
    Route("/docs", swagger_ui, methods=["GET"], include_in_schema=False),
    Route("/redoc", redoc, methods=["GET"], include_in_schema=False),
    Route(DOCS_ASSETS + "/{name}", docs_asset, methods=["GET"], include_in_schema=False),
]
"""The documentation pages: plain routes outside the OpenAPI document, as FastAPI's own are."""
