"""LastfmProvider against the Last.fm emulator: track tags equal the library truth (above the
count threshold), the artist's tags when Last.fm does not know the track (each artist asked
once), error 29 survived, pacing under the limit, a bad or suspended key stops the run, 5xx and
dropped connections retried, caching, local files looked up by name, no key: disabled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import UpstreamError
from app.core.models import ArtistRef, Track, TrackEnrichment, TrackSourceType
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.lastfm import LastfmEmulator, tag_count
from app.emulators.library.index import fold
from app.providers.base import EnrichItem
from app.providers.lastfm import (
    KEY_URL,
    MAX_TAGS,
    MIN_TAG_COUNT,
    LastfmProvider,
    LastfmTopTags,
    kept_tags,
)
from tests.helpers.provider_env import LASTFM_KEY, ProviderEnv


def local_file(artist: str, title: str) -> Track:
    uri = f"spotify:local:{artist.replace(' ', '+')}:Tape:{title.replace(' ', '+')}:200"
    return Track(id=uri, uri=uri, name=title, artists=[ArtistRef(name=artist)], is_local=True)


NOBODY = local_file("Nobody Knows", "Basement Song")  # unknown to Last.fm, artist included


def make_env(tmp_path: Path, **settings: Any) -> ProviderEnv:
    """60 liked songs; the emulator's limit off and our pace off."""
    env = ProviderEnv.create(tmp_path, **settings)
    env.emulators.providers.lastfm.config.rate_limit = None
    env.unpaced(env.settings.lastfm_url)
    return env


def add_local_files(env: ProviderEnv, *tracks: Track) -> None:
    """Store local files after the liked songs, as a fetch of the liked source would."""
    ids = [*liked(env), *(track.id for track in tracks)]
    env.stores.tracks.upsert(tracks)
    env.stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(ids),
            entries=[SourceEntry(track_id=track_id) for track_id in ids],
        )
    )


def liked(env: ProviderEnv) -> list[str]:
    return [saved.track_id for saved in env.library.liked]


def lastfm(env: ProviderEnv) -> LastfmEmulator:
    return env.emulators.providers.lastfm


def first_artist(env: ProviderEnv, track_id: str) -> str:
    return env.library.artists[env.library.tracks[track_id].artist_ids[0]].name


def above_threshold(names: list[str] | tuple[str, ...]) -> list[str]:
    """Tags the emulator ranks at a count of at least the threshold, as we keep them."""
    kept = [name.lower() for rank, name in enumerate(names) if tag_count(rank) >= MIN_TAG_COUNT]
    return kept[:MAX_TAGS]


def artist_expected(env: ProviderEnv, name: str) -> list[str]:
    artist = next(a for a in env.library.artists.values() if fold(a.name) == fold(name))
    return above_threshold(lastfm(env).artist_tags(artist))


def expected(env: ProviderEnv, track_id: str) -> dict[str, Any]:
    """What Last.fm gives: the track's truth tags, or (unknown track) its artist's tags."""
    track = env.library.tracks[track_id]
    known = lastfm(env).find_track(first_artist(env, track_id), track.name, autocorrect=True)
    if known is not None:
        return {"tags": above_threshold(known.truth.tags), "tags_from": "track"}
    return {"tags": artist_expected(env, first_artist(env, track_id)), "tags_from": "artist"}


def stored(env: ProviderEnv) -> dict[str, TrackEnrichment]:
    cache = env.stores.enrichments.load_enrichments_cache()
    return {
        track_id: entry
        for track_id, entries in cache.items()
        for entry in entries
        if entry.source == "lastfm"
    }


def methods(env: ProviderEnv) -> list[str]:
    """The method of each request Last.fm answered (found or not), in order."""
    return [r.query["method"] for r in lastfm(env).requests if r.fault is None]


def assert_all_as_expected(env: ProviderEnv, entries: dict[str, TrackEnrichment]) -> None:
    for track_id, entry in entries.items():
        want = expected(env, track_id)
        assert entry.categories == want, track_id
        confidence = 0.9 if want["tags_from"] == "track" else 0.5
        assert (entry.match_method, entry.confidence) == ("artist_title", confidence)


def test_track_tags_equal_the_truth_and_unknown_tracks_take_the_artists(
    tmp_path: Path,
) -> None:
    env = make_env(tmp_path)
    report = env.run(LastfmProvider(env.settings))

    assert (report.total, report.matched, report.not_found, report.failed) == (60, 60, 0, 0)
    entries = stored(env)
    assert set(entries) == set(liked(env))
    assert_all_as_expected(env, entries)
    own = [t for t in liked(env) if env.truth(t).in_lastfm]
    for track_id in own:  # Last.fm's tags of a track it knows are the truth's
        assert entries[track_id].categories["tags"] == above_threshold(env.truth(track_id).tags)
    assert any(len(entries[t].categories["tags"]) < len(env.truth(t).tags) for t in own)
    fallback = [t for t, e in entries.items() if e.categories["tags_from"] == "artist"]
    assert sorted(fallback) == sorted(t for t in liked(env) if not env.truth(t).in_lastfm)


def test_each_artist_is_asked_about_once_per_run(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    report = env.run(LastfmProvider(env.settings))

    unknown = [t for t in liked(env) if not env.truth(t).in_lastfm]
    artists = {fold(first_artist(env, t)) for t in unknown}
    assert len(artists) < len(unknown)  # artists are shared: a cache is needed
    asked = methods(env)
    assert asked.count("track.getTopTags") == 60
    assert asked.count("artist.getTopTags") == len(artists)
    artist_queries = [
        r.query for r in lastfm(env).requests if r.query["method"].startswith("artist")
    ]
    assert sorted(fold(q["artist"]) for q in artist_queries) == sorted(artists)
    assert report.requests == len(lastfm(env).requests) == 60 + len(artists)
    first = lastfm(env).requests[0].query
    assert (first["autocorrect"], first["api_key"], first["format"]) == ("1", LASTFM_KEY, "json")


def test_local_files_are_looked_up_by_name(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    known_id = next(t for t in liked(env) if env.truth(t).in_lastfm)
    copy = local_file(first_artist(env, known_id), env.library.tracks[known_id].name)
    add_local_files(env, copy, NOBODY)
    report = env.run(LastfmProvider(env.settings), track_ids=[copy.id, NOBODY.id])

    assert (report.matched, report.not_found, report.not_applicable) == (1, 1, 0)
    entries = stored(env)
    assert entries[copy.id].categories == expected(env, known_id)
    assert entries[NOBODY.id].not_found
    assert methods(env) == ["track.getTopTags", "track.getTopTags", "artist.getTopTags"]


def test_rerun_is_cached_and_refresh_asks_again(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    add_local_files(env, NOBODY)
    provider = LastfmProvider(env.settings)
    first = env.run(provider)
    assert (first.matched, first.not_found) == (60, 1)

    again = env.run(provider)
    assert (again.total, again.cached, again.requests) == (0, 61, 0)
    assert {t for t, e in stored(env).items() if e.not_found} == {NOBODY.id}

    before = len(lastfm(env).requests)
    refreshed = env.run(provider, refresh=True)
    assert (refreshed.total, refreshed.matched, refreshed.not_found) == (61, 60, 1)
    assert refreshed.requests == len(lastfm(env).requests) - before == first.requests


def test_rate_limit_error_pauses_then_retries(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    lastfm(env).config.rate_limit, lastfm(env).config.rate_window = 4, 0.5
    track_ids = [t for t in liked(env) if env.truth(t).in_lastfm][:9]
    report = env.run(LastfmProvider(env.settings), track_ids=track_ids)

    refused = [r for r in lastfm(env).requests if r.fault == "rate_limit"]
    assert refused and all(r.status == 429 for r in refused)
    assert methods(env) == ["track.getTopTags"] * 9
    assert report.requests == len(lastfm(env).requests) == 9 + len(refused)
    assert (report.matched, report.failed) == (9, 0)
    assert_all_as_expected(env, stored(env))


def test_pacing_stays_under_the_limit(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path)  # the emulator's limit and our pace both on
    limit, window = lastfm(env).config.rate_limit, lastfm(env).config.rate_window
    assert limit is not None
    report = env.run(LastfmProvider(env.settings), track_ids=liked(env)[:10])

    assert report.failed == 0 and report.matched == 10
    assert [r for r in lastfm(env).requests if r.fault or r.status != 200] == []
    times = [record.time for record in lastfm(env).requests]
    assert len(times) > limit
    closest = min(later - first for first, later in zip(times, times[limit:], strict=False))
    assert closest >= timedelta(seconds=window)


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"api_keys": ("another-key",)}, "is not valid (Last.fm error 10"),
        ({"suspended_keys": (LASTFM_KEY,)}, "is suspended (Last.fm error 26"),
    ],
)
def test_a_refused_key_stops_the_run(tmp_path: Path, config: dict[str, Any], problem: str) -> None:
    env = make_env(tmp_path)
    for name, value in config.items():
        setattr(lastfm(env).config, name, value)
    provider = LastfmProvider(env.settings)
    with pytest.raises(UpstreamError) as raised:
        env.run(provider)

    assert problem in raised.value.detail
    assert "SAP_LASTFM_API_KEY" in raised.value.detail and KEY_URL in raised.value.detail
    assert LASTFM_KEY not in raised.value.detail
    # Batches in flight when the key was refused asked once each; later ones not at all.
    assert 1 <= len(lastfm(env).requests) <= provider.concurrency
    assert all(r.status == 403 for r in lastfm(env).requests)
    assert stored(env) == {}  # nothing marked not found


def test_server_errors_and_dropped_connections_are_retried(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    lastfm(env).config.fail_rate, lastfm(env).config.drop_rate = 0.3, 0.1
    lastfm(env).config.fault_seed = 11
    provider = LastfmProvider(env.settings)
    first = env.run(provider)

    assert [r for r in lastfm(env).requests if r.fault in ("error", "drop")]
    assert first.requests == len(lastfm(env).requests)
    assert first.matched + first.not_found + first.failed == first.total == 60
    entries = stored(env)
    assert len(entries) == first.matched + first.not_found
    assert_all_as_expected(env, entries)

    lastfm(env).config.fail_rate = lastfm(env).config.drop_rate = 0.0
    second = env.run(provider)
    assert (second.total, second.failed) == (first.failed, 0)
    assert set(stored(env)) == set(liked(env))
    assert_all_as_expected(env, stored(env))


@pytest.mark.parametrize("key", [None, "  "])
def test_disabled_without_a_key(tmp_path: Path, key: str | None) -> None:
    env = make_env(tmp_path, lastfm_api_key=key)
    provider = LastfmProvider(env.settings)
    reason = provider.disabled_reason()
    assert reason == (
        "no Last.fm API key: get a free one at https://www.last.fm/api/account/create "
        "and set SAP_LASTFM_API_KEY"
    )
    row = provider.describe()
    assert (row["enabled"], row["reason_if_disabled"]) == (False, reason)
    assert row["settings"] == ["SAP_LASTFM_URL", "SAP_LASTFM_API_KEY"]
    # Run anyway (the runner does not look): it stops at once, asking nothing.
    with pytest.raises(UpstreamError) as raised:
        env.run(provider)
    assert raised.value.detail == reason
    assert lastfm(env).requests == [] and stored(env) == {}


def test_enabled_with_a_key(tmp_path: Path) -> None:
    provider = LastfmProvider(make_env(tmp_path).settings)
    assert provider.disabled_reason() is None and provider.describe()["enabled"] is True


def test_applicable_needs_an_artist_and_a_title(tmp_path: Path) -> None:
    provider = LastfmProvider(make_env(tmp_path).settings)
    song = local_file("Someone", "Song")
    assert provider.applicable(EnrichItem(song)) is None
    assert provider.applicable(EnrichItem(song.model_copy(update={"artists": []}))) == (
        "no artist name"
    )
    assert provider.applicable(EnrichItem(song.model_copy(update={"name": " "}))) == "no title"


@pytest.mark.parametrize(
    ("toptags", "kept"),
    [
        ({"tag": [{"name": "Rock", "count": 100}, {"name": "rock", "count": 50}]}, ["rock"]),
        ({"tag": {"name": "Jazz", "count": "80"}}, ["jazz"]),  # one tag: an object
        ({"tag": [{"name": "a", "count": 9}, {"name": "b", "count": 10}]}, ["b"]),
        ({"tag": [{"name": "low", "count": 20}, {"name": "high", "count": 90}]}, ["high", "low"]),
        (
            {"tag": [{"name": f"t{i}", "count": 100 - i} for i in range(30)]},
            [f"t{i}" for i in range(15)],
        ),
        ({"@attr": {"artist": "X"}}, []),
        ({"tag": [{"name": " ", "count": 100}]}, []),
    ],
)
def test_kept_tags(toptags: dict[str, Any], kept: list[str]) -> None:
    assert kept_tags(LastfmTopTags.model_validate(toptags)) == kept
