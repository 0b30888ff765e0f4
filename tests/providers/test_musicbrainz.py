"""MusicBrainzProvider against the MusicBrainz and ListenBrainz emulators: recordings found by
batched ISRC searches (one per batch) or by artist + title, values equal to the library truth,
genres with their release-group/artist fallbacks on both paths (ListenBrainz, or MusicBrainz
lookups), faults and throttling survived, the real 1 req/s pace, caching, User-Agent."""

from __future__ import annotations

import asyncio
import itertools
import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.core.models import ArtistRef, Track, TrackEnrichment, TrackSourceType
from app.data.sources import SourceEntry, SourceRecord
from app.emulators.common.gateway import RequestRecord
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack
from app.emulators.musicbrainz.data import MusicBrainzData, is_genre
from app.emulators.musicbrainz.service import MusicBrainzEmulator
from app.providers.base import EnrichItem
from app.providers.musicbrainz.labels import RunLookups, musicbrainz_labels
from app.providers.musicbrainz.matching import (
    Hit,
    base_title,
    clean_isrc,
    lucene_escape,
    match_name,
    match_names,
    normalise_artist,
    normalise_title,
    version_words,
)
from app.providers.musicbrainz.provider import MusicBrainzProvider
from tests.helpers.provider_env import CONTACT, ProviderEnv, core_track, provider_settings

LOCAL = Track(
    id="spotify:local:Someone:Demo+Tape:Basement+Song:181",
    uri="spotify:local:Someone:Demo+Tape:Basement+Song:181",
    name="Basement Song",
    artists=[ArtistRef(name="Someone")],
    is_local=True,
)
NAMELESS = Track(id="0000000000000000000000", uri="spotify:track:0000000000000000000000", name="")


# -- the library and its awkward cases --------------------------------------------------------


@dataclass(frozen=True)
class Cases:
    """A generated library, edited so that every path of the provider is taken."""

    library: GeneratedLibrary
    ambiguous: tuple[str, str]  # MusicBrainz lists A's ISRC on both tracks' recordings
    by_name: tuple[str, ...]  # stored without their ISRC (decorated titles, accents)
    too_long: str  # stored without ISRC and 10 s longer than the recording: not found
    release_group_genres: str  # its recording has no genre tags
    artist_genres: str  # neither its recording nor its album has genres


def unaccented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _singles(library: GeneratedLibrary) -> list[GeneratedTrack]:
    """Liked tracks with an ISRC of their own whose recording has no other track."""
    tracks = [library.tracks[s.track_id] for s in library.liked]
    per_recording = Counter(track.truth.recording_mbid for track in library.tracks.values())
    per_isrc = Counter(track.isrc for track in library.tracks.values())
    return [
        t
        for t in tracks
        if t.isrc
        and t.truth.recording_mbid
        and per_recording[t.truth.recording_mbid] == 1
        and per_isrc[t.isrc] == 1
        and len(t.artist_ids) == 1
    ]


@cache
def cases() -> Cases:
    library = generate_library(seed=7, tracks=120, playlists=0)
    pool = _singles(library)
    taken: list[str] = []

    def pick(test: Callable[[GeneratedTrack], bool]) -> GeneratedTrack:
        track = next(t for t in pool if t.id not in taken and test(t))
        taken.append(track.id)
        return track

    def artists(track: GeneratedTrack) -> str:
        return " ".join(library.artists[a].name for a in track.artist_ids)

    by_name = [
        pick(lambda t: "Remaster" in t.name).id,
        pick(lambda t: "(Live)" in t.name or " - Live" in t.name).id,
        pick(lambda t: not (t.name + artists(t)).isascii() and unaccented(t.name).isascii()).id,
    ]
    featuring = next(
        library.tracks[s.track_id]
        for s in library.liked
        if "(feat." in library.tracks[s.track_id].name and library.tracks[s.track_id].isrc
    )
    by_name.append(featuring.id)
    taken.append(featuring.id)
    first, second = pick(lambda t: True), pick(lambda t: True)
    too_long = pick(lambda t: True)
    data = MusicBrainzData(library)  # which recordings carry genres on MusicBrainz
    no_recording_genres = pick(
        lambda t: not data.recordings[t.truth.recording_mbid or ""].has_genres
    )
    no_genres = pick(
        lambda t: (
            t.album_id != no_recording_genres.album_id
            and not data.recordings[t.truth.recording_mbid or ""].has_genres
        )
    )
    tracks = dict(library.tracks)
    tracks[second.id] = replace(second, isrc=first.isrc)
    for track in (no_recording_genres, no_genres):
        tags = tuple(tag for tag in track.truth.tags if not is_genre(tag))
        tracks[track.id] = replace(track, truth=replace(track.truth, tags=tags))
    albums = dict(library.albums)
    albums[no_genres.album_id] = replace(albums[no_genres.album_id], genres=())
    return Cases(
        library=replace(library, tracks=tracks, albums=albums),
        ambiguous=(first.id, second.id),
        by_name=tuple(by_name),
        too_long=too_long.id,
        release_group_genres=no_recording_genres.id,
        artist_genres=no_genres.id,
    )


def make_env(tmp_path: Path, *, paced: bool = False, **settings: Any) -> ProviderEnv:
    """The cases' library stored as fetched, plus a local file and a track without ISRC,
    artist or title; emulator limits and our pace off unless `paced`."""
    the = cases()
    env = ProviderEnv.create(tmp_path, library=the.library, **settings)
    env.stores.tracks.upsert(
        [
            *(stored_without_isrc(env, track_id) for track_id in the.by_name),
            stored_without_isrc(env, the.too_long, longer_ms=10_000),
            LOCAL,
            NAMELESS,
        ]
    )
    ids = [s.track_id for s in the.library.liked] + [LOCAL.id, NAMELESS.id]
    env.stores.sources.put(
        SourceRecord(
            key="liked",
            source_type=TrackSourceType.LIKED,
            total=len(ids),
            entries=[SourceEntry(track_id=track_id) for track_id in ids],
        )
    )
    if not paced:
        env.emulators.providers.musicbrainz.config.enforce_rate_limit = False
        env.unpaced(env.settings.musicbrainz_url, env.settings.listenbrainz_url)
    return env


def stored_without_isrc(env: ProviderEnv, track_id: str, longer_ms: int = 0) -> Track:
    track = core_track(env.library, track_id)
    return track.model_copy(update={"isrc": None, "duration_ms": track.duration_ms + longer_ms})


# -- what the emulators should lead to --------------------------------------------------------


def musicbrainz(env: ProviderEnv) -> MusicBrainzEmulator:
    return env.emulators.providers.musicbrainz


def stored_tracks(env: ProviderEnv) -> dict[str, Track]:
    return env.stores.tracks.load_tracks()


def findable(env: ProviderEnv, track_id: str) -> bool:
    """MusicBrainz knows the recording, and the stored track leads to it."""
    return env.truth(track_id).recording_mbid is not None and track_id != cases().too_long


def first_album(env: ProviderEnv, mbid: str) -> Any:
    recording = musicbrainz(env).data.recordings[mbid]
    return env.library.albums[recording.album_ids[0]]


def artist_genres(env: ProviderEnv, mbid: str) -> list[str]:
    recording = musicbrainz(env).data.recordings[mbid]
    names = [g for a in recording.track.artist_ids for g in env.library.artists[a].genres]
    return list(dict.fromkeys(names))


def musicbrainz_genres(env: ProviderEnv, track_id: str) -> tuple[list[str], str]:
    """The recording's genres (when MusicBrainz has any), else the release group's, else the
    artists' — what both paths (ListenBrainz batches, MusicBrainz lookups) must find."""
    mbid = env.truth(track_id).recording_mbid or ""
    recording = (
        list(env.truth(track_id).genres) if musicbrainz(env).recording_has_genres(mbid) else []
    )
    levels = [
        ("recording", recording),
        ("release-group", list(first_album(env, mbid).genres)),
        ("artist", artist_genres(env, mbid)),
    ]
    return next((genres, level) for level, genres in levels if genres)


def entries(env: ProviderEnv) -> dict[str, TrackEnrichment]:
    cache_ = env.stores.enrichments.load_enrichments_cache()
    return {
        track_id: entry
        for track_id, stored in cache_.items()
        for entry in stored
        if entry.source == "musicbrainz"
    }


def searches(env: ProviderEnv, kind: str) -> list[RequestRecord]:
    """Recording searches whose query starts with `kind` ("isrc:" or "recording:")."""
    return [
        r
        for r in musicbrainz(env).requests
        if r.path == "/recording" and r.query.get("query", "").startswith(kind)
    ]


def liked_ids(env: ProviderEnv) -> list[str]:
    return [s.track_id for s in env.library.liked]


def batches(ids: Sequence[str], size: int) -> list[Sequence[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def run(env: ProviderEnv, **kwargs: Any) -> Any:
    return env.run(MusicBrainzProvider(env.settings), **kwargs)


# -- finding recordings -----------------------------------------------------------------------


def test_isrc_batches_find_the_truths_recordings_with_one_search_per_batch(
    tmp_path: Path,
) -> None:
    env = make_env(tmp_path)
    report = run(env)

    ids = liked_ids(env)
    found = [track_id for track_id in ids if findable(env, track_id)]
    assert report.matched == len(found)
    assert report.not_found == len(ids) - len(found)
    assert (report.failed, report.not_applicable) == (0, 2)  # the local file, the nameless track
    stored = entries(env)
    tracks = stored_tracks(env)
    for track_id in found:
        entry, truth = stored[track_id], env.truth(track_id)
        assert entry.categories["recording_mbid"] == truth.recording_mbid
        assert entry.categories["first_release_year"] == truth.first_release_year
        assert (
            entry.categories["release_group_mbid"]
            == first_album(env, truth.recording_mbid or "").mbid
        )
        if tracks[track_id].isrc and track_id not in cases().ambiguous:
            assert (entry.match_method, entry.confidence) == ("isrc", 1.0)

    # One ISRC search per batch of tracks with an ISRC, listing exactly that batch's ISRCs;
    # one name search per batch of tracks without one; ListenBrainz asked ceil(recordings /
    # 20) times per batch.
    with_isrc = [t for t in ids if tracks[t].isrc]
    without_isrc = [t for t in ids if not tracks[t].isrc]
    asked = batches(with_isrc, env.settings.musicbrainz_batch_size)
    by_name = batches(without_isrc, env.settings.musicbrainz_name_batch_size)
    isrc_searches = searches(env, "isrc:")
    assert (len(asked), len(by_name)) == (3, 1)
    assert len(isrc_searches) == len(asked)
    assert sorted(set(r.query["query"][6:-1].split(" OR ")) for r in isrc_searches) == sorted(
        {tracks[t].isrc for t in batch} for batch in asked
    )
    assert all(r.query["limit"] == "100" and r.query["fmt"] == "json" for r in isrc_searches)
    assert len(searches(env, "(recording:")) == len(by_name)
    assert len(musicbrainz(env).requests) == len(asked) + len(by_name)
    lb_requests = env.emulators.providers.listenbrainz.requests
    per_batch = [
        {env.truth(t).recording_mbid for t in batch if findable(env, t)}
        for batch in [*asked, *by_name]
    ]
    assert len(lb_requests) == sum(math.ceil(len(mbids) / 20) for mbids in per_batch)
    asked_lb = [r.query["recording_mbids"].split(",") for r in lb_requests]
    assert max(len(mbids) for mbids in asked_lb) <= 20
    assert sorted(m for mbids in asked_lb for m in mbids) == sorted(m for b in per_batch for m in b)
    assert {r.query["inc"] for r in lb_requests} == {"artist tag release"}


def test_a_thousand_tracks_with_five_percent_without_isrc_cost_at_most_25_requests(
    tmp_path: Path,
) -> None:
    env = ProviderEnv.create(tmp_path, tracks=1000)
    env.emulators.providers.musicbrainz.config.enforce_rate_limit = False
    env.unpaced(env.settings.musicbrainz_url, env.settings.listenbrainz_url)
    with_isrc = [t for t in liked_ids(env) if env.library.tracks[t].isrc]
    without_isrc = len(liked_ids(env)) - len(with_isrc)
    assert 40 <= without_isrc <= 60  # about 5%, as issue 14 measures it

    report = run(env)

    # ISRCs 50 per search; titles and artists of the tracks without one 20 per search.
    assert len(searches(env, "isrc:")) == math.ceil(len(with_isrc) / 50)
    assert len(searches(env, "(recording:")) == math.ceil(without_isrc / 20)
    assert len(musicbrainz(env).requests) <= 25  # was 20 + one search per track: ~70
    assert report.matched == sum(1 for t in liked_ids(env) if env.truth(t).recording_mbid)
    assert report.failed == 0


def test_tracks_without_isrc_are_found_by_normalised_artist_and_title(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    report = run(env)

    tracks = stored_tracks(env)
    no_isrc = [t for t in liked_ids(env) if not tracks[t].isrc]
    assert set(cases().by_name) <= set(no_isrc)
    assert len(no_isrc) > len(cases().by_name)  # the library's own tracks without ISRC too
    stored = entries(env)
    for track_id in no_isrc:
        entry = stored[track_id]
        if not findable(env, track_id):
            assert entry.not_found
            continue
        assert entry.categories["recording_mbid"] == env.truth(track_id).recording_mbid
        assert entry.match_method == "artist_title"
        assert entry.confidence is not None and 0.5 < entry.confidence < 1.0
    assert stored[cases().too_long].not_found  # right title and artist, 10 s too long
    assert report.failed == 0

    # Searched by base title and first artist, lower case, without accents or decorations,
    # each track's clause OR'ed with the others' in one search.
    [search] = searches(env, "(recording:")
    clauses = search.query["query"][1:-1].split(") OR (")
    assert len(clauses) == len(no_isrc)
    for track_id in cases().by_name:
        track = env.library.tracks[track_id]
        artist = env.library.artists[track.artist_ids[0]].name
        query = f'recording:"{normalise_title(track.name)}" AND artist:"{normalise_artist(artist)}"'
        assert query in clauses
        assert query.isascii()
        assert not any(word in query.lower() for word in ("feat", "remaster", "(", " - "))


def test_batched_name_searches_find_what_one_search_per_track_finds(tmp_path: Path) -> None:
    """Every liked track searched by title and artist, one search each (the old way) and
    batched: the same recording, method and confidence for every track, whether the batched
    answers hold every hit or are cut short (3 hits a page: searched again, then one by one)."""
    env = make_env(tmp_path)
    tracks = [
        stored_without_isrc(env, track_id, 10_000 if track_id == cases().too_long else 0)
        for track_id in liked_ids(env)
    ]

    async def search() -> tuple[dict[str, Any], ...]:
        async with env.services.provider_net() as net:
            client = net.client(env.settings.musicbrainz_url, rate=None)
            one_by_one = {track.id: await match_name(client, track) for track in tracks}
            before = len(musicbrainz(env).requests)
            batched = await match_names(client, tracks, 20)
            log = musicbrainz(env).requests[before:]
            crowded = await match_names(client, tracks, 20, page_size=3)
            return one_by_one, batched, crowded, log

    one_by_one, batched, crowded, log = asyncio.run(search())

    found = {track_id: match for track_id, match in one_by_one.items() if match is not None}
    assert len(found) > 80 and len(found) < len(tracks)  # some are not on MusicBrainz
    assert found[cases().by_name[0]].hit.mbid == env.truth(cases().by_name[0]).recording_mbid
    assert cases().too_long not in found

    def summary(matches: dict[str, Any]) -> dict[str, tuple[str, str, float]]:
        return {t: (m.hit.mbid, m.method, m.confidence) for t, m in matches.items()}

    assert summary(batched) == summary(found)
    assert summary(crowded) == summary(found)
    # One search per 20 tracks, and one each for two clauses that share a hit ("Kingdom" and
    # "Secret Kingdom" by Lily Morgan: its score adds up both, so each is asked on its own).
    assert len(log) == math.ceil(len(tracks) / 20) + 2
    alone = sorted(r.query["query"] for r in log if not r.query["query"].startswith("("))
    assert alone == [
        'recording:"kingdom" AND artist:"lily morgan"',
        'recording:"secret kingdom" AND artist:"lily morgan"',
    ]


def test_a_name_search_stays_under_the_web_servers_request_line_limit(tmp_path: Path) -> None:
    """Twenty long titles would make a 12 KB request line, which MusicBrainz's web server
    refuses (414): the batch is cut by query size too, and every search is answered."""
    env = make_env(tmp_path)
    long_titles = [
        Track(
            id=f"{index:022d}",
            uri=f"spotify:track:{index:022d}",
            name=f"Song {index} " + "with a really quite long and winding title " * 5,
            artists=[ArtistRef(name="An Orchestra With A Long Name")],
            duration_ms=200_000,
        )
        for index in range(20)
    ]

    async def search() -> dict[str, Any]:
        async with env.services.provider_net() as net:
            client = net.client(env.settings.musicbrainz_url, rate=None)
            return await match_names(client, long_titles, 20)

    assert asyncio.run(search()) == {}
    log = musicbrainz(env).requests
    assert len(log) > 1 and {r.status for r in log} == {200}
    assert sum(r.query["query"].count(" OR (") + 1 for r in log) == 20


def test_an_isrc_on_two_recordings_picks_the_one_that_fits_with_lower_confidence(
    tmp_path: Path,
) -> None:
    env = make_env(tmp_path)
    first, second = cases().ambiguous
    assert env.library.tracks[first].isrc == env.library.tracks[second].isrc

    run(env, track_ids=[first, second])

    stored = entries(env)
    for track_id in (first, second):
        assert stored[track_id].categories["recording_mbid"] == env.truth(track_id).recording_mbid
        assert (stored[track_id].match_method, stored[track_id].confidence) == ("isrc", 0.9)
    assert len(searches(env, "isrc:")) == 1


def test_unknown_tracks_are_not_found_and_others_not_applicable(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    report = run(env)

    unknown = [t for t in liked_ids(env) if env.truth(t).recording_mbid is None]
    assert unknown
    stored = entries(env)
    assert all(stored[t].not_found and not stored[t].categories for t in unknown)
    assert report.not_applicable == 2
    assert LOCAL.id not in stored and NAMELESS.id not in stored
    provider = MusicBrainzProvider(env.settings)
    assert provider.applicable(EnrichItem(LOCAL)) == "local file"
    assert provider.applicable(EnrichItem(NAMELESS)) == "no ISRC and no artist/title"
    no_isrc = stored_without_isrc(env, liked_ids(env)[0])
    assert provider.applicable(EnrichItem(no_isrc)) is None  # searched by artist and title


# -- genres and tags --------------------------------------------------------------------------


def test_genres_and_tags_via_listenbrainz_with_release_group_and_artist_fallbacks(
    tmp_path: Path,
) -> None:
    env = make_env(tmp_path)
    run(env)

    stored = entries(env)
    levels: dict[str, int] = {}
    for track_id in liked_ids(env):
        if not findable(env, track_id):
            continue
        categories = stored[track_id].categories
        genres, level = musicbrainz_genres(env, track_id)
        assert (categories["genres"], categories["genres_from"]) == (genres, level), track_id
        data = env.emulators.providers.musicbrainz.data
        recording = data.recordings[env.truth(track_id).recording_mbid or ""]
        assert categories["tags"] == list(data.recording_tags(recording))
        levels[level] = levels.get(level, 0) + 1
    rg_case = stored[cases().release_group_genres].categories
    assert rg_case["genres_from"] == "release-group"
    assert rg_case["genres"] == list(env.truth(cases().release_group_genres).genres)
    artist_case = env.library.tracks[cases().artist_genres]
    assert stored[artist_case.id].categories["genres_from"] == "artist"
    assert stored[artist_case.id].categories["genres"] == list(
        env.library.artists[artist_case.artist_ids[0]].genres
    )
    assert levels["recording"] > 50


def test_without_listenbrainz_genres_come_from_musicbrainz_lookups(tmp_path: Path) -> None:
    with_lb = make_env(tmp_path / "lb")
    run(with_lb)
    env = make_env(tmp_path / "mb", listenbrainz_url="")
    report = run(env)

    assert env.emulators.providers.listenbrainz.requests == []
    stored, via_lb = entries(env), entries(with_lb)
    found = [t for t in liked_ids(env) if findable(env, t)]
    assert report.matched == len(found)
    levels = set()
    for track_id in found:
        categories = stored[track_id].categories
        genres, level = musicbrainz_genres(env, track_id)
        assert (categories["genres"], categories["genres_from"]) == (genres, level), track_id
        levels.add(level)
        # Both paths agree on the recording, its tags and its main genre.
        lb_categories = via_lb[track_id].categories
        assert categories["recording_mbid"] == lb_categories["recording_mbid"]
        assert categories["tags"] == lb_categories["tags"]
        assert categories["genres"][0] == lb_categories["genres"][0]
    assert levels == {"recording", "release-group", "artist"}

    # Costs: one lookup per recording, one per release group (and artist) without genres.
    recordings = {env.truth(t).recording_mbid for t in found}
    lookups = [r for r in musicbrainz(env).requests if r.path.startswith("/recording/")]
    assert len(lookups) == len(recordings)
    assert {r.query["inc"] for r in lookups} == {"genres+tags"}
    groups = [r for r in musicbrainz(env).requests if r.path.startswith("/release-group/")]
    assert len(groups) == len({r.path for r in groups})  # each asked once per run
    assert len(groups) == len(
        {
            first_album(env, m).mbid
            for m in recordings
            if not musicbrainz(env).recording_has_genres(m or "")
        }
    )


# -- faults, throttling and pace --------------------------------------------------------------


def test_server_errors_and_dropped_connections_are_retried(tmp_path: Path) -> None:
    env = make_env(tmp_path, provider_max_attempts=10)
    emulators = env.emulators.providers
    emulators.musicbrainz.config.fail_rate = 0.25
    emulators.musicbrainz.config.drop_rate = 0.05
    emulators.musicbrainz.config.fault_seed = 12
    emulators.listenbrainz.config.fail_rate = 0.25
    emulators.listenbrainz.config.fault_seed = 12

    report = run(env)

    found = [t for t in liked_ids(env) if findable(env, t)]
    assert (report.matched, report.failed) == (len(found), 0)
    assert report.not_found == len(liked_ids(env)) - len(found)
    faults = [r for r in emulators.musicbrainz.requests if r.fault is not None]
    assert {r.status for r in faults if r.fault == "error"} <= {500, 502, 503}
    assert len(faults) >= 2
    assert any(r.fault == "error" for r in emulators.listenbrainz.requests)
    stored = entries(env)
    assert all(stored[t].categories["recording_mbid"] == env.truth(t).recording_mbid for t in found)


def test_a_503_with_retry_after_is_waited_out(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    musicbrainz(env).config.enforce_rate_limit = True  # the service's limit, our pace off
    tracks = stored_tracks(env)
    chosen = [t for t in liked_ids(env) if findable(env, t) and tracks[t].isrc][:2]
    chosen.append(cases().by_name[0])

    report = run(env, track_ids=chosen)

    assert (report.matched, report.failed) == (3, 0)
    log = musicbrainz(env).requests
    refused = [r for r in log if r.fault == "rate_limit"]
    assert refused and all(r.status == 503 for r in refused)
    answered = [r for r in log if r.status == 200]
    assert len(answered) == 2  # the ISRC search and the name search
    assert (answered[1].time - answered[0].time).total_seconds() >= 0.99


def test_the_real_pace_stays_under_one_request_per_second(tmp_path: Path) -> None:
    env = make_env(tmp_path, paced=True, musicbrainz_name_batch_size=1)
    tracks = stored_tracks(env)
    chosen = [t for t in liked_ids(env) if findable(env, t) and tracks[t].isrc][:2]
    chosen += list(cases().by_name[:2])

    report = run(env, track_ids=chosen)

    assert (report.matched, report.failed) == (4, 0)
    log = musicbrainz(env).requests
    assert len(log) == 3  # one ISRC search, two name searches (one track per search here)
    assert all(r.status == 200 and r.fault is None for r in log)
    gaps = [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(log)]
    assert min(gaps) >= 0.99


# -- caching, identity, settings --------------------------------------------------------------


def test_a_second_run_is_cached_and_refresh_asks_again(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    first = run(env)
    before = len(musicbrainz(env).requests)

    second = run(env)

    assert second.requests == 0
    assert len(musicbrainz(env).requests) == before
    assert (second.cached, second.total) == (first.matched + first.not_found, 0)
    assert second.not_applicable == 2

    refreshed = run(env, refresh=True)
    assert refreshed.requests == first.requests
    assert (refreshed.matched, refreshed.not_found) == (first.matched, first.not_found)


def test_not_found_tracks_are_asked_again_after_the_retry_delay(tmp_path: Path) -> None:
    env = make_env(tmp_path, enrich_not_found_retry_days=0)
    first = run(env)

    again = run(env)

    assert (again.total, again.cached) == (first.not_found, first.matched)
    assert again.not_found == first.not_found
    assert again.requests > 0


def test_every_request_names_the_contact(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    run(env, track_ids=liked_ids(env)[:10])

    agents = {r.headers["user-agent"] for r in musicbrainz(env).requests}
    agents |= {r.headers["user-agent"] for r in env.emulators.providers.listenbrainz.requests}
    assert agents and all(CONTACT in agent for agent in agents)
    assert all(agent.startswith("spotify-auto-playlists/") for agent in agents)


def test_disabled_without_a_contact(tmp_path: Path) -> None:
    anonymous = MusicBrainzProvider(provider_settings(tmp_path, contact=None))
    reason = anonymous.disabled_reason()
    assert reason is not None and "SAP_CONTACT" in reason
    assert anonymous.describe()["enabled"] is False

    provider = MusicBrainzProvider(provider_settings(tmp_path, musicbrainz_batch_size=30))
    assert provider.disabled_reason() is None
    assert provider.describe()["batch_size"] == provider.batch_limit() == 30
    assert provider.describe()["rate_limit"] == 1.0


# -- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "base"),
    [
        ("Hold On", "Hold On"),
        ("Hold On - Remastered 2011", "Hold On"),
        ("Hold On - 2011 Remaster", "Hold On"),
        ("Hold On (feat. Someone Else)", "Hold On"),
        ("Hold On (with Someone) - Live", "Hold On"),
        ("Hold On (Live)", "Hold On"),
        ("Hold On [Radio Edit]", "Hold On"),
        ("Hold On feat. Someone", "Hold On"),
        ("Part 1 - The Beginning", "Part 1 - The Beginning"),  # not a version suffix
        ("Live and Let Die", "Live and Let Die"),
    ],
)
def test_base_title_drops_credits_and_version_decorations(title: str, base: str) -> None:
    assert base_title(title) == base


@pytest.mark.parametrize(
    ("title", "normalised"),
    [
        ("Héllo Wörld (Live)", "hello world"),
        ("Rock & Roll", "rock and roll"),
        ("Don't Stop - Remastered", "don t stop"),
        ("星の中で - Single Version", "星の中で"),  # voicing marks kept
    ],
)
def test_normalise_title_folds_case_accents_and_punctuation(title: str, normalised: str) -> None:
    assert normalise_title(title) == normalised


def test_version_words_tell_live_and_remixes_from_remasters() -> None:
    assert version_words("Song - Live") == {"live"}
    assert version_words("Song (feat. Mix Master) - Remastered 2011") == set()
    assert version_words("Song", "live, 1995-06-01") == {"live"}


def test_isrcs_are_canonical_and_lucene_specials_escaped() -> None:
    assert clean_isrc("gb-aaa-26-00001") == "GBAAA2600001"
    assert clean_isrc("not an isrc") is None
    assert clean_isrc(None) is None
    assert lucene_escape('AC/DC: "Back" (in) [Black]!') == (
        'AC\\/DC\\: \\"Back\\" \\(in\\) \\[Black\\]\\!'
    )


def test_ids_from_an_answer_go_into_a_lookup_path_only_when_they_are_mbids(
    tmp_path: Path,
) -> None:
    """A recording, release group or artist id is spliced into the lookup's path: one that is
    not an MBID (`..`, a query) is not looked up at all."""
    env = make_env(tmp_path, listenbrainz_url="")
    hit = Hit(
        mbid="../../ws/2/recording",
        score=100,
        title="x",
        disambiguation="",
        length=None,
        artist_ids=("..", "abc?inc=aliases"),
        artist_names=(),
        isrcs=frozenset(),
        release_group="0" * 8 + "/../..",
        first_release_year=None,
        releases=1,
    )

    async def labels() -> Any:
        async with env.services.provider_net() as net:
            client = net.client(env.settings.musicbrainz_url, rate=None)
            return await musicbrainz_labels(client, hit, RunLookups())

    found = asyncio.run(labels())
    assert (found.genres, found.genres_from, found.tags) == ((), None, ())
    assert musicbrainz(env).requests == []
