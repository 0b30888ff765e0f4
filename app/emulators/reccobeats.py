"""`ReccoBeatsEmulator`: ReccoBeats' audio features over a `GeneratedLibrary`, served under
`/reccobeats/v1` (like `https://api.reccobeats.com/v1`).

    recco = ReccoBeatsEmulator(generate_library(seed=1))
    client = httpx.AsyncClient(transport=emulator_transport(recco.app, root_path="/v1"),
                               base_url="http://emulators.test/v1")
    await client.get("/audio-features", params={"ids": "id1,id2"})

`GET /audio-features?ids=…` takes Spotify track ids (comma-separated, or repeated `ids=`
parameters; ReccoBeats' own UUIDs work too) and answers

    {"content": [{"id": "<ReccoBeats UUID>", "href": "https://open.spotify.com/track/<id>",
                  "acousticness": …, "danceability": …, "energy": …, "instrumentalness": …,
                  "key": …, "liveness": …, "loudness": …, "mode": …, "speechiness": …,
                  "tempo": …, "valence": …}, …]}

The real API's shape is only partly documented. What is known: results come in a `content`
list; `id` is ReccoBeats' own UUID, not the Spotify id; `href` is the Spotify link, so a client
maps results back through `href` (or by asking `/track?ids=` first). The emulator follows
that: items carry a stable UUID (uuid5 of the Spotify id) and the Spotify `href`, in request
order, duplicates once, **only for tracks with `in_reccobeats`** (coverage is partial: unknown
ids are silently missing, never an error). A track with no known tempo gets `"tempo": null`.

`GET /track?ids=…` gives the matching track objects (`id`, `trackTitle`, `artists`,
`durationMs`, `isrc`, `href`, `popularity`), also only for covered tracks.

Errors (body shape a plausible guess, Spring-style as ReccoBeats' JSON suggests):
- no ids, or more than `config.max_ids` (40) → 400
  `{"timestamp": …, "status": 400, "error": "Bad Request", "message": …, "path": …}`;
- over `config.rate_limit` requests per `config.rate_window` s (per client; unlimited by
  default since the real numbers are unpublished) → 429 with `Retry-After` (whole seconds)
  and the same body shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.clock import Clock
from app.emulators.common.gate import ProviderConfig, ProviderFaults, SlidingWindow, stable_int
from app.emulators.common.gateway import RequestRecord, mark_fault
from app.emulators.common.transport import ASGIApp
from app.emulators.common.transport import json_response as shared_json_response
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack

_NAMESPACE = uuid.UUID("6f1e3c4a-8a55-4f0e-9a43-2b1f0c6d9e71")
FEATURES = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "key",
    "liveness",
    "loudness",
    "mode",
    "speechiness",
    "tempo",
    "valence",
)

# This service answers a bare ``application/json``.
json_response = partial(shared_json_response, charset=False)


@dataclass
class ReccoBeatsConfig(ProviderConfig):
    """`max_ids` per request (≈ 40, unverified); no rate limit unless set."""

    max_ids: int = 40
    rate_window: float = 1.0


def reccobeats_id(spotify_id: str) -> str:
    """ReccoBeats' UUID of a library track (stable across runs)."""
    return str(uuid.uuid5(_NAMESPACE, spotify_id))


class ReccoBeatsEmulator:
    """An in-memory ReccoBeats over `library`; `app` is the ASGI app, `requests` its log."""

    def __init__(
        self,
        library: GeneratedLibrary,
        config: ReccoBeatsConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.library = library
        self.config = config or ReccoBeatsConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.limiter = SlidingWindow(self.clock)
        self._by_uuid = {reccobeats_id(tid): tid for tid in library.tracks}
        routes = [
            Route("/audio-features", self._audio_features, methods=["GET"]),
            Route("/track", self._tracks, methods=["GET"]),
        ]
        self._faults = ProviderFaults(self.config)
        self.app: ASGIApp = self._faults.gateway(
            Starlette(routes=routes), service="reccobeats", clock=self.clock, log=self.requests
        )

    def reset_faults(self) -> None:
        """Replay random faults from `config.fault_seed`; empty the rate-limit windows."""
        self._faults.reset()
        self.limiter.reset()

    # -- routes ------------------------------------------------------------------------------

    async def _audio_features(self, request: Request) -> Response:
        tracks = self._requested(request)
        if isinstance(tracks, Response):
            return tracks
        return json_response({"content": [self.render_features(t) for t in tracks]})

    async def _tracks(self, request: Request) -> Response:
        tracks = self._requested(request)
        if isinstance(tracks, Response):
            return tracks
        return json_response({"content": [self.render_track(t) for t in tracks]})

    def _requested(self, request: Request) -> list[GeneratedTrack] | Response:
        """The covered tracks `ids` names, in order, or the error response."""
        client = request.client.host if request.client else ""
        wait = self.limiter.hit(client, self.config.rate_limit, self.config.rate_window)
        if wait is not None:
            mark_fault(request, "rate_limit")
            return self._error(request, 429, "Too many requests", {"Retry-After": str(wait)})
        ids = [
            part.strip()
            for value in request.query_params.getlist("ids")
            for part in value.split(",")
            if part.strip()
        ]
        if not ids:
            return self._error(request, 400, "Required parameter 'ids' is not present.")
        if len(ids) > self.config.max_ids:
            return self._error(
                request, 400, f"Size of ids must be between 1 and {self.config.max_ids}"
            )
        found: list[GeneratedTrack] = []
        seen: set[str] = set()
        for ref in ids:
            track_id = self._by_uuid.get(ref, ref)
            track = self.library.tracks.get(track_id)
            if track is None or not track.truth.in_reccobeats or track.id in seen:
                continue
            seen.add(track.id)
            found.append(track)
        return found

    def _error(
        self, request: Request, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        phrase = {400: "Bad Request", 429: "Too Many Requests"}[status]
        body = {
            "timestamp": self.clock.now().isoformat(timespec="milliseconds"),
            "status": status,
            "error": phrase,
            "message": message,
            "path": request.url.path,
        }
        return json_response(body, status, headers)

    # -- rendering ---------------------------------------------------------------------------

    def render_features(self, track: GeneratedTrack) -> dict[str, Any]:
        truth = track.truth
        body: dict[str, Any] = {
            "id": reccobeats_id(track.id),
            "href": f"https://open.spotify.com/track/{track.id}",
        }
        for name in FEATURES:
            body[name] = getattr(truth, name)
        return body

    def render_track(self, track: GeneratedTrack) -> dict[str, Any]:
        artists = [self.library.artists[aid] for aid in track.artist_ids]
        return {
            "id": reccobeats_id(track.id),
            "trackTitle": track.name,
            "artists": [
                {
                    "id": reccobeats_id(artist.id),
                    "name": artist.name,
                    "href": f"https://open.spotify.com/artist/{artist.id}",
                }
                for artist in artists
            ],
            "durationMs": track.duration_ms,
            "isrc": track.isrc,
            "href": f"https://open.spotify.com/track/{track.id}",
            "popularity": stable_int(f"popularity:{track.id}", 0, 101),
        }
