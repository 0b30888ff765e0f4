"""The `fields` filter: Spotify's selection syntax, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from app.emulators.spotify.fields import FieldsError, parse, select

PLAYLIST: dict[str, Any] = {
    "name": "Mix",
    "snapshot_id": "abc",
    "tracks": {
        "total": 2,
        "items": [
            {
                "added_at": "2026-01-01T00:00:00Z",
                "added_by": {"id": "u1", "type": "user"},
                "track": {"name": "A", "href": "h1", "album": {"name": "X", "href": "hx"}},
            },
            {"added_at": "2026-01-02T00:00:00Z", "added_by": {"id": "u2"}, "track": None},
        ],
    },
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("name", {"name": "Mix"}),
        ("name,snapshot_id", {"name": "Mix", "snapshot_id": "abc"}),
        ("tracks.total", {"tracks": {"total": 2}}),
        ("tracks(total)", {"tracks": {"total": 2}}),
        (
            "tracks.items(added_at,added_by.id)",
            {
                "tracks": {
                    "items": [
                        {"added_at": "2026-01-01T00:00:00Z", "added_by": {"id": "u1"}},
                        {"added_at": "2026-01-02T00:00:00Z", "added_by": {"id": "u2"}},
                    ]
                }
            },
        ),
        (
            "tracks.items(track(name,album(name)))",
            {
                "tracks": {
                    "items": [{"track": {"name": "A", "album": {"name": "X"}}}, {"track": None}]
                }
            },
        ),
        (
            "tracks.items.track(!album,href)",
            {"tracks": {"items": [{"track": {"name": "A"}}, {"track": None}]}},
        ),
        ("nothing,name", {"name": "Mix"}),  # unknown keys are ignored
        (
            "tracks(total),tracks(items(added_by(id)))",
            {
                "tracks": {
                    "total": 2,
                    "items": [{"added_by": {"id": "u1"}}, {"added_by": {"id": "u2"}}],
                }
            },
        ),
        ("tracks.total,tracks", {"tracks": PLAYLIST["tracks"]}),  # the whole key wins
        (" name , snapshot_id ", {"name": "Mix", "snapshot_id": "abc"}),
    ],
)
def test_select(fields: str, expected: dict[str, Any]) -> None:
    assert select(PLAYLIST, parse(fields)) == expected


@pytest.mark.parametrize("fields", ["", "a,", "a(b", "a)b", "a..b", "(a)", "a()", "a.!b"])
def test_malformed_fields_are_refused(fields: str) -> None:
    with pytest.raises(FieldsError):
        parse(fields)


def test_selection_copies_and_leaves_the_source_alone() -> None:
    before = repr(PLAYLIST)
    selected = select(PLAYLIST, parse("tracks.items(track(name))"))
    selected["tracks"]["items"][0]["track"]["name"] = "changed"
    assert repr(PLAYLIST) == before
