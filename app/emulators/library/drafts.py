"""The catalogue's working records: artists and albums while they are being drawn.

Mutable and index-linked (an album names its artist by index, a track its album through
`Catalogue.track_album`); `account` freezes them into `model`'s `Artist` and `Album`
once every track is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.emulators.library.model import DatePrecision


@dataclass(slots=True)
class ArtistDraft:
    """An artist, with what its next albums and tracks are drawn from."""

    index: int
    id: str
    name: str
    genres: tuple[str, ...]
    family: str
    language: str
    country: str
    vocal: str
    debut: int
    next_year: int
    label: int
    weight: float
    rank: int  # Deezer popularity of the artist's tracks, before per-track jitter
    mbid: str
    open_albums: list[int] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)
    recordings: list[int] = field(default_factory=list)  # tracks a compilation may reuse


@dataclass(slots=True)
class AlbumDraft:
    """An album, with the track positions still free."""

    index: int
    id: str
    name: str
    artist: int
    kind: str  # album, single, compilation, live, remaster
    year: int
    original_year: int  # remasters: the year of the original release
    release_date: str
    precision: DatePrecision
    released_ts: int
    total: int
    genres: tuple[str, ...]
    label: int
    mbid: str
    deezer_id: int
    free: list[int]
    first_title: str | None = None
