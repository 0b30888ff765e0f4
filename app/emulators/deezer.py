"""`DeezerEmulator`: the slice of the public Deezer API enrichment uses, over a `GeneratedLibrary`.

    deezer = DeezerEmulator(generate_library(seed=1))
    client = httpx.AsyncClient(transport=emulator_transport(deezer.app),
                               base_url="http://emulators.test/deezer")
    await client.get("/track/isrc:GBAAA2600001")

Routes (served under `/deezer`, like `https://api.deezer.com`):

- `GET /track/isrc:{ISRC}` and `GET /track/{id}`: a track object shaped like Deezer's (`id`,
  `readable`, `title`, `title_short`, `title_version`, `isrc`, `link`, `duration` in seconds,
  `track_position`, `disk_number`, `rank`, `release_date`, `explicit_lyrics`, `bpm`, `gain`,
  `available_countries`, `contributors`, `artist`, `album`, `type: "track"`). `bpm` is the
  truth's tempo, **0 when unknown** (as Deezer does); `gain` and `rank` are the truth's.
  An ISRC shared by an album track and its compilation copy answers the first in library order.
- `GET /album/{id}` (`Album.deezer_id`): the album with `genres: {"data": [{id, name, picture,
  type: "genre"}]}` named after the album's genres (verbatim; ids are stable hashes), `label`,
  `nb_tracks`, `record_type`, `tracks.data` (its Deezer-known tracks) …

Deezer answers errors with HTTP 200 and an `error` object; so does the emulator:

- unknown ISRC / id, a track with `in_deezer` False, an album without any Deezer-known track,
  or an unknown path: `{"error": {"type": "DataException", "message": "no data", "code": 800}}`;
- over the quota (`config.rate_limit` requests per `config.rate_window` s of the emulator
  clock, 50 / 5 s by default, counted for all clients together as Deezer counts per IP):
  `{"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}}`.
  Refused requests are not counted.

Random faults (`fail_rate`: bare 5xx, `drop_rate`: dropped connection) and latency come from
`ProviderFaults.gateway`; every request lands in `requests`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.clock import Clock
from app.emulators.common.gate import ProviderConfig, ProviderFaults, SlidingWindow, stable_int
from app.emulators.common.gateway import RequestRecord, mark_fault
from app.emulators.common.transport import ASGIApp, json_response
from app.emulators.library.index import LibraryIndex, base_title
from app.emulators.library.model import Album, Artist, GeneratedLibrary, GeneratedTrack

SITE = "https://www.deezer.com"
API = "https://api.deezer.com"
IMAGES = "https://e-cdns-images.dzcdn.net/images"
NO_DATA = {"error": {"type": "DataException", "message": "no data", "code": 800}}
QUOTA = {"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}}
COUNTRIES = ("AT", "BE", "BR", "CA", "CH", "DE", "ES", "FR", "GB", "IT", "MX", "NL", "US")
_RECORD_TYPES = {"album": "album", "single": "single", "compilation": "compile"}


@dataclass
class DeezerConfig(ProviderConfig):
    """Deezer's documented quota: 50 requests per 5 seconds."""

    rate_limit: int | None = 50
    rate_window: float = 5.0


def full_date(date: str) -> str:
    """Deezer dates are always YYYY-MM-DD: "1999" -> "1999-01-01"."""
    parts = date.split("-")
    parts += ["01"] * (3 - len(parts))
    return "-".join(parts)


def genre_id(name: str) -> int:
    return stable_int(f"deezer-genre:{name}", 1_000, 1_000_000)


class DeezerEmulator:
    """An in-memory Deezer over `library`; `app` is the ASGI app, `requests` its log."""

    def __init__(
        self,
        library: GeneratedLibrary,
        config: DeezerConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.library = library
        self.config = config or DeezerConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.index = LibraryIndex.of(library)
        self.quota = SlidingWindow(self.clock)
        self.track_ids = {track.id: self.track_id(track) for track in library.tracks.values()}
        self._by_deezer_id = {number: tid for tid, number in self.track_ids.items()}
        self._albums = {album.deezer_id: album for album in library.albums.values()}
        self._album_tracks: dict[str, list[GeneratedTrack]] = {}
        for track in library.tracks.values():
            if track.truth.in_deezer:
                self._album_tracks.setdefault(track.album_id, []).append(track)
        routes = [
            Route("/track/{ref}", self._track, methods=["GET"]),
            Route("/album/{ref}", self._album, methods=["GET"]),
            Route("/{rest:path}", self._unknown, methods=["GET", "POST", "DELETE"]),
        ]
        self._faults = ProviderFaults(self.config)
        self.app: ASGIApp = self._faults.gateway(
            Starlette(routes=routes), service="deezer", clock=self.clock, log=self.requests
        )

    # -- ids ---------------------------------------------------------------------------------

    @staticmethod
    def track_id(track: GeneratedTrack) -> int:
        """The Deezer id of a library track (stable across runs)."""
        return stable_int(f"deezer-track:{track.id}", 1_000_000, 3_000_000_000)

    @staticmethod
    def artist_id(artist: Artist) -> int:
        return stable_int(f"deezer-artist:{artist.id}", 1, 250_000_000)

    def reset_faults(self) -> None:
        """Replay random faults from `config.fault_seed`; empty the quota window."""
        self._faults.reset()
        self.quota.reset()

    # -- routes ------------------------------------------------------------------------------

    def _over_quota(self, request: Request) -> bool:
        refused = self.quota.hit("all", self.config.rate_limit, self.config.rate_window)
        if refused is not None:
            mark_fault(request, "rate_limit")
        return refused is not None

    async def _track(self, request: Request) -> Response:
        if self._over_quota(request):
            return json_response(QUOTA)
        ref: str = request.path_params["ref"]
        track = self._find_track(ref)
        if track is None or not track.truth.in_deezer:
            return json_response(NO_DATA)
        return json_response(self.render_track(track))

    async def _album(self, request: Request) -> Response:
        if self._over_quota(request):
            return json_response(QUOTA)
        ref: str = request.path_params["ref"]
        album = self._albums.get(int(ref)) if ref.isdigit() else None
        if album is None or album.id not in self._album_tracks:
            return json_response(NO_DATA)
        return json_response(self.render_album(album))

    async def _unknown(self, request: Request) -> Response:
        if self._over_quota(request):
            return json_response(QUOTA)
        return json_response(NO_DATA)

    def _find_track(self, ref: str) -> GeneratedTrack | None:
        if ref.lower().startswith("isrc:"):
            ids = self.index.by_isrc.get(ref[5:].strip().upper(), ())
            return self.library.tracks[ids[0]] if ids else None
        if ref.isdigit():
            track_id = self._by_deezer_id.get(int(ref))
            return self.library.tracks[track_id] if track_id else None
        return None

    # -- rendering ---------------------------------------------------------------------------

    def render_artist(self, artist: Artist, role: str | None = None) -> dict[str, Any]:
        number = self.artist_id(artist)
        picture = f"{API}/artist/{number}/image"
        body: dict[str, Any] = {
            "id": number,
            "name": artist.name,
            "link": f"{SITE}/artist/{number}",
            "share": f"{SITE}/artist/{number}?utm_source=deezer&utm_medium=emulator",
            "picture": picture,
            "picture_small": f"{picture}?size=small",
            "picture_medium": f"{picture}?size=medium",
            "picture_big": f"{picture}?size=big",
            "picture_xl": f"{picture}?size=xl",
            "radio": True,
            "tracklist": f"{API}/artist/{number}/top?limit=50",
            "type": "artist",
        }
        if role is not None:
            body["role"] = role
        return body

    def _contributors(self, artist_ids: tuple[str, ...]) -> list[dict[str, Any]]:
        artists = self.library.artists
        return [
            self.render_artist(artists[aid], "Main" if i == 0 else "Featured")
            for i, aid in enumerate(artist_ids)
        ]

    def _album_stub(self, album: Album) -> dict[str, Any]:
        md5 = f"{stable_int(f'cover:{album.id}', 0, 16**32):032x}"
        return {
            "id": album.deezer_id,
            "title": album.name,
            "link": f"{SITE}/album/{album.deezer_id}",
            "cover": f"{API}/album/{album.deezer_id}/image",
            "cover_small": f"{IMAGES}/cover/{md5}/56x56-000000-80-0-0.jpg",
            "cover_medium": f"{IMAGES}/cover/{md5}/250x250-000000-80-0-0.jpg",
            "cover_big": f"{IMAGES}/cover/{md5}/500x500-000000-80-0-0.jpg",
            "cover_xl": f"{IMAGES}/cover/{md5}/1000x1000-000000-80-0-0.jpg",
            "md5_image": md5,
            "release_date": full_date(album.release_date),
            "tracklist": f"{API}/album/{album.deezer_id}/tracks",
            "type": "album",
        }

    def render_track(self, track: GeneratedTrack) -> dict[str, Any]:
        """The `/track/…` object of a Deezer-known track."""
        truth = track.truth
        number = self.track_ids[track.id]
        album = self.library.albums[track.album_id]
        short = base_title(track.name)
        version = track.name[len(short) :].strip() if track.name.startswith(short) else ""
        album_stub = self._album_stub(album)
        return {
            "id": number,
            "readable": True,
            "title": track.name,
            "title_short": short,
            "title_version": version,
            "isrc": track.isrc,
            "link": f"{SITE}/track/{number}",
            "share": f"{SITE}/track/{number}?utm_source=deezer&utm_medium=emulator",
            "duration": round(track.duration_ms / 1000),
            "track_position": track.track_number,
            "disk_number": track.disc_number,
            "rank": truth.rank if truth.rank is not None else 0,
            "release_date": full_date(album.release_date),
            "explicit_lyrics": track.explicit,
            "explicit_content_lyrics": 1 if track.explicit else 0,
            "explicit_content_cover": 0,
            "preview": f"https://cdnt-preview.dzcdn.net/api/1/1/{number:x}/preview.mp3",
            "bpm": truth.tempo if truth.tempo is not None else 0,
            "gain": truth.gain if truth.gain is not None else 0,
            "available_countries": list(COUNTRIES),
            "contributors": self._contributors(track.artist_ids),
            "md5_image": album_stub["md5_image"],
            "artist": self.render_artist(self.library.artists[track.artist_ids[0]]),
            "album": album_stub,
            "type": "track",
        }

    def render_album(self, album: Album) -> dict[str, Any]:
        """The `/album/{id}` object, with its genres and Deezer-known tracks."""
        tracks = self._album_tracks.get(album.id, [])
        genres = [
            {
                "id": genre_id(name),
                "name": name,
                "picture": f"{API}/genre/{genre_id(name)}/image",
                "type": "genre",
            }
            for name in album.genres
        ]
        artist = self.library.artists[album.artist_ids[0]]
        body = self._album_stub(album)
        body.pop("type")
        body.pop("tracklist")
        body.update(
            {
                "upc": f"{stable_int(f'upc:{album.id}', 10**11, 10**12)}",
                "share": f"{SITE}/album/{album.deezer_id}?utm_source=deezer&utm_medium=emulator",
                "genre_id": genres[0]["id"] if genres else -1,
                "genres": {"data": genres},
                "label": album.label,
                "nb_tracks": album.total_tracks,
                "duration": sum(round(t.duration_ms / 1000) for t in tracks),
                "fans": stable_int(f"fans:{album.id}", 0, 500_000),
                "record_type": _RECORD_TYPES[album.album_type],
                "available": True,
                "tracklist": f"{API}/album/{album.deezer_id}/tracks",
                "explicit_lyrics": any(t.explicit for t in tracks),
                "contributors": self._contributors(album.artist_ids),
                "artist": self.render_artist(artist),
                "type": "album",
                "tracks": {"data": [self._track_stub(t) for t in tracks]},
            }
        )
        return body

    def _track_stub(self, track: GeneratedTrack) -> dict[str, Any]:
        number = self.track_ids[track.id]
        return {
            "id": number,
            "readable": True,
            "title": track.name,
            "title_short": base_title(track.name),
            "link": f"{SITE}/track/{number}",
            "duration": round(track.duration_ms / 1000),
            "rank": track.truth.rank if track.truth.rank is not None else 0,
            "explicit_lyrics": track.explicit,
            "artist": {
                "id": self.artist_id(self.library.artists[track.artist_ids[0]]),
                "name": self.library.artists[track.artist_ids[0]].name,
                "type": "artist",
            },
            "type": "track",
        }
