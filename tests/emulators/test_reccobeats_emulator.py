"""The ReccoBeats emulator: audio features equal the library truth, partial coverage, batch
limit, 429 with Retry-After on the emulator clock, the request log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary
from app.emulators.reccobeats import FEATURES, ReccoBeatsConfig, ReccoBeatsEmulator, reccobeats_id

from .conftest import TRACKS, tiny_library

pytestmark = pytest.mark.anyio
BASE = "http://emulators.test/reccobeats/v1"


def recco_library() -> GeneratedLibrary:
    """The tiny library with t3 unknown to ReccoBeats and t4's tempo unknown."""
    library = tiny_library()
    tracks = dict(library.tracks)
    t3, t4 = tracks[TRACKS["t3"]], tracks[TRACKS["t4"]]
    tracks[t3.id] = replace(t3, truth=replace(t3.truth, in_reccobeats=False))
    tracks[t4.id] = replace(t4, truth=replace(t4.truth, tempo=None, key=-1, mode=0))
    return replace(library, tracks=tracks)


@pytest.fixture
def recco(clock: Clock) -> ReccoBeatsEmulator:
    return ReccoBeatsEmulator(recco_library(), ReccoBeatsConfig(), clock)


@pytest.fixture
async def client(recco: ReccoBeatsEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(recco.app, root_path="/reccobeats/v1")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


async def test_features_equal_the_truth_and_coverage_is_partial(
    recco: ReccoBeatsEmulator, client: httpx.AsyncClient
) -> None:
    ids = [TRACKS[name] for name in ("t1", "t3", "t4")] + ["0000000000000000000000"]
    response = await client.get("/audio-features", params={"ids": ",".join(ids)})
    assert response.status_code == 200
    content = response.json()["content"]
    assert [item["href"] for item in content] == [
        f"https://open.spotify.com/track/{TRACKS['t1']}",
        f"https://open.spotify.com/track/{TRACKS['t4']}",
    ]
    for item, name in zip(content, ("t1", "t4"), strict=True):
        truth = recco.library.tracks[TRACKS[name]].truth
        assert item["id"] == reccobeats_id(TRACKS[name])
        assert set(item) == {"id", "href", *FEATURES}
        assert {key: item[key] for key in FEATURES} == {
            key: getattr(truth, key) for key in FEATURES
        }
    assert content[1]["tempo"] is None
    assert content[1]["key"] == -1


async def test_repeated_ids_parameters_uuids_and_duplicates(
    recco: ReccoBeatsEmulator, client: httpx.AsyncClient
) -> None:
    params = {"ids": [TRACKS["t2"], f"{reccobeats_id(TRACKS['t1'])},{TRACKS['t2']}"]}
    content = (await client.get("/audio-features", params=params)).json()["content"]
    assert [item["id"] for item in content] == [
        reccobeats_id(TRACKS["t2"]),
        reccobeats_id(TRACKS["t1"]),
    ]


async def test_nothing_known_is_an_empty_content_list(client: httpx.AsyncClient) -> None:
    response = await client.get("/audio-features", params={"ids": TRACKS["t3"]})
    assert response.status_code == 200
    assert response.json() == {"content": []}


async def test_batch_limit_and_missing_ids_are_400(
    recco: ReccoBeatsEmulator, client: httpx.AsyncClient
) -> None:
    ids = ",".join([TRACKS["t1"]] * 40)
    assert (await client.get("/audio-features", params={"ids": ids})).status_code == 200
    too_many = await client.get("/audio-features", params={"ids": ids + "," + TRACKS["t2"]})
    assert too_many.status_code == 400
    body = too_many.json()
    assert body["status"] == 400
    assert body["error"] == "Bad Request"
    assert "40" in body["message"]
    assert body["path"] == "/reccobeats/v1/audio-features"
    assert (await client.get("/audio-features")).status_code == 400
    recco.config.max_ids = 2
    three = ",".join(TRACKS[n] for n in ("t1", "t2", "t4"))
    assert (await client.get("/audio-features", params={"ids": three})).status_code == 400


async def test_rate_limit_answers_429_with_retry_after(clock: Clock) -> None:
    recco = ReccoBeatsEmulator(
        recco_library(), ReccoBeatsConfig(rate_limit=2, rate_window=10), clock
    )
    transport = emulator_transport(recco.app, root_path="/reccobeats/v1")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        params = {"ids": TRACKS["t1"]}
        for _ in range(2):
            assert (await client.get("/audio-features", params=params)).status_code == 200
        limited = await client.get("/audio-features", params=params)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "10"
        assert limited.json()["status"] == 429
        clock.advance(4.5)
        assert (await client.get("/track", params=params)).headers["retry-after"] == "6"  # ceil
        clock.advance(6)
        assert (await client.get("/audio-features", params=params)).status_code == 200
    assert [r.fault for r in recco.requests] == [None, None, "rate_limit", "rate_limit", None]
    assert [r.status for r in recco.requests] == [200, 200, 429, 429, 200]


async def test_track_objects(recco: ReccoBeatsEmulator, client: httpx.AsyncClient) -> None:
    ids = f"{TRACKS['t4']},{TRACKS['t3']}"
    content = (await client.get("/track", params={"ids": ids})).json()["content"]
    assert len(content) == 1
    item = content[0]
    track = recco.library.tracks[TRACKS["t4"]]
    assert item["id"] == reccobeats_id(track.id)
    assert item["trackTitle"] == track.name
    assert item["isrc"] == track.isrc
    assert item["durationMs"] == track.duration_ms
    assert [a["name"] for a in item["artists"]] == ["Second Act", "The Firsts"]


async def test_request_log_and_faults(
    recco: ReccoBeatsEmulator, client: httpx.AsyncClient, clock: Clock
) -> None:
    before = clock.now()
    await client.get("/audio-features", params={"ids": TRACKS["t1"]})
    record = recco.requests[-1]
    assert (record.service, record.path, record.query, record.status) == (
        "reccobeats",
        "/audio-features",
        {"ids": TRACKS["t1"]},
        200,
    )
    assert record.time >= before
    recco.config.fail_rate = 1.0
    assert (await client.get("/audio-features", params={"ids": TRACKS["t1"]})).status_code in (
        500,
        502,
        503,
    )
    assert recco.requests[-1].fault == "error"


async def test_generated_library_coverage() -> None:
    library = generate_library(seed=5, tracks=80, playlists=2)
    recco = ReccoBeatsEmulator(library)
    ids = list(library.tracks)[:40]
    transport = emulator_transport(recco.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://recco.test") as client:
        content = (await client.get("/audio-features", params={"ids": ",".join(ids)})).json()
    served = {item["href"].rsplit("/", 1)[1]: item for item in content["content"]}
    expected = [tid for tid in ids if library.tracks[tid].truth.in_reccobeats]
    assert list(served) == expected
    assert 0 < len(expected) < len(ids)  # partial coverage
    for tid, item in served.items():
        truth = library.tracks[tid].truth
        assert item["energy"] == truth.energy
        assert item["tempo"] == truth.tempo
        assert item["loudness"] == truth.loudness
