"""MusicBrainz's JSON shapes: recordings (lookup and search hit), releases, release groups and
artists, with artist credits and `genres`/`tags` counted so that sorting by count gives the
library truth's order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from app.emulators.library.model import Album, Artist
from app.emulators.musicbrainz.data import (
    MusicBrainzData,
    Recording,
    genre_id,
    release_id,
    sort_name,
)

# Real MusicBrainz type ids, so clients that read them see familiar values.
_TYPE_IDS = {
    "Album": "f529b476-6e62-324f-b0aa-1f3e33d313fc",
    "Single": "d6038452-8ee0-3f68-affc-2de9a1ede0b9",
    "Compilation": "dd2a21e1-0c00-3729-a7a0-de60b84eb5d1",
}
_OFFICIAL = "4e304316-386d-3409-af2e-78857eec5cfe"


def counted(names: Sequence[str]) -> list[dict[str, Any]]:
    """MusicBrainz `tags`: `{name, count}`, counts strictly decreasing in the given order."""
    return [{"name": name, "count": len(names) - i} for i, name in enumerate(names)]


def counted_genres(names: Sequence[str]) -> list[dict[str, Any]]:
    """MusicBrainz `genres`: `{id, name, disambiguation, count}`."""
    return [
        {"id": genre_id(name), "name": name, "disambiguation": "", "count": len(names) - i}
        for i, name in enumerate(names)
    ]


def artist_credit(artists: Iterable[Artist], *, search: bool = False) -> list[dict[str, Any]]:
    listed = list(artists)
    credit = []
    for i, artist in enumerate(listed):
        entry: dict[str, Any] = {
            "name": artist.name,
            "artist": {
                "id": artist.mbid,
                "name": artist.name,
                "sort-name": sort_name(artist.name),
            },
        }
        if not search:
            entry["artist"]["disambiguation"] = ""
        joinphrase = " & " if i < len(listed) - 1 else ""
        if joinphrase or not search:
            entry["joinphrase"] = joinphrase
        credit.append(entry)
    return credit


def release_group_stub(album: Album) -> dict[str, Any]:
    primary = "Single" if album.album_type == "single" else "Album"
    secondary = ["Compilation"] if album.album_type == "compilation" else []
    return {
        "id": album.mbid,
        "type-id": _TYPE_IDS[primary],
        "primary-type-id": _TYPE_IDS[primary],
        "title": album.name,
        "primary-type": primary,
        "secondary-types": secondary,
        "secondary-type-ids": [_TYPE_IDS[s] for s in secondary],
    }


class MusicBrainzRenderer:
    """JSON bodies in MusicBrainz's shapes."""

    def __init__(self, data: MusicBrainzData) -> None:
        self.data = data
        self.library = data.library

    def release(self, album: Album, *, search: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": release_id(album),
            "title": album.name,
            "status": "Official",
            "status-id": _OFFICIAL,
            "date": album.release_date,
            "release-group": release_group_stub(album),
        }
        if search:
            body["artist-credit"] = artist_credit(
                (self.library.artists[a] for a in album.artist_ids), search=True
            )
            body["track-count"] = album.total_tracks
        else:
            body["disambiguation"] = ""
        return body

    def recording(self, recording: Recording, inc: frozenset[str] = frozenset()) -> dict[str, Any]:
        """A recording lookup (or an entry of an ISRC lookup) with what `inc` asks for."""
        track = recording.track
        body: dict[str, Any] = {
            "id": recording.mbid,
            "title": track.name,
            "length": track.duration_ms,
            "disambiguation": "",
            "video": False,
            "first-release-date": recording.first_release_date,
        }
        if "isrcs" in inc:
            body["isrcs"] = list(recording.isrcs)
        if inc & {"artist-credits", "artists"}:
            body["artist-credit"] = artist_credit(self.data.artists_of(recording))
        if "releases" in inc:
            body["releases"] = [self.release(self.library.albums[a]) for a in recording.album_ids]
        if "genres" in inc:
            body["genres"] = counted_genres(self.data.recording_genres(recording))
        if "tags" in inc:
            body["tags"] = counted(self.data.recording_tags(recording))
        return body

    def search_hit(self, recording: Recording, score: int) -> dict[str, Any]:
        """One entry of a recording search: the search server's shape (no disambiguation)."""
        return {
            "id": recording.mbid,
            "score": score,
            "title": recording.track.name,
            "length": recording.track.duration_ms,
            "video": None,
            "artist-credit": artist_credit(self.data.artists_of(recording), search=True),
            "first-release-date": recording.first_release_date,
            "releases": [
                self.release(self.library.albums[a], search=True) for a in recording.album_ids
            ],
            "isrcs": list(recording.isrcs),
        }

    def release_group(self, album: Album, inc: frozenset[str]) -> dict[str, Any]:
        body = release_group_stub(album)
        body["disambiguation"] = ""
        body["first-release-date"] = album.release_date
        if inc & {"artist-credits", "artists"}:
            body["artist-credit"] = artist_credit(self.library.artists[a] for a in album.artist_ids)
        if "releases" in inc:
            body["releases"] = [self.release(album)]
        if "genres" in inc:
            body["genres"] = counted_genres(album.genres)
        if "tags" in inc:
            body["tags"] = counted(album.genres)
        return body

    def artist(self, artist: Artist, inc: frozenset[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": artist.mbid,
            "name": artist.name,
            "sort-name": sort_name(artist.name),
            "disambiguation": "",
            "type": None,
            "type-id": None,
            "country": None,
        }
        if "genres" in inc:
            body["genres"] = counted_genres(artist.genres)
        if "tags" in inc:
            body["tags"] = counted(artist.genres)
        return body
