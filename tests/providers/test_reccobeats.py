"""ReccoBeatsProvider against the ReccoBeats emulator: features equal the library truth for the
tracks it covers (the others not found), mapped back through `href`, 40 ids per request, 429s
survived, pacing under the limit, 5xx and dropped connections retried, caching."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.models import ArtistRef, Track, TrackEnrichment, TrackSourceType
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.reccobeats import ReccoBeatsEmulator
from app.providers.base import EnrichItem
from app.providers.reccobeats import (
    MAX_IDS,
    AudioFeatures,
    ReccoBeatsProvider,
    feature_categories,
    spotify_id_of,
)
from tests.helpers.provider_env import ProviderEnv

RATIOS = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "speechiness",
    "valence",
)
LOCAL = Track(
    id="spotify:local:Someone:Demo+Tape:Basement+Song:181",
    uri="spotify:local:Someone:Demo+Tape:Basement+Song:181",
    name="Basement Song",
    artists=[ArtistRef(name="Someone")],
    is_local=True,
)


def make_env(tmp_path: Path, tracks: int = 100, **settings: Any) -> ProviderEnv:
    """A library of `tracks` liked songs plus one local file."""
    env = ProviderEnv.create(tmp_path, tracks=tracks, **settings)
    ids = [*liked(env), LOCAL.id]
    env.stores.tracks.upsert([LOCAL])
    env.stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(ids),
            entries=[SourceEntry(track_id=track_id) for track_id in ids],
        )
    )
    return env


def unpaced(env: ProviderEnv) -> ReccoBeatsEmulator:
    env.unpaced(env.settings.reccobeats_url)
    return env.emulators.providers.reccobeats


def liked(env: ProviderEnv) -> list[str]:
    return [saved.track_id for saved in env.library.liked]


def expected(env: ProviderEnv, track_id: str) -> dict[str, Any] | None:
    """The truth's features as categories; None for a track ReccoBeats does not cover."""
    truth = env.truth(track_id)
    if not truth.in_reccobeats:
        return None
    categories: dict[str, Any] = {name: getattr(truth, name) for name in RATIOS}
    categories["loudness"] = truth.loudness
    if truth.tempo:
        categories["tempo"] = truth.tempo
    if truth.key is not None and truth.key != -1:
        categories["key"] = truth.key
    if truth.mode is not None:
        categories["mode"] = truth.mode
    return categories


def stored(env: ProviderEnv) -> dict[str, TrackEnrichment]:
    cache = env.stores.enrichments.load_enrichments_cache()
    return {
        track_id: entry
        for track_id, entries in cache.items()
        for entry in entries
        if entry.source == "reccobeats"
    }


def assert_all_as_truth(env: ProviderEnv, entries: dict[str, TrackEnrichment]) -> None:
    for track_id, entry in entries.items():
        want = expected(env, track_id)
        if want is None:
            assert entry.not_found and entry.categories == {}, track_id
        else:
            assert entry.categories == want, track_id
            assert (entry.match_method, entry.confidence) == ("spotify_id", 1.0)


def asked_ids(recco: ReccoBeatsEmulator) -> list[list[str]]:
    """The ids of each answered /audio-features request, in order."""
    return [
        record.query["ids"].split(",")
        for record in recco.requests
        if record.path == "/audio-features" and record.status == 200
    ]


def test_features_equal_the_truth_and_uncovered_tracks_are_not_found(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    unpaced(env)
    report = env.run(ReccoBeatsProvider(env.settings))

    covered = [t for t in liked(env) if env.truth(t).in_reccobeats]
    assert 0 < len(covered) < len(liked(env))
    assert (report.total, report.not_applicable) == (len(liked(env)), 1)
    assert (report.matched, report.not_found, report.failed) == (
        len(covered),
        len(liked(env)) - len(covered),
        0,
    )
    entries = stored(env)
    assert set(entries) == set(liked(env))
    assert {t for t, e in entries.items() if not e.not_found} == set(covered)
    assert_all_as_truth(env, entries)
    no_key = [t for t in covered if env.truth(t).key == -1]
    no_tempo = [t for t in covered if env.truth(t).tempo is None]
    assert no_key and no_tempo  # the library holds both cases
    assert all("key" not in entries[t].categories for t in no_key)
    assert all("tempo" not in entries[t].categories for t in no_tempo)


def test_forty_ids_per_request_mapped_back_through_href(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    recco = unpaced(env)
    report = env.run(ReccoBeatsProvider(env.settings))

    batches = asked_ids(recco)
    assert len(batches) == report.requests == math.ceil(len(liked(env)) / MAX_IDS) == 3
    assert sorted(len(ids) for ids in batches) == [20, 40, 40]
    assert sorted(i for ids in batches for i in ids) == sorted(liked(env))
    # The answers carry ReccoBeats' own UUIDs; only `href` leads back to our tracks.
    entries = stored(env)
    assert all(
        e.categories.get("energy") == env.truth(t).energy
        for t, e in entries.items()
        if not e.not_found
    )


def test_rerun_is_cached_and_refresh_asks_again(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    recco = unpaced(env)
    provider = ReccoBeatsProvider(env.settings)
    first = env.run(provider)

    again = env.run(provider)
    assert (again.total, again.cached, again.requests) == (0, first.total, 0)
    not_found = {t for t, e in stored(env).items() if e.not_found}
    assert not_found == {t for t in liked(env) if not env.truth(t).in_reccobeats}

    refreshed = env.run(provider, refresh=True)
    assert (refreshed.total, refreshed.matched, refreshed.requests) == (
        first.total,
        first.matched,
        3,
    )
    assert len(recco.requests) == 6


def test_too_many_requests_are_retried_after_the_asked_wait(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    recco = unpaced(env)  # no pace of ours: only ReccoBeats' 429s hold us back
    recco.config.rate_limit, recco.config.rate_window = 1, 1.0
    report = env.run(ReccoBeatsProvider(env.settings))

    refused = [r for r in recco.requests if r.fault == "rate_limit"]
    assert refused and all(r.status == 429 for r in refused)
    assert len(asked_ids(recco)) == 3
    assert report.requests == len(recco.requests) == 3 + len(refused)
    assert (report.failed, report.matched + report.not_found) == (0, report.total)
    assert_all_as_truth(env, stored(env))


def test_pacing_stays_under_the_limit(tmp_path: Path) -> None:
    env = make_env(tmp_path, tracks=200)
    recco = env.emulators.providers.reccobeats
    limit, window = 2, 0.4  # 5 requests/s at its shortest; we send at 4/s
    recco.config.rate_limit, recco.config.rate_window = limit, window
    report = env.run(ReccoBeatsProvider(env.settings))

    assert report.requests == 5 and report.failed == 0
    assert [r for r in recco.requests if r.fault or r.status != 200] == []
    times = [record.time for record in recco.requests]
    closest = min(later - first for first, later in zip(times, times[limit:], strict=False))
    assert closest >= timedelta(seconds=window)


def test_server_errors_and_dropped_connections_are_retried(tmp_path: Path) -> None:
    env = make_env(tmp_path, tracks=200)
    recco = unpaced(env)
    recco.config.fail_rate, recco.config.drop_rate, recco.config.fault_seed = 0.3, 0.1, 3
    provider = ReccoBeatsProvider(env.settings)
    first = env.run(provider)

    assert [r for r in recco.requests if r.fault in ("error", "drop")]
    assert first.requests == len(recco.requests)
    assert first.matched + first.not_found + first.failed == first.total == 200
    assert first.failed % MAX_IDS == 0  # a failed request fails its whole batch
    entries = stored(env)
    assert len(entries) == first.matched + first.not_found
    assert_all_as_truth(env, entries)

    recco.config.fail_rate = recco.config.drop_rate = 0.0
    second = env.run(provider)
    assert (second.total, second.failed) == (first.failed, 0)
    assert set(stored(env)) == set(liked(env))
    assert_all_as_truth(env, stored(env))


def test_local_files_are_not_applicable(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    provider = ReccoBeatsProvider(env.settings)
    track = env.stores.tracks.load_tracks()[liked(env)[0]]
    assert provider.applicable(EnrichItem(track)) is None
    assert provider.applicable(EnrichItem(LOCAL)) == "local file"

    recco = unpaced(env)
    report = env.run(provider, track_ids=[LOCAL.id])
    assert (report.not_applicable, report.total, report.requests) == (1, 0, 0)
    assert recco.requests == [] and stored(env) == {}


@pytest.mark.parametrize(
    ("href", "spotify_id"),
    [
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC", "4uLU6hMCjMI75M1A2tKUQC"),
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=abc", "4uLU6hMCjMI75M1A2tKUQC"),
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC/", "4uLU6hMCjMI75M1A2tKUQC"),
        ("spotify:track:4uLU6hMCjMI75M1A2tKUQC", "4uLU6hMCjMI75M1A2tKUQC"),
    ],
)
def test_spotify_id_of_a_link(href: str, spotify_id: str) -> None:
    assert spotify_id_of(href) == spotify_id


@pytest.mark.parametrize(
    ("features", "left_out", "kept"),
    [
        ({"tempo": 0, "key": -1, "mode": 0}, {"tempo", "key"}, {"mode": 0}),
        ({"tempo": None, "key": None, "mode": None}, {"tempo", "key", "mode"}, {}),
        ({"tempo": 97.5, "key": 0, "mode": 1}, set(), {"tempo": 97.5, "key": 0, "mode": 1}),
        ({"tempo": -3, "key": 12, "mode": 2}, {"tempo", "key", "mode"}, {}),
    ],
)
def test_unknown_features_are_left_out(
    features: dict[str, Any], left_out: set[str], kept: dict[str, Any]
) -> None:
    raw = {"href": "https://open.spotify.com/track/x", "energy": 0.5, **features}
    categories = feature_categories(AudioFeatures.model_validate(raw))
    present = {key for key, value in categories.items() if value is not None}
    assert present.isdisjoint(left_out)
    assert {key: categories[key] for key in kept} == kept
    assert categories["energy"] == 0.5
