"""The seeded demo-library generator: determinism, shape, Spotify-like mess, coherent truth."""

from __future__ import annotations

import gc
import hashlib
import os
import re
import statistics
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.emulators.library.account import DEFAULT_NOW, generate_library
from app.emulators.library.index import LibraryIndex, base_title, fold, library_track_uri
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack
from app.emulators.library.vocabulary import FAMILIES, GENRE_FAMILY

ROOT = Path(__file__).resolve().parents[2]
SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{2}\d{5}$")
DATES = {
    "year": re.compile(r"^\d{4}$"),
    "month": re.compile(r"^\d{4}-\d{2}$"),
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
}
LANGUAGES = {"en", "es", "fr", "de", "pt", "ja", "ko", "sv", "it", "zxx"}


@pytest.fixture(scope="module")
def library() -> GeneratedLibrary:
    return generate_library(seed=0)


@pytest.fixture(scope="module")
def tracks(library: GeneratedLibrary) -> list[GeneratedTrack]:
    return list(library.tracks.values())


def _family(track: GeneratedTrack) -> str:
    return GENRE_FAMILY[track.truth.genres[0]]


def _digest(library: GeneratedLibrary) -> str:
    parts = (library.user, library.other_users, library.artists, library.albums, library.tracks)
    text = repr((*parts, library.episodes, library.liked, library.playlists))
    return hashlib.sha256(text.encode()).hexdigest()


# --- determinism -----------------------------------------------------------------------------


def test_the_same_seed_gives_an_equal_library() -> None:
    first, second = generate_library(7, 300), generate_library(7, 300)
    assert first == second
    assert _digest(first) == _digest(second)


def test_different_seeds_give_different_libraries() -> None:
    first, second = generate_library(1, 300), generate_library(2, 300)
    assert first != second
    assert set(first.tracks).isdisjoint(second.tracks)


def test_another_process_with_another_hash_seed_builds_the_same_library() -> None:
    # str hashes are salted per process: a generator that iterated over a set would differ here.
    code = (
        "from app.emulators.library import generate_library\n"
        "from tests.emulators.test_library import _digest\n"
        "print(_digest(generate_library(5, 200, 6)))\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert digests == {_digest(generate_library(5, 200, 6))}


def test_the_default_now_keeps_the_wall_clock_out(library: GeneratedLibrary) -> None:
    assert library.liked[0].added_at < DEFAULT_NOW
    assert library == generate_library(seed=0, now=DEFAULT_NOW)


# --- counts and ids --------------------------------------------------------------------------


def test_counts_follow_the_arguments(library: GeneratedLibrary) -> None:
    assert len(library.liked) == 2000
    assert len(library.playlists) == 20
    assert len(library.tracks) > 2000  # playlists also hold tracks that are not liked


def test_a_fixed_playlist_size_is_honoured() -> None:
    library = generate_library(3, 500, 20, playlist_size=250)
    assert [len(playlist.entries) for playlist in library.playlists] == [250] * 20


@pytest.mark.parametrize(
    ("liked", "playlists", "size"),
    [(0, 0, None), (0, 3, None), (1, 1, None), (5, 3, 1), (5, 5, 2), (10, 4, 0), (3, 2, 40)],
)
def test_tiny_libraries_are_still_consistent(liked: int, playlists: int, size: int | None) -> None:
    library = generate_library(11, liked, playlists, playlist_size=size)
    assert len(library.liked) == liked
    assert len(library.playlists) == playlists
    if size is not None:
        assert all(len(playlist.entries) == size for playlist in library.playlists)
    for playlist in library.playlists:
        assert all(e.track_id is None or e.track_id in library.tracks for e in playlist.entries)


def test_ids_are_unique_base62_of_22_characters(library: GeneratedLibrary) -> None:
    ids = [
        *library.artists,
        *library.albums,
        *library.tracks,
        *library.episodes,
        *(playlist.id for playlist in library.playlists),
    ]
    assert len(ids) == len(set(ids))
    assert all(SPOTIFY_ID.match(item) for item in ids)
    assert library_track_uri(ids[0]) == f"spotify:track:{ids[0]}"


def test_every_reference_resolves(library: GeneratedLibrary, tracks: list[GeneratedTrack]) -> None:
    for track in tracks:
        assert track.album_id in library.albums
        assert all(artist in library.artists for artist in track.artist_ids)
    for album in library.albums.values():
        assert all(artist in library.artists for artist in album.artist_ids)
    users = library.users()
    assert all(playlist.owner_id in users for playlist in library.playlists)
    assert all(
        entry.added_by in users for playlist in library.playlists for entry in playlist.entries
    )


def test_mbids_are_uuid4_text(library: GeneratedLibrary, tracks: list[GeneratedTrack]) -> None:
    mbids = [artist.mbid for artist in library.artists.values()]
    mbids += [album.mbid for album in library.albums.values()]
    mbids += [t.truth.recording_mbid for t in tracks if t.truth.recording_mbid is not None]
    for mbid in mbids:
        assert str(uuid.UUID(mbid)) == mbid
        assert uuid.UUID(mbid).version == 4


# --- catalogue realism -----------------------------------------------------------------------


def test_isrcs_have_the_real_format_and_about_five_percent_are_missing(
    tracks: list[GeneratedTrack],
) -> None:
    codes = [track.isrc for track in tracks if track.isrc is not None]
    assert all(ISRC.match(code) for code in codes)
    missing = 1 - len(codes) / len(tracks)
    assert 0.02 < missing < 0.09


def test_the_same_recording_can_appear_on_an_album_and_a_compilation(
    library: GeneratedLibrary, tracks: list[GeneratedTrack]
) -> None:
    by_isrc: dict[str, list[GeneratedTrack]] = {}
    for track in tracks:
        if track.isrc is not None:
            by_isrc.setdefault(track.isrc, []).append(track)
    shared = [group for group in by_isrc.values() if len(group) > 1]
    assert shared
    for group in shared:
        assert len({track.truth for track in group}) == 1  # one recording, one truth
        assert len({track.album_id for track in group}) == len(group)
        assert "compilation" in {library.albums[track.album_id].album_type for track in group}


def test_release_dates_match_their_precision_and_span_the_decades(
    library: GeneratedLibrary,
) -> None:
    years = []
    for album in library.albums.values():
        assert DATES[album.release_date_precision].match(album.release_date)
        years.append(int(album.release_date[:4]))
    assert min(years) >= 1960
    assert max(years) <= DEFAULT_NOW.year
    assert {year // 10 * 10 for year in years} >= {1970, 1980, 1990, 2000, 2010, 2020}
    precisions = Counter(album.release_date_precision for album in library.albums.values())
    assert precisions["day"] > precisions["year"] > 0
    assert precisions["month"] > 0
    assert set(Counter(album.album_type for album in library.albums.values())) == {
        "album",
        "single",
        "compilation",
    }


def test_durations_are_realistic(tracks: list[GeneratedTrack]) -> None:
    seconds = [track.duration_ms / 1000 for track in tracks]
    assert min(seconds) >= 75
    assert max(seconds) <= 721
    assert 180 < statistics.median(seconds) < 280


def test_names_carry_spotify_style_decorations(tracks: list[GeneratedTrack]) -> None:
    names = [track.name for track in tracks]
    assert any(re.search(r" - (Remastered \d{4}|\d{4} Remaster)$", name) for name in names)
    assert any(" (feat. " in name for name in names)
    assert any(name.endswith((" - Live", " (Live)")) for name in names)
    featured = [track for track in tracks if " (feat. " in track.name]
    assert all(len(track.artist_ids) >= 2 for track in featured)


def test_explicit_tracks_are_a_minority(tracks: list[GeneratedTrack]) -> None:
    share = sum(track.explicit for track in tracks) / len(tracks)
    assert 0.02 < share < 0.4


def test_genres_come_from_a_vocabulary_grouped_in_families(
    library: GeneratedLibrary, tracks: list[GeneratedTrack]
) -> None:
    assert 60 <= len(GENRE_FAMILY) <= 120
    assert len(FAMILIES) >= 10
    for artist in library.artists.values():
        assert 1 <= len(artist.genres) <= 3
        assert all(genre in GENRE_FAMILY for genre in artist.genres)
    for track in tracks:
        album = library.albums[track.album_id]
        artist = library.artists[album.artist_ids[0]]
        assert album.genres[: len(artist.genres)] == artist.genres  # album may add one genre
        assert track.truth.genres[: len(artist.genres)] == artist.genres
        if album.album_type != "compilation":  # a compilation reuses the original's truth
            assert track.truth.genres == album.genres


# --- liked songs -----------------------------------------------------------------------------


def test_liked_songs_are_newest_first_unique_and_in_the_past(library: GeneratedLibrary) -> None:
    dates = [saved.added_at for saved in library.liked]
    assert dates == sorted(dates, reverse=True)
    assert all(date.tzinfo is not None and date < DEFAULT_NOW for date in dates)
    ids = [saved.track_id for saved in library.liked]
    assert len(ids) == len(set(ids))
    assert all(track_id in library.tracks for track_id in ids)


def test_liked_history_spans_years_with_bursts(library: GeneratedLibrary) -> None:
    years = Counter(saved.added_at.year for saved in library.liked)
    assert len(years) >= 4
    days = Counter(saved.added_at.date() for saved in library.liked)
    assert max(days.values()) >= 10 * statistics.mean(days.values())  # a binge, not a trickle


def test_a_track_is_never_liked_before_its_release(library: GeneratedLibrary) -> None:
    for saved in library.liked:
        album = library.albums[library.tracks[saved.track_id].album_id]
        assert saved.added_at.date().isoformat()[: len(album.release_date)] >= album.release_date


def test_a_custom_now_moves_every_date_before_it() -> None:
    now = datetime(2024, 3, 1, 9, 30)  # naive: taken as UTC
    library = generate_library(4, 300, 6, now=now)
    aware = now.replace(tzinfo=UTC)
    assert all(saved.added_at < aware for saved in library.liked)
    assert all(e.added_at < aware for playlist in library.playlists for e in playlist.entries)
    assert all(int(album.release_date[:4]) <= 2024 for album in library.albums.values())


# --- playlists -------------------------------------------------------------------------------


def test_playlists_mix_owned_collaborative_and_followed(library: GeneratedLibrary) -> None:
    me = library.user.id
    owned = [p for p in library.playlists if p.owner_id == me]
    collaborative = [p for p in library.playlists if p.collaborative]
    followed = [p for p in library.playlists if p.owner_id != me and not p.collaborative]
    assert len(owned) > len(collaborative) + len(followed)
    assert len(collaborative) >= 1
    assert len(followed) >= 2
    assert all(p.owner_id != me and not p.public for p in collaborative)
    assert all(not p.readable_by(me) for p in followed)
    assert len({p.name for p in library.playlists}) == len(library.playlists)


@pytest.mark.parametrize("count", [5, 8])
def test_even_few_playlists_include_collaborative_and_followed_ones(count: int) -> None:
    library = generate_library(9, 200, count)
    me = library.user.id
    assert sum(p.collaborative for p in library.playlists) >= 1
    assert sum(p.owner_id != me and not p.collaborative for p in library.playlists) >= 2


def test_playlist_sizes_vary(library: GeneratedLibrary) -> None:
    sizes = [len(playlist.entries) for playlist in library.playlists]
    assert min(sizes) >= 10
    assert max(sizes) <= 300
    assert len(set(sizes)) > 10


def test_special_entries_are_present_and_well_formed(library: GeneratedLibrary) -> None:
    kinds = Counter(e.kind for playlist in library.playlists for e in playlist.entries)
    assert {"track", "local", "unavailable", "episode"} <= set(kinds)
    for playlist in library.playlists:
        for entry in playlist.entries:
            if entry.kind == "local":
                assert entry.local is not None and entry.track_id is None
                assert entry.local.uri.startswith("spotify:local:")
                assert playlist.owner_id == library.user.id  # only the owner adds local files
            elif entry.kind == "unavailable":
                assert (entry.track_id, entry.local, entry.episode_id) == (None, None, None)
            elif entry.kind == "episode":
                assert entry.episode_id in library.episodes and entry.track_id is None
            else:
                assert entry.track_id in library.tracks and entry.local is None


def test_some_readable_playlist_holds_the_same_track_twice(library: GeneratedLibrary) -> None:
    me = library.user.id
    doubled = [
        playlist
        for playlist in library.playlists
        if playlist.readable_by(me)
        and max(Counter(e.track_id for e in playlist.entries if e.track_id).values()) > 1
    ]
    assert doubled


def test_the_special_entries_exist_for_every_seed_from_three_playlists() -> None:
    for seed in range(5):
        library = generate_library(seed, 50, 3)
        entries = [e for playlist in library.playlists for e in playlist.entries]
        assert {"local", "unavailable", "episode"} <= {e.kind for e in entries}
        track_ids = [
            [e.track_id for e in playlist.entries if e.track_id] for playlist in library.playlists
        ]
        assert any(len(ids) > len(set(ids)) for ids in track_ids)


def test_entries_hold_both_liked_and_other_tracks(library: GeneratedLibrary) -> None:
    liked = {saved.track_id for saved in library.liked}
    in_playlists = {e.track_id for p in library.playlists for e in p.entries if e.track_id}
    assert in_playlists & liked
    assert in_playlists - liked


def test_who_added_an_entry(library: GeneratedLibrary) -> None:
    me = library.user.id
    for playlist in library.playlists:
        adders = {entry.added_by for entry in playlist.entries}
        if playlist.collaborative:
            assert playlist.owner_id in adders
            assert len(adders) > 1
        else:
            assert adders == {playlist.owner_id}
    assert any(
        me in {entry.added_by for entry in playlist.entries}
        for playlist in library.playlists
        if playlist.collaborative
    )


def test_entries_are_added_in_the_past_and_after_the_release(library: GeneratedLibrary) -> None:
    for playlist in library.playlists:
        for entry in playlist.entries:
            assert entry.added_at < DEFAULT_NOW
            if entry.track_id is not None:
                album = library.albums[library.tracks[entry.track_id].album_id]
                added = entry.added_at.date().isoformat()
                assert added[: len(album.release_date)] >= album.release_date


# --- truth -----------------------------------------------------------------------------------


def test_truth_values_are_in_range(tracks: list[GeneratedTrack]) -> None:
    for track in tracks:
        truth = track.truth
        features = (
            truth.energy,
            truth.danceability,
            truth.valence,
            truth.acousticness,
            truth.instrumentalness,
            truth.speechiness,
            truth.liveness,
        )
        assert all(value is not None and 0.0 <= value <= 1.0 for value in features)
        assert truth.tempo is None or 50 <= truth.tempo <= 220
        assert truth.loudness is not None and -35 <= truth.loudness <= -1
        assert truth.key in range(-1, 12)
        assert truth.mode in (0, 1)
        assert truth.language in LANGUAGES
        assert truth.tags and truth.tags[0] == truth.genres[0]
        assert len(truth.tags) == len(set(truth.tags))


def test_first_release_year_is_never_after_the_album(
    library: GeneratedLibrary, tracks: list[GeneratedTrack]
) -> None:
    earlier = 0
    for track in tracks:
        album_year = int(library.albums[track.album_id].release_date[:4])
        year = track.truth.first_release_year
        assert year is not None and 1960 <= year <= album_year
        earlier += year < album_year
    assert earlier > 0  # remasters and compilations


def test_remasters_remember_the_original_year(
    library: GeneratedLibrary, tracks: list[GeneratedTrack]
) -> None:
    remasters = [
        (track, int(match.group(1) or match.group(2)))
        for track in tracks
        if (match := re.search(r" - (?:Remastered (\d{4})|(\d{4}) Remaster)$", track.name))
    ]
    assert remasters
    for track, remaster_year in remasters:
        assert remaster_year <= int(library.albums[track.album_id].release_date[:4])
        assert track.truth.first_release_year is not None
        assert track.truth.first_release_year <= remaster_year - 10


def test_coverage_shares_and_unknowns_are_realistic(tracks: list[GeneratedTrack]) -> None:
    def share(flags: list[bool]) -> float:
        return sum(flags) / len(flags)

    assert 0.74 < share([t.truth.in_reccobeats for t in tracks]) < 0.86
    assert 0.84 < share([t.truth.in_deezer for t in tracks]) < 0.95
    assert 0.79 < share([t.truth.in_lastfm for t in tracks]) < 0.91
    assert 0.06 < share([t.truth.recording_mbid is None for t in tracks]) < 0.14
    assert 0.02 < share([t.truth.tempo is None for t in tracks]) < 0.08


def test_deezer_values_exist_exactly_for_tracks_deezer_knows(tracks: list[GeneratedTrack]) -> None:
    for track in tracks:
        truth = track.truth
        if truth.in_deezer:
            assert track.isrc is not None
            assert truth.gain is not None and truth.rank is not None
            assert 1_000 <= truth.rank <= 999_999
        else:
            assert truth.gain is None and truth.rank is None


def test_quiet_genres_are_calmer_than_loud_ones(tracks: list[GeneratedTrack]) -> None:
    def mean(families: set[str], feature: str) -> float:
        values = [getattr(t.truth, feature) for t in tracks if _family(t) in families]
        assert len(values) >= 5
        return statistics.mean(values)

    quiet, loud = {"classical", "ambient", "jazz", "folk"}, {"electronic", "metal"}
    assert mean(quiet, "energy") + 0.3 < mean(loud, "energy")
    assert mean(quiet, "acousticness") > mean(loud, "acousticness") + 0.4
    assert mean(quiet, "loudness") < mean(loud, "loudness") - 5


def test_dance_genres_keep_a_club_tempo(tracks: list[GeneratedTrack]) -> None:
    club = {"house", "edm", "big room", "electro house", "progressive house", "deep house"}
    tempos = [t.truth.tempo for t in tracks if t.truth.genres[0] in club and t.truth.tempo]
    assert tempos
    assert all(118 <= tempo <= 130 for tempo in tempos)


def test_valence_follows_the_mood(tracks: list[GeneratedTrack]) -> None:
    def valence(mood: str) -> float:
        return statistics.mean(t.truth.valence or 0 for t in tracks if t.truth.mood == mood)

    assert valence("happy") > valence("romantic") > valence("sad")
    assert valence("uplifting") > valence("dark") + 0.4


def test_instrumentals_have_no_language_and_high_instrumentalness(
    tracks: list[GeneratedTrack],
) -> None:
    for track in tracks:
        instrumental = track.truth.language == "zxx"
        assert ((track.truth.instrumentalness or 0) >= 0.6) == instrumental
    languages = Counter(track.truth.language for track in tracks)
    assert languages.most_common(1)[0][0] == "en"
    assert len(languages) >= 6


def test_tags_mix_genres_with_descriptors(tracks: list[GeneratedTrack]) -> None:
    tags = Counter(tag for track in tracks for tag in track.truth.tags)
    decades = {"60s", "70s", "80s", "90s", "00s", "2010s", "2020s"}
    assert decades & set(tags)
    assert {"female vocalists", "male vocalists", "instrumental", "summer"} <= set(tags)


# --- lookups ---------------------------------------------------------------------------------


def test_the_index_finds_tracks_by_isrc_mbid_and_name(
    library: GeneratedLibrary, tracks: list[GeneratedTrack]
) -> None:
    index = LibraryIndex.of(library)
    for track in tracks[:300]:
        if track.isrc is not None:
            assert track.id in index.by_isrc[track.isrc]
        if track.truth.recording_mbid is not None:
            assert track.id in index.by_recording_mbid[track.truth.recording_mbid]
        artist = library.artists[track.artist_ids[0]].name
        assert track.id in index.find(artist, track.name)
        assert track.id in index.find(artist.upper(), base_title(track.name))
    assert index.find("nobody at all", "nothing") == ()


@pytest.mark.parametrize(
    ("title", "base"),
    [
        ("Hold On", "Hold On"),
        ("Hold On - Remastered 2011", "Hold On"),
        ("Hold On - 2011 Remaster", "Hold On"),
        ("Hold On (feat. Ava Reed)", "Hold On"),
        ("Hold On (feat. Ava Reed) - Live", "Hold On"),
        ("Hold On (Live)", "Hold On"),
        ("Hold On - Kaskade Remix", "Hold On"),
        (
            "Symphony No. 5 in C Minor, Op. 67: I. Allegro",
            "Symphony No. 5 in C Minor, Op. 67: I. Allegro",
        ),
        ("夜の歌", "夜の歌"),
    ],
)
def test_base_title_drops_version_decorations(title: str, base: str) -> None:
    assert base_title(title) == base


def test_fold_ignores_case_accents_and_spacing_but_keeps_kana() -> None:
    assert fold("  Corazón   ROTO ") == "corazon roto"
    assert fold("Sigur Rós") == fold("sigur ros")
    assert fold("が") != fold("か")


def test_the_garbage_collector_is_left_as_it_was() -> None:
    assert gc.isenabled()
    generate_library(0, 50, 3)
    assert gc.isenabled()
    gc.disable()
    try:
        LibraryIndex.of(generate_library(0, 50, 3))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_negative_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        generate_library(0, -1)
    with pytest.raises(ValueError, match="must not be negative"):
        generate_library(0, 10, 2, playlist_size=-5)


@pytest.mark.slow
def test_a_hundred_thousand_liked_tracks() -> None:
    library = generate_library(1, 100_000, 20, playlist_size=250)
    assert len(library.liked) == 100_000
    assert len({saved.track_id for saved in library.liked}) == 100_000
    assert len(library.tracks) >= 100_000
    assert [len(playlist.entries) for playlist in library.playlists] == [250] * 20
