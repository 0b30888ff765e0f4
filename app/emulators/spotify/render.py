"""Spotify JSON objects for the library's data, as a development-mode app receives them.

Catalogue objects (tracks, albums, artists, episodes) never change, so each is built once per
API base URL and cached: a page of 50 liked songs is 50 dictionary look-ups. Cached objects
are shared between responses and must never be mutated (the `fields` filter copies).

Development mode leaves out: track `popularity`, `available_markets`, `linked_from`; album
`label`, `popularity`; artist `popularity`, `followers`, `genres`; user `country`, `email`,
`product`, `followers`, `explicit_content`. `external_ids.isrc` is present when the track has
one. Album objects keep `available_markets` (as an empty list) because the spec requires it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from app.emulators.library.model import AccountEntry, Episode, GeneratedLibrary, LocalFile
from app.emulators.spotify.responses import timestamp
from app.emulators.spotify.state import PlaylistState, spotify_id

JSON = dict[str, Any]
OPEN = "https://open.spotify.com"


def _images(kind: str, key: str, sizes: tuple[int, ...]) -> list[JSON]:
    digest = hashlib.sha1(f"{kind}:{key}".encode(), usedforsecurity=False).hexdigest()[:24]
    return [
        {
            "url": f"https://i.scdn.co/image/ab67{kind}0000{size:04x}{digest}",
            "height": size,
            "width": size,
        }
        for size in sizes
    ]


def _precision(release_date: str) -> str:
    return {4: "year", 7: "month"}.get(len(release_date), "day")


class SpotifyRenderer:
    """Builds (and caches) Spotify objects whose `href`s point at `api_base`."""

    def __init__(self, library: GeneratedLibrary, api_base: str) -> None:
        self.library = library
        self.base = api_base
        self._users = library.users()
        self._tracks: dict[str, JSON] = {}
        self._track_json: dict[str, orjson.Fragment] = {}
        self._albums: dict[str, JSON] = {}
        self._artists: dict[str, JSON] = {}
        self._episodes: dict[tuple[str, bool], JSON] = {}
        self._shows: dict[str, JSON] = {}

    # -- users -------------------------------------------------------------------------------

    def user(self, user_id: str) -> JSON:
        """A playlist user object (`added_by`); owners add `display_name`."""
        return {
            "external_urls": {"spotify": f"{OPEN}/user/{user_id}"},
            "href": f"{self.base}/users/{user_id}",
            "id": user_id,
            "type": "user",
            "uri": f"spotify:user:{user_id}",
        }

    def owner(self, user_id: str) -> JSON:
        user = self._users.get(user_id)
        return {**self.user(user_id), "display_name": user.display_name if user else None}

    def me(self) -> JSON:
        user = self.library.user
        return {
            **self.owner(user.id),
            "account_id": spotify_id(f"account:{user.id}", 10),
            "images": [],
        }

    # -- catalogue ---------------------------------------------------------------------------

    def artist(self, artist_id: str, *, full: bool = False) -> JSON:
        cached = self._artists.get(artist_id)
        if cached is None:
            artist = self.library.artists[artist_id]
            cached = self._artists[artist_id] = {
                "external_urls": {"spotify": f"{OPEN}/artist/{artist_id}"},
                "href": f"{self.base}/artists/{artist_id}",
                "id": artist_id,
                "name": artist.name,
                "type": "artist",
                "uri": f"spotify:artist:{artist_id}",
            }
        if full:  # the full object adds only images in development mode
            return {**cached, "images": _images("5174", artist_id, (640, 320, 160))}
        return cached

    def album(self, album_id: str) -> JSON:
        cached = self._albums.get(album_id)
        if cached is None:
            album = self.library.albums[album_id]
            cached = self._albums[album_id] = {
                "album_type": album.album_type,
                "artists": [self.artist(a) for a in album.artist_ids],
                "available_markets": [],
                "external_urls": {"spotify": f"{OPEN}/album/{album_id}"},
                "href": f"{self.base}/albums/{album_id}",
                "id": album_id,
                "images": _images("616d", album_id, (640, 300, 64)),
                "is_playable": True,
                "name": album.name,
                "release_date": album.release_date,
                "release_date_precision": album.release_date_precision,
                "total_tracks": album.total_tracks,
                "type": "album",
                "uri": f"spotify:album:{album_id}",
            }
        return cached

    def track(self, track_id: str) -> JSON:
        cached = self._tracks.get(track_id)
        if cached is None:
            track = self.library.tracks[track_id]
            cached = self._tracks[track_id] = {
                "album": self.album(track.album_id),
                "artists": [self.artist(a) for a in track.artist_ids],
                "disc_number": track.disc_number,
                "duration_ms": track.duration_ms,
                "explicit": track.explicit,
                "external_ids": {"isrc": track.isrc} if track.isrc else {},
                "external_urls": {"spotify": f"{OPEN}/track/{track_id}"},
                "href": f"{self.base}/tracks/{track_id}",
                "id": track_id,
                "is_local": False,
                "is_playable": True,
                "name": track.name,
                "preview_url": None,
                "track_number": track.track_number,
                "type": "track",
                "uri": f"spotify:track:{track_id}",
            }
        return cached

    def track_json(self, track_id: str) -> orjson.Fragment:
        """`track` already serialised, to embed in a response as is (a page of 50 liked
        songs then costs 50 look-ups instead of serialising 50 objects again)."""
        cached = self._track_json.get(track_id)
        if cached is None:
            cached = self._track_json[track_id] = orjson.Fragment(
                orjson.dumps(self.track(track_id))
            )
        return cached

    @staticmethod
    def local_track(local: LocalFile) -> JSON:
        """A local file as Spotify serves it: text metadata, no ids, `spotify:local:` URI."""
        return {
            "album": {
                "album_type": None,
                "artists": [],
                "available_markets": [],
                "external_urls": {},
                "href": None,
                "id": None,
                "images": [],
                "name": local.album,
                "release_date": None,
                "release_date_precision": None,
                "total_tracks": 0,
                "type": "album",
                "uri": None,
            },
            "artists": [
                {
                    "external_urls": {},
                    "href": None,
                    "id": None,
                    "name": local.artist,
                    "type": "artist",
                    "uri": None,
                }
            ],
            "disc_number": 0,
            "duration_ms": local.duration_ms,
            "explicit": False,
            "external_ids": {},
            "external_urls": {},
            "href": None,
            "id": None,
            "is_local": True,
            "name": local.name,
            "preview_url": None,
            "track_number": 0,
            "type": "track",
            "uri": local.uri,
        }

    def show(self, show_name: str) -> JSON:
        cached = self._shows.get(show_name)
        if cached is None:
            show_id = spotify_id(f"show:{show_name}")
            episodes = sum(1 for e in self.library.episodes.values() if e.show_name == show_name)
            cached = self._shows[show_name] = {
                "available_markets": [],
                "copyrights": [],
                "description": f"{show_name}, an emulated podcast.",
                "explicit": False,
                "external_urls": {"spotify": f"{OPEN}/show/{show_id}"},
                "href": f"{self.base}/shows/{show_id}",
                "html_description": f"<p>{show_name}, an emulated podcast.</p>",
                "id": show_id,
                "images": _images("5b3c", show_id, (640, 300, 64)),
                "is_externally_hosted": False,
                "languages": ["en"],
                "media_type": "audio",
                "name": show_name,
                "publisher": show_name,
                "total_episodes": episodes,
                "type": "show",
                "uri": f"spotify:show:{show_id}",
            }
        return cached

    def episode(self, episode_id: str, *, as_episode: bool) -> JSON:
        """An episode object, or (`as_episode=False`) the legacy track-like shape Spotify
        serves to clients that did not ask for `additional_types=episode`."""
        key = (episode_id, as_episode)
        cached = self._episodes.get(key)
        if cached is None:
            episode = self.library.episodes[episode_id]
            build = self._episode if as_episode else self._episode_as_track
            cached = self._episodes[key] = build(episode)
        return cached

    def _episode(self, episode: Episode) -> JSON:
        return {
            "audio_preview_url": None,
            "description": f"Episode {episode.name} of {episode.show_name}.",
            "duration_ms": episode.duration_ms,
            "explicit": False,
            "external_urls": {"spotify": f"{OPEN}/episode/{episode.id}"},
            "href": f"{self.base}/episodes/{episode.id}",
            "html_description": f"<p>Episode {episode.name} of {episode.show_name}.</p>",
            "id": episode.id,
            "images": self.show(episode.show_name)["images"],
            "is_externally_hosted": False,
            "is_playable": True,
            "languages": ["en"],
            "name": episode.name,
            "release_date": episode.release_date,
            "release_date_precision": _precision(episode.release_date),
            "show": self.show(episode.show_name),
            "type": "episode",
            "uri": f"spotify:episode:{episode.id}",
        }

    def _episode_as_track(self, episode: Episode) -> JSON:
        show = self.show(episode.show_name)
        return {
            "album": {
                "album_type": "show",
                "artists": [],
                "external_urls": show["external_urls"],
                "href": show["href"],
                "id": show["id"],
                "images": show["images"],
                "name": show["name"],
                "type": "show",
                "uri": show["uri"],
            },
            "artists": [
                {
                    "external_urls": show["external_urls"],
                    "href": show["href"],
                    "id": show["id"],
                    "name": show["publisher"],
                    "type": "show",
                    "uri": show["uri"],
                }
            ],
            "disc_number": 0,
            "duration_ms": episode.duration_ms,
            "episode": True,
            "explicit": False,
            "external_ids": {},
            "external_urls": {"spotify": f"{OPEN}/episode/{episode.id}"},
            "href": f"{self.base}/episodes/{episode.id}",
            "id": episode.id,
            "is_local": False,
            "name": episode.name,
            "preview_url": None,
            "track": False,
            "track_number": 0,
            "type": "episode",
            "uri": f"spotify:episode:{episode.id}",
        }

    # -- playlists ---------------------------------------------------------------------------

    def entry(self, entry: AccountEntry, *, episodes: bool) -> JSON:
        """A playlist entry with the new `item` key and its deprecated twin `track`."""
        item: JSON | None = None
        if entry.track_id is not None:
            item = self.track(entry.track_id)
        elif entry.episode_id is not None:
            item = self.episode(entry.episode_id, as_episode=episodes)
        elif entry.local is not None:
            item = self.local_track(entry.local)
        return {
            "added_at": timestamp(entry.added_at),
            "added_by": self.user(entry.added_by),
            "is_local": entry.local is not None,
            "item": item,
            "track": item,
        }

    def playlist(self, playlist: PlaylistState) -> JSON:
        """The fields shared by the simplified and the full playlist objects."""
        return {
            "collaborative": playlist.collaborative,
            "description": playlist.description,
            "external_urls": {"spotify": f"{OPEN}/playlist/{playlist.id}"},
            "href": f"{self.base}/playlists/{playlist.id}",
            "id": playlist.id,
            "images": [],
            "name": playlist.name,
            "owner": self.owner(playlist.owner_id),
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
        }

    def playlist_simplified(self, playlist: PlaylistState) -> JSON:
        """As listed by /me/playlists: `items` and the older `tracks` are `{href, total}`."""
        total = len(playlist.entries)
        url = f"{self.base}/playlists/{playlist.id}"
        return {
            **self.playlist(playlist),
            "items": {"href": f"{url}/items", "total": total},
            "tracks": {"href": f"{url}/tracks", "total": total},
        }
