"""Playlist writes with Spotify's semantics: create, add (≤ 100, at a position), replace,
reorder, remove-every-occurrence, snapshot ids, and who may write."""

from __future__ import annotations

import httpx
import pytest

from app.emulators.spotify.emulator import SpotifyEmulator

from .conftest import API, BIG, COLLAB, EPISODE, LOCAL, MINE, THEIRS, TRACKS, uri

pytestmark = pytest.mark.anyio

MINE_URIS = [
    uri("t1"),
    uri("t2"),
    uri("t1"),
    LOCAL.uri,
    f"spotify:episode:{EPISODE}",
    None,  # the unavailable entry
    uri("t3"),
]


async def test_create_playlist_returns_201_and_lists_it_first(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    body = {"name": "Fresh", "public": False, "description": "made by a test"}
    response = await api.post("/me/playlists", json=body)
    assert response.status_code == 201
    created = response.json()
    assert (created["name"], created["public"], created["collaborative"]) == ("Fresh", False, False)
    assert created["description"] == "made by a test"
    assert created["owner"]["id"] == "emuuser"
    assert created["items"]["total"] == 0 and created["items"]["items"] == []
    assert emulator.playlist_ids()[0] == created["id"]
    listed = (await api.get("/me/playlists", params={"limit": 1})).json()
    assert listed["items"][0]["id"] == created["id"]
    assert listed["total"] == 5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Missing required field: name"),
        ({"name": ""}, "Missing required field: name"),
        ({"name": "x", "public": "yes"}, "Invalid public"),
        ({"name": "x", "collaborative": True}, "Collaborative playlists can only be private."),
    ],
)
async def test_create_playlist_validates_its_body(
    api: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    response = await api.post("/me/playlists", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


async def test_add_appends_or_inserts_and_changes_the_snapshot(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    before = emulator.snapshot_id(MINE)
    added = await api.post(f"/playlists/{MINE}/items", json={"uris": [uri("t5"), uri("t6")]})
    assert added.status_code == 201
    snapshot = added.json()["snapshot_id"]
    assert snapshot != before
    assert snapshot == emulator.snapshot_id(MINE)
    assert emulator.playlist_uris(MINE) == [*MINE_URIS, uri("t5"), uri("t6")]

    inserted = await api.post(
        f"/playlists/{MINE}/items", json={"uris": [f"spotify:episode:{EPISODE}"], "position": 0}
    )
    assert inserted.status_code == 201
    assert emulator.playlist_uris(MINE)[:2] == [f"spotify:episode:{EPISODE}", uri("t1")]
    assert len({before, snapshot, inserted.json()["snapshot_id"]}) == 3


async def test_add_takes_uris_and_position_from_the_query(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    params = {"uris": f"{uri('t4')},{uri('t5')}", "position": "1"}
    response = await api.post(f"/playlists/{COLLAB}/items", params=params)
    assert response.status_code == 201
    assert emulator.playlist_uris(COLLAB) == [uri("t4"), uri("t4"), uri("t5")]
    entry = emulator.playlist_entries(COLLAB)[1]
    assert entry.added_by == "emuuser"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"uris": [uri("t1")] * 101}, "You can add a maximum of 100 items per request."),
        ({"uris": ["spotify:track:0000000000000000000000"]}, "Payload contains a non-existing ID"),
        ({"uris": ["spotify:album:abc"]}, "Invalid track uri: spotify:album:abc"),
        ({"uris": [LOCAL.uri]}, f"Invalid track uri: {LOCAL.uri}"),
        ({"uris": [uri("t1")], "position": 8}, "Index out of bounds"),
        ({"uris": "spotify:track:x"}, "Invalid uris"),
        ({}, "No uris provided"),
    ],
)
async def test_add_rejects_bad_requests_and_changes_nothing(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    before = emulator.snapshot_id(MINE)
    response = await api.post(f"/playlists/{MINE}/items", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": {"status": 400, "message": message}}
    assert emulator.playlist_uris(MINE) == MINE_URIS
    assert emulator.snapshot_id(MINE) == before


async def test_exactly_100_uris_are_accepted(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    response = await api.post(f"/playlists/{BIG}/items", json={"uris": [uri("t1")] * 100})
    assert response.status_code == 201
    assert len(emulator.playlist_uris(BIG)) == 220


async def test_replace_sets_the_whole_list_and_empty_clears_it(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    replaced = await api.put(f"/playlists/{MINE}/items", json={"uris": [uri("t6"), uri("t5")]})
    assert replaced.status_code == 200
    assert emulator.playlist_uris(MINE) == [uri("t6"), uri("t5")]
    cleared = await api.put(f"/playlists/{MINE}/items", json={"uris": []})
    assert cleared.status_code == 200
    assert emulator.playlist_uris(MINE) == []
    assert cleared.json()["snapshot_id"] != replaced.json()["snapshot_id"]


async def test_replace_over_100_is_rejected(api: httpx.AsyncClient) -> None:
    response = await api.put(f"/playlists/{MINE}/items", json={"uris": [uri("t1")] * 101})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("start", "before", "length", "expected"),
    [
        (0, 5, 1, "BCDEAF"),  # first item to just before the 6th
        (5, 0, 1, "FABCDE"),  # last item to the front
        (1, 5, 2, "ADEBCF"),  # a moved range, forwards
        (3, 1, 3, "ADEFBC"),  # a moved range, backwards
        (0, 6, 2, "CDEFAB"),  # to the end
        (2, 3, 2, "ABCDEF"),  # inside its own range: nothing moves
    ],
)
async def test_reorder_moves_a_range(
    emulator: SpotifyEmulator,
    api: httpx.AsyncClient,
    start: int,
    before: int,
    length: int,
    expected: str,
) -> None:
    letters = {uri(f"t{i}"): "ABCDEF"[i - 1] for i in range(1, 7)}
    await api.put(f"/playlists/{MINE}/items", json={"uris": list(letters)})
    snapshot = emulator.snapshot_id(MINE)
    body = {
        "range_start": start,
        "insert_before": before,
        "range_length": length,
        "snapshot_id": snapshot,
    }
    response = await api.put(f"/playlists/{MINE}/items", json=body)
    assert response.status_code == 200
    assert response.json()["snapshot_id"] != snapshot
    assert "".join(letters[u or ""] for u in emulator.playlist_uris(MINE)) == expected


async def test_reorder_keeps_entry_metadata(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    before = emulator.playlist_entries(MINE)
    body = {"range_start": 6, "insert_before": 0}  # range_length defaults to 1
    assert (await api.put(f"/playlists/{MINE}/items", json=body)).status_code == 200
    assert emulator.playlist_entries(MINE) == [before[6], *before[:6]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"uris": [uri("t1")], "range_start": 0, "insert_before": 2},
            "Replace and reorder are mutually exclusive",
        ),
        ({}, "Missing uris, or range_start and insert_before"),
        ({"range_start": 0}, "Missing uris, or range_start and insert_before"),
        ({"range_start": 7, "insert_before": 0}, "Index out of bounds"),
        ({"range_start": 5, "insert_before": 0, "range_length": 3}, "Index out of bounds"),
        ({"range_start": 0, "insert_before": 8}, "Index out of bounds"),
        ({"range_start": "0", "insert_before": 1}, "Invalid range_start"),
        ({"range_start": 0, "insert_before": 1, "snapshot_id": "bogus"}, "Invalid snapshot id"),
    ],
)
async def test_bad_reorders_are_400(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    response = await api.put(f"/playlists/{MINE}/items", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert emulator.playlist_uris(MINE) == MINE_URIS


async def test_delete_removes_every_occurrence_whatever_the_positions(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    before = emulator.snapshot_id(MINE)
    body = {"items": [{"uri": uri("t1"), "positions": [0]}], "snapshot_id": before}
    response = await api.request("DELETE", f"/playlists/{MINE}/items", json=body)
    assert response.status_code == 200
    assert response.json()["snapshot_id"] != before
    assert emulator.playlist_uris(MINE) == [u for u in MINE_URIS if u != uri("t1")]


async def test_delete_removes_local_files_and_episodes_by_uri(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    items = [{"uri": LOCAL.uri}, {"uri": f"spotify:episode:{EPISODE}"}]
    response = await api.request("DELETE", f"/playlists/{MINE}/items", json={"items": items})
    assert response.status_code == 200
    assert emulator.playlist_uris(MINE) == [uri("t1"), uri("t2"), uri("t1"), None, uri("t3")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"items": [{"uri": uri("t1")}] * 101},
            "You can remove a maximum of 100 items per request.",
        ),
        ({"items": []}, "Missing items"),
        ({"tracks": [{"uri": uri("t1")}]}, "Missing items"),
        ({"items": [{"uri": "nonsense"}]}, "Invalid track uri: nonsense"),
        ({"items": [uri("t1")]}, "Invalid track uri: None"),
    ],
)
async def test_bad_deletes_are_400(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    response = await api.request("DELETE", f"/playlists/{MINE}/items", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert emulator.playlist_uris(MINE) == MINE_URIS


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_only_owners_and_collaborators_may_write(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, method: str
) -> None:
    body = {"uris": [uri("t2")], "items": [{"uri": uri("t1")}]}
    before = emulator.snapshot_id(THEIRS)
    response = await api.request(method, f"/playlists/{THEIRS}/items", json=body)
    assert response.status_code == 403
    assert response.json() == {"error": {"status": 403, "message": "Forbidden"}}
    assert emulator.snapshot_id(THEIRS) == before
    assert emulator.playlist_uris(THEIRS) == [uri("t1")]


async def test_writes_need_the_modify_scope_of_the_playlist(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    token = emulator.grant_tokens(scopes=["playlist-modify-public"])["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"uris": [uri("t1")]}
    public = await api.post(f"/playlists/{BIG}/items", json=body, headers=headers)
    private = await api.post(f"/playlists/{MINE}/items", json=body, headers=headers)
    assert public.status_code == 201
    assert private.status_code == 403
    assert private.json()["error"]["message"] == "Insufficient client scope"


async def test_a_change_in_the_spotify_app_shows_in_the_api(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    before = (await api.get(f"/playlists/{COLLAB}", params={"fields": "snapshot_id"})).json()
    snapshot = emulator.edit_playlist_as_other_user(
        COLLAB, add=[uri("t6")], remove=[uri("t4")], name="Renamed"
    )
    after = (await api.get(f"/playlists/{COLLAB}")).json()
    assert after["snapshot_id"] == snapshot != before["snapshot_id"]
    assert after["name"] == "Renamed"
    assert [e["item"]["id"] for e in after["items"]["items"]] == [TRACKS["t6"]]
    assert after["items"]["items"][0]["added_by"]["id"] == "otheruser"
    assert after["items"]["href"] == f"{API}/playlists/{COLLAB}/items?offset=0&limit=50"


async def test_liked_songs_can_change_under_the_client(
    emulator: SpotifyEmulator, api: httpx.AsyncClient
) -> None:
    emulator.save_tracks([TRACKS["t6"]])
    emulator.remove_saved_tracks([TRACKS["t3"]])
    page = (await api.get("/me/tracks")).json()
    assert [item["track"]["id"] for item in page["items"]] == [
        TRACKS[name] for name in ("t6", "t1", "t2", "t4", "t5")
    ]
    assert emulator.saved_track_ids()[0] == TRACKS["t6"]


async def test_saving_with_an_old_date_sorts_into_the_history(emulator: SpotifyEmulator) -> None:
    third = emulator.state.liked[2].added_at  # when t3 was liked
    emulator.save_tracks([TRACKS["t6"]], added_at=third)  # a tie sorts as newer
    assert emulator.saved_track_ids() == [TRACKS[n] for n in ("t1", "t2", "t6", "t3", "t4", "t5")]
    emulator.save_tracks([TRACKS["t1"]])  # already liked: unchanged
    assert len(emulator.saved_track_ids()) == 6
