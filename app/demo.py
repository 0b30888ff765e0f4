"""Demo mode: a generated Spotify account and every enrichment provider, emulated in process.

Used by the server and the CLI when no Spotify client id is configured (or with `--demo`).
The emulators (the same combined app as `sap emulate`) are mounted in the API server under
`/emulator` — Spotify at `/emulator/spotify/…`, MusicBrainz at `/emulator/musicbrainz/ws/2`… —
so the browser can walk through the real login flow; our own clients reach the same emulators
in process, with no network. The providers serve the generated library's "truth", so demo
enrichment gives real results. Demo data lives in `<cache dir>/demo` (see `Settings.effective`).

The emulated providers answer without the real services' rate limits, and our clients do not
pace themselves for them (`unpaced_provider_urls`): a newcomer's first enrichment of the demo
library takes seconds, not the twenty minutes the real limits would impose. Only the demo's
own in-process emulators are unpaced — never a URL of a real service — and `sap emulate` and
the emulators' tests keep the limits.

The demo account remembers its changes like a real one: every demo process (each CLI command,
each server start) builds its own emulator, but they all keep the account's changes (playlists
written or created, liked songs) in one file per demo library (`demo_state_file`), and see
each other's writes: what one command changes in the demo account, the next one finds there.
Delete that file to get the generated account back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.core.config import DEMO_EMULATORS_PREFIX, Settings
from app.data import Stores
from app.emulators.common.transport import ASGIApp, emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.server import EmulatorServer, ProviderEmulators
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator
from app.pipeline.services import Services
from app.spotify.access import DEMO_CLIENT_ID, SpotifyAccess


def demo_state_file(settings: Settings) -> Path:
    """Where the demo account's changes live (shared by every demo process).

    One file per demo library (seed and size): trying another size keeps the first account's
    changes for when you come back, instead of finding a file of another library (which the
    emulator would have to move aside as unusable)."""
    name = (
        f"emulator-spotify-seed{settings.demo_seed}-{settings.demo_tracks}-tracks-"
        f"{settings.demo_playlists}-playlists.json"
    )
    return settings.effective().cache_dir / name


def unpaced_provider_urls(settings: Settings) -> dict[str, None]:
    """The provider base URLs of `settings` that lead to the demo's in-process emulators (its
    own loopback address, under `/emulator/`), each with no pace (`Services.provider_rates`).
    A URL of any other host — a real service — keeps its provider's pace."""
    demo_root = f"http://127.0.0.1:{settings.port}{DEMO_EMULATORS_PREFIX}/"
    urls = (
        settings.musicbrainz_url,
        settings.listenbrainz_url,
        settings.deezer_url,
        settings.reccobeats_url,
        settings.lastfm_url,
        settings.llm_base_url,
        settings.acousticbrainz_url or "",
    )
    return {
        url.rstrip("/"): None
        for url in urls
        if url.startswith(demo_root) and urlsplit(url).hostname == "127.0.0.1"
    }


@dataclass(frozen=True)
class DemoEnvironment:
    settings: Settings
    emulator: SpotifyEmulator
    asgi: ASGIApp  # mount at DEMO_EMULATORS_PREFIX
    services: Services
    emulators: EmulatorServer

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        config: SpotifyEmulatorConfig | None = None,
        local_paths: bool = False,
        warm_up: bool = True,
    ) -> DemoEnvironment:
        """The demo over `settings`; `local_paths` and `warm_up` for the CLI's services (see
        `Services`)."""
        settings = settings.effective()
        library = generate_library(
            seed=settings.demo_seed, tracks=settings.demo_tracks, playlists=settings.demo_playlists
        )
        emulator = SpotifyEmulator(
            library,
            config
            or SpotifyEmulatorConfig(
                client_id=DEMO_CLIENT_ID,
                redirect_uris=(settings.spotify_redirect_uri,),
                # Every process (each CLI command, each server start) has its own emulator;
                # signed tokens let a login made in one be honoured by the others, as Spotify
                # would. The seed is part of the secret: another demo account, another login.
                token_secret=f"spotify-auto-playlists-demo-{settings.demo_seed}",
            ),
            state_file=demo_state_file(settings),
        )
        providers = ProviderEmulators.create(library, emulator.clock, rate_limits=False)
        emulators = EmulatorServer(emulator, providers=providers)
        transport = emulator_transport(emulators, root_path=DEMO_EMULATORS_PREFIX)
        stores = Stores.open(settings.cache_dir)
        access = SpotifyAccess.create(
            settings, stores.tokens, api_transport=transport, accounts_transport=transport
        )
        services = Services(
            settings=settings,
            stores=stores,
            spotify=access,
            provider_transport=transport,
            provider_rates=unpaced_provider_urls(settings),
            local_paths=local_paths,
            warm_up=warm_up,
        )
        return cls(settings, emulator, emulators, services, emulators)
