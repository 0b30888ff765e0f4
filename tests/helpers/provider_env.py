"""Providers against their emulators: a generated library, stored as if fetched, and every
emulator of `sap emulate` reachable in process (no network).

    env = ProviderEnv.create(tmp_path, tracks=60)
    report = env.run(MusicBrainzProvider(env.settings))
    env.emulators.providers.musicbrainz.requests   # the emulator's request log
    env.truth(track_id)                               # what the generator says the answer is

The library's liked songs are written to the stores the way a fetch would leave them (a
`liked` source and its tracks); emulator rate limits are on, with the real paces, unless a test
turns them off (`env.unpaced()` also drops our client's pacing for speed).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.core.config import Settings
from app.core.models import AlbumRef, ArtistRef, Track, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary, TrackTruth
from app.emulators.server import EmulatorServer, create_emulator_server
from app.pipeline.enrichment.runner import EnrichReport, enrich_tracks
from app.pipeline.services import Services
from app.providers.base import FeatureProvider
from app.spotify.access import SpotifyAccess

BASE = "http://emulators.test"
CONTACT = "tests@spotify-auto-playlists.invalid"
LASTFM_KEY = "test-lastfm-key"


def core_track(library: GeneratedLibrary, track_id: str) -> Track:
    """The library track as our fetch stores it."""
    track = library.tracks[track_id]
    album = library.albums[track.album_id]
    return Track(
        id=track.id,
        uri=f"spotify:track:{track.id}",
        name=track.name,
        artists=[
            ArtistRef(id=artist_id, name=library.artists[artist_id].name)
            for artist_id in track.artist_ids
        ],
        album=AlbumRef(
            id=album.id,
            name=album.name,
            release_date=album.release_date,
            release_date_precision=album.release_date_precision,
        ),
        duration_ms=track.duration_ms,
        explicit=track.explicit,
        isrc=track.isrc,
    )


def provider_settings(cache_dir: Path, **overrides: Any) -> Settings:
    """Non-demo settings whose provider URLs lead to the emulators under `BASE`."""
    values: dict[str, Any] = {
        "cache_dir": cache_dir,
        "spotify_client_id": "test-client-id",
        "contact": CONTACT,
        "musicbrainz_url": f"{BASE}/musicbrainz/ws/2",
        "listenbrainz_url": f"{BASE}/listenbrainz/1",
        "deezer_url": f"{BASE}/deezer",
        "reccobeats_url": f"{BASE}/reccobeats/v1",
        "lastfm_url": f"{BASE}/lastfm/2.0",
        "lastfm_api_key": LASTFM_KEY,
        "llm_base_url": f"{BASE}/llm/v1",
        "llm_model": "emulated-llm",
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Hold:
    """Requests to one service wait at the network until `release()`: what a test uses to
    hold one provider still while it watches the others (each job runs in a thread of its
    own, hence threading events; the wait is a cancellable poll, so a cancelled job stops
    waiting at once)."""

    base_url: str
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


class HoldingTransport(httpx.AsyncBaseTransport):
    """The emulators' transport, with some services held (`Hold`)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.holds: list[Hold] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for hold in self.holds:
            if url.startswith(hold.base_url.rstrip("/") + "/"):
                hold.arrived.set()
                while not hold.released.is_set():
                    await asyncio.sleep(0.005)
        return await self.inner.handle_async_request(request)


@dataclass
class ProviderEnv:
    library: GeneratedLibrary
    emulators: EmulatorServer
    settings: Settings
    services: Services

    @classmethod
    def create(
        cls,
        tmp_path: Path,
        *,
        seed: int = 7,
        tracks: int = 60,
        library: GeneratedLibrary | None = None,
        store_tracks: bool = True,
        **settings: Any,
    ) -> ProviderEnv:
        library = library or generate_library(seed=seed, tracks=tracks, playlists=0)
        emulators = create_emulator_server(library=library, base_url=BASE)
        config = provider_settings(tmp_path / "cache", **settings)
        stores = Stores.open(config.cache_dir)
        services = Services(
            settings=config,
            stores=stores,
            spotify=SpotifyAccess.create(config, stores.tokens),
            provider_transport=emulator_transport(emulators),
            provider_retry_wait=(0.01, 0.05),
        )
        env = cls(library, emulators, config, services)
        if store_tracks:
            env.store_liked()
        return env

    @property
    def stores(self) -> Stores:
        return self.services.stores

    def store_liked(self, track_ids: Sequence[str] | None = None) -> list[str]:
        """Write the liked songs (or `track_ids`) as a fetched `liked` source; returns the ids."""
        ids = list(track_ids) if track_ids is not None else [s.track_id for s in self.library.liked]
        self.stores.tracks.upsert(core_track(self.library, track_id) for track_id in ids)
        self.stores.sources.put(
            SourceRecord(
                key="liked",
                source_type=TrackSourceType.LIKED,
                total=len(ids),
                entries=[SourceEntry(track_id=track_id) for track_id in ids],
            )
        )
        return ids

    def truth(self, track_id: str) -> TrackTruth:
        return self.library.tracks[track_id].truth

    def hold(self, base_url: str) -> Hold:
        """Hold every request to `base_url` at the network until the hold is released."""
        transport = self.services.provider_transport
        if not isinstance(transport, HoldingTransport):
            assert transport is not None
            transport = HoldingTransport(transport)
            object.__setattr__(self.services, "provider_transport", transport)
        hold = Hold(base_url)
        transport.holds.append(hold)
        return hold

    def unpaced(self, *base_urls: str) -> None:
        """No client pacing for these services (tests that turned the emulator limit off)."""
        rates = dict(self.services.provider_rates)
        rates.update(dict.fromkeys(base_urls))
        object.__setattr__(self.services, "provider_rates", rates)

    def run(
        self,
        provider: FeatureProvider,
        *,
        track_ids: Sequence[str] | None = None,
        source: str | None = None,
        refresh: bool = False,
    ) -> EnrichReport:
        """One real enrichment run of `provider` over the stored library."""

        async def go() -> EnrichReport:
            async with self.services.provider_net() as net:
                return await enrich_tracks(
                    provider,
                    self.stores,
                    net,
                    track_ids=track_ids,
                    source=source,
                    refresh=refresh,
                )

        return asyncio.run(go())
