"""Fixtures of the emulator tests: a tiny hand-built library with every awkward case, the
Spotify emulator over it, and httpx clients wired to it in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.model import (
    AccountEntry,
    Album,
    Artist,
    Episode,
    GeneratedLibrary,
    GeneratedTrack,
    LikedSong,
    LocalFile,
    Playlist,
    TrackTruth,
    User,
)
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator
from app.emulators.spotify.state import spotify_id

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ME = User("emuuser", "Emu User")
OTHER = User("otheruser", "Other Person")
API = "http://api.spotify.test/v1"
ACCOUNTS = "http://accounts.spotify.test"
REDIRECT = "http://127.0.0.1:8888/auth/callback"


def sid(name: str) -> str:
    """The 22-character base62 id of a named test object."""
    return spotify_id(f"test:{name}")


ARTISTS = {name: sid(name) for name in ("artist1", "artist2")}
ALBUMS = {name: sid(name) for name in ("album1", "album2")}
TRACKS = {f"t{i}": sid(f"t{i}") for i in range(1, 7)}
EPISODE = sid("episode1")
MINE, THEIRS, COLLAB, BIG = (sid(n) for n in ("mine", "theirs", "collab", "big"))
LOCAL = LocalFile("My Demo", "Garage Band", "Basement Tapes", 183_000)


def uri(name: str) -> str:
    return f"spotify:track:{TRACKS[name]}"


def _truth() -> TrackTruth:
    return TrackTruth(
        genres=("indie rock",), tags=("guitar",), mood="happy", language="en", tempo=120.0,
        energy=0.7, danceability=0.5, valence=0.6, acousticness=0.1, instrumentalness=0.0,
        speechiness=0.05, liveness=0.1, loudness=-7.0, key=5, mode=1, gain=-8.0, rank=500_000,
        recording_mbid=None, first_release_year=2001, in_reccobeats=True, in_deezer=True,
        in_lastfm=True,
    )  # fmt: skip


def _track(index: int) -> GeneratedTrack:
    name = f"t{index}"
    return GeneratedTrack(
        id=TRACKS[name],
        name=f"Song {index}",
        artist_ids=(ARTISTS["artist1"],) if index % 2 else (ARTISTS["artist2"], ARTISTS["artist1"]),
        album_id=ALBUMS["album1"] if index <= 3 else ALBUMS["album2"],
        duration_ms=200_000 + index,
        explicit=index == 2,
        isrc=None if index == 6 else f"GBAAA26000{index:02d}",
        track_number=index,
        disc_number=1,
        truth=_truth(),
    )


def _entry(name: str, hours: int, by: str = ME.id) -> AccountEntry:
    return AccountEntry("track", NOW - timedelta(hours=hours), by, track_id=TRACKS[name])


def tiny_library() -> GeneratedLibrary:
    """Four playlists: mine (duplicate, local file, episode, unavailable entry), another
    user's (unreadable), a collaborative one, and a 120-entry one for paging."""
    artists = {
        ARTISTS["artist1"]: Artist(ARTISTS["artist1"], "The Firsts", ("indie rock",), "mbid-1"),
        ARTISTS["artist2"]: Artist(ARTISTS["artist2"], "Second Act", ("synthpop",), "mbid-2"),
    }
    albums = {
        ALBUMS["album1"]: Album(
            ALBUMS["album1"], "First Album", (ARTISTS["artist1"],), "2001-05-17", "day",
            "album", 3, "Label One", ("indie rock",), "rg-1", 101,
        ),
        ALBUMS["album2"]: Album(
            ALBUMS["album2"], "Second Album", (ARTISTS["artist2"],), "1999", "year",
            "compilation", 3, "Label Two", ("synthpop",), "rg-2", 102,
        ),
    }  # fmt: skip
    tracks = {track.id: track for track in (_track(i) for i in range(1, 7))}
    mine_entries = (
        _entry("t1", 50),
        _entry("t2", 49),
        _entry("t1", 48),
        AccountEntry("local", NOW - timedelta(hours=47), ME.id, local=LOCAL),
        AccountEntry("episode", NOW - timedelta(hours=46), ME.id, episode_id=EPISODE),
        AccountEntry("unavailable", NOW - timedelta(hours=45), ME.id),
        _entry("t3", 44),
    )
    big_entries = tuple(_entry(f"t{i % 6 + 1}", 200 - i) for i in range(120))
    playlists = (
        Playlist(MINE, "Mine", "my mix", ME.id, False, False, mine_entries),
        Playlist(THEIRS, "Theirs", "", OTHER.id, False, True, (_entry("t1", 90, OTHER.id),)),
        Playlist(COLLAB, "Together", "", OTHER.id, True, False, (_entry("t4", 80, OTHER.id),)),
        Playlist(BIG, "Big", "many songs", ME.id, False, True, big_entries),
    )
    liked = tuple(LikedSong(TRACKS[f"t{i}"], NOW - timedelta(hours=i)) for i in range(1, 6))
    episodes = {EPISODE: Episode(EPISODE, "Pilot", "Emulated Radio", 1_800_000, "2026-01-15")}
    return GeneratedLibrary(
        seed=0, user=ME, other_users=(OTHER,), artists=artists, albums=albums, tracks=tracks,
        episodes=episodes, liked=liked, playlists=playlists, generated_at=NOW,
    )  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def library() -> GeneratedLibrary:
    return tiny_library()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config() -> SpotifyEmulatorConfig:
    return SpotifyEmulatorConfig(client_id="test-client")


@pytest.fixture
def emulator(
    library: GeneratedLibrary, config: SpotifyEmulatorConfig, clock: Clock
) -> SpotifyEmulator:
    return SpotifyEmulator(library, config, clock)


@pytest.fixture
def token(emulator: SpotifyEmulator) -> str:
    access = emulator.grant_tokens()["access_token"]
    assert isinstance(access, str)
    return access


@pytest.fixture
async def api(emulator: SpotifyEmulator, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the Web API, authorised with every scope our app asks for."""
    transport = emulator_transport(emulator.api_app, root_path="/v1")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as client:
        yield client


@pytest.fixture
async def anonymous(emulator: SpotifyEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the Web API without credentials."""
    transport = emulator_transport(emulator.api_app, root_path="/v1")
    async with httpx.AsyncClient(transport=transport, base_url=API) as client:
        yield client


@pytest.fixture
async def accounts(emulator: SpotifyEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(emulator.accounts_app)
    async with httpx.AsyncClient(transport=transport, base_url=ACCOUNTS) as client:
        yield client
