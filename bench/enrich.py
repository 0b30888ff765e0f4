"""Enrichment benchmark: MusicBrainz requests and time for 10,000 tracks, and store memory.

1. **Finding recordings.** 10,000 liked tracks with ISRCs, the MusicBrainz emulator enforcing
   the real 1 request/s (our client paces itself to it). The MusicBrainz provider batches ISRCs
   (`isrc:(A OR B …)`, `SAP_MUSICBRAINZ_BATCH_SIZE`); the *baseline*, in the same run, is the
   one-by-one lookup (`GET /isrc/{isrc}` per track) on a sample, at the same pace. Printed:
   MusicBrainz requests per 1,000 tracks for both, the ratio, the cold run's time against the
   time its request count allows at 1 request/s, and the requests of a second run (0 expected).
2. **Memory.** An enrichment store for 100,000 tracks x 4 providers (MusicBrainz, Deezer,
   ReccoBeats, Last.fm; shaped like their real entries), its size on disk and load time; then a
   real server (`sap serve`) over that data directory answers a library preview, and its RSS is
   read from /proc (target: under 500 MB).

    python bench/enrich.py                     # what `make bench` runs
    python bench/enrich.py --tracks 2000 --baseline 30 --memory-tracks 20000   # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import Settings
from app.core.models import TrackEnrichment, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary
from app.emulators.server import create_emulator_server
from app.pipeline.enrichment.runner import enrich_tracks
from app.providers.http import ProviderNet
from bench._report import record
from bench._server import sap_server
from tests.helpers.provider_env import BASE, core_track, provider_settings


def library_with_isrcs(count: int, seed: int = 11) -> tuple[GeneratedLibrary, list[str]]:
    """A generated library and `count` liked track ids that all have an ISRC."""
    library = generate_library(seed=seed, tracks=int(count * 1.15) + 50, playlists=0)
    ids = [saved.track_id for saved in library.liked if library.tracks[saved.track_id].isrc]
    if len(ids) < count:
        raise SystemExit(f"only {len(ids)} tracks with ISRCs; raise the generated size")
    return library, ids[:count]


def store_library(stores: Stores, library: GeneratedLibrary, ids: list[str]) -> None:
    stores.tracks.upsert(core_track(library, track_id) for track_id in ids)
    stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(ids),
            entries=[SourceEntry(track_id=track_id) for track_id in ids],
        )
    )


async def _run_provider(settings: Settings, stores: Stores, transport: Any) -> tuple[Any, float]:
    from app.providers.musicbrainz.provider import MusicBrainzProvider

    start = time.perf_counter()
    async with ProviderNet(settings, transport=transport) as net:
        report = await enrich_tracks(MusicBrainzProvider(settings), stores, net)
    return report, time.perf_counter() - start


async def _one_by_one(settings: Settings, isrcs: list[str], transport: Any) -> tuple[int, float]:
    """The baseline: one ISRC lookup per track, paced at MusicBrainz's 1 request/s."""
    start = time.perf_counter()
    async with ProviderNet(settings, transport=transport) as net:
        from app.providers.musicbrainz.provider import MusicBrainzProvider

        client = net.client(settings.musicbrainz_url, rate=MusicBrainzProvider.rate_limit)
        for isrc in isrcs:
            await client.request("GET", f"/isrc/{isrc}", params={"fmt": "json"})
        return client.requests, time.perf_counter() - start


def bench_requests(tracks: int, baseline: int) -> str:
    library, ids = library_with_isrcs(tracks)
    server = create_emulator_server(library=library, base_url=BASE)
    musicbrainz = server.providers.musicbrainz
    with tempfile.TemporaryDirectory(prefix="sap-bench-enrich-") as tmp:
        settings = provider_settings(Path(tmp) / "cache")
        stores = Stores.open(settings.cache_dir)
        store_library(stores, library, ids)

        sample = [library.tracks[track_id].isrc or "" for track_id in ids[:baseline]]
        before = len(musicbrainz.requests)
        base_requests, base_seconds = asyncio.run(
            _one_by_one(settings, sample, emulator_transport(server))
        )
        assert len(musicbrainz.requests) - before == base_requests

        before = len(musicbrainz.requests)
        report, cold_seconds = asyncio.run(
            _run_provider(settings, stores, emulator_transport(server))
        )
        cold_log = musicbrainz.requests[before:]
        searches = sum(1 for record in cold_log if record.path.startswith("/recording"))
        refused = sum(1 for record in cold_log if record.status == 503)
        listenbrainz = len(server.providers.listenbrainz.requests)

        before = len(musicbrainz.requests) + len(server.providers.listenbrainz.requests)
        second, second_seconds = asyncio.run(
            _run_provider(settings, stores, emulator_transport(server))
        )
        after = len(musicbrainz.requests) + len(server.providers.listenbrainz.requests)

    per_1000 = 1000 * len(cold_log) / tracks
    base_per_1000 = 1000 * base_requests / baseline
    allowed = len(cold_log) / 1.0  # seconds the request count allows at 1 request/s
    lines = [
        f"MusicBrainz, {tracks:,} tracks with ISRCs, emulator enforcing 1 request/s:",
        "",
        "| | MusicBrainz requests | per 1,000 tracks | time |",
        "|---|---|---|---|",
        f"| one-by-one `/isrc/{{isrc}}` (baseline, {baseline} tracks) | {base_requests} | "
        f"{base_per_1000:,.0f} | {base_seconds:.1f} s |",
        f"| batched search, cold run | {len(cold_log)} ({searches} searches) | {per_1000:.1f} | "
        f"{cold_seconds:.1f} s |",
        f"| second run | {after - before} | {1000 * (after - before) / tracks:.1f} | "
        f"{second_seconds:.2f} s |",
        "",
        f"- **{base_per_1000 / per_1000:.0f}x fewer MusicBrainz requests** than one by one "
        f"(target: ≤ 40 per 1,000 tracks).",
        f"- The cold run took {cold_seconds:.0f} s for {len(cold_log)} requests: "
        f"{cold_seconds / allowed:.2f}x the {allowed:.0f} s that 1 request/s allows; "
        f"{refused} request(s) refused with 503 by the emulator's limit.",
        f"- ListenBrainz (genres and tags, up to 20 recordings per request): {listenbrainz} "
        "requests, sent while MusicBrainz paces.",
        f"- Result: {report.matched:,} matched, {report.not_found:,} not found, "
        f"{report.failed} failed; the second run: {second.cached:,} cached, "
        f"{second.requests} requests.",
    ]
    return "\n".join(lines)


# --- memory ---------------------------------------------------------------------------------


def provider_entries(library: GeneratedLibrary, track_id: str) -> list[TrackEnrichment]:
    """Four entries shaped like the real providers' (keys, value types, list lengths)."""
    track = library.tracks[track_id]
    truth = track.truth
    album = library.albums[track.album_id]
    entries = [
        TrackEnrichment(
            source="musicbrainz",
            categories={
                "recording_mbid": truth.recording_mbid or "",
                "release_group_mbid": album.mbid,
                "first_release_year": truth.first_release_year,
                "genres": list(truth.genres),
                "tags": list(truth.tags),
                "genres_from": "recording",
            },
            match_method="isrc",
            confidence=1.0,
        ),
        TrackEnrichment(
            source="deezer",
            categories={
                "tempo": truth.tempo,
                "gain": truth.gain,
                "rank": truth.rank,
                "genres": list(album.genres),
                "deezer_id": album.deezer_id * 10 + track.track_number,
            },
            match_method="isrc",
            confidence=1.0,
        ),
        TrackEnrichment(
            source="reccobeats",
            categories={
                "acousticness": truth.acousticness,
                "danceability": truth.danceability,
                "energy": truth.energy,
                "instrumentalness": truth.instrumentalness,
                "liveness": truth.liveness,
                "loudness": truth.loudness,
                "speechiness": truth.speechiness,
                "tempo": truth.tempo,
                "valence": truth.valence,
                "key": truth.key,
                "mode": truth.mode,
            },
            match_method="spotify_id",
            confidence=1.0,
        ),
        TrackEnrichment(
            source="lastfm",
            categories={"tags": [tag.lower() for tag in truth.tags], "tags_from": "track"},
            match_method="artist_title",
            confidence=0.9,
        ),
    ]
    for entry in entries:
        entry.categories = {k: v for k, v in entry.categories.items() if v is not None}
    return entries


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def bench_memory(count: int) -> str:
    library = generate_library(seed=5, tracks=count, playlists=0)
    ids = [saved.track_id for saved in library.liked]
    with tempfile.TemporaryDirectory(prefix="sap-bench-memory-") as tmp:
        cache = Path(tmp) / "cache"
        stores = Stores.open(cache)
        store_library(stores, library, ids)
        start = time.perf_counter()
        with stores.enrichments.update() as cache_map:
            for track_id in ids:
                cache_map[track_id] = provider_entries(library, track_id)
        write_seconds = time.perf_counter() - start
        size_mb = stores.enrichments.path.stat().st_size / 1e6
        start = time.perf_counter()
        loaded = stores.enrichments.load()
        load_seconds = time.perf_counter() - start
        entries = sum(len(value) for value in loaded.values())
        del loaded

        with sap_server(cache, timeout=300) as (server, client):
            idle = rss_mb(server.pid)
            client.post(
                "/data/rules",
                json={"id": "fast", "name": "Fast", "text": "tempo > 120 and energy > 0.5"},
            ).raise_for_status()
            start = time.perf_counter()
            preview = client.post("/pipeline/playlists/preview-from-rules", json={})
            preview.raise_for_status()
            preview_seconds = time.perf_counter() - start
            loaded_rss = rss_mb(server.pid)
            coverage = client.get("/data/enrichments/coverage")
            coverage.raise_for_status()
            after_coverage = rss_mb(server.pid)
    peak = max(loaded_rss, after_coverage)
    verdict = "under" if peak < 500 else "**over**"
    return "\n".join(
        [
            f"Enrichment store for {count:,} tracks x 4 providers ({entries:,} entries):",
            "",
            f"- enrichments.json: {size_mb:.0f} MB on disk; written in {write_seconds:.1f} s, "
            f"loaded in {load_seconds:.1f} s.",
            f"- Server RSS: {idle:.0f} MB idle (library warming in the background), "
            f"{loaded_rss:.0f} MB after a library preview over it ({preview_seconds:.1f} s), "
            f"{after_coverage:.0f} MB after `GET /data/enrichments/coverage` — "
            f"{verdict} the 500 MB target.",
        ]
    )


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # retries are counted, not printed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=60, help="one-by-one sample size")
    parser.add_argument("--memory-tracks", type=int, default=100_000)
    parser.add_argument("--skip-requests", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    sections = []
    if not args.skip_requests:
        text = bench_requests(args.tracks, args.baseline)
        print(text, flush=True)
        sections.append(text)
    memory = bench_memory(args.memory_tracks)
    print(memory)
    sections.append(memory)
    if not args.no_record and args.tracks == 10_000 and args.memory_tracks == 100_000:
        record("enrich", "\n\n".join(sections))


if __name__ == "__main__":
    main()
