"""What the Spotify Web API sends us, parsed leniently.

Unknown fields are ignored and every field Spotify has removed from development-mode apps
(popularity, genres, available_markets, label…) is simply absent from these models, so nothing
breaks when it is missing. Playlist entries carry their content under `item` (2026) or the
deprecated `track`; `PlaylistEntry.content` reads `item` when there is one, else `track`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

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

        Plain constructors: re-checking these already validated values in pydantic-core
        costs less than `model_construct`, which runs in Python.
        """
        if self.id is None:
            raise ValueError(f"{self.uri} has no id (local file?)")
        isrc = self.external_ids.isrc if self.external_ids else None
        album = self.album
        return Track(
            id=self.id,
            uri=self.uri,
            name=self.name,
            artists=[ArtistRef(id=a.id, name=a.name) for a in self.artists],
            album=AlbumRef(
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


class Restrictions(SpotifyModel):
    reason: str | None = None  # "market", "product", "explicit"…


class CatalogTrack(SpotifyModel):
    """What `GET /tracks/{id}?market=…` says about a track: whether the user can play it
    (`is_playable` is only sent when a market is given; absent, it is taken as playable)."""

    id: str | None = None
    uri: str = ""
    name: str = ""
    is_playable: bool | None = None
    restrictions: Restrictions | None = None


class EpisodeObject(SpotifyModel):
    type: Literal["episode"] = "episode"
    id: str | None = None
    uri: str = ""
    name: str = ""


class OtherContent(SpotifyModel):
    """Anything else in a playlist's `item`/`track`: a type we do not read, or a track
    without the fields we need. Read as unavailable (`PlaylistEntry.content` is None)."""

    type: Any = None


Content = Annotated[
    TrackObject | EpisodeObject | OtherContent | None, Field(union_mode="left_to_right")
]
"""A track, an episode, something else, or null (unavailable); the first that fits wins."""


class PlaylistEntry(SpotifyModel):
    added_at: datetime | None = None
    added_by: UserRef | None = None
    is_local: bool = False
    # The 2026 `item`, or, in an entry without one, the deprecated `track`. When both are
    # there (the duplicate of the transition), only `item` is validated: half the work.
    payload: Content = Field(default=None, validation_alias=AliasChoices("item", "track"))

    @property
    def content(self) -> TrackObject | EpisodeObject | None:
        value = self.payload
        return value if isinstance(value, TrackObject | EpisodeObject) else None


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


class _UnusableTrack(SpotifyModel):
    """A liked-songs `track` that is not a playable catalogue track (no id, local)."""

    id: Any = None


class SavedTrack(SpotifyModel):
    """An entry of the liked songs: `track` is None when unavailable (or without an id).

    No "before" validator, so a whole page validates straight from the response bytes.
    """

    added_at: datetime | None = None
    track: Annotated[SpotifyTrack | _UnusableTrack | None, Field(union_mode="left_to_right")] = None

    @model_validator(mode="after")
    def _date_into_track(self) -> SavedTrack:
        track = self.track
        if isinstance(track, SpotifyTrack) and track.id and not track.is_local:
            track.added_at = self.added_at  # a liked song's own date is when it was liked
        else:
            self.track = None
        return self

    @property
    def spotify_track(self) -> SpotifyTrack | None:
        return self.track if isinstance(self.track, SpotifyTrack) else None


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


class PlaylistObject(SimplifiedPlaylist):
    """A whole playlist object (`GET /playlists/{id}`, the answer to `POST /me/playlists`),
    read for what the simplified one holds: its first page of entries (`items.items`) and
    the rest (followers, images) are ignored; entries are read page by page instead."""


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
