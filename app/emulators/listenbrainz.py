"""`ListenBrainzEmulator`: ListenBrainz's recording metadata API over a library's truth.

    emulator = ListenBrainzEmulator(library)
    client = httpx.AsyncClient(transport=emulator_transport(emulator.app, root_path="/1"),
                               base_url="http://listenbrainz.test/1")
    await client.get("/metadata/recording/",
                     params={"recording_mbids": "a,b", "inc": "artist tag release"})

`GET /metadata/recording/?recording_mbids=a,b,c&inc=artist tag release` answers
`{mbid: {recording, artist?, release?, tag?}}` for the MBIDs MusicBrainz knows (unknown ones
are left out); `tag.recording` = the recording's tags exactly as the MusicBrainz emulator
serves them (its genres first, marked with `genre_mbid` — none for recordings without genres —
then the truth's other tags), `tag.release_group` = the album's genres, `tag.artist` = each
credited artist's genres, each `{tag, count, genre_mbid?}`, counts strictly decreasing. The
data is the MusicBrainz emulator's (`MusicBrainzData`), so both services agree on ids.

Errors use ListenBrainz's body `{"code": 400, "error": "..."}`: more than
`max_recording_mbids` MBIDs, an invalid MBID or `inc` value. Reads need no token; a rate limit
(`rate_limit` requests per `rate_limit_window` seconds per client address) answers 429 with
`X-RateLimit-*` headers when set. Random faults and latency as for MusicBrainz.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.clock import Clock
from app.emulators.common.gate import RandomFaults, SlidingWindow, check_fault_rates
from app.emulators.common.gateway import Gateway, Refusal, RequestRecord, client_key
from app.emulators.common.transport import ASGIApp, Scope, json_response
from app.emulators.library.model import GeneratedLibrary
from app.emulators.musicbrainz.data import (
    MusicBrainzData,
    Recording,
    genre_id,
    is_genre,
    release_id,
)

_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INC_VALUES = frozenset({"artist", "tag", "release"})


@dataclass
class ListenBrainzConfig:
    """How the emulated ListenBrainz behaves. Mutable: tests change it live."""

    max_recording_mbids: int = 25
    rate_limit: int | None = None  # requests per window and client address; None: no limit
    rate_limit_window: float = 10.0
    recording_genre_share: float = 0.6  # only used when the emulator builds its own data
    latency_ms: float = 0
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    fault_seed: int = 0
    request_log_size: int = 100_000

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        check_fault_rates(self.fail_rate, self.drop_rate)
        if self.max_recording_mbids < 1:
            raise ValueError("max_recording_mbids must be at least 1")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 (or None for no limit)")


class ListenBrainzError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _tags(names: tuple[str, ...], **extra: str) -> list[dict[str, Any]]:
    tags = []
    for i, name in enumerate(names):
        entry: dict[str, Any] = {"tag": name, "count": len(names) - i, **extra}
        if is_genre(name):
            entry["genre_mbid"] = genre_id(name)
        tags.append(entry)
    return tags


class ListenBrainzEmulator:
    """ListenBrainz metadata over `library`; `app` is the ASGI app for the `/1` mount.

    Pass the MusicBrainz emulator's `data` to share it (and its genre choices)."""

    service = "listenbrainz"

    def __init__(
        self,
        library: GeneratedLibrary,
        config: ListenBrainzConfig | None = None,
        clock: Clock | None = None,
        data: MusicBrainzData | None = None,
    ) -> None:
        self.library = library
        self.config = config or ListenBrainzConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.data = data or MusicBrainzData(library, self.config.recording_genre_share)
        self.window = SlidingWindow(self.clock)
        self.faults = RandomFaults(self.config.fault_seed)
        routes = [
            Route("/metadata/recording/", self._metadata, methods=["GET"]),
            Route("/metadata/recording", self._metadata, methods=["GET"]),
        ]
        inner = Starlette(
            routes=routes, exception_handlers={404: self._not_found, 405: self._not_allowed}
        )
        self.app: ASGIApp = Gateway(
            inner,
            service=self.service,
            clock=self.clock,
            log=self.requests,
            log_size=lambda: self.config.request_log_size,
            latency_ms=lambda: self.config.latency_ms,
            refuse=self._check,
        )

    def reset_limits(self) -> None:
        self.window.reset()
        self.faults = RandomFaults(self.config.fault_seed)

    def _check(self, scope: Scope, _headers: Mapping[str, str]) -> Refusal | None:
        config = self.config
        limit, window = config.rate_limit, config.rate_limit_window
        if limit is not None and self.window.hit(client_key(scope), limit, window) is not None:
            reset = str(max(1, math.ceil(window)))
            headers = {
                "x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset-in": reset,
                "retry-after": reset,
            }
            body = {"code": 429, "error": "Too Many Requests"}
            return Refusal("rate_limit", 429, body, headers)
        fault = self.faults.draw(config.fault_seed, config.fail_rate, config.drop_rate)
        if fault == "drop":
            return Refusal("drop")
        if isinstance(fault, int):
            return Refusal("error", fault, {"code": fault, "error": "An error occurred"})
        return None

    async def _not_found(self, _request: Request, _exc: Exception) -> Response:
        return json_response({"code": 404, "error": "Not Found"}, 404)

    async def _not_allowed(self, _request: Request, _exc: Exception) -> Response:
        return json_response({"code": 405, "error": "Method Not Allowed"}, 405)

    async def _metadata(self, request: Request) -> Response:
        try:
            return json_response(self.metadata(request.query_params))
        except ListenBrainzError as error:
            body = {"code": error.status, "error": error.message}
            return json_response(body, error.status)

    def metadata(self, params: Mapping[str, str]) -> dict[str, Any]:
        """The body of `GET /metadata/recording/` (raises `ListenBrainzError`)."""
        raw = params.get("recording_mbids", "")
        mbids = [part.strip().lower() for part in raw.split(",") if part.strip()]
        if not mbids:
            raise ListenBrainzError(400, "recording_mbids argument is required.")
        limit = self.config.max_recording_mbids
        if len(mbids) > limit:
            raise ListenBrainzError(400, f"Too many recording mbids: {len(mbids)} > {limit}.")
        for mbid in mbids:
            if not _MBID.match(mbid) and mbid not in self.data.recordings:
                raise ListenBrainzError(400, f"Recording mbid {mbid} is not valid.")
        inc = frozenset(params.get("inc", "").replace("+", " ").split())
        unknown = sorted(inc - INC_VALUES)
        if unknown:
            raise ListenBrainzError(400, f"Invalid inc value(s): {', '.join(unknown)}.")
        answer: dict[str, Any] = {}
        for mbid in dict.fromkeys(mbids):
            recording = self.data.recordings.get(mbid)
            if recording is not None:
                answer[mbid] = self.entry(recording, inc)
        return answer

    def recording_tags(self, recording: Recording) -> list[dict[str, Any]]:
        """The recording's genres (as MusicBrainz serves them: none for ~40% of recordings)
        marked with `genre_mbid`, then its other tags; counts decreasing in that order."""
        genres = self.data.recording_genres(recording)
        names = self.data.recording_tags(recording)
        return [
            {"tag": name, "count": len(names) - i}
            | ({"genre_mbid": genre_id(name)} if name in genres else {})
            for i, name in enumerate(names)
        ]

    def entry(self, recording: Recording, inc: frozenset[str]) -> dict[str, Any]:
        library = self.library
        track = recording.track
        artists = self.data.artists_of(recording)
        album = library.albums[recording.album_ids[0]]
        entry: dict[str, Any] = {
            "recording": {"name": track.name, "length": track.duration_ms, "rels": []}
        }
        if "artist" in inc:
            entry["artist"] = {
                "name": self.data.credit_name(recording),
                "artists": [
                    {
                        "artist_mbid": artist.mbid,
                        "name": artist.name,
                        "join_phrase": " & " if i < len(artists) - 1 else "",
                    }
                    for i, artist in enumerate(artists)
                ],
            }
        if "release" in inc:
            entry["release"] = {
                "mbid": release_id(album),
                "name": album.name,
                "release_group_mbid": album.mbid,
                "year": int(album.release_date[:4]),
                "album_artist_name": " & ".join(library.artists[a].name for a in album.artist_ids),
                "caa_id": None,
                "caa_release_mbid": None,
            }
        if "tag" in inc:
            entry["tag"] = {
                "recording": self.recording_tags(recording),
                "release_group": _tags(album.genres, release_group_mbid=album.mbid),
                "artist": [
                    tag
                    for artist in artists
                    for tag in _tags(artist.genres, artist_mbid=artist.mbid)
                ],
            }
        return entry
