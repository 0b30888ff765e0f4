"""What the MusicBrainz emulator serves, derived from a generated library: one `Recording` per
`TrackTruth.recording_mbid`, the search indexes, and the id/genre helpers the ListenBrainz
emulator shares so that both services agree."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from app.emulators.library.index import fold
from app.emulators.library.model import Album, Artist, GeneratedLibrary, GeneratedTrack
from app.emulators.library.vocabulary import GENRE_FAMILY

_WORD = re.compile(r"\w+")


def _stable_fraction(text: str) -> float:
    """A number in [0, 1) fixed by `text` (not `hash()`, which is salted per process)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def genre_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://musicbrainz.org/genre/{name}"))


def release_id(album: Album) -> str:
    """The MBID of the (single) release of a library album, whose release group is its mbid."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://musicbrainz.org/release/{album.mbid}"))


def sort_name(name: str) -> str:
    return f"{name[4:]}, The" if name.startswith("The ") and len(name) > 4 else name


def is_genre(name: str) -> bool:
    return name in GENRE_FAMILY


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Recording:
    """One MusicBrainz recording: the library tracks that share a `recording_mbid`."""

    mbid: str
    track: GeneratedTrack  # the first, in library order: title, length, artists, truth
    isrcs: tuple[str, ...]
    album_ids: tuple[str, ...]
    has_genres: bool
    first_release_date: str


class MusicBrainzData:
    """Recordings, release groups and artists of a library, with the search indexes."""

    def __init__(self, library: GeneratedLibrary, genre_share: float = 0.6) -> None:
        self.library = library
        self.artists_by_mbid: dict[str, Artist] = {a.mbid: a for a in library.artists.values()}
        self.albums_by_mbid: dict[str, Album] = {a.mbid: a for a in library.albums.values()}
        groups: dict[str, list[GeneratedTrack]] = {}
        for track in library.tracks.values():
            if track.truth.recording_mbid is not None:
                groups.setdefault(track.truth.recording_mbid, []).append(track)
        self.recordings: dict[str, Recording] = {}
        self.by_isrc: dict[str, list[str]] = {}
        self.by_title_word: dict[str, set[str]] = {}
        self.by_artist_word: dict[str, set[str]] = {}
        self.by_artist_mbid: dict[str, list[str]] = {}
        self.by_release_group: dict[str, list[str]] = {}
        for mbid, tracks in groups.items():
            recording = self._recording(mbid, tracks, genre_share)
            self.recordings[mbid] = recording
            for isrc in recording.isrcs:
                self.by_isrc.setdefault(isrc, []).append(mbid)
            for word in words(recording.track.name):
                self.by_title_word.setdefault(word, set()).add(mbid)
            for artist in self.artists_of(recording):
                self.by_artist_mbid.setdefault(artist.mbid, []).append(mbid)
                for word in words(artist.name):
                    self.by_artist_word.setdefault(word, set()).add(mbid)
            for album_id in recording.album_ids:
                self.by_release_group.setdefault(library.albums[album_id].mbid, []).append(mbid)
        self.order = {mbid: i for i, mbid in enumerate(self.recordings)}

    def _recording(self, mbid: str, tracks: list[GeneratedTrack], genre_share: float) -> Recording:
        first = tracks[0]
        albums = tuple(dict.fromkeys(t.album_id for t in tracks))
        year = first.truth.first_release_year
        date = ""
        if year is not None:
            same_year = sorted(
                self.library.albums[a].release_date
                for a in albums
                if self.library.albums[a].release_date[:4] == f"{year:04d}"
            )
            date = same_year[0] if same_year else f"{year:04d}"
        return Recording(
            mbid=mbid,
            track=first,
            isrcs=tuple(sorted({t.isrc for t in tracks if t.isrc is not None})),
            album_ids=albums,
            has_genres=_stable_fraction(mbid) < genre_share,
            first_release_date=date,
        )

    def artists_of(self, recording: Recording) -> list[Artist]:
        return [self.library.artists[a] for a in recording.track.artist_ids]

    def credit_name(self, recording: Recording) -> str:
        return " & ".join(artist.name for artist in self.artists_of(recording))

    def recording_genres(self, recording: Recording) -> tuple[str, ...]:
        return recording.track.truth.genres if recording.has_genres else ()

    def recording_tags(self, recording: Recording) -> tuple[str, ...]:
        """Every tag of the recording, most voted first: its genres (genres are tags on
        MusicBrainz), then the truth's other tags."""
        genres = self.recording_genres(recording)
        return genres + tuple(tag for tag in recording.track.truth.tags if tag not in genres)
