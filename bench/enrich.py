"""Enrichment benchmark: a whole library enriched by a `sap enrich` process, against the SUM and
the MAX of the providers' own floors; MusicBrainz requests per 1,000 tracks; the demo (issue 14,
issue 15).

1. **Every provider at once, as a user runs it.** An emulator process (this script with
   `--serve`) serves every provider's emulator over HTTP with the real services' limits
   (MusicBrainz 1 request/s, Deezer 50 per 5 s, Last.fm 5 per s) and a latency on every
   request (`--latency-ms`, 50 ms; the LLM `--llm-latency-ms`, 500 ms per batch of 20
   tracks). A data directory holds the first `--tracks` (200) liked songs of its library (about
   5% without an ISRC), as a fetch leaves them. Timed: `sap enrich --refresh` (MusicBrainz,
   Deezer, ReccoBeats, Last.fm, an AcousticBrainz mirror and the LLM) as a whole process,
   min/median/max of `--runs` (3). 200 tracks keep one run at about a minute (part 1 about
   three, the whole benchmark about five): Last.fm's floor binds (about one request per track
   at our 4 requests/s), and a bigger library only makes every run longer, not the ratios
   truer.

   Each provider's **floor** comes from the requests the emulators counted in that run
   (`GET /_stats`): for each service it calls, the larger of requests ÷ the pace we allow
   ourselves under the service's limit (MusicBrainz 1/s, ListenBrainz 5/s, Deezer 9/s,
   ReccoBeats 4/s, Last.fm 4/s, the mirror 5/s) and requests x latency ÷ the batches it keeps
   in flight (the LLM, which has no pace, is latency-bound). **SUM** is the best one provider
   after the other could do; **MAX** is the best running them together can: the slowest
   provider, AcousticBrainz counted after MusicBrainz (it reads MusicBrainz's recording ids).
2. **MusicBrainz requests per 1,000 tracks** (about 5% without an ISRC): `sap enrich -p
   musicbrainz` as a process over 1,000 tracks of the same emulator (target ≤ 25). Baseline,
   in process with the emulator's limit off (labelled so): one search per track without an
   ISRC, what the provider did before (`SAP_MUSICBRAINZ_NAME_BATCH_SIZE=1`).
3. **The demo**: `sap enrich --demo --refresh` on the default demo library (2,000 liked songs
   and 20 playlists) as a whole process, after an untimed login and fetch; `--runs` runs.
4. `--memory` (not run by default; its own section): the enrichment store for 100,000 tracks x
   4 providers, and a real server's RSS over it.

    python bench/enrich.py                      # what `make bench` runs (about 5 minutes)
    python bench/enrich.py --skip-demo --skip-per-1000 --runs 1 --no-record   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from app.core.models import TrackEnrichment, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary
from app.emulators.server import create_emulator_server
from app.pipeline.enrichment.runner import enrich_tracks
from app.providers.acousticbrainz import MIRROR_RATE, AcousticBrainzProvider
from app.providers.deezer import DeezerProvider
from app.providers.http import ProviderNet
from app.providers.lastfm import LastfmProvider
from app.providers.llm import LlmProvider
from app.providers.musicbrainz.labels import LISTENBRAINZ_RATE
from app.providers.musicbrainz.provider import MusicBrainzProvider
from app.providers.reccobeats import ReccoBeatsProvider
from bench._report import ROOT, record
from bench._server import free_port, sap_server
from tests.helpers.provider_env import BASE, core_track, provider_settings

SAP = str(Path(sys.executable).with_name("sap"))
SEED = 11
LIBRARY_TRACKS = 1000  # the emulators' library; part 1 stores its first --tracks liked songs

# What each provider calls, and the pace we allow ourselves there (requests/s; None: unpaced).
SERVICES: dict[str, tuple[str, ...]] = {
    "musicbrainz": ("musicbrainz", "listenbrainz"),
    "deezer": ("deezer",),
    "reccobeats": ("reccobeats",),
    "lastfm": ("lastfm",),
    "acousticbrainz": ("acousticbrainz",),
    "llm": ("llm",),
}
PACE: dict[str, float | None] = {
    "musicbrainz": MusicBrainzProvider.rate_limit,
    "listenbrainz": LISTENBRAINZ_RATE,
    "deezer": DeezerProvider.rate_limit,
    "reccobeats": ReccoBeatsProvider.rate_limit,
    "lastfm": LastfmProvider.rate_limit,
    "acousticbrainz": MIRROR_RATE,
    "llm": LlmProvider.rate_limit,
}
IN_FLIGHT = {
    "musicbrainz": MusicBrainzProvider.concurrency,
    "deezer": DeezerProvider.concurrency,
    "reccobeats": ReccoBeatsProvider.concurrency,
    "lastfm": LastfmProvider.concurrency,
    "acousticbrainz": AcousticBrainzProvider.concurrency,
    "llm": LlmProvider.concurrency,
}


# --- the emulator process ---------------------------------------------------------------------


def serve(port: int, latency_ms: float, llm_latency_ms: float) -> None:
    """`--serve`: every provider's emulator with its real limits, on 127.0.0.1:port."""
    import uvicorn

    library = generate_library(seed=SEED, tracks=LIBRARY_TRACKS, playlists=0)
    server = create_emulator_server(library=library)
    providers = server.providers
    for emulator in (
        providers.musicbrainz,
        providers.listenbrainz,
        providers.deezer,
        providers.reccobeats,
        providers.lastfm,
        providers.acousticbrainz,
    ):
        emulator.config.latency_ms = latency_ms
    providers.llm.config.latency_ms = llm_latency_ms
    uvicorn.run(server, host="127.0.0.1", port=port, log_level="warning")


def start_emulators(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable,
        __file__,
        "--serve",
        str(port),
        "--latency-ms",
        str(args.latency_ms),
        "--llm-latency-ms",
        str(args.llm_latency_ms),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the emulators did not start")


def counts(base: str) -> dict[str, int]:
    stats = httpx.get(f"{base}/_stats", timeout=30).json()
    return {service: int(n) for service, n in stats["requests"].items()}


def sap_env(base: str, cache: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAP_")}
    return {
        **env,
        "SAP_SPOTIFY_CLIENT_ID": "bench",
        "SAP_CACHE_DIR": str(cache),
        "SAP_LOG_LEVEL": "WARNING",
        "SAP_CONTACT": "bench@spotify-auto-playlists.invalid",
        "SAP_MUSICBRAINZ_URL": f"{base}/musicbrainz/ws/2",
        "SAP_LISTENBRAINZ_URL": f"{base}/listenbrainz/1",
        "SAP_DEEZER_URL": f"{base}/deezer",
        "SAP_RECCOBEATS_URL": f"{base}/reccobeats/v1",
        "SAP_LASTFM_URL": f"{base}/lastfm/2.0",
        "SAP_LASTFM_API_KEY": "bench-key",
        "SAP_LLM_BASE_URL": f"{base}/llm/v1",
        "SAP_LLM_MODEL": "bench-llm",
        "SAP_ACOUSTICBRAINZ_URL": f"{base}/acousticbrainz",
        "COLUMNS": "120",
        **extra,
    }


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


def run_sap(argv: list[str], env: Mapping[str, str]) -> tuple[float, Any]:
    """One `sap … --json` process, timed from spawn to exit; its JSON."""
    start = time.perf_counter()
    done = subprocess.run(
        [SAP, *argv, "--json"], env=dict(env), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"sap {' '.join(argv)} failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}/{five:.2f}/{fifteen:.2f}"


def spread(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f} s"


# --- 1. every provider at once ----------------------------------------------------------------


def floors(requests: Mapping[str, int], latency: Mapping[str, float]) -> dict[str, float]:
    """Each provider's floor in seconds, from the requests each of its services answered."""
    result: dict[str, float] = {}
    for provider, services in SERVICES.items():
        per_service = []
        for service in services:
            sent = requests.get(service, 0)
            pace = PACE[service]
            paced = sent / pace if pace else 0.0
            waited = sent * latency[service] / IN_FLIGHT[provider]
            per_service.append(max(paced, waited))
        result[provider] = max(per_service)
    return result


def bench_together(args: argparse.Namespace, base: str) -> str:
    library = generate_library(seed=SEED, tracks=LIBRARY_TRACKS, playlists=0)
    ids = [saved.track_id for saved in library.liked][: args.tracks]
    without_isrc = sum(1 for track_id in ids if not library.tracks[track_id].isrc)
    latency = dict.fromkeys(PACE, args.latency_ms / 1000)
    latency["llm"] = args.llm_latency_ms / 1000
    with tempfile.TemporaryDirectory(prefix="sap-bench-enrich-") as tmp:
        cache = Path(tmp) / "data"
        store_library(Stores.open(cache), library, ids)
        env = sap_env(base, cache)
        load_before = load()
        walls: list[float] = []
        runs: list[tuple[dict[str, int], dict[str, Any]]] = []
        for _ in range(args.runs):
            before = counts(base)
            seconds, [job] = run_sap(["enrich", "--refresh"], env)
            after = counts(base)
            if job["status"] != "done":
                raise SystemExit(f"the enrich job ended {job['status']}: {job['error']}")
            walls.append(seconds)
            runs.append(({k: after.get(k, 0) - before.get(k, 0) for k in after}, job))
        load_after = load()

    median_run = sorted(range(len(walls)), key=walls.__getitem__)[len(walls) // 2]
    requests, job = runs[median_run]
    floor = floors(requests, latency)
    chained = floor["musicbrainz"] + floor["acousticbrainz"]
    total_floor = sum(floor.values())
    max_floor = max(chained, *(v for k, v in floor.items() if k not in SERVICES["musicbrainz"]))
    reports = {report["provider"]: report for report in job["payload"]["providers"]}
    rows = [
        "| provider | requests (services) | its floor | its time in the job | ÷ floor |",
        "|---|---|---|---|---|",
    ]
    for provider, services in SERVICES.items():
        sent = " + ".join(f"{requests.get(s, 0)} {s}" for s in services)
        took = reports[provider]["seconds"]
        rows.append(
            f"| {provider} | {sent} | {floor[provider]:.1f} s | {took:.1f} s "
            f"| {took / floor[provider]:.2f} x |"
            if floor[provider]
            else f"| {provider} | {sent} | 0 s | {took:.1f} s | |"
        )
    median = statistics.median(walls)
    lines = [
        f"`sap enrich --refresh` as a process: {args.tracks} tracks ({without_isrc} without an "
        f"ISRC), 6 providers at once, emulators in their own process with the real limits and "
        f"{args.latency_ms:.0f} ms a request ({args.llm_latency_ms:.0f} ms for the LLM); "
        f"{args.runs} runs; load average (1/5/15 min) {load_before} before, {load_after} after.",
        "",
        "| | time |",
        "|---|---|",
        f"| `sap enrich`, whole process (min / median / max) | {spread(walls)} |",
        f"| SUM of the providers' floors (one after the other, at best) | {total_floor:.1f} s |",
        f"| MAX of the floors (together, at best; MusicBrainz → AcousticBrainz as one chain) "
        f"| {max_floor:.1f} s |",
        "",
        f"- **{median / total_floor:.2f}x the SUM** (one provider after the other could not go "
        f"under it) and **{median / max_floor:.2f}x the MAX** (the median run; the process's "
        "start, planning and final save included).",
        "",
        "Per provider (the median run; each provider's time from its start to its end inside "
        "the job):",
        "",
        *rows,
    ]
    return "\n".join(lines)


# --- 2. MusicBrainz requests per 1,000 tracks ---------------------------------------------------


async def _one_search_per_track(library: GeneratedLibrary, ids: list[str]) -> int:
    """The baseline, in process, limits off: MusicBrainz requests with one title search per
    track without an ISRC (the provider before this change)."""
    server = create_emulator_server(library=library, base_url=BASE)
    server.providers.musicbrainz.config.enforce_rate_limit = False
    with tempfile.TemporaryDirectory(prefix="sap-bench-mb-") as tmp:
        settings = provider_settings(Path(tmp) / "cache", musicbrainz_name_batch_size=1)
        stores = Stores.open(settings.cache_dir)
        store_library(stores, library, ids)
        unpaced = {settings.musicbrainz_url: None, settings.listenbrainz_url: None}
        async with ProviderNet(
            settings, transport=emulator_transport(server), rates=unpaced
        ) as net:
            await enrich_tracks(MusicBrainzProvider(settings), stores, net)
    return len(server.providers.musicbrainz.requests)


def bench_per_1000(base: str) -> str:
    library = generate_library(seed=SEED, tracks=LIBRARY_TRACKS, playlists=0)
    ids = [saved.track_id for saved in library.liked]
    without_isrc = sum(1 for track_id in ids if not library.tracks[track_id].isrc)
    with tempfile.TemporaryDirectory(prefix="sap-bench-mb-") as tmp:
        cache = Path(tmp) / "data"
        store_library(Stores.open(cache), library, ids)
        before = counts(base)
        seconds, [job] = run_sap(["enrich", "-p", "musicbrainz"], sap_env(base, cache))
        sent = counts(base)["musicbrainz"] - before.get("musicbrainz", 0)
    baseline = asyncio.run(_one_search_per_track(library, ids))
    per_1000 = 1000 * sent / len(ids)
    return "\n".join(
        [
            f"MusicBrainz requests for {len(ids):,} tracks, {without_isrc} of them "
            f"({100 * without_isrc / len(ids):.1f}%) without an ISRC:",
            "",
            "| | MusicBrainz requests | per 1,000 tracks |",
            "|---|---|---|",
            f"| `sap enrich -p musicbrainz`, a process ({seconds:.0f} s at 1 request/s; "
            f"{job['payload']['matched']} matched) | {sent} | {per_1000:.1f} |",
            f"| baseline, in process: one search per track without an ISRC | {baseline} | "
            f"{1000 * baseline / len(ids):.1f} |",
            "",
            f"- **{per_1000:.0f} per 1,000 tracks** (target ≤ 25), {baseline / sent:.1f}x fewer "
            "than one search per track without an ISRC.",
        ]
    )


# --- 3. the demo --------------------------------------------------------------------------------


def bench_demo(runs: int) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAP_")}
    with tempfile.TemporaryDirectory(prefix="sap-bench-demo-") as tmp:
        env = {**env, "SAP_CACHE_DIR": tmp, "SAP_LOG_LEVEL": "WARNING", "COLUMNS": "120"}
        for setup in (["login", "--demo"], ["fetch", "--demo"]):  # untimed
            subprocess.run([SAP, *setup], env=env, capture_output=True, check=True)
        load_before = load()
        walls: list[float] = []
        job: dict[str, Any] = {}
        for _ in range(runs):
            seconds, [job] = run_sap(["enrich", "--demo", "--refresh"], env)
            if job["status"] != "done":
                raise SystemExit(f"the demo enrich job ended {job['status']}: {job['error']}")
            walls.append(seconds)
        load_after = load()
    payload = job["payload"]
    return "\n".join(
        [
            f"The demo: `sap enrich --demo --refresh` as a whole process over the default demo "
            f"library ({payload['selected']:,} tracks: 2,000 liked songs and 20 playlists), every "
            f"provider ({len(payload['providers'])}) at once, the demo's emulators unpaced; "
            f"{runs} runs; load average {load_before} before, {load_after} after.",
            "",
            f"- **{spread(walls)}** (min / median / max): {payload['matched']:,} matches "
            f"(a track counts once per provider) with {payload['requests']:,} requests. Target "
            "of issue 15: a fully enriched demo library in under two minutes from the first "
            "click; with the real limits it took about 20 minutes.",
        ]
    )


# --- 4. memory (its own section) ---------------------------------------------------------------


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
    parser.add_argument("--tracks", type=int, default=200, help="part 1's library size")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--llm-latency-ms", type=float, default=500.0)
    parser.add_argument("--skip-per-1000", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also part 4 (slow)")
    parser.add_argument("--memory-tracks", type=int, default=100_000)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency_ms, args.llm_latency_ms)
        return

    sections: list[str] = []
    emulators, base = start_emulators(args)
    try:
        together = bench_together(args, base)
        print(together, "\n", flush=True)
        sections.append(together)
        if not args.skip_per_1000:
            per_1000 = bench_per_1000(base)
            print(per_1000, "\n", flush=True)
            sections.append(per_1000)
    finally:
        emulators.terminate()
        emulators.wait(30)
    if not args.skip_demo:
        demo = bench_demo(args.runs)
        print(demo, "\n", flush=True)
        sections.append(demo)
    defaults = (args.tracks, args.latency_ms, args.llm_latency_ms) == (200, 50.0, 500.0)
    if not args.no_record and defaults and args.runs >= 3 and len(sections) == 3:
        record("enrich", "\n\n".join(sections))
        print(f"recorded in {(ROOT / 'docs' / 'performance.md').relative_to(ROOT)}")
    if args.memory:
        memory = bench_memory(args.memory_tracks)
        print(memory)
        if not args.no_record and args.memory_tracks == 100_000:
            record("enrich-memory", memory)


if __name__ == "__main__":
    main()
