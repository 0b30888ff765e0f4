"""DeezerProvider against the Deezer emulator: values equal the library truth (tempo left out,
never 0, when unknown), one album lookup per album and run, the quota error survived, pacing
under the quota, 5xx and dropped connections retried, caching, and what is not applicable."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.core.models import ArtistRef, Track, TrackEnrichment, TrackSourceType
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.deezer import DeezerEmulator
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack
from app.providers.base import EnrichItem
from app.providers.deezer import DeezerProvider
from tests.helpers.provider_env import ProviderEnv

LOCAL = Track(
    id="spotify:local:Someone:Demo+Tape:Basement+Song:181",
    uri="spotify:local:Someone:Demo+Tape:Basement+Song:181",
    name="Basement Song",
    artists=[ArtistRef(name="Someone")],
    is_local=True,
)


def deezer_library() -> tuple[GeneratedLibrary, list[str]]:
    """The generated library with three more tracks (ISRC, but unknown to Deezer)."""
    library = generate_library(seed=7, tracks=60, playlists=0)
    isrcs = Counter(track.isrc for track in library.tracks.values())
    unknown = [
        s.track_id
        for s in library.liked
        if library.tracks[s.track_id].isrc and isrcs[library.tracks[s.track_id].isrc] == 1
    ][1:13:4]
    tracks = dict(library.tracks)
    for track_id in unknown:
        track = tracks[track_id]
        tracks[track_id] = replace(track, truth=replace(track.truth, in_deezer=False))
    return replace(library, tracks=tracks), unknown


def make_env(tmp_path: Path, **settings: Any) -> tuple[ProviderEnv, list[str]]:
    library, unknown = deezer_library()
    env = ProviderEnv.create(tmp_path, library=library, **settings)
    ids = [s.track_id for s in library.liked]
    env.stores.tracks.upsert([LOCAL])
    env.stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(ids) + 1,
            entries=[SourceEntry(track_id=track_id) for track_id in [*ids, LOCAL.id]],
        )
    )
    return env, unknown


def unlimited(env: ProviderEnv) -> DeezerEmulator:
    """The emulator without its quota, our client without its pace (fast tests)."""
    deezer = env.emulators.providers.deezer
    deezer.config.rate_limit = None
    env.unpaced(env.settings.deezer_url)
    return deezer


def with_isrc(env: ProviderEnv) -> list[str]:
    return [s.track_id for s in env.library.liked if env.library.tracks[s.track_id].isrc]


def answering(env: ProviderEnv, track_id: str) -> GeneratedTrack:
    """The track Deezer gives for the track's ISRC: a compilation copy shares its ISRC (and
    truth) with the album track, and Deezer answers the first one."""
    deezer = env.emulators.providers.deezer
    return env.library.tracks[deezer.index.by_isrc[env.library.tracks[track_id].isrc or ""][0]]


def answering_album(env: ProviderEnv, track_id: str) -> int:
    return env.library.albums[answering(env, track_id).album_id].deezer_id


def expected(env: ProviderEnv, track_id: str) -> dict[str, Any] | None:
    """What Deezer knows of the track, as categories; None when it does not know it."""
    truth = env.truth(track_id)
    if not truth.in_deezer:
        return None
    answer = answering(env, track_id)
    categories: dict[str, Any] = {
        "gain": truth.gain,
        "rank": truth.rank,
        "genres": [genre.lower() for genre in env.library.albums[answer.album_id].genres],
        "deezer_id": DeezerEmulator.track_id(answer),
    }
    if truth.tempo is not None:
        categories["tempo"] = truth.tempo
    return categories


def stored(env: ProviderEnv) -> dict[str, TrackEnrichment]:
    cache = env.stores.enrichments.load_enrichments_cache()
    return {
        track_id: entry
        for track_id, entries in cache.items()
        for entry in entries
        if entry.source == "deezer"
    }


def paths(deezer: DeezerEmulator, prefix: str) -> list[str]:
    return [record.path for record in deezer.requests if record.path.startswith(prefix)]


def test_values_equal_the_truth_and_unknown_tempo_is_left_out(tmp_path: Path) -> None:
    env, unknown = make_env(tmp_path)
    unlimited(env)
    report = env.run(DeezerProvider(env.settings))

    asked = with_isrc(env)
    no_isrc = len(env.library.liked) - len(asked)
    assert no_isrc > 0
    assert (report.total, report.not_applicable) == (len(asked), no_isrc + 1)
    known = [t for t in asked if env.truth(t).in_deezer]
    assert len(known) == len(asked) - len(unknown)
    assert (report.matched, report.not_found, report.failed) == (len(known), len(unknown), 0)
    entries = stored(env)
    assert set(entries) == set(asked)
    for track_id in asked:
        entry = entries[track_id]
        if track_id in unknown:
            assert entry.not_found and entry.categories == {}
            continue
        assert entry.categories == expected(env, track_id), track_id
        assert (entry.match_method, entry.confidence, entry.not_found) == ("isrc", 1.0, False)
    no_tempo = [t for t in asked if env.truth(t).tempo is None and env.truth(t).in_deezer]
    assert no_tempo, "the library should hold a Deezer track without a known tempo"
    for track_id in no_tempo:
        assert "tempo" not in entries[track_id].categories
    assert all(entry.categories.get("tempo", 1) > 0 for entry in entries.values())


def test_each_album_is_asked_about_once_per_run(tmp_path: Path) -> None:
    env, unknown = make_env(tmp_path)
    deezer = unlimited(env)
    report = env.run(DeezerProvider(env.settings))

    asked = with_isrc(env)
    albums = {answering_album(env, t) for t in asked if t not in unknown}
    assert len(albums) < len(asked) - len(unknown)  # albums are shared: a cache is needed
    track_paths = paths(deezer, "/track/")
    assert sorted(track_paths) == sorted(f"/track/isrc:{env.library.tracks[t].isrc}" for t in asked)
    assert sorted(paths(deezer, "/album/")) == sorted(f"/album/{a}" for a in albums)
    assert report.requests == len(deezer.requests) == len(asked) + len(albums)


def test_rerun_is_cached_and_refresh_asks_again(tmp_path: Path) -> None:
    env, unknown = make_env(tmp_path)
    deezer = unlimited(env)
    provider = DeezerProvider(env.settings)
    first = env.run(provider)

    again = env.run(provider)
    assert (again.total, again.requests, again.cached) == (0, 0, first.total)
    assert {t for t, e in stored(env).items() if e.not_found} == set(unknown)

    before = len(deezer.requests)
    refreshed = env.run(provider, refresh=True)
    assert (refreshed.total, refreshed.matched, refreshed.not_found) == (
        first.total,
        first.matched,
        first.not_found,
    )
    # A new run has a new album cache: every album is asked about again, once.
    assert refreshed.requests == len(deezer.requests) - before == first.requests


def test_quota_error_pauses_then_retries(tmp_path: Path) -> None:
    env, unknown = make_env(tmp_path)
    deezer = env.emulators.providers.deezer
    deezer.config.rate_limit, deezer.config.rate_window = 8, 1.0
    env.unpaced(env.settings.deezer_url)  # bursts straight into the quota
    track_ids = [t for t in with_isrc(env) if t not in unknown][:8]
    report = env.run(DeezerProvider(env.settings), track_ids=track_ids)

    assert (report.matched, report.not_found, report.failed) == (8, 0, 0)
    entries = stored(env)
    for track_id in track_ids:
        assert entries[track_id].categories == expected(env, track_id)
    refused = [r for r in deezer.requests if r.fault == "rate_limit"]
    assert refused and all(r.status == 200 for r in refused)  # Deezer's quota error is a 200
    served = [r for r in deezer.requests if r.fault is None]
    albums = {answering_album(env, t) for t in track_ids}
    assert len(served) == len(track_ids) + len(albums)
    assert report.requests == len(deezer.requests) == len(served) + len(refused)


def test_pacing_stays_under_the_quota(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    deezer = env.emulators.providers.deezer
    # Deezer's 50 requests / 5 s, held over every 1 s window: at 9 requests/s we fit.
    limit, window = 10, 1.0
    deezer.config.rate_limit, deezer.config.rate_window = limit, window
    track_ids = with_isrc(env)[:20]
    report = env.run(DeezerProvider(env.settings), track_ids=track_ids)

    assert report.failed == 0 and report.matched + report.not_found == 20
    assert [r for r in deezer.requests if r.fault or r.status != 200] == []
    times = [record.time for record in deezer.requests]
    assert len(times) > 2 * limit
    closest = min(later - first for first, later in zip(times, times[limit:], strict=False))
    assert closest >= timedelta(seconds=window)


def test_server_errors_and_dropped_connections_are_retried(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    deezer = unlimited(env)
    deezer.config.fail_rate, deezer.config.drop_rate, deezer.config.fault_seed = 0.3, 0.1, 5
    provider = DeezerProvider(env.settings)
    first = env.run(provider)

    faults = [r for r in deezer.requests if r.fault in ("error", "drop")]
    assert faults and all(r.status in (500, 502, 503, None) for r in faults)
    assert first.requests == len(deezer.requests)
    assert first.matched + first.not_found + first.failed == first.total
    entries = stored(env)
    assert len(entries) == first.matched + first.not_found  # failed tracks: nothing stored
    for track_id, entry in entries.items():
        want = expected(env, track_id)
        assert entry.not_found if want is None else entry.categories == want

    deezer.config.fail_rate = deezer.config.drop_rate = 0.0
    second = env.run(provider)
    assert (second.total, second.failed) == (first.failed, 0)
    entries = stored(env)
    assert set(entries) == set(with_isrc(env))
    for track_id, entry in entries.items():
        want = expected(env, track_id)
        assert entry.not_found if want is None else entry.categories == want


def test_a_request_failing_for_good_ends_its_batch_and_keeps_what_it_learnt(
    tmp_path: Path,
) -> None:
    env, _ = make_env(tmp_path, provider_max_attempts=1)
    deezer = unlimited(env)
    # One batch, so requests go in order; with this seed the 19th request gets a 5xx.
    deezer.config.fail_rate, deezer.config.fault_seed = 0.05, 10
    track_ids = with_isrc(env)[:20]
    provider = DeezerProvider(env.settings)
    first = env.run(provider, track_ids=track_ids)

    assert [r.fault for r in deezer.requests].count("error") == 1
    assert deezer.requests[-1].fault == "error"  # nothing more asked after the failure
    assert first.matched > 0 and first.failed > 0
    assert first.matched + first.not_found + first.failed == len(track_ids)
    entries = stored(env)
    assert len(entries) == first.matched + first.not_found
    for track_id, entry in entries.items():
        want = expected(env, track_id)
        assert entry.not_found if want is None else entry.categories == want
    failing = deezer.requests[-1]
    assert first.errors == [
        f"emulators.test/deezer failed GET {failing.path} with HTTP {failing.status} "
        "after 1 attempt"
    ]

    deezer.config.fail_rate = 0.0
    second = env.run(provider, track_ids=track_ids)
    assert (second.total, second.cached, second.failed) == (first.failed, len(entries), 0)
    assert set(stored(env)) == set(track_ids)


def test_not_applicable_without_isrc_or_for_local_files(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    provider = DeezerProvider(env.settings)
    track = env.stores.tracks.load_tracks()[with_isrc(env)[0]]
    assert provider.applicable(EnrichItem(track)) is None
    assert provider.applicable(EnrichItem(track.model_copy(update={"isrc": None}))) == "no ISRC"
    assert provider.applicable(EnrichItem(LOCAL)) == "local file"

    deezer = unlimited(env)
    no_isrc = [s.track_id for s in env.library.liked if not env.library.tracks[s.track_id].isrc]
    report = env.run(provider, track_ids=[*no_isrc, LOCAL.id])
    assert (report.not_applicable, report.total, report.requests) == (len(no_isrc) + 1, 0, 0)
    assert deezer.requests == [] and stored(env) == {}


def test_describe_lists_the_categories(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    row = DeezerProvider(env.settings).describe()
    assert [field["name"] for field in row["fields"]] == [
        "tempo",
        "gain",
        "rank",
        "genres",
        "deezer_id",
    ]
    assert (row["id"], row["enabled"], row["match_methods"]) == ("deezer", True, ["isrc"])
    assert row["settings"] == ["SAP_DEEZER_URL"] and row["rate_limit"] < 10
