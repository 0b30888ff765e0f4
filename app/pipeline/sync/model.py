"""The planner's vocabulary: live items, Spotify write calls and the plan, with the builders
of each kind of call. Pure: no I/O.

    add_call(uris, position)        # a POST inserting up to `MAX_URIS` URIs (at the end
                                    # when `position` is None)
    remove_calls(uris)              # DELETEs of every occurrence, `MAX_URIS` URIs a call
    reorder_call(start, before, n)  # a PUT moving [start, start + n) before entry `before`
    replace_call(uris)              # a PUT replacing the whole list

The bodies of removes and reorders carry `SNAPSHOT` in place of the snapshot id, which the
caller replaces by the id the previous write returned (see `executor.execute_plan`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from app.spotify.models import PlaylistEntry

ItemKind = Literal["track", "local", "episode", "unavailable"]
SyncMode = Literal["replace", "merge", "append"]
CallKind = Literal["remove", "add", "replace", "reorder"]
Resolution = Literal["left", "collapsed", "removed"]

MAX_URIS = 100  # Spotify's limit of URIs (or items) per add, replace or remove call
SNAPSHOT = "$snapshot_id"  # stands for the snapshot id of the previous write
TRACK = "spotify:track:"
_PREFIXES: dict[ItemKind, str] = {
    "track": TRACK,
    "local": "spotify:local:",
    "episode": "spotify:episode:",
}
ADDABLE = (TRACK, "spotify:episode:")  # what a POST or PUT may carry: never local files
REMOVABLE = tuple(_PREFIXES.values())


def has_id(uri: str, prefix: str) -> bool:
    """Whether `uri` is `prefix` followed by an id."""
    return uri.startswith(prefix) and len(uri) > len(prefix)


class LiveItem(BaseModel):
    """One entry of the live playlist, in position order; unavailable entries have no URI."""

    model_config = ConfigDict(frozen=True)

    uri: str | None
    kind: ItemKind
    added_at: datetime | None = None

    @model_validator(mode="after")
    def _uri_fits_kind(self) -> LiveItem:
        if self.kind == "unavailable":
            if self.uri is not None:
                raise ValueError("an unavailable item has no URI")
        elif self.uri is None or not has_id(self.uri, _PREFIXES[self.kind]):
            raise ValueError(f"a {self.kind} needs a {_PREFIXES[self.kind]}… URI, not {self.uri!r}")
        return self

    @classmethod
    def from_entry(cls, entry: PlaylistEntry) -> LiveItem:
        """The planner's view of an entry read by `SpotifyClient.get_playlist_tracks`."""
        uri = entry.content.uri if entry.content is not None else ""
        for kind, prefix in _PREFIXES.items():
            if has_id(uri, prefix):
                return cls(uri=uri, kind=kind, added_at=entry.added_at)
        return cls(uri=None, kind="unavailable", added_at=entry.added_at)


class ApiCall(BaseModel):
    """One write to `playlists/{id}/<path_suffix>`; a `snapshot_id` of `SNAPSHOT` is to be
    replaced by the id the previous write returned."""

    method: Literal["POST", "PUT", "DELETE"]
    path_suffix: str = "items"
    body: dict[str, Any]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind(self) -> CallKind:
        if self.method == "DELETE":
            return "remove"
        if self.method == "POST":
            return "add"
        return "replace" if "uris" in self.body else "reorder"

    @property
    def uris(self) -> list[str]:
        """The URIs this call sends (none for a reorder)."""
        if self.method == "DELETE":
            return [item["uri"] for item in self.body["items"]]
        return list(self.body.get("uris", []))


class PlannedAdd(BaseModel):
    uri: str
    position: int  # index in the result


class PlannedMove(BaseModel):
    uris: list[str]  # moved together, in this order
    position: int  # index of the first one in the result


class KeptItem(BaseModel):
    uri: str | None
    kind: ItemKind
    live_position: int
    position: int  # index in the result


class Duplicate(BaseModel):
    """A track the live playlist holds `count` times, and what the plan does about it."""

    uri: str
    count: int
    resolution: Resolution  # left as is, collapsed to one copy, or removed with the others


class SyncPlan(BaseModel):
    """The writes that make a playlist what is desired, and what it will look like."""

    mode: SyncMode
    rewrite: bool = False  # replace mode chose PUT + POSTs over incremental edits
    adds: list[PlannedAdd]
    removes: list[str]  # URIs whose every occurrence goes (collapsed duplicates come back)
    moves: list[PlannedMove]
    kept: list[KeptItem]
    duplicates: list[Duplicate]
    result: list[str | None]
    calls: list[ApiCall]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def write_count(self) -> int:
        return len(self.calls)


# --- building calls -------------------------------------------------------------------------


def chunked(uris: list[str]) -> Iterator[list[str]]:
    """`uris` in runs of at most `MAX_URIS`, in order."""
    for start in range(0, len(uris), MAX_URIS):
        yield uris[start : start + MAX_URIS]


def add_call(uris: list[str], position: int | None = None) -> ApiCall:
    body: dict[str, Any] = {"uris": uris}
    if position is not None:
        body["position"] = position
    return ApiCall(method="POST", body=body)


def replace_call(uris: list[str]) -> ApiCall:
    return ApiCall(method="PUT", body={"uris": uris})


def remove_calls(uris: list[str]) -> list[ApiCall]:
    return [
        ApiCall(
            method="DELETE",
            body={"items": [{"uri": uri} for uri in chunk], "snapshot_id": SNAPSHOT},
        )
        for chunk in chunked(uris)
    ]


def reorder_call(start: int, before: int, length: int) -> ApiCall:
    body = {
        "range_start": start,
        "insert_before": before,
        "range_length": length,
        "snapshot_id": SNAPSHOT,
    }
    return ApiCall(method="PUT", body=body)
