"""Which methods a path has: 405 with an exact `Allow`, before any other check.

A path is served by its most specific route: `/data/enrichments/manual` by the fixed
`POST /data/enrichments/manual`, not by `GET /data/enrichments/{track_id}` whose template it
also matches (as the OpenAPI document lists them). A method none of those routes has is
answered here with ``405 method_not_allowed`` and `Allow` naming exactly their methods (with
``HEAD`` beside ``GET``) — also for `OPTIONS`, which this API does not serve — before the
request guard could answer 415 for a method the path does not even have. Paths no route
matches, and mounted apps (the demo's emulators), go on unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_response


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute | Mount]:
    """Every route, also inside included routers (kept as one route holding the router)."""
    for route in routes:
        if isinstance(route, APIRoute | Mount):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


class PathMethods:
    """Answers a method the path's most specific routes lack with 405 and their `Allow`."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self._all_routes = routes

    @cached_property
    def _routes(self) -> list[APIRoute | Mount]:
        return list(_api_routes(self._all_routes))  # read once, after every router is added

    def allowed(self, path: str) -> set[str] | None:
        """The methods of `path`'s most specific routes; None when a mount or no route has it."""
        best: tuple[int, set[str]] | None = None
        for route in self._routes:
            if isinstance(route, Mount):
                if path == route.path or path.startswith(route.path + "/"):
                    return None
                continue
            if route.path_regex.match(path) is None:
                continue
            params = len(route.param_convertors)
            methods = set(route.methods or ())
            if best is None or params < best[0]:
                best = (params, methods)
            elif params == best[0]:
                best[1].update(methods)
        if best is None:
            return None
        methods = best[1]
        if "GET" in methods:
            methods.add("HEAD")
        return methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self.allowed(scope["path"])
            if allowed is not None and scope["method"] not in allowed:
                response = error_response(
                    405,
                    "method_not_allowed",
                    f"{scope['method']} is not a method of {scope['path'][:200]}; "
                    f"it has {', '.join(sorted(allowed))}",
                )
                response.headers["allow"] = ", ".join(sorted(allowed))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
