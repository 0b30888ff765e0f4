"""The Last.fm emulator: top tags equal the library truth, autocorrect, unknown tracks, and
errors 3/6/10/26/29 in Last.fm's format; the request log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.lastfm import LastfmConfig, LastfmEmulator, tag_count
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary

from .conftest import TRACKS, tiny_library

pytestmark = pytest.mark.anyio
BASE = "http://emulators.test/lastfm/2.0"
KEY = "good-key"


def lastfm_library() -> GeneratedLibrary:
    """The tiny library with richer tags on t1, a remaster title on t5, t3 unknown to Last.fm."""
    library = tiny_library()
    tracks = dict(library.tracks)
    t1, t3, t5 = (tracks[TRACKS[n]] for n in ("t1", "t3", "t5"))
    tracks[t1.id] = replace(t1, truth=replace(t1.truth, tags=("indie rock", "happy", "2000s")))
    tracks[t3.id] = replace(t3, truth=replace(t3.truth, in_lastfm=False))
    tracks[t5.id] = replace(t5, name="Song 5 - Remastered 2011")
    return replace(library, tracks=tracks)


@pytest.fixture
def lastfm(clock: Clock) -> LastfmEmulator:
    config = LastfmConfig(api_keys=(KEY, "bad-key"), suspended_keys=("bad-key",))
    return LastfmEmulator(lastfm_library(), config, clock)


@pytest.fixture
async def client(lastfm: LastfmEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(lastfm.app, root_path="/lastfm/2.0")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


async def top_tags(
    client: httpx.AsyncClient, artist: str, track: str, key: str = KEY, autocorrect: str = "1"
) -> httpx.Response:
    params = {
        "method": "track.getTopTags",
        "artist": artist,
        "track": track,
        "autocorrect": autocorrect,
        "api_key": key,
        "format": "json",
    }
    return await client.get("/", params=params)


async def test_track_top_tags_equal_the_truth(client: httpx.AsyncClient) -> None:
    response = await top_tags(client, "The Firsts", "Song 1")
    assert response.status_code == 200
    assert response.json() == {
        "toptags": {
            "tag": [
                {"name": "indie rock", "count": 100, "url": "https://www.last.fm/tag/indie+rock"},
                {"name": "happy", "count": 75, "url": "https://www.last.fm/tag/happy"},
                {"name": "2000s", "count": 56, "url": "https://www.last.fm/tag/2000s"},
            ],
            "@attr": {"artist": "The Firsts", "track": "Song 1"},
        }
    }


def test_counts_descend_within_0_to_100() -> None:
    counts = [tag_count(rank) for rank in range(12)]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == 100
    assert all(0 < count <= 100 for count in counts)
    assert len(set(counts)) == len(counts)


async def test_autocorrect_matches_folded_names_and_base_titles(
    client: httpx.AsyncClient,
) -> None:
    corrected = await top_tags(client, "the  FIRSTS", "song 5")
    assert corrected.json()["toptags"]["@attr"] == {
        "artist": "The Firsts",
        "track": "Song 5 - Remastered 2011",
    }
    plain = await top_tags(client, "The Firsts", "Song 5", autocorrect="0")
    assert plain.json() == {"error": 6, "message": "Track not found", "links": []}
    # a featured artist credit finds the track too
    featured = await top_tags(client, "the firsts", "Song 4")
    assert featured.json()["toptags"]["@attr"]["artist"] == "The Firsts"


async def test_unknown_tracks_are_error_6_with_http_200(client: httpx.AsyncClient) -> None:
    for artist, track in (("The Firsts", "Song 3"), ("The Firsts", "No Such Song"), ("X", "Y")):
        response = await top_tags(client, artist, track)
        assert response.status_code == 200
        assert response.json() == {"error": 6, "message": "Track not found", "links": []}
    missing = await top_tags(client, "The Firsts", "")
    assert missing.status_code == 400
    assert missing.json()["error"] == 6


async def test_artist_top_tags(lastfm: LastfmEmulator, client: httpx.AsyncClient) -> None:
    params = {"method": "artist.getTopTags", "artist": "second act", "api_key": KEY}
    body = (await client.get("/", params=params)).json()
    assert body["toptags"]["@attr"] == {"artist": "Second Act"}
    names = [tag["name"] for tag in body["toptags"]["tag"]]
    assert names[0] == "synthpop"  # the artist's genre first
    assert names == ["synthpop", "guitar"]  # then its tracks' tags
    counts = [tag["count"] for tag in body["toptags"]["tag"]]
    assert counts == sorted(counts, reverse=True)
    unknown = await client.get("/", params={**params, "artist": "Nobody"})
    assert unknown.status_code == 200
    assert unknown.json()["error"] == 6


async def test_api_key_errors(client: httpx.AsyncClient) -> None:
    for key in ("", "unknown-key"):
        response = await top_tags(client, "The Firsts", "Song 1", key=key)
        assert response.status_code == 403
        assert response.json()["error"] == 10
        assert response.json()["message"].startswith("Invalid API key")
    suspended = await top_tags(client, "The Firsts", "Song 1", key="bad-key")
    assert suspended.status_code == 403
    assert suspended.json()["error"] == 26


async def test_any_key_accepted_without_a_key_list(clock: Clock) -> None:
    lastfm = LastfmEmulator(lastfm_library(), LastfmConfig(), clock)
    transport = emulator_transport(lastfm.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lastfm.test") as client:
        assert "toptags" in (await top_tags(client, "The Firsts", "Song 1", key="any")).json()
        assert (await top_tags(client, "The Firsts", "Song 1", key="")).json()["error"] == 10


async def test_unknown_method_is_error_3(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"method": "track.scrobble", "api_key": KEY})
    assert response.status_code == 400
    assert response.json()["error"] == 3


async def test_rate_limit_is_error_29_per_key(lastfm: LastfmEmulator, clock: Clock) -> None:
    lastfm.config.rate_limit = 2
    transport = emulator_transport(lastfm.app, root_path="/lastfm/2.0")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        for _ in range(2):
            assert (await top_tags(client, "The Firsts", "Song 1")).status_code == 200
        limited = await top_tags(client, "The Firsts", "Song 1")
        assert limited.status_code == 429
        assert limited.json()["error"] == 29
        assert limited.json()["message"].startswith("Rate Limit Exceeded")
        clock.advance(1)
        assert (await top_tags(client, "The Firsts", "Song 1")).status_code == 200
    assert [r.fault for r in lastfm.requests] == [None, None, "rate_limit", None]
    record = lastfm.requests[0]
    assert (record.service, record.path, record.status) == ("lastfm", "/", 200)
    assert record.query["method"] == "track.getTopTags"


async def test_generated_library_tags_match_truth() -> None:
    library = generate_library(seed=7, tracks=60, playlists=2)
    lastfm = LastfmEmulator(library, LastfmConfig(rate_limit=None))
    transport = emulator_transport(lastfm.app)
    checked = 0
    async with httpx.AsyncClient(transport=transport, base_url="http://lastfm.test") as client:
        for track in list(library.tracks.values())[:30]:
            artist = library.artists[track.artist_ids[0]].name
            body = (await top_tags(client, artist, track.name, key="k")).json()
            expected = lastfm.find_track(artist, track.name, True)
            if expected is None:
                assert body["error"] == 6
                continue
            assert [t["name"] for t in body["toptags"]["tag"]] == list(expected.truth.tags)
            checked += 1
    assert checked > 0
