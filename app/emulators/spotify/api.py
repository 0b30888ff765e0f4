"""The Web API service (`api.spotify.com/v1`) as a development-mode app sees it.

Routes: `GET /me`, `GET /me/tracks`, the playlist routes of `playlists.py`, and single-id
`GET /tracks/{id}` (with a `market`, the tracks of `config.unplayable_tracks` say
`is_playable: false`) and `GET /artists/{id}`. Endpoints Spotify took away from development-mode
apps answer 403 ``{"error": {"status": 403, "message": "Forbidden"}}``; unknown paths 404
"Service not found"; unknown ids 404 "Resource not found". Every route wants a Bearer token.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.emulators.common.transport import json_response
from app.emulators.spotify.context import ApiContext, check_id
from app.emulators.spotify.playlists import playlist_routes
from app.emulators.spotify.responses import (
    SpotifyError,
    error_response,
    page_window,
    paging,
    timestamp,
)

# (path, methods) that development-mode apps may no longer use.
REMOVED_ENDPOINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/playlists/{playlist_id}/tracks", ("GET", "POST", "PUT", "DELETE")),
    ("/tracks", ("GET",)),
    ("/artists", ("GET",)),
    ("/albums", ("GET",)),
    ("/users/{user_id}/playlists", ("GET", "POST")),
    ("/audio-features", ("GET",)),
    ("/audio-features/{track_id}", ("GET",)),
    ("/audio-analysis/{track_id}", ("GET",)),
    ("/recommendations", ("GET",)),
    ("/recommendations/available-genre-seeds", ("GET",)),
    ("/artists/{artist_id}/related-artists", ("GET",)),
    ("/artists/{artist_id}/top-tracks", ("GET",)),
    ("/browse/featured-playlists", ("GET",)),
    ("/browse/new-releases", ("GET",)),
    ("/browse/categories/{category_id}/playlists", ("GET",)),
)


def create_api_app(ctx: ApiContext) -> Starlette:
    """The Web API as an ASGI app (no OpenAPI schema of its own)."""
    routes = CatalogRoutes(ctx)
    table: list[BaseRoute] = [
        Route("/me", routes.me, methods=["GET"]),
        Route("/me/tracks", routes.saved_tracks, methods=["GET"]),
        Route("/tracks/{track_id}", routes.track, methods=["GET"]),
        Route("/artists/{artist_id}", routes.artist, methods=["GET"]),
        *playlist_routes(ctx),
        *(
            Route(path, routes.removed, methods=list(methods))
            for path, methods in REMOVED_ENDPOINTS
        ),
    ]
    return Starlette(
        routes=table,
        exception_handlers={
            SpotifyError: _spotify_error,
            HTTPException: _http_error,
        },
    )


class CatalogRoutes:
    """The user's profile and liked songs, catalogue look-ups, and removed endpoints."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def me(self, request: Request) -> Response:
        self.ctx.authenticate(request)
        return json_response(self.ctx.renderer(request).me())

    async def saved_tracks(self, request: Request) -> Response:
        token = self.ctx.authenticate(request)
        self.ctx.require_scope(token, "user-library-read")
        offset, limit = page_window(request)
        render = self.ctx.renderer(request)
        liked = self.ctx.state.liked
        items = [
            {"added_at": timestamp(saved.added_at), "track": render.track_json(saved.track_id)}
            for saved in liked[offset : offset + limit]
        ]
        url = f"{render.base}/me/tracks"
        return json_response(paging(url, items, offset=offset, limit=limit, total=len(liked)))

    async def track(self, request: Request) -> Response:
        self.ctx.authenticate(request)
        track_id = request.path_params["track_id"]
        check_id(track_id)
        if track_id not in self.ctx.state.library.tracks:
            raise SpotifyError(404, "Resource not found")
        body = self.ctx.renderer(request).track(track_id)
        if "market" in request.query_params and track_id in self.ctx.config.unplayable_tracks:
            body = {**body, "is_playable": False, "restrictions": {"reason": "market"}}
        return json_response(body)

    async def artist(self, request: Request) -> Response:
        self.ctx.authenticate(request)
        artist_id = request.path_params["artist_id"]
        check_id(artist_id)
        if artist_id not in self.ctx.state.library.artists:
            raise SpotifyError(404, "Resource not found")
        return json_response(self.ctx.renderer(request).artist(artist_id, full=True))

    async def removed(self, request: Request) -> Response:
        self.ctx.authenticate(request)
        raise SpotifyError(403, "Forbidden")


async def _spotify_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SpotifyError)
    return error_response(exc)


async def _http_error(_request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in Spotify's words."""
    assert isinstance(exc, HTTPException)
    messages = {404: "Service not found", 405: "Method not allowed"}
    message = messages.get(exc.status_code, exc.detail)
    return error_response(SpotifyError(exc.status_code, message, exc.headers))
