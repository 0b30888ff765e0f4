"""Demo mode's providers: the emulators answer without the real services' rate limits and our
clients do not pace themselves for them — only for the demo's own in-process emulators, never
for a real service; `sap emulate` and the emulators' tests keep the limits."""

from __future__ import annotations

from pathlib import Path

from app.core.config import Settings
from app.core.models import JobStatus, TrackSourceType
from app.data.sources import SourceEntry, SourceRecord
from app.demo import DemoEnvironment, unpaced_provider_urls
from app.emulators.server import create_emulator_server
from app.pipeline.jobs.runner import JobManager
from app.pipeline.registry import default_registry
from tests.helpers.provider_env import core_track
from tests.helpers.spotify_env import demo_settings

DEMO_PROVIDERS = ("musicbrainz", "deezer", "reccobeats", "lastfm", "llm")


def test_demo_providers_answer_and_are_asked_without_the_services_limits(
    tmp_path: Path,
) -> None:
    demo = DemoEnvironment.create(demo_settings(tmp_path / "cache"))
    settings = demo.settings
    base = f"http://127.0.0.1:{settings.port}/emulator"
    urls = [
        settings.musicbrainz_url,
        settings.listenbrainz_url,
        settings.deezer_url,
        settings.reccobeats_url,
        settings.lastfm_url,
        settings.llm_base_url,
        settings.acousticbrainz_url,
    ]
    assert all(url is not None and url.startswith(base) for url in urls)
    assert demo.services.provider_rates == dict.fromkeys(url.rstrip("/") for url in urls if url)
    net = demo.services.provider_net()
    assert net.client(settings.musicbrainz_url, rate=1.0).pacer.interval == 0
    providers = demo.emulators.providers
    assert providers.musicbrainz.config.enforce_rate_limit is False
    assert providers.deezer.config.rate_limit is None
    assert providers.lastfm.config.rate_limit is None

    # The demo library enriched by every provider at once: nothing refused, nothing waited for.
    library = demo.emulator.library
    ids = [saved.track_id for saved in library.liked]
    stores = demo.services.stores
    stores.tracks.upsert(core_track(library, track_id) for track_id in ids)
    stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(ids),
            entries=[SourceEntry(track_id=track_id) for track_id in ids],
        )
    )
    job = JobManager(demo.services, default_registry()).run_inline(
        "enrich", {"providers": list(DEMO_PROVIDERS)}
    )
    assert job.status is JobStatus.DONE, job.error
    assert all(report["matched"] > 0 for report in job.payload["providers"])
    for emulator in providers.all():
        refused = [r for r in emulator.requests if r.fault is not None]
        assert refused == [], (emulator.service, refused[:3])
    assert len(providers.musicbrainz.requests) > 1 and len(providers.deezer.requests) > 50


def test_real_services_keep_their_pace(tmp_path: Path) -> None:
    real = Settings(cache_dir=tmp_path, spotify_client_id="mine", contact="me@example.org")
    assert unpaced_provider_urls(real) == {}
    # A demo process whose settings name a real service, or another local port: paced.
    demo = demo_settings(tmp_path / "cache").effective()
    mixed = demo.model_copy(
        update={
            "musicbrainz_url": "https://musicbrainz.org/ws/2",
            "deezer_url": "http://127.0.0.1:9/emulator/deezer",
            "lastfm_url": "http://example.org/emulator/lastfm/2.0",
        }
    )
    unpaced = unpaced_provider_urls(mixed)
    assert unpaced == {
        demo.listenbrainz_url: None,
        demo.reccobeats_url: None,
        demo.llm_base_url: None,
        str(demo.acousticbrainz_url): None,
    }


def test_the_emulators_keep_the_real_limits_outside_the_demo() -> None:
    providers = create_emulator_server(tracks=10, playlists=0).providers  # `sap emulate`'s
    assert providers.musicbrainz.config.enforce_rate_limit is True
    assert providers.musicbrainz.config.rate_per_second == 1.0
    assert (providers.deezer.config.rate_limit, providers.deezer.config.rate_window) == (50, 5.0)
    assert providers.lastfm.config.rate_limit == 5
