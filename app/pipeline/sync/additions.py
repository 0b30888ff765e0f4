"""What a plan may add: the rule set's tracks Spotify can put in a playlist, and the others left
out with their reason, decided before any write.

    wanted = wanted_tracks(track_ids, library)            # pure: from the library's views
    lookups = TrackLookups(client)                        # one per planning run
    refused = await lookups.refused(uris_the_plan_adds)   # GET /tracks/{id}, once per track

A track the library got from a Spotify read (liked songs, a playlist) is known to Spotify. Any
other (a row of an Exportify CSV only, perhaps pinned to the rule set) is looked up with
`GET /tracks/{id}?market=from_token` — one id per request: development mode refuses the batch
form — but only when the plan would add it. An unknown id (Spotify's "non-existing ID", which
refuses the whole add call) and a track not playable in the user's market are left out; so
are local files (the API cannot add them) and pinned ids the library does not hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.errors import BadRequestError, NotFoundError
from app.pipeline.rules.library.views import Library
from app.pipeline.sync.model import TRACK, has_id
from app.spotify.client import SpotifyClient
from app.spotify.ids import InvalidSpotifyIdError

ExclusionReason = Literal["unknown", "unavailable", "local", "not_in_library"]

REASONS: dict[ExclusionReason, str] = {
    "unknown": "Spotify does not know this track (its id is not in the catalogue)",
    "unavailable": "not playable in your country; Spotify would add it greyed out",
    "local": "a local file: Spotify's API cannot add local files",
    "not_in_library": "pinned, but not in the library: fetch a source that holds it",
}
LOOKUPS_IN_FLIGHT = 8  # the client paces and bounds requests too; this bounds the coroutines


class ExcludedTrack(BaseModel):
    """A track of the rule set that the plan leaves out, and why."""

    uri: str
    track_id: str
    name: str | None = Field(default=None, description="Title — artists, when known.")
    reason: ExclusionReason
    message: str


@dataclass(frozen=True)
class Wanted:
    """A rule set's tracks as a plan may use them."""

    uris: list[str]  # track URIs, in the rule set's order
    excluded: list[ExcludedTrack]  # left out whatever the playlist holds
    unverified: frozenset[str]  # URIs the library did not get from a Spotify read
    names: Mapping[str, str]  # URI -> "title — artists", for what the plan shows


def track_name(view: Mapping[str, Any]) -> str | None:
    """'title — artists' of a library view (None without a title)."""
    name = view.get("name") or None
    artists = ", ".join(view.get("artists") or ())
    return f"{name} — {artists}" if name and artists else name


def _from_spotify(view: Mapping[str, Any]) -> bool:
    return any(key == "liked" or key.startswith("playlist:") for key in view.get("sources") or ())


def excluded_track(
    uri: str, track_id: str, reason: ExclusionReason, name: str | None = None, why: str = ""
) -> ExcludedTrack:
    message = REASONS[reason] + (f" ({why})" if why else "")
    return ExcludedTrack(uri=uri, track_id=track_id, name=name, reason=reason, message=message)


def wanted_tracks(track_ids: Sequence[str], library: Library) -> Wanted:
    """The tracks of `track_ids` (a rule set's result) a plan may add, in order."""
    uris: list[str] = []
    excluded: list[ExcludedTrack] = []
    unverified: set[str] = set()
    names: dict[str, str] = {}
    for track_id in dict.fromkeys(track_ids):
        view = library.view(track_id)
        if view is None:
            uri = f"{TRACK}{track_id}"
            excluded.append(excluded_track(uri, track_id, "not_in_library"))
            continue
        uri = str(view.get("uri") or "")
        name = track_name(view)
        if view.get("is_local") or not has_id(uri, TRACK):
            excluded.append(excluded_track(uri or track_id, track_id, "local", name))
            continue
        uris.append(uri)
        if name:
            names[uri] = name
        if not _from_spotify(view):
            unverified.add(uri)
    return Wanted(uris, excluded, frozenset(unverified), names)


class TrackLookups:
    """Spotify's word on tracks, asked once per track for one planning run."""

    def __init__(self, client: SpotifyClient) -> None:
        self.client = client
        self._verdicts: dict[str, tuple[ExclusionReason, str] | None] = {}
        self._slots = asyncio.Semaphore(LOOKUPS_IN_FLIGHT)

    @property
    def asked(self) -> int:
        """Tracks looked up so far."""
        return len(self._verdicts)

    async def refused(self, uris: Collection[str]) -> dict[str, tuple[ExclusionReason, str]]:
        """The URIs among `uris` that Spotify cannot usefully add, with the reason and
        Spotify's words (other errors — 5xx after retries, 401, 403 — propagate)."""
        todo = [uri for uri in dict.fromkeys(uris) if uri not in self._verdicts]
        verdicts = await asyncio.gather(*(self._ask(uri) for uri in todo))
        self._verdicts.update(zip(todo, verdicts, strict=True))
        return {uri: found for uri in uris if (found := self._verdicts[uri]) is not None}

    async def _ask(self, uri: str) -> tuple[ExclusionReason, str] | None:
        track_id = uri.removeprefix(TRACK)
        async with self._slots:
            try:
                track = await self.client.get_track(track_id)
            except (NotFoundError, BadRequestError, InvalidSpotifyIdError):
                return "unknown", ""  # not an id at all: asked nothing (a tracks.json edit)
        if track.is_playable is False:
            reason = track.restrictions.reason if track.restrictions else None
            return "unavailable", f"restricted: {reason}" if reason else "is_playable is false"
        return None
