"""A state file shares one account between emulators: what one writes, the others read, with
the same snapshot ids, in this process or another; a bad file is moved aside."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.core.fs import list_quarantined
from app.emulators.common.transport import emulator_transport
from app.emulators.spotify.config import SpotifyEmulatorConfig
from app.emulators.spotify.emulator import SpotifyEmulator

from .conftest import API, BIG, EPISODE, LOCAL, MINE, TRACKS, tiny_library, uri

pytestmark = pytest.mark.anyio

GENERATED_MINE = [
    uri("t1"),
    uri("t2"),
    uri("t1"),
    LOCAL.uri,
    f"spotify:episode:{EPISODE}",
    None,
    uri("t3"),
]


def new_emulator(state_file: Path | None) -> SpotifyEmulator:
    """An emulator as another process would build it: its own library object, same seed."""
    return SpotifyEmulator(
        tiny_library(), SpotifyEmulatorConfig(client_id="test-client"), state_file=state_file
    )


@asynccontextmanager
async def connect(emulator: SpotifyEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """A Web API client of `emulator`, authorised with every scope our app asks for."""
    token = emulator.grant_tokens()["access_token"]
    transport = emulator_transport(emulator.api_app, root_path="/v1")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as client:
        yield client


async def items_of(api: httpx.AsyncClient, playlist_id: str) -> list[str | None]:
    response = await api.get(f"/playlists/{playlist_id}/items", params={"limit": 50})
    assert response.status_code == 200, response.text
    return [(item["item"] or {}).get("uri") for item in response.json()["items"]]


async def snapshot_of(api: httpx.AsyncClient, playlist_id: str) -> str:
    response = await api.get(f"/playlists/{playlist_id}", params={"fields": "snapshot_id"})
    assert response.status_code == 200, response.text
    snapshot: str = response.json()["snapshot_id"]
    return snapshot


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "account" / "emulator-spotify.json"


async def test_writes_through_one_emulator_are_read_through_another(state_file: Path) -> None:
    first, second = new_emulator(state_file), new_emulator(state_file)
    async with connect(first) as a, connect(second) as b:
        created = await a.post("/me/playlists", json={"name": "Shared", "public": False})
        assert created.status_code == 201
        playlist_id = created.json()["id"]
        added = await a.post(
            f"/playlists/{playlist_id}/items",
            json={"uris": [uri("t1"), uri("t2"), uri("t3"), f"spotify:episode:{EPISODE}"]},
        )
        assert added.status_code == 201
        removed = await a.request(
            "DELETE", f"/playlists/{playlist_id}/items", json={"items": [{"uri": uri("t2")}]}
        )
        assert removed.status_code == 200
        moved = await a.put(
            f"/playlists/{playlist_id}/items",
            json={"range_start": 2, "insert_before": 0, "snapshot_id": added.json()["snapshot_id"]},
        )
        assert moved.status_code == 200
        last = moved.json()["snapshot_id"]

        # `second` existed before any of these writes: it catches up on its next request.
        listed = (await b.get("/me/playlists", params={"limit": 1})).json()
        assert listed["total"] == 5
        assert (listed["items"][0]["id"], listed["items"][0]["name"]) == (playlist_id, "Shared")
        assert listed["items"][0]["public"] is False
        expected = [f"spotify:episode:{EPISODE}", uri("t1"), uri("t3")]
        assert await items_of(b, playlist_id) == expected
        assert await snapshot_of(b, playlist_id) == last
        assert second.playlist_ids() == first.playlist_ids()

    # One started afterwards loads everything, down to who added what and when.
    third = new_emulator(state_file)
    assert third.playlist_entries(playlist_id) == first.playlist_entries(playlist_id)
    assert third.playlist(playlist_id).snapshots == first.playlist(playlist_id).snapshots
    assert len(third.playlist(playlist_id).snapshots) == 4  # as created, then 3 writes


async def test_a_written_generated_playlist_keeps_its_local_files_episodes_and_gaps(
    state_file: Path,
) -> None:
    first = new_emulator(state_file)
    async with connect(first) as a:
        added = await a.post(f"/playlists/{MINE}/items", json={"uris": [uri("t5")], "position": 0})
        assert added.status_code == 201
    second = new_emulator(state_file)
    assert second.playlist_uris(MINE) == [uri("t5"), *GENERATED_MINE]
    assert second.playlist_entries(MINE) == first.playlist_entries(MINE)
    assert second.playlist_entries(MINE)[4].local == LOCAL
    assert second.snapshot_id(MINE) == added.json()["snapshot_id"]
    # Unwritten playlists are not in the file at all.
    saved = orjson.loads(state_file.read_bytes())
    assert [p["id"] for p in saved["playlists"]] == [MINE]
    assert "liked" not in saved


async def test_snapshot_ids_keep_changing_as_emulators_take_turns(state_file: Path) -> None:
    first, second = new_emulator(state_file), new_emulator(state_file)
    async with connect(first) as a, connect(second) as b:
        original = await snapshot_of(b, BIG)
        one = await a.post(f"/playlists/{BIG}/items", json={"uris": [uri("t1")]})
        two = await b.post(f"/playlists/{BIG}/items", json={"uris": [uri("t2")]})
        # `first` knows the snapshot `second` made, and reorders on top of it.
        three = await a.put(
            f"/playlists/{BIG}/items",
            json={"range_start": 121, "insert_before": 0, "snapshot_id": two.json()["snapshot_id"]},
        )
        # An older snapshot id still names a version the playlist has had.
        four = await b.request(
            "DELETE",
            f"/playlists/{BIG}/items",
            json={"items": [{"uri": uri("t3")}], "snapshot_id": one.json()["snapshot_id"]},
        )
        responses = [one, two, three, four]
        assert [r.status_code for r in responses] == [201, 201, 200, 200]
        snapshots = [original, *(r.json()["snapshot_id"] for r in responses)]
        assert len(set(snapshots)) == 5
        assert await snapshot_of(a, BIG) == await snapshot_of(b, BIG) == snapshots[-1]
        uris = await items_of(a, BIG)
        assert uris[0] == uri("t2") and uri("t3") not in uris
        assert len(first.playlist_uris(BIG)) == 120 + 2 - 20  # t3 was 20 of the 120
        assert first.playlist(BIG).version == second.playlist(BIG).version == 5

        # Playlists created on either side get distinct ids.
        ids = [
            (await client.post("/me/playlists", json={"name": name})).json()["id"]
            for client, name in ((a, "from a"), (b, "from b"), (a, "from a again"))
        ]
        assert len(set(ids)) == 3
        assert second.playlist_ids()[:3] == first.playlist_ids()[:3] == ids[::-1]


async def test_a_write_starts_from_what_the_others_saved(state_file: Path) -> None:
    first, second = new_emulator(state_file), new_emulator(state_file)
    first.edit_playlist_as_other_user(MINE, add=[uri("t4")])
    second.edit_playlist_as_other_user(MINE, add=[uri("t5")])  # no read in between
    first.save_tracks([TRACKS["t6"]])
    second.remove_saved_tracks([TRACKS["t1"]])
    third = new_emulator(state_file)
    assert third.playlist_uris(MINE) == [*GENERATED_MINE, uri("t4"), uri("t5")]
    assert third.playlist(MINE).version == 3
    assert third.saved_track_ids()[:2] == [TRACKS["t6"], TRACKS["t2"]]


async def test_liked_song_changes_are_shared_and_undone_changes_leave_the_file(
    state_file: Path,
) -> None:
    first, second = new_emulator(state_file), new_emulator(state_file)
    generated = second.saved_track_ids()
    first.save_tracks([TRACKS["t6"]])
    assert second.saved_track_ids() == [TRACKS["t6"], *generated]
    async with connect(second) as b:
        page = (await b.get("/me/tracks")).json()
    assert [item["track"]["id"] for item in page["items"]] == [TRACKS["t6"], *generated]
    assert "liked" in orjson.loads(state_file.read_bytes())

    second.remove_saved_tracks([TRACKS["t6"]])
    assert first.saved_track_ids() == generated
    assert "liked" not in orjson.loads(state_file.read_bytes())


async def test_the_file_is_written_on_the_first_write_only_and_private(state_file: Path) -> None:
    emulator = new_emulator(state_file)
    assert not state_file.exists()
    emulator.edit_playlist_as_other_user(BIG, name="Renamed")
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert new_emulator(state_file).playlist(BIG).name == "Renamed"


async def test_a_failed_write_changes_nothing_on_disk(state_file: Path) -> None:
    emulator = new_emulator(state_file)
    emulator.edit_playlist_as_other_user(BIG, add=[uri("t1")])
    before = state_file.read_bytes()
    async with connect(emulator) as api:
        bad = await api.post(f"/playlists/{BIG}/items", json={"uris": ["spotify:album:x"]})
    assert bad.status_code == 400
    assert state_file.read_bytes() == before


async def test_deleting_the_file_gives_every_emulator_the_generated_account_back(
    state_file: Path,
) -> None:
    first, second = new_emulator(state_file), new_emulator(state_file)
    created = first.state.create_playlist(
        "Doomed", public=True, collaborative=False, description=""
    )
    first.edit_playlist_as_other_user(MINE, remove=[uri("t1")])
    assert second.playlist_ids()[0] == created.id
    state_file.unlink()
    assert first.playlist_ids() == second.playlist_ids() == [p.id for p in first.library.playlists]
    assert second.playlist_uris(MINE) == GENERATED_MINE
    assert first.snapshot_id(MINE) == new_emulator(None).snapshot_id(MINE)
    assert first.playlist(MINE).snapshots == {first.snapshot_id(MINE)}


def _bad_json(_: dict[str, Any]) -> bytes:
    return b'{"format": 1, "playl'


def _newer_format(saved: dict[str, Any]) -> bytes:
    return orjson.dumps({**saved, "format": 2})


def _another_library(saved: dict[str, Any]) -> bytes:
    return orjson.dumps({**saved, "library": {**saved["library"], "seed": 7}})


def _unknown_track(saved: dict[str, Any]) -> bytes:
    saved["playlists"][0]["entries"][0]["track_id"] = "0000000000000000000000"
    return orjson.dumps(saved)


def _kind_without_item(saved: dict[str, Any]) -> bytes:
    del saved["playlists"][0]["entries"][0]["track_id"]
    return orjson.dumps(saved)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_bad_json, "invalid JSON"),
        (_newer_format, "unexpected content at format"),
        (_another_library, "changes to another library"),
        (_unknown_track, "unknown track 0000000000000000000000"),
        (_kind_without_item, "a track entry holding nothing"),
    ],
)
async def test_an_unusable_file_is_moved_aside_and_the_account_starts_afresh(
    state_file: Path,
    caplog: pytest.LogCaptureFixture,
    spoil: Callable[[dict[str, Any]], bytes],
    reason: str,
) -> None:
    new_emulator(state_file).edit_playlist_as_other_user(MINE, add=[uri("t4")])
    spoiled = spoil(orjson.loads(state_file.read_bytes()))
    state_file.write_bytes(spoiled)

    with caplog.at_level(logging.WARNING):
        emulator = new_emulator(state_file)

    assert emulator.playlist_uris(MINE) == GENERATED_MINE
    assert not state_file.exists()
    [moved] = list_quarantined(state_file.parent)
    assert moved.original_name == state_file.name
    assert moved.path.read_bytes() == spoiled
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(reason in message for message in warnings), warnings
    # The account works and saves again.
    emulator.edit_playlist_as_other_user(MINE, add=[uri("t5")])
    assert new_emulator(state_file).playlist_uris(MINE) == [*GENERATED_MINE, uri("t5")]


async def test_a_file_spoiled_while_running_is_moved_aside_on_the_next_read(
    state_file: Path,
) -> None:
    emulator = new_emulator(state_file)
    emulator.edit_playlist_as_other_user(MINE, add=[uri("t4")])
    state_file.write_bytes(b"not json")
    async with connect(emulator) as api:
        assert await items_of(api, MINE) == GENERATED_MINE
    assert [q.original_name for q in list_quarantined(state_file.parent)] == [state_file.name]


async def test_without_a_state_file_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    emulator = new_emulator(None)
    assert emulator.state.file is None
    async with connect(emulator) as api:
        created = await api.post("/me/playlists", json={"name": "Ephemeral"})
        await api.post(f"/playlists/{created.json()['id']}/items", json={"uris": [uri("t1")]})
    emulator.save_tracks([TRACKS["t6"]])
    assert list(tmp_path.iterdir()) == []
    assert new_emulator(None).playlist_ids() == [p.id for p in emulator.library.playlists]


# -- two real processes ----------------------------------------------------------------------

ADDS_PER_PROCESS = 40


def _add_through_the_api(state_file: str, track: str, together: Any, count: int) -> list[str]:
    """Child process: once both children are up, `count` separate POSTs of `track` to BIG;
    returns the snapshot ids it got."""

    async def run() -> list[str]:
        async with connect(new_emulator(Path(state_file))) as api:
            snapshots = []
            for _ in range(count):
                response = await api.post(f"/playlists/{BIG}/items", json={"uris": [uri(track)]})
                assert response.status_code == 201, response.text
                snapshots.append(response.json()["snapshot_id"])
            return snapshots

    together.wait(60)
    return asyncio.run(run())


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_no_write(state_file: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        together = manager.Barrier(2)  # both writers run at once, not one after the other
        results = [
            pool.apply_async(
                _add_through_the_api, (str(state_file), track, together, ADDS_PER_PROCESS)
            )
            for track in ("t5", "t6")
        ]
        snapshots = [snapshot for result in results for snapshot in result.get(timeout=120)]

    emulator = new_emulator(state_file)
    uris = emulator.playlist_uris(BIG)
    assert len(uris) == 120 + 2 * ADDS_PER_PROCESS
    assert uris[120:].count(uri("t5")) == uris[120:].count(uri("t6")) == ADDS_PER_PROCESS
    assert emulator.playlist(BIG).version == 1 + 2 * ADDS_PER_PROCESS
    assert len(set(snapshots)) == 2 * ADDS_PER_PROCESS
    assert (
        set(snapshots) | {new_emulator(None).snapshot_id(BIG)} == emulator.playlist(BIG).snapshots
    )
