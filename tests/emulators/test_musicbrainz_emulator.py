"""The MusicBrainz WS/2 and ListenBrainz emulators, in process: search, lookups, fallbacks,
policy (User-Agent, rate limit), errors, and shapes checked against real samples."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.index import base_title
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack
from app.emulators.listenbrainz import ListenBrainzConfig, ListenBrainzEmulator
from app.emulators.musicbrainz.query import QueryError, parse_query
from app.emulators.musicbrainz.service import MusicBrainzConfig, MusicBrainzEmulator
from tests.helpers.paths import SHARED

pytestmark = pytest.mark.anyio

MB = "http://musicbrainz.test/ws/2"
LB = "http://listenbrainz.test/1"
UA = "spotify-auto-playlists/0.1 ( tests@example.org )"
SAMPLES = SHARED / "musicbrainz" / "samples"


@pytest.fixture(scope="module")
def big_library() -> GeneratedLibrary:
    return generate_library(seed=7, tracks=300, playlists=2)


@pytest.fixture
def mb_config() -> MusicBrainzConfig:
    return MusicBrainzConfig(enforce_rate_limit=False)


@pytest.fixture
def mb(
    big_library: GeneratedLibrary, mb_config: MusicBrainzConfig, clock: Clock
) -> MusicBrainzEmulator:
    return MusicBrainzEmulator(big_library, mb_config, clock)


@pytest.fixture
async def client(mb: MusicBrainzEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(mb.app, root_path="/ws/2")
    headers = {"User-Agent": UA}
    async with httpx.AsyncClient(transport=transport, base_url=MB, headers=headers) as http:
        yield http


@pytest.fixture
def lb(
    big_library: GeneratedLibrary, mb: MusicBrainzEmulator, clock: Clock
) -> ListenBrainzEmulator:
    return ListenBrainzEmulator(big_library, ListenBrainzConfig(), clock, data=mb.data)


@pytest.fixture
async def lb_client(lb: ListenBrainzEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(lb.app, root_path="/1")
    async with httpx.AsyncClient(transport=transport, base_url=LB) as http:
        yield http


def known(library: GeneratedLibrary) -> list[GeneratedTrack]:
    """Tracks MusicBrainz knows, one per recording, in library order."""
    seen: dict[str, GeneratedTrack] = {}
    for track in library.tracks.values():
        mbid = track.truth.recording_mbid
        if mbid is not None and mbid not in seen:
            seen[mbid] = track
    return list(seen.values())


def artist_name(library: GeneratedLibrary, track: GeneratedTrack) -> str:
    return library.artists[track.artist_ids[0]].name


def phrase(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    return await client.get(path, params={"fmt": "json", **params})


# -- search -----------------------------------------------------------------------------------


async def test_isrc_batch_search_maps_every_isrc_back(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    tracks = [t for t in known(big_library) if t.isrc][:30]
    isrcs = [t.isrc or "" for t in tracks]
    query = f"isrc:({' OR '.join(isrcs)})"
    response = await get(client, "/recording", query=query, limit=100)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(tracks) and body["offset"] == 0
    by_isrc = {isrc: hit for hit in body["recordings"] for isrc in hit["isrcs"]}
    for track in tracks:
        hit = by_isrc[track.isrc or ""]
        assert hit["id"] == track.truth.recording_mbid
        assert hit["score"] == 100
        assert hit["first-release-date"][:4] == str(track.truth.first_release_year)


async def test_single_isrc_search_and_paging(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    track = next(t for t in known(big_library) if t.isrc)
    body = (await get(client, "/recording", query=f"isrc:{track.isrc}")).json()
    assert [hit["id"] for hit in body["recordings"]] == [track.truth.recording_mbid]
    isrcs = [t.isrc for t in known(big_library) if t.isrc][:5]
    query = " OR ".join(f"isrc:{isrc}" for isrc in isrcs)
    first = (await get(client, "/recording", query=query, limit=2)).json()
    rest = (await get(client, "/recording", query=query, limit=2, offset=2)).json()
    assert first["count"] == rest["count"] == 5
    assert len(first["recordings"]) == 2 and rest["offset"] == 2
    assert not {h["id"] for h in first["recordings"]} & {h["id"] for h in rest["recordings"]}


async def test_artist_and_title_search_finds_exact_and_base_titles(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    decorated = [t for t in known(big_library) if base_title(t.name) != t.name]
    plain = [t for t in known(big_library) if base_title(t.name) == t.name]
    assert decorated and plain
    for track, title in ((plain[0], plain[0].name), (decorated[0], decorated[0].name)):
        artist = artist_name(big_library, track)
        query = f"artist:{phrase(artist)} AND recording:{phrase(title)}"
        hits = (await get(client, "/recording", query=query)).json()["recordings"]
        assert hits[0]["id"] == track.truth.recording_mbid and hits[0]["score"] == 100
    track = decorated[0]
    artist, title = artist_name(big_library, track), base_title(track.name)
    low, high = track.duration_ms - 3000, track.duration_ms + 3000
    query = f"artist:{phrase(artist)} AND recording:{phrase(title)} AND dur:[{low} TO {high}]"
    hits = (await get(client, "/recording", query=query)).json()["recordings"]
    assert track.truth.recording_mbid in [hit["id"] for hit in hits]
    far = f"artist:{phrase(artist)} AND recording:{phrase(title)} AND dur:[1 TO 1000]"
    assert (await get(client, "/recording", query=far)).json()["count"] == 0


def name_clause(library: GeneratedLibrary, track: GeneratedTrack) -> str:
    artist = artist_name(library, track)
    return f"recording:{phrase(base_title(track.name))} AND artist:{phrase(artist)}"


async def test_ored_title_and_artist_clauses_answer_what_each_clause_would(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    """Several tracks' `(recording AND artist)` clauses OR'ed in one search, as a client batches
    tracks without an ISRC: the union of each clause's hits, scored against the best of all,
    each clause's own hits in the order its own search gives them, and pages over the union."""
    tracks = [t for t in known(big_library) if base_title(t.name) == t.name][:12]
    clauses = [name_clause(big_library, track) for track in tracks]
    alone = [(await get(client, "/recording", query=c, limit=100)).json() for c in clauses]
    query = " OR ".join(f"({clause})" for clause in clauses)
    body = (await get(client, "/recording", query=query, limit=100)).json()

    union = {hit["id"] for answer in alone for hit in answer["recordings"]}
    assert body["count"] == len(union) == len(body["recordings"])
    assert {hit["id"] for hit in body["recordings"]} == union
    assert {t.truth.recording_mbid for t in tracks} <= union
    scores = [hit["score"] for hit in body["recordings"]]
    assert scores[0] == 100 and scores == sorted(scores, reverse=True)
    position = {hit["id"]: index for index, hit in enumerate(body["recordings"])}
    for answer in alone:
        own = [hit["id"] for hit in answer["recordings"]]
        assert sorted(own, key=position.__getitem__) == own  # each clause's order is kept
    # Pages of the union, like any search.
    pages = [
        (await get(client, "/recording", query=query, limit=5, offset=offset)).json()
        for offset in range(0, len(union), 5)
    ]
    assert [hit["id"] for page in pages for hit in page["recordings"]] == [
        hit["id"] for hit in body["recordings"]
    ]
    assert {page["count"] for page in pages} == {len(union)}
    # A clause that finds nothing adds nothing; a repeated clause counts twice in the score.
    nothing = 'recording:"no such song" AND artist:"nobody"'
    with_nothing = (await get(client, "/recording", query=f"({nothing}) OR ({clauses[0]})")).json()
    assert [h["id"] for h in with_nothing["recordings"]] == [
        h["id"] for h in alone[0]["recordings"]
    ]
    twice = f"({clauses[0]}) OR ({clauses[0]}) OR ({clauses[1]})"
    doubled = (await get(client, "/recording", query=twice, limit=100)).json()["recordings"]
    first_own = {h["id"] for h in alone[0]["recordings"]}
    best_first = max(h["score"] for h in doubled if h["id"] in first_own)
    best_second = max(h["score"] for h in doubled if h["id"] not in first_own)
    assert best_first == 100 and best_second <= 50


async def test_a_request_line_over_8_kib_is_refused_by_the_web_server(
    client: httpx.AsyncClient, big_library: GeneratedLibrary, mb: MusicBrainzEmulator
) -> None:
    clauses = [name_clause(big_library, track) for track in known(big_library)]
    query = " OR ".join(f"({clause})" for clause in clauses[:150])
    refused = await get(client, "/recording", query=query, limit=100)
    assert refused.status_code == 414
    assert refused.headers["content-type"].startswith("text/html")
    assert b"414 Request-URI Too Large" in refused.content
    assert mb.requests[-1].fault == "uri_too_long"
    shorter = " OR ".join(f"({clause})" for clause in clauses[:40])
    assert (await get(client, "/recording", query=shorter, limit=100)).status_code == 200


async def test_unknown_isrc_and_tracks_unknown_to_musicbrainz(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    body = (await get(client, "/recording", query="isrc:ZZZZZ0000000")).json()
    assert body["count"] == 0 and body["recordings"] == []
    missing = await get(client, "/isrc/ZZZZZ0000000")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    unknown = next(
        t for t in big_library.tracks.values() if t.truth.recording_mbid is None and t.isrc
    )
    assert (await get(client, f"/isrc/{unknown.isrc}")).status_code == 404
    lookup = await get(client, "/recording/00000000-0000-4000-8000-000000000000")
    assert lookup.status_code == 404 and lookup.json() == {"error": "Not Found"}
    assert (await get(client, "/recording/not-an-mbid")).status_code == 400


async def test_query_errors_and_limits(client: httpx.AsyncClient) -> None:
    too_many = await get(client, "/recording", query="isrc:X", limit=101)
    assert too_many.status_code == 400
    assert set(too_many.json()) == {"error", "help"}
    unescaped = await get(client, "/recording", query="recording:Hey (You")
    assert unescaped.status_code == 400
    assert (await get(client, "/recording", query="recording:AC\\/DC")).status_code == 200
    assert (await client.get("/recording", params={"query": "isrc:X", "fmt": "xml"})).is_error


def test_query_parser_handles_escapes_and_groups() -> None:
    assert parse_query('recording:"say \\"hi\\"" AND isrc:(A OR B)') is not None
    with pytest.raises(QueryError):
        parse_query("recording:what?")
    with pytest.raises(QueryError):
        parse_query("nosuchfield:x")


# -- lookups and genre fallbacks --------------------------------------------------------------


async def test_isrc_lookup_refuses_genres(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    track = next(t for t in known(big_library) if t.isrc)
    body = (await get(client, f"/isrc/{track.isrc}")).json()
    assert body["isrc"] == track.isrc
    assert [r["id"] for r in body["recordings"]] == [track.truth.recording_mbid]
    refused = await get(client, f"/isrc/{track.isrc}", inc="genres")
    assert refused.status_code == 400 and "genres" in refused.json()["error"]


async def test_recording_lookup_serves_the_truth_and_some_lack_genres(
    client: httpx.AsyncClient, mb: MusicBrainzEmulator, big_library: GeneratedLibrary
) -> None:
    tracks = known(big_library)
    without = [t for t in tracks if not mb.recording_has_genres(t.truth.recording_mbid or "")]
    assert 0.25 < len(without) / len(tracks) < 0.55
    with_genres = next(t for t in tracks if t not in without)
    inc = "genres+tags+artist-credits+releases+isrcs"
    body = (await get(client, f"/recording/{with_genres.truth.recording_mbid}", inc=inc)).json()
    by_count = sorted(body["genres"], key=lambda g: -g["count"])
    assert tuple(g["name"] for g in by_count) == with_genres.truth.genres
    by_count = sorted(body["tags"], key=lambda g: -g["count"])
    genres = with_genres.truth.genres
    assert tuple(g["name"] for g in by_count) == genres + tuple(
        tag for tag in with_genres.truth.tags if tag not in genres
    )
    assert with_genres.isrc in body["isrcs"]
    assert (
        body["artist-credit"][0]["artist"]["id"]
        == big_library.artists[with_genres.artist_ids[0]].mbid
    )

    track = without[0]
    body = (await get(client, f"/recording/{track.truth.recording_mbid}", inc=inc)).json()
    assert body["genres"] == []
    group_id = body["releases"][0]["release-group"]["id"]
    album = big_library.albums[track.album_id]
    assert group_id == album.mbid
    group = (await get(client, f"/release-group/{group_id}", inc="genres+tags")).json()
    assert [g["name"] for g in group["genres"]] == list(album.genres) == list(track.truth.genres)
    artist_id = body["artist-credit"][0]["artist"]["id"]
    artist = (await get(client, f"/artist/{artist_id}", inc="genres tags")).json()
    assert [g["name"] for g in artist["genres"]] == list(
        big_library.artists[track.artist_ids[0]].genres
    )
    assert (await get(client, f"/artist/{artist_id}", inc="bogus")).status_code == 400


async def test_shared_recordings_appear_once(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    counts: dict[str, list[GeneratedTrack]] = {}
    for track in big_library.tracks.values():
        if track.truth.recording_mbid and track.isrc:
            counts.setdefault(track.truth.recording_mbid, []).append(track)
    shared = [tracks for tracks in counts.values() if len(tracks) > 1]
    if not shared:
        pytest.skip("this library has no reissued recording")
    tracks = shared[0]
    body = (await get(client, "/recording", query=f"isrc:{tracks[0].isrc}")).json()
    assert body["count"] == 1
    assert len(body["recordings"][0]["releases"]) == len({t.album_id for t in tracks})


# -- policy -----------------------------------------------------------------------------------


async def test_missing_or_generic_user_agent_is_refused(
    mb: MusicBrainzEmulator, client: httpx.AsyncClient
) -> None:
    for agent in ("", "python-httpx/0.28.1"):
        response = await client.get(
            "/recording", params={"query": "isrc:X", "fmt": "json"}, headers={"User-Agent": agent}
        )
        assert response.status_code == 403
        assert "User-Agent" in response.json()["error"]
    assert mb.requests[-1].fault == "user_agent"


async def test_rate_limit_per_client_on_the_emulator_clock(
    mb: MusicBrainzEmulator, client: httpx.AsyncClient, clock: Clock
) -> None:
    mb.config.enforce_rate_limit = True
    assert (await get(client, "/recording", query="isrc:X")).status_code == 200
    limited = await get(client, "/recording", query="isrc:X")
    assert limited.status_code == 503
    assert "rate limit" in limited.json()["error"]
    clock.advance(1.01)
    assert (await get(client, "/recording", query="isrc:X")).status_code == 200
    mb.config.rate_per_second = 3
    clock.advance(1.01)
    statuses = [(await get(client, "/recording", query="isrc:X")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 503]
    assert [r.status for r in mb.requests[-4:]] == statuses


async def test_random_faults_are_reproducible(
    mb: MusicBrainzEmulator, client: httpx.AsyncClient
) -> None:
    mb.config.fail_rate = 1.0
    response = await get(client, "/recording", query="isrc:X")
    assert response.status_code in (500, 502, 503)
    assert mb.requests[-1].fault == "error"


# -- ListenBrainz -----------------------------------------------------------------------------


async def test_listenbrainz_metadata_batch(
    lb: ListenBrainzEmulator, lb_client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    tracks = known(big_library)[:10]
    mbids = [t.truth.recording_mbid or "" for t in tracks]
    unknown = "00000000-0000-4000-8000-000000000000"
    response = await lb_client.get(
        "/metadata/recording/",
        params={"recording_mbids": ",".join([*mbids, unknown]), "inc": "artist tag release"},
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == mbids
    for track in tracks:
        entry = body[track.truth.recording_mbid]
        assert entry["recording"]["name"] == track.name
        tags = sorted(entry["tag"]["recording"], key=lambda t: -t["count"])
        # The genres MusicBrainz gives the recording (none for some), then the other tags.
        genres = lb.data.recording_genres(lb.data.recordings[track.truth.recording_mbid or ""])
        assert [t["tag"] for t in tags if "genre_mbid" in t] == list(genres)
        assert [t["tag"] for t in tags if "genre_mbid" not in t] == [
            tag for tag in track.truth.tags if tag not in genres
        ]
        album = big_library.albums[track.album_id]
        assert entry["release"]["release_group_mbid"] == album.mbid
        assert [t["tag"] for t in entry["tag"]["release_group"]] == list(album.genres)
        assert {t["artist_mbid"] for t in entry["tag"]["artist"]} <= {
            big_library.artists[a].mbid for a in track.artist_ids
        }
        assert entry["artist"]["artists"][0]["artist_mbid"] == (
            big_library.artists[track.artist_ids[0]].mbid
        )


async def test_listenbrainz_batch_limit(
    lb: ListenBrainzEmulator, lb_client: httpx.AsyncClient
) -> None:
    mbids = ",".join(f"00000000-0000-4000-8000-{i:012d}" for i in range(26))
    response = await lb_client.get("/metadata/recording/", params={"recording_mbids": mbids})
    assert response.status_code == 400
    assert response.json()["code"] == 400
    lb.config.max_recording_mbids = 30
    ok = await lb_client.get("/metadata/recording/", params={"recording_mbids": mbids})
    assert ok.status_code == 200 and ok.json() == {}


# -- shapes against the real samples -----------------------------------------------------------


def sample(name: str) -> dict[str, Any]:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample {name} not available")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


async def test_shapes_match_the_real_samples(
    client: httpx.AsyncClient, big_library: GeneratedLibrary
) -> None:
    track = next(t for t in known(big_library) if t.isrc)
    mbid = track.truth.recording_mbid
    real_search = sample("search_recording_isrc_fields_credits_spot.json")
    search = (await get(client, "/recording", query=f"isrc:{track.isrc}")).json()
    assert set(search) == set(real_search)
    real_hit, hit = real_search["recordings"][0], search["recordings"][0]
    assert set(hit) == set(real_hit)
    assert set(hit["releases"][0]) <= set(real_hit["releases"][0])
    assert set(hit["releases"][0]["release-group"]) >= set(real_hit["releases"][0]["release-group"])
    assert set(hit["artist-credit"][0]["artist"]) <= set(real_hit["artist-credit"][0]["artist"])

    real_isrc = sample("TRANSCRIBED_mbserver_isrc_lookup_GBAAA9900303.json")
    isrc = (await get(client, f"/isrc/{track.isrc}")).json()
    assert set(isrc) == set(real_isrc)
    assert set(isrc["recordings"][0]) == set(real_isrc["recordings"][0])

    real_recording = sample("picard_ws_data_recording.json")
    inc = "artist-credits+isrcs+tags"
    recording = (await get(client, f"/recording/{mbid}", inc=inc)).json()
    assert set(recording) <= set(real_recording)
    assert set(recording["artist-credit"][0]) == set(real_recording["artist-credit"][0])
    assert set(recording["tags"][0]) == set(real_recording["artist-credit"][0]["artist"]["tags"][0])

    real_artist = sample("TRANSCRIBED_mbserver_artist_inc_tags_genres_ratings.json")
    artist_mbid = big_library.artists[track.artist_ids[0]].mbid
    artist = (await get(client, f"/artist/{artist_mbid}", inc="genres+tags")).json()
    assert set(artist) <= set(real_artist)
    assert set(artist["genres"][0]) == set(real_artist["genres"][0])
    assert set(artist["tags"][0]) == set(real_artist["tags"][0])

    real_release = sample("picard_ws_data_release.json")
    group = (
        await get(client, f"/release-group/{big_library.albums[track.album_id].mbid}", inc="tags")
    ).json()
    assert set(group) - {"tags", "type-id"} <= set(real_release["release-group"])
    assert set(group["tags"][0]) == set(real_release["tags"][0])


async def test_latency_is_waited_on_the_emulator_clock(
    mb: MusicBrainzEmulator, client: httpx.AsyncClient, clock: Clock, big_library: GeneratedLibrary
) -> None:
    clock.virtual_sleep = True
    mb.config.latency_ms = 400
    before = clock.now()
    track = next(t for t in known(big_library) if t.isrc)
    assert (await get(client, f"/isrc/{track.isrc}")).status_code == 200
    assert clock.now() - before >= timedelta(milliseconds=400)
