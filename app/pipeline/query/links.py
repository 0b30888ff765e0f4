"""The Spotify ids behind a track's album and artists: what the library table links to.

    links = Links.read(stores.tracks, library.index)    # one pass over tracks.json
    links.album(position), links.artists(position)       # "4aawyAB9…", ("0OdUWJ0s…", …)

The loaded library's views keep the album's and artists' names, not their ids; the ids are in
the stored tracks. Reading them for one page would mean reading the whole file, so, like the
times of the provider entries (stamps.py), they are read once per loaded library (only when a
query shows the album or the artists) into one list per kind, by library position.
"""

from __future__ import annotations

from collections.abc import Mapping
from sys import intern

from app.core.fs import paused_gc
from app.data.tracks import TrackStore


class Links:
    """Per library position, the album id and the artist ids of the track."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._albums: list[str | None] = [None] * size
        self._artists: list[tuple[str, ...]] = [()] * size

    @classmethod
    def read(cls, store: TrackStore, index: Mapping[str, int]) -> Links:
        """The ids of the stored tracks of `index` (id → position)."""
        links = cls(len(index))
        with paused_gc():
            for track_id, raw in store.iter_raw():
                position = index.get(track_id)
                if position is None or not isinstance(raw, dict):
                    continue
                album = raw.get("album")
                if isinstance(album, dict) and isinstance(album.get("id"), str) and album["id"]:
                    links._albums[position] = intern(album["id"])
                artists = raw.get("artists")
                if isinstance(artists, list):
                    links._artists[position] = tuple(
                        intern(artist["id"])
                        for artist in artists
                        if isinstance(artist, dict) and isinstance(artist.get("id"), str)
                    )
        return links

    def album(self, position: int) -> str | None:
        return self._albums[position] if 0 <= position < self.size else None

    def artists(self, position: int) -> tuple[str, ...]:
        return self._artists[position] if 0 <= position < self.size else ()
