"""The AcousticBrainz emulator: dump files in the real nested layout and a flat one, the
mirror's bulk and single lookups agreeing with them, values derived from the truth, errors,
rate limit, faults and the request log."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.emulators.acousticbrainz import (
    BINARY_CLASSIFIERS,
    AcousticBrainzConfig,
    AcousticBrainzEmulator,
    classifier_probabilities,
    dump_path,
    high_level_document,
    recordings,
    vocal_gender,
    write_dump,
)
from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack

pytestmark = pytest.mark.anyio
BASE = "http://emulators.test/acousticbrainz"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def library() -> GeneratedLibrary:
    return generate_library(seed=3, tracks=80, playlists=0)


@pytest.fixture
def mirror(library: GeneratedLibrary, clock: Clock) -> AcousticBrainzEmulator:
    return AcousticBrainzEmulator(library, AcousticBrainzConfig(), clock)


@pytest.fixture
async def client(mirror: AcousticBrainzEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(mirror.app, root_path="/acousticbrainz")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def known(library: GeneratedLibrary) -> list[tuple[str, GeneratedTrack]]:
    return list(recordings(library).items())


# -- the data ---------------------------------------------------------------------------------


def test_one_recording_per_mbid_described_by_its_first_track(library: GeneratedLibrary) -> None:
    by_mbid = recordings(library)
    mbids = {t.truth.recording_mbid for t in library.tracks.values() if t.truth.recording_mbid}
    assert set(by_mbid) == mbids
    for mbid, track in by_mbid.items():
        first = next(t for t in library.tracks.values() if t.truth.recording_mbid == mbid)
        assert track is first


def test_documents_have_the_real_high_level_shape(library: GeneratedLibrary) -> None:
    mbid, track = known(library)[0]
    document = high_level_document(library, track)
    assert set(document) == {"highlevel", "metadata"}
    highlevel = document["highlevel"]
    assert set(BINARY_CLASSIFIERS) | {"moods_mirex"} <= set(highlevel)
    for name, classifier in highlevel.items():
        assert set(classifier) == {"value", "probability", "all"}, name
        assert math.isclose(sum(classifier["all"].values()), 1.0), name
        assert classifier["value"] == max(classifier["all"], key=classifier["all"].get)
        assert classifier["probability"] == classifier["all"][classifier["value"]]
    for name, (positive, negative) in BINARY_CLASSIFIERS.items():
        assert set(highlevel[name]["all"]) == {positive, negative}
    metadata = document["metadata"]
    assert metadata["tags"]["musicbrainz_recordingid"] == [mbid]
    assert metadata["tags"]["title"] == [track.name]
    assert metadata["audio_properties"]["length"] == track.duration_ms / 1000
    assert metadata["version"]["extractor"] == "music 1.0"


def test_values_follow_the_truth(library: GeneratedLibrary) -> None:
    tracks = [track for _, track in known(library)]
    for track in tracks:
        truth = track.truth
        shares = classifier_probabilities(truth)
        assert all(0.01 <= share <= 0.99 for share in shares.values())
        assert truth.danceability is not None and truth.acousticness is not None
        assert shares["danceability"] == min(0.99, max(0.01, truth.danceability))
        assert shares["mood_acoustic"] == min(0.99, max(0.01, truth.acousticness))
        highlevel = high_level_document(library, track)["highlevel"]
        instrumental = highlevel["voice_instrumental"]["value"] == "instrumental"
        assert instrumental == (truth.language == "zxx")
        assert (highlevel["tonal_atonal"]["value"] == "tonal") == (truth.key != -1)
        gender = highlevel.get("gender", {}).get("value")
        assert gender == vocal_gender(truth)
        if "female vocalists" in truth.tags and truth.language != "zxx":
            assert gender == "female"
    assert any(t.truth.language == "zxx" for t in tracks)
    assert any(vocal_gender(t.truth) for t in tracks)
    # Happier songs score happier: the mood's direction survives the derivation.
    happy = [
        classifier_probabilities(t.truth)["mood_happy"] for t in tracks if t.truth.mood == "happy"
    ]
    sad = [classifier_probabilities(t.truth)["mood_happy"] for t in tracks if t.truth.mood == "sad"]
    assert happy and sad and min(happy) > max(sad)


# -- the dump ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["nested", "flat"])
def test_write_dump_writes_one_document_per_recording(
    library: GeneratedLibrary, tmp_path: Path, layout: Any
) -> None:
    written = write_dump(library, tmp_path, layout=layout)

    files = sorted(tmp_path.rglob("*.json"))
    assert written == len(files) == len(recordings(library))
    for mbid, track in known(library):
        path = dump_path(tmp_path, mbid, layout)
        assert orjson.loads(path.read_bytes()) == high_level_document(library, track)


def test_the_nested_layout_is_the_real_dumps(library: GeneratedLibrary, tmp_path: Path) -> None:
    write_dump(library, tmp_path)
    mbid = known(library)[0][0]
    path = dump_path(tmp_path, mbid)
    assert path.name == f"{mbid}-0.json"
    assert path.parent.name == mbid[2:4]
    assert path.parent.parent.name == mbid[0:2]
    assert path.is_relative_to(tmp_path / "acousticbrainz-highlevel-json-20220623" / "highlevel")
    assert dump_path(tmp_path, mbid, "flat") == tmp_path / f"{mbid}.json"


# -- the mirror -------------------------------------------------------------------------------


async def test_bulk_lookup_answers_known_recordings_like_the_dump(
    library: GeneratedLibrary, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    write_dump(library, tmp_path)
    chosen = [mbid for mbid, _ in known(library)[:3]]

    response = await client.get(
        "/api/v1/high-level", params={"recording_ids": ";".join([*chosen, UNKNOWN])}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(chosen)  # the unknown one is left out
    for mbid in chosen:
        assert set(body[mbid]) == {"0"}
        assert body[mbid]["0"] == orjson.loads(dump_path(tmp_path, mbid).read_bytes())


async def test_bulk_lookup_takes_submission_offsets(
    library: GeneratedLibrary, client: httpx.AsyncClient
) -> None:
    first, second = (mbid for mbid, _ in known(library)[:2])
    response = await client.get(
        "/api/v1/high-level", params={"recording_ids": f"{first}:0;{second}:1"}
    )
    assert set(response.json()) == {first}


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("", "Missing"),
        ("not-an-mbid", "not a valid recording MBID"),
        (";".join([UNKNOWN] * 26), "More than 25"),
    ],
)
async def test_bulk_lookup_refuses_bad_requests(
    client: httpx.AsyncClient, ids: str, message: str
) -> None:
    response = await client.get("/api/v1/high-level", params={"recording_ids": ids})
    assert response.status_code == 400
    assert message in response.json()["message"]


async def test_twenty_five_ids_are_allowed(
    library: GeneratedLibrary, client: httpx.AsyncClient
) -> None:
    mbids = [mbid for mbid, _ in known(library)[:25]]
    assert len(mbids) == 25
    response = await client.get("/api/v1/high-level", params={"recording_ids": ";".join(mbids)})
    assert response.status_code == 200
    assert set(response.json()) == set(mbids)


async def test_single_lookup(library: GeneratedLibrary, client: httpx.AsyncClient) -> None:
    mbid, track = known(library)[0]
    response = await client.get(f"/api/v1/{mbid}/high-level")
    assert response.status_code == 200
    assert response.json() == high_level_document(library, track)
    missing = await client.get(f"/api/v1/{UNKNOWN}/high-level")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not found"})
    assert (await client.get("/api/v1/nope/high-level")).status_code == 400
    assert (await client.get("/api/v1/elsewhere")).status_code == 404


async def test_rate_limit_answers_429_with_ratelimit_headers(
    library: GeneratedLibrary, mirror: AcousticBrainzEmulator, client: httpx.AsyncClient
) -> None:
    mirror.config.rate_limit = 2
    mirror.config.rate_window = 10.0
    mbid = known(library)[0][0]
    statuses = [
        (await client.get("/api/v1/high-level", params={"recording_ids": mbid})).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    refused = await client.get("/api/v1/high-level", params={"recording_ids": mbid})
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["retry-after"]) >= 1
    assert [r.fault for r in mirror.requests] == [None, None, "rate_limit", "rate_limit"]

    mirror.clock.advance(11)
    ok = await client.get("/api/v1/high-level", params={"recording_ids": mbid})
    assert ok.status_code == 200


async def test_faults_and_the_request_log(
    library: GeneratedLibrary, mirror: AcousticBrainzEmulator, client: httpx.AsyncClient
) -> None:
    mirror.config.fail_rate = 1.0
    mbid = known(library)[0][0]
    failed = await client.get("/api/v1/high-level", params={"recording_ids": mbid})
    assert failed.status_code in (500, 502, 503)
    mirror.config.fail_rate = 0.0
    mirror.config.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/api/v1/high-level", params={"recording_ids": mbid})
    mirror.config.drop_rate = 0.0
    await client.get("/api/v1/high-level", params={"recording_ids": mbid})

    log = mirror.requests
    assert [r.service for r in log] == ["acousticbrainz"] * 3
    assert [r.path for r in log] == ["/api/v1/high-level"] * 3
    assert log[0].query == {"recording_ids": mbid}
    assert [r.fault for r in log] == ["error", "drop", None]
    assert log[2].status == 200
