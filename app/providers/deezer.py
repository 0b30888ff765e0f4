"""Deezer: tempo, loudness gain, popularity rank and album genres, matched by ISRC.

    provider = DeezerProvider(settings)
    report = await enrich_tracks(provider, stores, net)

For each track with an ISRC, `GET /track/isrc:{ISRC}` gives the Deezer track (`bpm`, `gain`,
`rank`, its album's id); then `GET /album/{id}` gives the album's genres. Albums are asked
about once per run, however many of its tracks the run holds and whichever batch needs them
first (concurrent batches wait for the one lookup in flight).

Categories written (missing ones are left out, never stored as 0):

- `tempo`: BPM; Deezer says 0 when it does not know, which we leave out;
- `gain`: replay gain in dB; `rank`: Deezer's popularity rank; `deezer_id`: the track's id;
- `genres`: the album's genre names, lower-cased (Deezer has no genres per track).

Deezer answers errors with HTTP 200 and an `error` object: code 800 ("no data") means Deezer
does not know the ISRC (not found); code 4 means the quota (50 requests per rolling 5 s per
IP) is used up, so the service's pacer pauses `QUOTA_WAIT` seconds and the request is retried;
code 700 (service busy) is retried like a 5xx.

A request that still fails after `ServiceClient`'s retries ends its batch: the tracks answered
so far are kept, the rest count as failed (asked again next run); a batch that learnt nothing
fails as a whole, so the runner stops a run against a service that is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import quote
from weakref import WeakKeyDictionary

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.config import Settings
from app.core.errors import UpstreamError
from app.net.client import ServiceClient
from app.net.policy import Throttled, Transient
from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider, FieldSpec, one_by_one
from app.providers.http import ProviderNet, parse_json

QUOTA_EXCEEDED = 4
SERVICE_BUSY = 700
NO_DATA = 800
# Deezer counts 50 requests per rolling 5 s; after 5 quiet seconds the window is empty again.
QUOTA_WAIT = 5.0

M = TypeVar("M", bound=BaseModel)


class _DeezerModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DeezerAlbumRef(_DeezerModel):
    id: int


class DeezerTrack(_DeezerModel):
    """The part of Deezer's track object we keep."""

    id: int
    bpm: float | None = None
    gain: float | None = None
    rank: int | None = None
    album: DeezerAlbumRef | None = None


class DeezerGenre(_DeezerModel):
    name: str = ""


class DeezerGenres(_DeezerModel):
    data: list[DeezerGenre] = Field(default_factory=list)


class DeezerAlbum(_DeezerModel):
    genres: DeezerGenres = Field(default_factory=DeezerGenres)


def deezer_error(response: httpx.Response) -> tuple[int, str] | None:
    """The `(code, message)` of Deezer's `{"error": {...}}` body, or None."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    return (code if isinstance(code, int) else -1), str(error.get("message") or "")


def check_deezer(response: httpx.Response) -> None:
    """Turn Deezer's HTTP-200 quota and busy errors into a pause or a retry."""
    error = deezer_error(response)
    if error is None:
        return
    code, message = error
    if code == QUOTA_EXCEEDED:
        raise Throttled(QUOTA_WAIT, f"Deezer quota exceeded (error {code}: {message})")
    if code == SERVICE_BUSY:
        raise Transient(f"Deezer is busy (error {code}: {message})")


def tempo_of(bpm: float | None) -> float | None:
    """Deezer's `bpm`, or None when it says 0 (unknown)."""
    return bpm if bpm is not None and bpm > 0 else None


def genre_names(album: DeezerAlbum) -> list[str]:
    """The album's genre names, lower-cased, without blanks or repeats."""
    names = (genre.name.strip().lower() for genre in album.genres.data)
    return list(dict.fromkeys(name for name in names if name))


class _AlbumGenres:
    """Album genres of one run: each album asked about once, even by concurrent batches."""

    def __init__(self) -> None:
        self._known: dict[int, list[str]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def get(self, album_id: int, deezer: ServiceClient) -> list[str]:
        if album_id in self._known:
            return self._known[album_id]
        # A failed lookup leaves nothing behind: the next track of the album asks again.
        async with self._locks.setdefault(album_id, asyncio.Lock()):
            if album_id not in self._known:
                self._known[album_id] = await fetch_album_genres(deezer, album_id)
        return self._known[album_id]


async def get_deezer(deezer: ServiceClient, path: str) -> dict[str, Any] | None:
    """GET a Deezer object; None when Deezer has no data for it."""
    response = await deezer.request("GET", path, check=check_deezer)
    error = deezer_error(response)
    if error is not None:
        code, message = error
        if code == NO_DATA:
            return None
        raise UpstreamError(f"Deezer error {code} for GET {path}: {message}", code="provider_error")
    body = parse_json(deezer, response, f"GET {path}")
    if not isinstance(body, dict):
        raise UpstreamError(f"Deezer sent no object for GET {path}", code="provider_bad_response")
    return body


def _validated(model: type[M], body: dict[str, Any], path: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise UpstreamError(
            f"Deezer sent an unexpected body for GET {path} ({exc.error_count()} problem(s))",
            code="provider_bad_response",
        ) from None


async def fetch_track(deezer: ServiceClient, isrc: str) -> DeezerTrack | None:
    path = f"/track/isrc:{quote(isrc.strip().upper(), safe='')}"
    body = await get_deezer(deezer, path)
    return None if body is None else _validated(DeezerTrack, body, path)


async def fetch_album_genres(deezer: ServiceClient, album_id: int) -> list[str]:
    path = f"/album/{album_id}"
    body = await get_deezer(deezer, path)
    return [] if body is None else genre_names(_validated(DeezerAlbum, body, path))


class DeezerProvider(FeatureProvider):
    """Tempo, gain, rank and album genres from Deezer (see the module docstring)."""

    id = "deezer"
    version = "1"
    description = "Tempo (BPM), loudness gain, popularity rank and album genres, by ISRC."
    fields = (
        FieldSpec("tempo", "number", "Beats per minute; absent when Deezer does not know it."),
        FieldSpec("gain", "number", "Replay gain in dB (how loud the track is mastered)."),
        FieldSpec("rank", "integer", "Deezer popularity rank (higher is more popular)."),
        FieldSpec("genres", "list", "Genres of the track's album on Deezer, lower-cased."),
        FieldSpec("deezer_id", "integer", "The track's Deezer id."),
    )
    match_methods = ("isrc",)
    batch_size = 25
    rate_limit = 9.0  # Deezer allows 50 requests per 5 s; keep under it
    concurrency = 2
    settings_used = ("deezer_url",)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # One album cache per run (a run has its own `ProviderNet`); gone with the run.
        self._albums_by_run: WeakKeyDictionary[ProviderNet, _AlbumGenres] = WeakKeyDictionary()

    def applicable(self, item: EnrichItem) -> str | None:
        if item.track.is_local:
            return "local file"
        return None if item.track.isrc else "no ISRC"

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        deezer = net.client(self.settings.deezer_url, rate=self.rate_limit)
        albums = self._albums_by_run.setdefault(net, _AlbumGenres())
        return await one_by_one(
            items, lambda item, outcome: self._enrich_one(item, deezer, albums, outcome)
        )

    async def _enrich_one(
        self, item: EnrichItem, deezer: ServiceClient, albums: _AlbumGenres, outcome: BatchOutcome
    ) -> None:
        track = await fetch_track(deezer, item.track.isrc or "")
        if track is None:
            outcome.missing(item)
            return
        genres = await albums.get(track.album.id, deezer) if track.album else []
        categories = {
            "tempo": tempo_of(track.bpm),
            "gain": track.gain,
            "rank": track.rank,
            "genres": genres,
            "deezer_id": track.id,
        }
        outcome.found(item, self.entry(categories, method="isrc", confidence=1.0))
