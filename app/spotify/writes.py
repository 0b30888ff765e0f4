"""Playlist writes, checked and shaped before sending: the bodies of `add_items`,
`remove_items`, `replace_items`, `reorder_items` and `create_playlist`, and the snapshot id
each item write answers with.

    body = add_body(["spotify:track:4iV5W9uYEdYUVa79Axb7Rh"], position=0)
    # {"uris": ["spotify:track:4iV5W9uYEdYUVa79Axb7Rh"], "position": 0}

Pure functions: `SpotifyClient` sends what they build. Each refuses, before anything is sent,
what Spotify would refuse (more than 100 URIs a call, none, a wrong kind of URI). Each item
write returns the playlist's new snapshot id; pass it to the next write. Adding, moving and
creating are never replayed after an ambiguous failure (`replay_safe=False`, see
`app.net.policy`): a retry could add the items twice or move them again. Removing and
replacing are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.errors import UpstreamError

MAX_WRITE_URIS = 100  # URIs (or items) in one add, replace or remove call
ADDABLE = ("spotify:track:", "spotify:episode:")  # local files cannot be added by the API
REMOVABLE = (*ADDABLE, "spotify:local:")


def add_body(uris: Sequence[str], position: int | None) -> dict[str, Any]:
    """Insert `uris` (tracks or episodes) at `position`, or append them when it is None."""
    check_uris(uris, ADDABLE, "add")
    body: dict[str, Any] = {"uris": list(uris)}
    if position is not None:
        if position < 0:
            raise ValueError(f"position must be 0 or more, got {position}")
        body["position"] = position
    return body


def remove_body(uris: Sequence[str], snapshot_id: str) -> dict[str, Any]:
    """Remove every occurrence of each of `uris` (Spotify ignores positions)."""
    check_uris(uris, REMOVABLE, "remove")
    return {"items": [{"uri": uri} for uri in uris], "snapshot_id": snapshot_id}


def replace_body(uris: Sequence[str]) -> dict[str, Any]:
    """Make the playlist exactly `uris` (≤ 100; an empty list clears it)."""
    check_uris(uris, ADDABLE, "replace", allow_empty=True)
    return {"uris": list(uris)}


def reorder_body(
    range_start: int, insert_before: int, range_length: int, snapshot_id: str
) -> dict[str, Any]:
    """Move `range_length` entries from `range_start` to just before the entry now at
    `insert_before` (both positions counted before the move)."""
    if range_start < 0 or insert_before < 0 or range_length < 1:
        raise ValueError(
            "a reorder needs range_start >= 0, insert_before >= 0 and range_length >= 1, "
            f"got {range_start}, {insert_before}, {range_length}"
        )
    return {
        "range_start": range_start,
        "insert_before": insert_before,
        "range_length": range_length,
        "snapshot_id": snapshot_id,
    }


def create_body(name: str, description: str, public: bool) -> dict[str, Any]:
    """A new playlist of the user (`POST /me/playlists`), never collaborative."""
    if not name.strip():
        raise ValueError("a playlist needs a name")
    return {"name": name, "public": public, "collaborative": False, "description": description}


def snapshot_of(answer: Any, method: str, path: str) -> str:
    """The new snapshot id an item write answered with."""
    snapshot = answer.get("snapshot_id") if isinstance(answer, dict) else None
    if not isinstance(snapshot, str) or not snapshot:
        raise UpstreamError(
            f"Spotify sent no snapshot_id for {method} {path}", code="spotify_bad_response"
        )
    return snapshot


def check_uris(
    uris: Sequence[str], prefixes: tuple[str, ...], action: str, *, allow_empty: bool = False
) -> None:
    """Refuse, before sending, what Spotify would refuse: too many, none, or a wrong kind."""
    if isinstance(uris, str):
        raise TypeError(f"uris to {action} must be a sequence of URIs, not one string")
    if len(uris) > MAX_WRITE_URIS:
        raise ValueError(
            f"Spotify takes at most {MAX_WRITE_URIS} URIs a call; {len(uris)} given to {action}"
        )
    if not uris and not allow_empty:
        raise ValueError(f"no URIs given to {action}")
    for uri in uris:
        if not isinstance(uri, str) or not uri.startswith(prefixes) or uri in prefixes:
            raise ValueError(f"cannot {action} {uri!r}: expected a URI starting {prefixes}")
