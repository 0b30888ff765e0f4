"""Planning track-source fetches: every requested source is validated before any job starts.

`plan_fetch(services, requests)` checks each source up front (unknown type → 422, unknown or
unreadable playlist → 404/403, a CSV path this process may not read → 403: see `csv_files`)
and returns one `PlannedSource` per source (its `metadata()` is the fetch job's input);
`plan_library` plans liked songs and every playlist the user can read from a single playlist
listing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.errors import ForbiddenError, NotFoundError, UnprocessableError
from app.pipeline.services import Services
from app.pipeline.sources.csv_files import csv_source_path
from app.spotify.ids import is_spotify_id
from app.spotify.library import PlaylistInfo

log = logging.getLogger(__name__)


class SourceRequest(BaseModel):
    """One source to fetch, as the API and CLI accept it."""

    model_config = ConfigDict(extra="forbid")

    source_type: Literal["liked", "playlist", "csv"]
    source_id: str | None = Field(
        default=None,
        description=(
            "Playlist id, or the CSV file's path: over HTTP, an upload's stored path "
            "(POST /pipeline/tracks/import-csv) or a file in SAP_CSV_IMPORT_DIR (absolute, or "
            "relative to it); from the CLI, any file."
        ),
    )
    label: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _needs_id(self) -> SourceRequest:
        if self.source_type != "liked" and not (self.source_id or "").strip():
            raise ValueError(f"source_id is required for a {self.source_type} source")
        if self.source_type == "playlist" and not is_spotify_id(self.source_id or ""):
            # It goes into Spotify's URLs: nothing but an id's shape may (app.spotify.ids).
            raise ValueError("source_id of a playlist must be a Spotify id (22 letters and digits)")
        return self

    @property
    def key(self) -> str:
        return "liked" if self.source_type == "liked" else f"{self.source_type}:{self.source_id}"


class PlaylistHint(BaseModel):
    """What the playlist listing said about a playlist when its fetch was planned, and who
    asked: an unchanged snapshot then costs the fetch job no request at all."""

    id: str
    name: str
    owner_id: str
    owner_name: str | None
    collaborative: bool
    snapshot_id: str
    total: int
    user_id: str

    @classmethod
    def of(cls, info: PlaylistInfo, user_id: str) -> PlaylistHint:
        return cls(**asdict(info), user_id=user_id)

    def info(self) -> PlaylistInfo:
        return PlaylistInfo(**self.model_dump(exclude={"user_id"}))


class PlannedSource(BaseModel):
    """One checked source to fetch: a fetch job's metadata (`metadata()`), read back by the
    job leniently (other keys, such as `rerun_of`, are ignored)."""

    source_type: Literal["liked", "playlist", "csv"]
    source_id: str | None = Field(
        default=None, description="Playlist id, or the CSV file's absolute path."
    )
    label: str | None = None
    playlist: PlaylistHint | None = Field(
        default=None, description="For a playlist: what the listing said (see PlaylistHint)."
    )

    def request(self) -> SourceRequest:
        return SourceRequest(
            source_type=self.source_type, source_id=self.source_id, label=self.label
        )

    def metadata(self) -> dict[str, Any]:
        """The job's metadata: the keys that are set, as JSON (the hint whole, nulls too)."""
        return {
            key: value for key, value in self.model_dump(mode="json").items() if value is not None
        }


async def current_user_id(services: Services) -> str:
    """The logged-in user's id (remembered in the token after the first lookup)."""
    token = services.spotify.tokens.load()
    if token is not None and token.user_id:
        return token.user_id
    async with services.spotify.client() as client:
        me = await client.get_me()
    services.spotify.tokens.record_user(me.id, me.display_name)
    return me.id


async def list_playlists(services: Services) -> tuple[str, list[PlaylistInfo]]:
    """The user's id and every playlist in their library."""
    async with services.spotify.client() as client:
        user_id = await current_user_id(services)
        listing = await client.list_user_playlists()
    return user_id, [PlaylistInfo.from_listing(playlist) for playlist in listing]


async def plan_fetch(
    services: Services,
    requests: list[SourceRequest],
    *,
    listing: tuple[str, list[PlaylistInfo]] | None = None,
    skip_unreadable: bool = False,
) -> list[PlannedSource]:
    """Validate all requested sources and return one planned fetch per source.

    `listing` is a playlist listing the caller already has (saves its requests). With
    `skip_unreadable` (refreshing the sources fetched before), a playlist no longer in the
    library or no longer readable is left out, and logged, instead of refusing the whole plan.
    """
    if not requests:
        raise UnprocessableError("give at least one source to fetch", code="no_sources")
    playlists: dict[str, PlaylistInfo] = {}
    user_id = ""
    if any(request.source_type == "playlist" for request in requests):
        user_id, infos = listing or await list_playlists(services)
        playlists = {info.id: info for info in infos}
    planned: list[PlannedSource] = []
    seen: set[str] = set()
    for request in requests:
        if request.key in seen:
            continue  # the same source twice: one job is enough
        seen.add(request.key)
        source = PlannedSource(**request.model_dump())
        if request.source_type == "playlist":
            info = playlists.get(request.source_id or "")
            if skip_unreadable and (info is None or not info.readable_by(user_id)):
                log.warning(
                    "not refreshing playlist %s: no longer in your library or readable",
                    request.source_id,
                )
                continue
            if info is None:
                raise NotFoundError(
                    f"playlist {request.source_id!r} is not in your library "
                    "(see GET /spotify/playlists)",
                    code="playlist_not_found",
                )
            reason = info.unreadable_reason(user_id)
            if reason is not None:
                raise ForbiddenError(
                    f"cannot read playlist {info.name!r}: {reason}", code="playlist_unreadable"
                )
            # The listing already says whether it changed: the job may not need a request.
            source.playlist = PlaylistHint.of(info, user_id)
        elif request.source_type == "csv":
            # Over HTTP only uploads and the import folder: 403 before the file is looked at.
            source.source_id = str(csv_source_path(services, request.source_id))
        planned.append(source)
    return planned


async def plan_library(services: Services, *, liked: bool = True) -> list[PlannedSource]:
    """Plan the whole library: liked songs and every playlist the user can read.

    One playlist listing serves both the plan and the unchanged-snapshot checks, so refreshing
    an unchanged library costs 1 + ceil(playlists / 50) requests.
    """
    user_id, infos = await list_playlists(services)
    requests = [SourceRequest(source_type="liked")] if liked else []
    requests += [
        SourceRequest(source_type="playlist", source_id=info.id)
        for info in infos
        if info.readable_by(user_id)
    ]
    return await plan_fetch(services, requests, listing=(user_id, infos))
