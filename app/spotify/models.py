"""What the Spotify Web API sends us, parsed leniently.

Unknown fields are ignored and every field Spotify has removed from development-mode apps
(popularity, genres, available_markets, label…) is simply absent from these models, so nothing
breaks when it is missing. Playlist entries carry their content under `item` (2026) or the
deprecated `track`; `PlaylistEntry.content` reads whichever is there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.core.models import AlbumRef, ArtistRef, Track

T = TypeVar("T")


class SpotifyModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class UserRef(SpotifyModel):
    id: str
    display_name: str | None = None


class SpotifyUser(SpotifyModel):
    id: str
    display_name: str | None = None
    uri: str | None = None


class SimpleArtist(SpotifyModel):
    id: str | None = None
    name: str = ""


class SimpleAlbum(AlbumRef):
    """Spotify's simplified album: our `AlbumRef` reads it as is (blank dates become None)."""


class ExternalIds(SpotifyModel):
    isrc: str | None = None


class TrackObject(SpotifyModel):
    type: Literal["track"] = "track"
    id: str | None = None  # None for local files
    uri: str
    name: str = ""
    artists: list[SimpleArtist] = Field(default_factory=list)
    album: SimpleAlbum = Field(default_factory=SimpleAlbum)
    duration_ms: int = 0
    explicit: bool = False
    external_ids: ExternalIds | None = None
    is_local: bool = False

    def to_track(self, added_at: datetime | None) -> Track:
        """Our core `Track`; only for playable, non-local tracks (with an id).

        Built without re-validation: every value was validated when this object was parsed.
        """
        if self.id is None:
            raise ValueError(f"{self.uri} has no id (local file?)")
        isrc = self.external_ids.isrc if self.external_ids else None
        album = self.album
        return Track.model_construct(
            id=self.id,
            uri=self.uri,
            name=self.name,
            artists=[ArtistRef.model_construct(id=a.id, name=a.name) for a in self.artists],
            album=AlbumRef.model_construct(
                id=album.id,
                name=album.name,
                release_date=album.release_date,
                release_date_precision=album.release_date_precision,
            ),
            duration_ms=max(0, self.duration_ms),
            explicit=self.explicit,
            isrc=isrc.upper() if isrc else None,
            is_local=self.is_local,
            added_at=added_at,
        )


class EpisodeObject(SpotifyModel):
    type: Literal["episode"] = "episode"
    id: str | None = None
    uri: str = ""
    name: str = ""


Content = TrackObject | EpisodeObject


def _parse_content(value: Any) -> Content | None:
    """A track, an episode, or None (unavailable, or a type we do not know)."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type", "track")
    if kind == "track":
        return TrackObject.model_validate(value)
    if kind == "episode":
        return EpisodeObject.model_validate(value)
    return None


class PlaylistEntry(SpotifyModel):
    added_at: datetime | None = None
    added_by: UserRef | None = None
    is_local: bool = False
    item: Content | None = None
    track: Content | None = None

    @model_validator(mode="before")
    @classmethod
    def _contents(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("item", "track"):
                data[key] = _parse_content(data.get(key))
        return data

    @property
    def content(self) -> Content | None:
        return self.item if self.item is not None else self.track


class SpotifyTrack(Track):
    """A Spotify track object validated straight into our `Track`, with no second copy.

    Liked songs are the bulk of every fetch (100,000 for some users), so they skip the
    `TrackObject` → `Track` step that playlist entries take.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    isrc: str | None = Field(
        default=None, validation_alias=AliasChoices("isrc", AliasPath("external_ids", "isrc"))
    )

    @field_validator("isrc", mode="after")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else None


class SavedTrack(SpotifyModel):
    """An entry of the liked songs: `track` is None when unavailable (or without an id)."""

    added_at: datetime | None = None
    track: SpotifyTrack | None = None

    @model_validator(mode="before")
    @classmethod
    def _date_into_track(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        track = data.get("track")
        if isinstance(track, dict) and track.get("id") and not track.get("is_local"):
            return {**data, "track": {**track, "added_at": data.get("added_at")}}
        return {**data, "track": None}


class ItemsRef(SpotifyModel):
    href: str | None = None
    total: int = 0


class SimplifiedPlaylist(SpotifyModel):
    id: str
    name: str = ""
    description: str | None = None
    owner: UserRef
    collaborative: bool = False
    public: bool | None = None
    snapshot_id: str = ""
    items: ItemsRef | None = None
    tracks: ItemsRef | None = None  # the pre-2026 name, still sent during the transition

    @property
    def total(self) -> int:
        ref = self.items or self.tracks
        return ref.total if ref else 0


class Page(SpotifyModel, Generic[T]):
    href: str | None = None
    items: list[T] = Field(default_factory=list)
    limit: int = 0
    next: str | None = None
    offset: int = 0
    previous: str | None = None
    total: int = 0


class TokenResponse(SpotifyModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    scope: str = ""
    expires_in: int = 3600
    refresh_token: str | None = None
