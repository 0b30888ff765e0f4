"""Playlist writes: `add_items`, `remove_items`, `replace_items`, `reorder_items` and
`create_playlist`.

One call each, checked against Spotify's limits before sending (at most 100 URIs a call). Each
item write returns the playlist's new snapshot id; pass it to the next write. Adding, moving and
creating are never replayed after an ambiguous failure (see `SpotifyClient.request`): a retry
could add the items twice or move them again. Removing and replacing are idempotent.

`PlaylistWrites` is a mixin of `SpotifyClient`, which supplies `request`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.errors import UpstreamError
from app.spotify.requesting import Requesting

MAX_WRITE_URIS = 100  # URIs (or items) in one add, replace or remove call
ADDABLE = ("spotify:track:", "spotify:episode:")  # local files cannot be added by the API
REMOVABLE = (*ADDABLE, "spotify:local:")


class PlaylistWrites(Requesting):
    """The playlist write endpoints, over the client's `request`."""

    async def add_items(
        self, playlist_id: str, uris: Sequence[str], position: int | None = None
    ) -> str:
        """Insert `uris` (tracks or episodes) at `position`, or append them when it is None."""
        check_uris(uris, ADDABLE, "add")
        body: dict[str, Any] = {"uris": list(uris)}
        if position is not None:
            if position < 0:
                raise ValueError(f"position must be 0 or more, got {position}")
            body["position"] = position
        return await self._playlist_write("POST", playlist_id, body, replay_safe=False)

    async def remove_items(self, playlist_id: str, uris: Sequence[str], snapshot_id: str) -> str:
        """Remove every occurrence of each of `uris` (Spotify ignores positions)."""
        check_uris(uris, REMOVABLE, "remove")
        body = {"items": [{"uri": uri} for uri in uris], "snapshot_id": snapshot_id}
        return await self._playlist_write("DELETE", playlist_id, body)

    async def replace_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        """Make the playlist exactly `uris` (≤ 100; an empty list clears it)."""
        check_uris(uris, ADDABLE, "replace", allow_empty=True)
        return await self._playlist_write("PUT", playlist_id, {"uris": list(uris)})

    async def reorder_items(
        self,
        playlist_id: str,
        range_start: int,
        insert_before: int,
        range_length: int,
        snapshot_id: str,
    ) -> str:
        """Move `range_length` entries from `range_start` to just before the entry now at
        `insert_before` (both positions counted before the move)."""
        if range_start < 0 or insert_before < 0 or range_length < 1:
            raise ValueError(
                "a reorder needs range_start >= 0, insert_before >= 0 and range_length >= 1, "
                f"got {range_start}, {insert_before}, {range_length}"
            )
        body = {
            "range_start": range_start,
            "insert_before": insert_before,
            "range_length": range_length,
            "snapshot_id": snapshot_id,
        }
        return await self._playlist_write("PUT", playlist_id, body, replay_safe=False)

    async def create_playlist(
        self, name: str, description: str, public: bool = False
    ) -> dict[str, Any]:
        """Create a playlist owned by the user (`POST /me/playlists`); the new playlist object."""
        if not name.strip():
            raise ValueError("a playlist needs a name")
        body = {"name": name, "public": public, "collaborative": False, "description": description}
        created = await self.request("POST", "me/playlists", json=body, replay_safe=False)
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise UpstreamError(
                "Spotify created a playlist but sent no id back", code="spotify_bad_response"
            )
        return created

    async def _playlist_write(
        self, method: str, playlist_id: str, body: dict[str, Any], *, replay_safe: bool = True
    ) -> str:
        path = f"playlists/{playlist_id}/items"
        answer = await self.request(method, path, json=body, replay_safe=replay_safe)
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
