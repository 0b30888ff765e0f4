"/spotify: the connected account and its playlists (read live from Spotify)."

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from app.api.deps import ServicesDep
from app.api.schemas import ERROR_RESPONSES, SERVER_ERROR_RESPONSES, SPOTIFY_ERROR_RESPONSES
from app.pipeline.sources.planning import current_user_id, list_playlists
from app.pipeline.sync.model import LiveItem
from app.pipeline.sync.service import read_live
from app.spotify.ids import SPOTIFY_ID_PATTERN

router = APIRouter(
    prefix="/spotify",
    tags=["spotify"],
    responses={**ERROR_RESPONSES, **SERVER_ERROR_RESPONSES, **SPOTIFY_ERROR_RESPONSES},
)


class Me(BaseModel):
    id: str
    display_name: str | None


class PlaylistSummary(BaseModel):
    id: str
    name: str
    owner_id: str
    owner_name: str | None
    track_count: int
    snapshot_id: str
    collaborative: bool
    readable: bool
    reason: str | None = None


class PlaylistItems(BaseModel):
    """A playlist's live entries, in order."""

    id: str
    name: str | None
    snapshot_id: str | None
    items: list[LiveItem] = Field(
        description="Tracks, local files, episodes and unavailable entries (no URI)."
    )


@router.get("/me", summary="The connected Spotify user")
async def me(services: ServicesDep) -> Me:
    async with services.spotify.client() as client:
        user = await client.get_me()
    await current_user_id(services)
    return Me(id=user.id, display_name=user.display_name)


@router.get("/playlists", summary="Playlists in your library, with whether they can be read")
async def playlists(services: ServicesDep) -> list[PlaylistSummary]:
    user_id, listing = await list_playlists(services)
    return [
        PlaylistSummary(
            id=info.id,
            name=info.name,
            owner_id=info.owner_id,
            owner_name=info.owner_name,
            track_count=info.total,
            snapshot_id=info.snapshot_id,
            collaborative=info.collaborative,
            readable=info.readable_by(user_id),
            reason=info.unreadable_reason(user_id),
        )
        for info in listing
    ]


@router.get(
    "/playlists/{playlist_id}/items",
    summary="A playlist's live items in order (tracks, local files, episodes, unavailable)",
)
async def playlist_items(
    playlist_id: Annotated[
        str, Path(pattern=SPOTIFY_ID_PATTERN, description="A Spotify playlist id.")
    ],
    services: ServicesDep,
) -> PlaylistItems:
    async with services.spotify.client() as client:
        snapshot_id, name, entries = await read_live(client, playlist_id)
    items = [LiveItem.from_entry(entry) for entry in entries]
    return PlaylistItems(id=playlist_id, name=name, snapshot_id=snapshot_id, items=items)
