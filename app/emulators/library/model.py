"""The data model of an emulated Spotify account: what the seeded generator produces.

A `GeneratedLibrary` is plain data (frozen dataclasses, no I/O). The Spotify emulator serves it
through the Web API; the provider emulators (MusicBrainz, Deezer, ReccoBeats, Last.fm, LLM)
serve each track's `TrackTruth` — the genres, tags, tempo, mood… that Spotify itself no longer
gives — so tests can check that enrichment recovers exactly what the generator put in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

DatePrecision = Literal["year", "month", "day"]
EntryKind = Literal["track", "local", "episode", "unavailable"]


@dataclass(frozen=True)
class User:
    id: str
    display_name: str


@dataclass(frozen=True)
class Artist:
    id: str  # 22-char base62, like Spotify's
    name: str
    genres: tuple[str, ...]  # the artist's "true" genres (Spotify no longer serves them)
    mbid: str  # MusicBrainz artist id (uuid4 text)


@dataclass(frozen=True)
class Album:
    id: str
    name: str
    artist_ids: tuple[str, ...]
    release_date: str  # "1999", "1999-05" or "1999-05-17"
    release_date_precision: DatePrecision
    album_type: Literal["album", "single", "compilation"]
    total_tracks: int
    label: str  # for the provider emulators only (Spotify removed album.label)
    genres: tuple[str, ...]
    mbid: str  # MusicBrainz release-group id
    deezer_id: int


@dataclass(frozen=True)
class TrackTruth:
    """What the providers know about a track; `None` where a provider has nothing."""

    genres: tuple[str, ...]
    tags: tuple[str, ...]
    mood: str  # e.g. "happy", "sad", "calm", "energetic", "dark", "romantic"
    language: str  # ISO 639-1, or "zxx" for instrumental
    tempo: float | None  # BPM; Deezer reports 0 when unknown
    energy: float | None  # 0..1, ReccoBeats-style audio features from here on
    danceability: float | None
    valence: float | None
    acousticness: float | None
    instrumentalness: float | None
    speechiness: float | None
    liveness: float | None
    loudness: float | None  # dB, about -30..0
    key: int | None  # 0..11, -1 unknown
    mode: int | None  # 1 major, 0 minor
    gain: float | None  # Deezer "gain" (dB)
    rank: int | None  # Deezer popularity rank
    recording_mbid: str | None  # None: MusicBrainz does not know the recording
    first_release_year: int | None
    in_reccobeats: bool  # ReccoBeats coverage is partial
    in_deezer: bool
    in_lastfm: bool


@dataclass(frozen=True)
class GeneratedTrack:
    id: str
    name: str
    artist_ids: tuple[str, ...]
    album_id: str
    duration_ms: int
    explicit: bool
    isrc: str | None  # some tracks have none
    track_number: int
    disc_number: int
    truth: TrackTruth


@dataclass(frozen=True)
class Episode:
    id: str
    name: str
    show_name: str
    duration_ms: int
    release_date: str


@dataclass(frozen=True)
class LocalFile:
    """A `spotify:local:` entry: no id, only text metadata."""

    name: str
    artist: str
    album: str
    duration_ms: int

    @property
    def uri(self) -> str:
        def part(text: str) -> str:
            return text.replace(" ", "+")

        seconds = self.duration_ms // 1000
        return f"spotify:local:{part(self.artist)}:{part(self.album)}:{part(self.name)}:{seconds}"


@dataclass(frozen=True)
class AccountEntry:
    """One position in a playlist. Exactly one of track_id / local / episode_id is set, or none
    of them for an unavailable item (served as `"item": null`)."""

    kind: EntryKind
    added_at: datetime
    added_by: str  # user id
    track_id: str | None = None
    local: LocalFile | None = None
    episode_id: str | None = None


@dataclass(frozen=True)
class Playlist:
    id: str
    name: str
    description: str
    owner_id: str
    collaborative: bool
    public: bool
    entries: tuple[AccountEntry, ...]

    def readable_by(self, user_id: str) -> bool:
        """Development-mode rule: items are readable only if owned or collaborative."""
        return self.owner_id == user_id or self.collaborative


@dataclass(frozen=True)
class LikedSong:
    track_id: str
    added_at: datetime


@dataclass(frozen=True)
class GeneratedLibrary:
    """Everything the emulated account holds. `liked` is newest first, like Spotify serves it."""

    seed: int
    user: User
    other_users: tuple[User, ...]
    artists: dict[str, Artist]
    albums: dict[str, Album]
    tracks: dict[str, GeneratedTrack]
    episodes: dict[str, Episode]
    liked: tuple[LikedSong, ...]
    playlists: tuple[Playlist, ...]  # in the order /me/playlists lists them
    generated_at: datetime = field(compare=False)

    def users(self) -> dict[str, User]:
        return {user.id: user for user in (self.user, *self.other_users)}
