"""Parsing Spotify pages straight from their bytes: the odd entries real libraries hold."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from pydantic import TypeAdapter

from app.spotify.models import EpisodeObject, Page, PlaylistEntry, SavedTrack, TrackObject

_liked = TypeAdapter(Page[SavedTrack])
_entries = TypeAdapter(Page[PlaylistEntry])


def track(track_id: str | None, **extra: object) -> dict[str, object]:
    return {
        "type": "track",
        "id": track_id,
        "uri": f"spotify:track:{track_id}" if track_id else "spotify:local:a:b:c:10",
        "name": f"song {track_id}",
        "artists": [{"id": "ar1", "name": "Someone"}],
        "album": {"id": "al1", "name": "Record", "release_date": "1999-05-17"},
        "duration_ms": 200_000,
        "external_ids": {"isrc": "usabc9900001"},
        **extra,
    }


def page(items: list[dict[str, object]]) -> bytes:
    return orjson.dumps({"items": items, "total": len(items), "limit": 50, "offset": 0})


def test_a_liked_song_carries_its_like_date_and_an_upper_case_isrc() -> None:
    parsed = _liked.validate_json(
        page([{"added_at": "2026-03-01T10:00:00Z", "track": track("t1")}])
    )
    [item] = parsed.items
    assert item.spotify_track is not None
    assert item.spotify_track.added_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert item.spotify_track.isrc == "USABC9900001"
    assert item.spotify_track.album.release_date == "1999-05-17"
    assert parsed.total == 1


def test_liked_entries_without_a_usable_track_read_as_unavailable() -> None:
    parsed = _liked.validate_json(
        page(
            [
                {"added_at": "2026-03-01T10:00:00Z", "track": None},
                {"added_at": "2026-03-01T10:00:00Z", "track": track(None, is_local=True)},
                {"added_at": "2026-03-01T10:00:00Z", "track": track("t2", is_local=True)},
                {"added_at": "2026-03-01T10:00:00Z", "track": track("t3")},
            ]
        )
    )
    assert [item.track.id if item.track else None for item in parsed.items] == [
        None,
        None,
        None,
        "t3",
    ]


def test_playlist_entries_read_item_then_the_deprecated_track() -> None:
    episode = {"type": "episode", "id": "e1", "uri": "spotify:episode:e1", "name": "Talk"}
    parsed = _entries.validate_json(
        page(
            [
                {"added_at": "2026-01-01T00:00:00Z", "item": track("t1"), "track": track("t1")},
                {"added_at": "2026-01-01T00:00:00Z", "track": track("t2")},  # pre-2026 shape
                {"added_at": "2026-01-01T00:00:00Z", "item": episode},
                {"added_at": "2026-01-01T00:00:00Z", "item": {"type": "audiobook", "id": "b"}},
                {"added_at": "2026-01-01T00:00:00Z", "item": None, "track": None},
                {"added_at": "2026-01-01T00:00:00Z", "item": {"type": "track", "id": "x"}},
            ]
        )
    )
    contents = [entry.content for entry in parsed.items]
    assert isinstance(contents[0], TrackObject) and contents[0].id == "t1"
    assert isinstance(contents[1], TrackObject) and contents[1].id == "t2"
    assert isinstance(contents[2], EpisodeObject) and contents[2].id == "e1"
    # A type we do not read, nothing at all, a track without its URI: unavailable, no error.
    assert contents[3:] == [None, None, None]
