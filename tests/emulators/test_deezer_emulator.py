"""The Deezer emulator: track by ISRC and album genres equal the library truth, "no data" for
what Deezer does not know, bpm 0 when unknown, the quota in Deezer's format, faults, the log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.deezer import NO_DATA, QUOTA, DeezerConfig, DeezerEmulator, genre_id
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary

from .conftest import ALBUMS, TRACKS, tiny_library

pytestmark = pytest.mark.anyio
BASE = "http://emulators.test/deezer"


def deezer_library() -> GeneratedLibrary:
    """The tiny library with t2's tempo unknown and t3 unknown to Deezer."""
    library = tiny_library()
    tracks = dict(library.tracks)
    t2, t3 = tracks[TRACKS["t2"]], tracks[TRACKS["t3"]]
    tracks[t2.id] = replace(t2, truth=replace(t2.truth, tempo=None))
    tracks[t3.id] = replace(t3, truth=replace(t3.truth, in_deezer=False, gain=None, rank=None))
    return replace(library, tracks=tracks)


@pytest.fixture
def deezer(clock: Clock) -> DeezerEmulator:
    return DeezerEmulator(deezer_library(), DeezerConfig(), clock)


@pytest.fixture
async def client(deezer: DeezerEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(deezer.app, root_path="/deezer")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


async def test_track_by_isrc_serves_the_truth(
    deezer: DeezerEmulator, client: httpx.AsyncClient
) -> None:
    track = deezer.library.tracks[TRACKS["t1"]]
    response = await client.get(f"/track/isrc:{track.isrc}")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "track"
    assert body["id"] == deezer.track_ids[track.id]
    assert body["isrc"] == track.isrc
    assert body["title"] == body["title_short"] == "Song 1"
    assert body["readable"] is True
    assert body["bpm"] == track.truth.tempo == 120.0
    assert body["gain"] == track.truth.gain
    assert body["rank"] == track.truth.rank
    assert body["duration"] == 200
    assert body["track_position"] == 1
    assert body["disk_number"] == 1
    assert body["release_date"] == "2001-05-17"
    assert body["explicit_lyrics"] is False
    assert body["artist"]["name"] == "The Firsts"
    assert body["artist"]["type"] == "artist"
    assert [c["name"] for c in body["contributors"]] == ["The Firsts"]
    assert body["album"]["id"] == 101
    assert body["album"]["title"] == "First Album"
    assert body["album"]["type"] == "album"
    assert body["link"] == f"https://www.deezer.com/track/{body['id']}"
    # the same track by its Deezer id
    again = await client.get(f"/track/{body['id']}")
    assert again.json() == body


async def test_featured_artists_and_padded_release_dates(
    deezer: DeezerEmulator, client: httpx.AsyncClient
) -> None:
    body = (await client.get("/track/isrc:GBAAA2600004")).json()
    assert [(c["name"], c["role"]) for c in body["contributors"]] == [
        ("Second Act", "Main"),
        ("The Firsts", "Featured"),
    ]
    assert body["artist"]["name"] == "Second Act"
    assert body["release_date"] == "1999-01-01"  # year precision, padded like Deezer


async def test_bpm_is_zero_when_the_tempo_is_unknown(client: httpx.AsyncClient) -> None:
    body = (await client.get("/track/isrc:GBAAA2600002")).json()
    assert body["bpm"] == 0
    assert body["explicit_lyrics"] is True


async def test_unknown_tracks_answer_no_data_with_http_200(client: httpx.AsyncClient) -> None:
    for path in (
        "/track/isrc:GBAAA2600003",  # in the library, not on Deezer
        "/track/isrc:XXAAA0000000",  # unknown ISRC
        "/track/123",  # unknown id
        "/album/999",
        "/nothing/here",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert (
            response.json()
            == NO_DATA
            == {"error": {"type": "DataException", "message": "no data", "code": 800}}
        )


async def test_isrc_lookup_is_case_insensitive(client: httpx.AsyncClient) -> None:
    assert (await client.get("/track/isrc:gbaaa2600001")).json()["isrc"] == "GBAAA2600001"


async def test_album_has_the_album_genres(
    deezer: DeezerEmulator, client: httpx.AsyncClient
) -> None:
    body = (await client.get("/album/101")).json()
    assert body["id"] == 101
    assert body["type"] == "album"
    assert body["title"] == "First Album"
    assert body["label"] == "Label One"
    assert body["record_type"] == "album"
    assert body["genres"] == {
        "data": [
            {
                "id": genre_id("indie rock"),
                "name": "indie rock",
                "picture": f"https://api.deezer.com/genre/{genre_id('indie rock')}/image",
                "type": "genre",
            }
        ]
    }
    assert body["genre_id"] == genre_id("indie rock")
    # t3 is not on Deezer, so the album lists t1 and t2 only
    listed = [t["id"] for t in body["tracks"]["data"]]
    assert listed == [deezer.track_ids[TRACKS["t1"]], deezer.track_ids[TRACKS["t2"]]]
    compilation = (await client.get("/album/102")).json()
    assert compilation["record_type"] == "compile"
    assert [g["name"] for g in compilation["genres"]["data"]] == ["synthpop"]
    assert ALBUMS["album2"] in deezer.library.albums


async def test_quota_in_deezer_format_on_the_emulator_clock(clock: Clock) -> None:
    deezer = DeezerEmulator(deezer_library(), DeezerConfig(rate_limit=3, rate_window=5), clock)
    transport = emulator_transport(deezer.app, root_path="/deezer")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        bodies = [(await client.get("/track/isrc:GBAAA2600001")).json() for _ in range(3)]
        assert all(body["type"] == "track" for body in bodies)
        refused = await client.get("/album/101")
        assert refused.status_code == 200
        assert (
            refused.json()
            == QUOTA
            == {"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}}
        )
        clock.advance(5)
        assert (await client.get("/album/101")).json()["id"] == 101
    assert [r.fault for r in deezer.requests] == [None, None, None, "rate_limit", None]


async def test_default_quota_is_50_per_5_seconds(
    deezer: DeezerEmulator, client: httpx.AsyncClient, clock: Clock
) -> None:
    for _ in range(50):
        assert "error" not in (await client.get("/track/isrc:GBAAA2600001")).json()
    assert (await client.get("/track/isrc:GBAAA2600001")).json() == QUOTA
    clock.advance(5)
    assert "error" not in (await client.get("/track/isrc:GBAAA2600001")).json()


async def test_request_log_and_random_faults(
    deezer: DeezerEmulator, client: httpx.AsyncClient, clock: Clock
) -> None:
    before = clock.now()
    await client.get("/track/isrc:GBAAA2600001", params={"output": "json"})
    record = deezer.requests[-1]
    assert (record.service, record.method, record.path) == (
        "deezer",
        "GET",
        "/track/isrc:GBAAA2600001",
    )
    assert record.query == {"output": "json"}
    assert record.status == 200
    assert record.time >= before
    deezer.config.fail_rate = 1.0
    failed = await client.get("/track/isrc:GBAAA2600001")
    assert failed.status_code in (500, 502, 503)
    assert deezer.requests[-1].fault == "error"
    assert deezer.requests[-1].status == failed.status_code
    deezer.config.fail_rate = 0.0
    deezer.config.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/album/101")
    assert deezer.requests[-1].fault == "drop"
    assert deezer.requests[-1].status is None


def test_config_rejects_impossible_rates() -> None:
    with pytest.raises(ValueError, match="fail_rate"):
        DeezerConfig(fail_rate=2.0)
    with pytest.raises(ValueError, match="rate_limit"):
        DeezerConfig(rate_limit=0)


async def test_generated_library_values_match_truth() -> None:
    library = generate_library(seed=3, tracks=60, playlists=2)
    deezer = DeezerEmulator(library, DeezerConfig(rate_limit=None))
    transport = emulator_transport(deezer.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://deezer.test") as client:
        for track in list(library.tracks.values())[:40]:
            if track.isrc is None:
                continue
            body = (await client.get(f"/track/isrc:{track.isrc}")).json()
            first = library.tracks[deezer.index.by_isrc[track.isrc][0]]
            if not track.truth.in_deezer:
                assert body == NO_DATA
                continue
            assert body["id"] == deezer.track_ids[first.id]
            assert body["bpm"] == (track.truth.tempo or 0)
            assert body["gain"] == track.truth.gain
            assert body["rank"] == track.truth.rank
            album = library.albums[first.album_id]
            genres = (await client.get(f"/album/{album.deezer_id}")).json()["genres"]["data"]
            assert [g["name"] for g in genres] == list(album.genres)


async def test_latency_is_waited_on_the_emulator_clock(
    deezer: DeezerEmulator, client: httpx.AsyncClient, clock: Clock
) -> None:
    clock.virtual_sleep = True
    deezer.config.latency_ms = 250
    before = clock.now()
    track = deezer.library.tracks[TRACKS["t1"]]
    assert (await client.get(f"/track/isrc:{track.isrc}")).status_code == 200
    assert clock.now() - before >= timedelta(milliseconds=250)
