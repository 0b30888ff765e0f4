"""The Web API's read side as a development-mode app sees it: profile, liked songs, playlists,
entries (duplicates, local files, episodes, unavailable items), catalogue look-ups, paging,
authentication and the endpoints Spotify took away."""

from __future__ import annotations

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.spotify.emulator import SpotifyEmulator

from .conftest import (
    ALBUMS,
    API,
    ARTISTS,
    BIG,
    COLLAB,
    EPISODE,
    LOCAL,
    MINE,
    THEIRS,
    TRACKS,
)

pytestmark = pytest.mark.anyio


async def test_me_has_no_private_fields(api: httpx.AsyncClient) -> None:
    me = (await api.get("/me")).json()
    assert me["id"] == "emuuser"
    assert me["display_name"] == "Emu User"
    assert me["type"] == "user"
    assert me["uri"] == "spotify:user:emuuser"
    assert me["href"] == f"{API}/users/emuuser"
    assert me["external_urls"] == {"spotify": "https://open.spotify.com/user/emuuser"}
    assert len(me["account_id"]) == 10
    assert not {"country", "email", "product", "followers", "explicit_content"} & me.keys()


async def test_liked_songs_newest_first_with_paging_links(api: httpx.AsyncClient) -> None:
    page = (await api.get("/me/tracks", params={"limit": 2, "offset": 1})).json()
    assert [item["track"]["id"] for item in page["items"]] == [TRACKS["t2"], TRACKS["t3"]]
    assert page["items"][0]["added_at"] == "2026-11-01T10:00:00Z"
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert page["href"] == f"{API}/me/tracks?offset=1&limit=2"
    assert page["next"] == f"{API}/me/tracks?offset=3&limit=2"
    assert page["previous"] == f"{API}/me/tracks?offset=0&limit=2"
    last = (await api.get(page["next"])).json()
    assert [item["track"]["id"] for item in last["items"]] == [TRACKS["t4"], TRACKS["t5"]]
    assert last["next"] is None


async def test_default_page_is_twenty_from_the_start(api: httpx.AsyncClient) -> None:
    page = (await api.get("/me/tracks")).json()
    assert (page["limit"], page["offset"], page["previous"], page["next"]) == (20, 0, None, None)
    assert len(page["items"]) == 5


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/me/tracks", {"limit": 0}, "Invalid limit"),
        ("/me/tracks", {"limit": 51}, "Invalid limit"),
        ("/me/tracks", {"limit": "ten"}, "Invalid limit"),
        ("/me/tracks", {"offset": -1}, "Invalid offset"),
        ("/me/playlists", {"limit": 51}, "Invalid limit"),
        (f"/playlists/{BIG}/items", {"limit": 100}, "Invalid limit"),
        (f"/playlists/{BIG}/items", {"limit": 0}, "Invalid limit"),
    ],
)
async def test_limits_outside_1_to_50_are_rejected(
    api: httpx.AsyncClient, path: str, params: dict[str, object], message: str
) -> None:
    response = await api.get(path, params=params)
    assert response.status_code == 400
    assert response.json() == {"error": {"status": 400, "message": message}}


async def test_track_objects_are_development_mode_shaped(api: httpx.AsyncClient) -> None:
    track = (await api.get(f"/tracks/{TRACKS['t2']}")).json()
    assert track["name"] == "Song 2"
    assert track["explicit"] is True
    assert track["external_ids"] == {"isrc": "GBAAA2600002"}
    assert [a["id"] for a in track["artists"]] == [ARTISTS["artist2"], ARTISTS["artist1"]]
    assert track["album"]["id"] == ALBUMS["album1"]
    assert track["album"]["release_date"] == "2001-05-17"
    assert track["album"]["release_date_precision"] == "day"
    assert track["uri"] == f"spotify:track:{TRACKS['t2']}"
    assert track["href"] == f"{API}/tracks/{TRACKS['t2']}"
    assert not {"popularity", "available_markets", "linked_from"} & track.keys()
    assert not {"label", "popularity", "genres"} & track["album"].keys()


async def test_a_track_restricted_in_the_users_market_says_so_when_a_market_is_given(
    api: httpx.AsyncClient, emulator: SpotifyEmulator
) -> None:
    emulator.config.unplayable_tracks = frozenset({TRACKS["t2"]})
    restricted = (await api.get(f"/tracks/{TRACKS['t2']}", params={"market": "from_token"})).json()
    assert (restricted["is_playable"], restricted["restrictions"]) == (False, {"reason": "market"})
    playable = (await api.get(f"/tracks/{TRACKS['t6']}", params={"market": "from_token"})).json()
    assert playable["is_playable"] is True and "restrictions" not in playable
    # Adding it still works, as on Spotify (it shows greyed out).
    added = await api.post(f"/playlists/{MINE}/items", json={"uris": [restricted["uri"]]})
    assert added.status_code == 201


async def test_isrc_is_absent_when_the_track_has_none(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"/tracks/{TRACKS['t6']}")).json()["external_ids"] == {}


async def test_artist_objects_have_no_genres_popularity_or_followers(
    api: httpx.AsyncClient,
) -> None:
    artist = (await api.get(f"/artists/{ARTISTS['artist1']}")).json()
    assert artist["name"] == "The Firsts"
    assert artist["type"] == "artist"
    assert len(artist["images"]) == 3
    assert not {"genres", "popularity", "followers"} & artist.keys()


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/tracks/0000000000000000000000", 404, "Resource not found"),
        ("/artists/0000000000000000000000", 404, "Resource not found"),
        ("/playlists/0000000000000000000000", 404, "Resource not found"),
        ("/tracks/not-an-id!", 400, "Invalid base62 id"),
        ("/no/such/endpoint", 404, "Service not found"),
    ],
)
async def test_unknown_ids_and_routes(
    api: httpx.AsyncClient, path: str, status: int, message: str
) -> None:
    response = await api.get(path)
    assert response.status_code == status
    assert response.json() == {"error": {"status": status, "message": message}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/playlists/{MINE}/tracks"),
        ("POST", f"/playlists/{MINE}/tracks"),
        ("PUT", f"/playlists/{MINE}/tracks"),
        ("DELETE", f"/playlists/{MINE}/tracks"),
        ("GET", f"/tracks?ids={TRACKS['t1']},{TRACKS['t2']}"),
        ("GET", f"/artists?ids={ARTISTS['artist1']}"),
        ("GET", f"/albums?ids={ALBUMS['album1']}"),
        ("GET", "/users/emuuser/playlists"),
        ("POST", "/users/emuuser/playlists"),
        ("GET", f"/audio-features?ids={TRACKS['t1']}"),
        ("GET", f"/audio-features/{TRACKS['t1']}"),
        ("GET", f"/audio-analysis/{TRACKS['t1']}"),
        ("GET", f"/recommendations?seed_tracks={TRACKS['t1']}"),
        ("GET", f"/artists/{ARTISTS['artist1']}/related-artists"),
    ],
)
async def test_removed_endpoints_are_forbidden(
    api: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await api.request(method, path)
    assert response.status_code == 403
    assert response.json() == {"error": {"status": 403, "message": "Forbidden"}}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "No token provided"),
        ({"Authorization": "Bearer nope"}, "Invalid access token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Only valid bearer authentication supported"),
    ],
)
async def test_every_route_wants_a_valid_bearer_token(
    anonymous: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    for path in ("/me", "/me/tracks", f"/playlists/{MINE}/items", f"/playlists/{MINE}/tracks"):
        response = await anonymous.get(path, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": {"status": 401, "message": message}}
        assert response.headers["www-authenticate"].startswith('Bearer realm="spotify"')


async def test_expired_tokens_answer_401_until_refreshed(
    emulator: SpotifyEmulator, api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    assert (await api.get("/me")).status_code == 200
    emulator.expire_access_tokens()
    expired = await api.get("/me")
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "The access token expired"
    fresh = emulator.grant_tokens()["access_token"]
    response = await anonymous.get("/me", headers={"Authorization": f"Bearer {fresh}"})
    assert response.status_code == 200


async def test_short_access_token_ttl_with_the_clock(
    emulator: SpotifyEmulator, anonymous: httpx.AsyncClient, clock: Clock
) -> None:
    emulator.config.access_token_ttl = 60
    body = emulator.grant_tokens()
    assert body["expires_in"] == 60
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await anonymous.get("/me", headers=headers)).status_code == 200
    clock.advance(60)
    assert (await anonymous.get("/me", headers=headers)).status_code == 401


async def test_missing_scope_is_403(
    emulator: SpotifyEmulator, anonymous: httpx.AsyncClient
) -> None:
    token = emulator.grant_tokens(scopes=["playlist-read-private"])["access_token"]
    response = await anonymous.get("/me/tracks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Insufficient client scope"


async def test_my_playlists_lists_owned_followed_and_collaborative(
    api: httpx.AsyncClient,
) -> None:
    page = (await api.get("/me/playlists", params={"limit": 50})).json()
    assert [p["id"] for p in page["items"]] == [MINE, THEIRS, COLLAB, BIG]
    mine = page["items"][0]
    assert mine["items"] == {"href": f"{API}/playlists/{MINE}/items", "total": 7}
    assert mine["tracks"] == {"href": f"{API}/playlists/{MINE}/tracks", "total": 7}
    assert mine["owner"]["id"] == "emuuser"
    assert mine["owner"]["display_name"] == "Emu User"
    assert (mine["collaborative"], mine["public"], mine["description"]) == (False, False, "my mix")
    assert mine["snapshot_id"]
    assert page["items"][2]["collaborative"] is True


async def test_private_playlists_need_the_read_private_scope(
    emulator: SpotifyEmulator, anonymous: httpx.AsyncClient
) -> None:
    token = emulator.grant_tokens(scopes=["user-library-read"])["access_token"]
    page = (
        await anonymous.get("/me/playlists", headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert [p["id"] for p in page["items"]] == [THEIRS, BIG]  # the public ones


async def test_playlist_items_carry_item_and_track_twins(api: httpx.AsyncClient) -> None:
    page = (
        await api.get(f"/playlists/{MINE}/items", params={"additional_types": "track,episode"})
    ).json()
    assert page["total"] == 7
    entries = page["items"]
    assert all(entry["item"] == entry["track"] for entry in entries)
    assert [entry["item"] and entry["item"]["uri"] for entry in entries] == [
        f"spotify:track:{TRACKS['t1']}",
        f"spotify:track:{TRACKS['t2']}",
        f"spotify:track:{TRACKS['t1']}",  # duplicates are kept
        LOCAL.uri,
        f"spotify:episode:{EPISODE}",
        None,  # unavailable
        f"spotify:track:{TRACKS['t3']}",
    ]
    first = entries[0]
    assert first["added_at"] == "2026-10-30T10:00:00Z"
    assert first["added_by"]["id"] == "emuuser"
    assert first["is_local"] is False
    assert (
        page["href"]
        == f"{API}/playlists/{MINE}/items?offset=0&limit=20&additional_types=track%2Cepisode"
    )


async def test_local_files_have_no_id(api: httpx.AsyncClient) -> None:
    entry = (await api.get(f"/playlists/{MINE}/items")).json()["items"][3]
    assert entry["is_local"] is True
    local = entry["item"]
    assert local["uri"] == "spotify:local:Garage+Band:Basement+Tapes:My+Demo:183"
    assert (local["id"], local["href"], local["is_local"]) == (None, None, True)
    assert local["name"] == "My Demo"
    assert local["artists"][0]["name"] == "Garage Band"
    assert local["album"]["name"] == "Basement Tapes"
    assert local["duration_ms"] == 183_000


async def test_unavailable_entries_have_null_items(api: httpx.AsyncClient) -> None:
    entry = (await api.get(f"/playlists/{MINE}/items")).json()["items"][5]
    assert (entry["item"], entry["track"], entry["is_local"]) == (None, None, False)
    assert entry["added_at"] == "2026-10-30T15:00:00Z"


async def test_episodes_are_episode_objects_only_when_asked_for(api: httpx.AsyncClient) -> None:
    asked = (
        await api.get(f"/playlists/{MINE}/items", params={"additional_types": "track,episode"})
    ).json()["items"][4]["item"]
    assert asked["type"] == "episode"
    assert asked["show"]["name"] == "Emulated Radio"
    assert asked["release_date_precision"] == "day"
    assert "album" not in asked

    legacy = (await api.get(f"/playlists/{MINE}/items")).json()["items"][4]["item"]
    assert legacy["uri"] == f"spotify:episode:{EPISODE}"
    assert (legacy["episode"], legacy["track"]) == (True, False)
    assert legacy["album"]["name"] == "Emulated Radio"


async def test_items_of_a_playlist_i_neither_own_nor_collaborate_on_are_403(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get(f"/playlists/{THEIRS}/items")
    assert response.status_code == 403
    assert response.json() == {"error": {"status": 403, "message": "Forbidden"}}
    collaborative = await api.get(f"/playlists/{COLLAB}/items")
    assert collaborative.status_code == 200
    assert collaborative.json()["items"][0]["added_by"]["id"] == "otheruser"


async def test_items_pages_walk_the_whole_playlist(api: httpx.AsyncClient) -> None:
    url: str | None = f"/playlists/{BIG}/items?limit=50"
    seen = []
    while url:
        page = (await api.get(url)).json()
        seen += [entry["item"]["id"] for entry in page["items"]]
        url = page["next"]
    assert len(seen) == 120
    assert seen[:7] == [TRACKS[f"t{i % 6 + 1}"] for i in range(7)]


async def test_full_playlist_embeds_a_first_page_only_for_its_editors(
    api: httpx.AsyncClient,
) -> None:
    big = (await api.get(f"/playlists/{BIG}")).json()
    assert big["name"] == "Big"
    assert big["followers"] == {"href": None, "total": 0}
    assert (big["items"]["total"], big["items"]["limit"], len(big["items"]["items"])) == (
        120,
        50,
        50,
    )
    assert big["items"]["next"] == f"{API}/playlists/{BIG}/items?offset=50&limit=50"
    assert big["tracks"]["items"] == big["items"]["items"]
    assert big["tracks"]["href"] == f"{API}/playlists/{BIG}/tracks?offset=0&limit=50"

    theirs = (await api.get(f"/playlists/{THEIRS}")).json()
    assert theirs["owner"]["id"] == "otheruser"
    assert "items" not in theirs and "tracks" not in theirs


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("total,limit", {"total": 7, "limit": 2}),
        (
            "items(added_at,item(id))",
            {
                "items": [
                    {"added_at": "2026-10-30T10:00:00Z", "item": {"id": TRACKS["t1"]}},
                    {"added_at": "2026-10-30T11:00:00Z", "item": {"id": TRACKS["t2"]}},
                ]
            },
        ),
        ("items.added_by.id", {"items": [{"added_by": {"id": "emuuser"}}] * 2}),
        (
            "items(item(album(!images,artists,available_markets,external_urls,href,is_playable)))",
            {
                "items": [
                    {
                        "item": {
                            "album": {
                                "album_type": "album",
                                "id": ALBUMS["album1"],
                                "name": "First Album",
                                "release_date": "2001-05-17",
                                "release_date_precision": "day",
                                "total_tracks": 3,
                                "type": "album",
                                "uri": f"spotify:album:{ALBUMS['album1']}",
                            }
                        }
                    }
                ]
                * 2
            },
        ),
    ],
)
async def test_fields_filter_on_items(
    api: httpx.AsyncClient, fields: str, expected: dict[str, object]
) -> None:
    params = {"fields": fields, "limit": 2}
    assert (await api.get(f"/playlists/{MINE}/items", params=params)).json() == expected


async def test_fields_filter_on_a_playlist_keeps_nulls(api: httpx.AsyncClient) -> None:
    fields = "snapshot_id,items(total,items(item(uri)))"
    body = (await api.get(f"/playlists/{MINE}", params={"fields": fields})).json()
    assert set(body) == {"snapshot_id", "items"}
    assert body["items"]["total"] == 7
    assert body["items"]["items"][5] == {"item": None}


async def test_malformed_fields_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/playlists/{MINE}/items", params={"fields": "items(item(id)"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid fields parameter"
