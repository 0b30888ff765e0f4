"""Playlist routes of the Web API, with development-mode rules.

* `GET /me/playlists` lists every playlist (owned, followed, collaborative); private ones need
  `playlist-read-private` (collaborative ones `playlist-read-collaborative`).
* `GET /playlists/{id}` works for any playlist, but embeds its first page of entries only
  when the user owns it or collaborates on it.
* `/playlists/{id}/items` (read and write) answers 403 "Forbidden" to anyone else.
* Entries carry `item` and its deprecated twin `track`. Episodes are episode objects when the
  request says `additional_types=episode`, otherwise Spotify's legacy track-like shape.
* `fields` (see `fields.py`) filters both GET responses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.transport import json_response
from app.emulators.spotify.context import ApiContext
from app.emulators.spotify.fields import FieldsError, parse, select
from app.emulators.spotify.oauth import AccessToken
from app.emulators.spotify.render import JSON, SpotifyRenderer
from app.emulators.spotify.responses import SpotifyError, page_window, paging, query_int
from app.emulators.spotify.state import InvalidUri, PlaylistState

MAX_URIS = 100
EMBEDDED_PAGE = 50  # entries embedded in GET /playlists/{id}; the /items maximum


def playlist_routes(ctx: ApiContext) -> list[Route]:
    """The playlist routes, bound to `ctx`."""
    routes = PlaylistRoutes(ctx)
    return [
        Route("/me/playlists", routes.list_playlists, methods=["GET"]),
        Route("/me/playlists", routes.create_playlist, methods=["POST"]),
        Route("/playlists/{playlist_id}", routes.get_playlist, methods=["GET"]),
        Route("/playlists/{playlist_id}/items", routes.get_items, methods=["GET"]),
        Route("/playlists/{playlist_id}/items", routes.add_items, methods=["POST"]),
        Route("/playlists/{playlist_id}/items", routes.update_items, methods=["PUT"]),
        Route("/playlists/{playlist_id}/items", routes.remove_items, methods=["DELETE"]),
    ]


class PlaylistRoutes:
    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.state = ctx.state

    async def list_playlists(self, request: Request) -> Response:
        token = self.ctx.authenticate(request)
        offset, limit = page_window(request, max_offset=100_000)
        scopes = set(token.grant.scopes)
        visible = [
            self.state.playlists[playlist_id]
            for playlist_id in self.state.playlist_order
            if _listable(self.state.playlists[playlist_id], scopes)
        ]
        render = self.ctx.renderer(request)
        items = [render.playlist_simplified(p) for p in visible[offset : offset + limit]]
        url = f"{render.base}/me/playlists"
        return json_response(paging(url, items, offset=offset, limit=limit, total=len(visible)))

    async def create_playlist(self, request: Request) -> Response:
        token = self.ctx.authenticate(request)
        body = await self.ctx.json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise SpotifyError(400, "Missing required field: name")
        public = _flag(body, "public", default=True)
        collaborative = _flag(body, "collaborative", default=False)
        description = body.get("description") or ""
        if not isinstance(description, str):
            raise SpotifyError(400, "Invalid description")
        if collaborative and public:
            raise SpotifyError(400, "Collaborative playlists can only be private.")
        self.ctx.require_scope(
            token, "playlist-modify-public" if public else "playlist-modify-private"
        )
        playlist = self.state.create_playlist(
            name, public=public, collaborative=collaborative, description=description
        )
        render = self.ctx.renderer(request)
        return json_response(self._full(render, playlist, None), 201)

    async def get_playlist(self, request: Request) -> Response:
        self.ctx.authenticate(request)
        playlist = self.ctx.playlist(request.path_params["playlist_id"])
        render = self.ctx.renderer(request)
        body = self._full(render, playlist, request.query_params.get("additional_types"))
        return json_response(_filtered(body, request))

    async def get_items(self, request: Request) -> Response:
        token = self.ctx.authenticate(request)
        playlist = self._readable(request, token)
        offset, limit = page_window(request)
        render = self.ctx.renderer(request)
        types = request.query_params.get("additional_types")
        page = self._page(render, playlist, offset, limit, types)
        return json_response(_filtered(page, request))

    async def add_items(self, request: Request) -> Response:
        token = self.ctx.authenticate(request)
        playlist = self._writable(request, token)
        body = await self.ctx.json_body(request)
        uris = _uris(request, body)
        if uris is None:
            raise SpotifyError(400, "No uris provided")
        position = _position(request, body, len(playlist.entries))
        snapshot = self._write(lambda: self.state.add_items(playlist, uris, position))
        return json_response({"snapshot_id": snapshot}, 201)

    async def update_items(self, request: Request) -> Response:
        token = self.ctx.authenticate(request)
        playlist = self._writable(request, token)
        body = await self.ctx.json_body(request)
        uris = _uris(request, body)
        reorder = {"range_start", "insert_before", "range_length"} & body.keys()
        if uris is not None and reorder:
            raise SpotifyError(400, "Replace and reorder are mutually exclusive")
        if uris is not None:
            snapshot = self._write(lambda: self.state.replace_items(playlist, uris))
            return json_response({"snapshot_id": snapshot})
        if "range_start" not in body or "insert_before" not in body:
            raise SpotifyError(400, "Missing uris, or range_start and insert_before")
        _check_snapshot(playlist, body)
        start, before = _int(body, "range_start"), _int(body, "insert_before")
        length = _int(body, "range_length") if body.get("range_length") is not None else 1
        size = len(playlist.entries)
        if start < 0 or length < 1 or start + length > size or not 0 <= before <= size:
            raise SpotifyError(400, "Index out of bounds")
        snapshot = self.state.reorder_items(playlist, start, before, length)
        return json_response({"snapshot_id": snapshot})

    async def remove_items(self, request: Request) -> Response:
        token = self.ctx.authenticate(request)
        playlist = self._writable(request, token)
        body = await self.ctx.json_body(request)
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise SpotifyError(400, "Missing items")
        if len(items) > MAX_URIS:
            raise SpotifyError(400, f"You can remove a maximum of {MAX_URIS} items per request.")
        uris = []
        for item in items:
            uri = item.get("uri") if isinstance(item, dict) else None
            if not isinstance(uri, str) or not uri.startswith(
                ("spotify:track:", "spotify:episode:", "spotify:local:")
            ):
                raise SpotifyError(400, f"Invalid track uri: {uri}")
            uris.append(uri)
        _check_snapshot(playlist, body)
        return json_response({"snapshot_id": self.state.remove_items(playlist, uris)})

    # -- helpers -----------------------------------------------------------------------------

    def _readable(self, request: Request, token: AccessToken) -> PlaylistState:
        playlist = self.ctx.playlist(request.path_params["playlist_id"])
        if not playlist.editable_by(self.state.user.id):
            raise SpotifyError(403, "Forbidden")
        if playlist.collaborative:
            self.ctx.require_scope(token, "playlist-read-collaborative", "playlist-read-private")
        elif not playlist.public:
            self.ctx.require_scope(token, "playlist-read-private")
        return playlist

    def _writable(self, request: Request, token: AccessToken) -> PlaylistState:
        playlist = self.ctx.playlist(request.path_params["playlist_id"])
        if not playlist.editable_by(self.state.user.id):
            raise SpotifyError(403, "Forbidden")
        scope = "playlist-modify-public" if playlist.public else "playlist-modify-private"
        self.ctx.require_scope(token, scope)
        return playlist

    @staticmethod
    def _write(action: Callable[[], str]) -> str:
        try:
            return action()
        except InvalidUri as error:
            raise SpotifyError(400, error.message) from None

    @staticmethod
    def _page(
        render: SpotifyRenderer,
        playlist: PlaylistState,
        offset: int,
        limit: int,
        types: str | None,
        endpoint: str = "items",
    ) -> JSON:
        """A page of entries; `types` is the request's `additional_types`, echoed in links."""
        episodes = "episode" in {t.strip() for t in (types or "").split(",")}
        entries = [
            render.entry(entry, episodes=episodes)
            for entry in playlist.entries[offset : offset + limit]
        ]
        url = f"{render.base}/playlists/{playlist.id}/{endpoint}"
        extra = {"additional_types": types} if types else None
        total = len(playlist.entries)
        return paging(url, entries, offset=offset, limit=limit, total=total, extra=extra)

    def _full(self, render: SpotifyRenderer, playlist: PlaylistState, types: str | None) -> JSON:
        """The full playlist object; the first page of entries only for its editors."""
        body = {**render.playlist(playlist), "followers": {"href": None, "total": 0}}
        if playlist.editable_by(self.state.user.id):
            page = self._page(render, playlist, 0, EMBEDDED_PAGE, types)
            legacy = self._page(render, playlist, 0, EMBEDDED_PAGE, types, "tracks")
            body["items"] = page
            body["tracks"] = {**legacy, "items": page["items"]}
        return body


def _listable(playlist: PlaylistState, scopes: set[str]) -> bool:
    if playlist.public:
        return True
    if playlist.collaborative and "playlist-read-collaborative" in scopes:
        return True
    return "playlist-read-private" in scopes


def _filtered(body: JSON, request: Request) -> Any:
    text = request.query_params.get("fields")
    if not text:
        return body
    try:
        return select(body, parse(text))
    except FieldsError:
        raise SpotifyError(400, "Invalid fields parameter") from None


def _uris(request: Request, body: dict[str, Any]) -> list[str] | None:
    """URIs from the `uris` query parameter (wins, comma-separated) or the body; ≤ 100."""
    if "uris" in request.query_params:
        raw = request.query_params["uris"]
        uris: Any = [u.strip() for u in raw.split(",") if u.strip()]
    elif "uris" in body:
        uris = body["uris"]
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise SpotifyError(400, "Invalid uris")
    else:
        return None
    if len(uris) > MAX_URIS:
        raise SpotifyError(400, f"You can add a maximum of {MAX_URIS} items per request.")
    return list(uris)


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpotifyError(400, f"Invalid {name}")
    return value


def _flag(body: dict[str, Any], name: str, *, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise SpotifyError(400, f"Invalid {name}")
    return value


def _position(request: Request, body: dict[str, Any], size: int) -> int | None:
    """Where to insert: the `position` query parameter or body field; `None` appends."""
    if "position" in request.query_params:
        position = query_int(request, "position", 0, 0)
    elif body.get("position") is not None:
        position = _int(body, "position")
    else:
        return None
    if not 0 <= position <= size:
        raise SpotifyError(400, "Index out of bounds")
    return position


def _check_snapshot(playlist: PlaylistState, body: dict[str, Any]) -> None:
    """A `snapshot_id`, when given, must be one this playlist has had."""
    snapshot = body.get("snapshot_id")
    if snapshot is not None and snapshot not in playlist.snapshots:
        raise SpotifyError(400, "Invalid snapshot id")
