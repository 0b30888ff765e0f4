"""AcousticBrainz over a library's truth: its final data dump on disk, and a mirror of its API.

The service closed in 2023; what remains is the CC0 dump (one high-level JSON document per
analysis submission) and mirrors of the old bulk API. Both come from the same pure function,
`high_level_document`, so a dump and a mirror of one library always agree:

    write_dump(library, tmp_path / "dump")           # the real dump's layout (below)
    write_dump(library, tmp_path / "flat", layout="flat")   # <dir>/<mbid>.json
    mirror = AcousticBrainzEmulator(library)
    client = httpx.AsyncClient(
        transport=emulator_transport(mirror.app, root_path="/acousticbrainz"),
        base_url="http://emulators.test/acousticbrainz",
    )
    await client.get("/api/v1/high-level", params={"recording_ids": "mbid1;mbid2"})

One document per recording (`TrackTruth.recording_mbid`; tracks sharing it are one recording,
described by the first in library order); tracks without an MBID are unknown here. The
classifiers follow the real shape, `highlevel.<name> = {value, probability, all: {class: p}}`
(`value` is the likelier class, `probability` its share, `all` sums to 1), and are derived
from the truth by `classifier_probabilities`:

- `danceability`: danceable = the truth's danceability;
- `mood_happy`/`mood_sad`: valence (and sadness) plus 0.15 when the mood says so;
  `mood_relaxed`: calm = low energy; `mood_aggressive`: energy and darkness; `mood_party`:
  danceability and energy; `mood_electronic`: not acoustic, more for electronic genres;
  `mood_acoustic`: the acousticness;
- `voice_instrumental`: instrumental = the instrumentalness (language "zxx" is instrumental);
- `tonal_atonal`: tonal unless the key is unknown (-1);
- `gender`: only for vocal tracks tagged "female vocalists"/"male vocalists" (left out
  otherwise, as for a submission whose classifier failed);
- `timbre` and `moods_mirex` for the shape's sake.

Probabilities are clamped to [0.01, 0.99] and not rounded, like the real classifiers' output.

Dump layouts (`write_dump`): "nested" is the real one,
`<dir>/acousticbrainz-highlevel-json-20220623/highlevel/<mbid[0:2]>/<mbid[2:4]>/<mbid>-0.json`;
"flat" is `<dir>/<mbid>.json`.

The mirror (`AcousticBrainzEmulator`, mounted at `/acousticbrainz`):

- `GET /api/v1/high-level?recording_ids=a;b:0` → `{mbid: {"0": document}}` for the known
  MBIDs (an `:n` offset other than 0 and unknown MBIDs are left out); more than
  `config.max_ids` (25) ids, none, or one that is not an MBID → 400 `{"message": …}`;
- `GET /api/v1/{mbid}/high-level` → the document, or 404 `{"message": "Not found"}`;
- over `config.rate_limit` requests per `config.rate_window` s (off by default) → 429 with
  `X-RateLimit-*` headers, as the real API sent.

Random faults, latency and the request log (`requests`) come from `ProviderFaults.gateway`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.clock import Clock
from app.emulators.common.gate import ProviderConfig, ProviderFaults, SlidingWindow
from app.emulators.common.gateway import RequestRecord, mark_fault
from app.emulators.common.transport import ASGIApp
from app.emulators.common.transport import json_response as shared_json_response
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack, TrackTruth
from app.emulators.library.vocabulary import GENRE_FAMILY

# This service answers a bare ``application/json``.
json_response = partial(shared_json_response, charset=False)

DUMP_FOLDER = Path("acousticbrainz-highlevel-json-20220623") / "highlevel"
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_VERSION = {
    "essentia": "2.1-beta2",
    "essentia_git_sha": "v2.1_beta2",
    "extractor": "music 1.0",
    "gaia": "2.4.3",
    "gaia_git_sha": "857329b",
    "models_essentia_git_sha": "v2.1_beta1",
}
# classifier -> (positive class, negative class): the probabilities are the positive one's.
BINARY_CLASSIFIERS: Mapping[str, tuple[str, str]] = {
    "danceability": ("danceable", "not_danceable"),
    "mood_happy": ("happy", "not_happy"),
    "mood_sad": ("sad", "not_sad"),
    "mood_relaxed": ("relaxed", "not_relaxed"),
    "mood_aggressive": ("aggressive", "not_aggressive"),
    "mood_party": ("party", "not_party"),
    "mood_electronic": ("electronic", "not_electronic"),
    "mood_acoustic": ("acoustic", "not_acoustic"),
    "voice_instrumental": ("instrumental", "voice"),
    "tonal_atonal": ("tonal", "atonal"),
    "timbre": ("bright", "dark"),
}
_MIREX_CLUSTERS = {  # moods_mirex: 1 passionate, 2 cheerful, 3 bittersweet, 4 humorous, 5 fiery
    "happy": "Cluster2", "uplifting": "Cluster2", "energetic": "Cluster1",
    "romantic": "Cluster3", "sad": "Cluster3", "melancholic": "Cluster3", "calm": "Cluster3",
    "dreamy": "Cluster4", "dark": "Cluster5", "angry": "Cluster5",
}  # fmt: skip
_HAPPY, _SAD = {"happy", "uplifting"}, {"sad", "melancholic"}
_CALM, _DARK = {"calm", "dreamy", "romantic"}, {"angry", "dark"}
_PARTY = {"happy", "energetic", "uplifting"}
_VOCAL_TAGS = {"female vocalists": "female", "male vocalists": "male"}


@dataclass
class AcousticBrainzConfig(ProviderConfig):
    """`max_ids` per bulk request: 25, as the real API allowed."""

    max_ids: int = 25


# -- the data, derived from the truth ---------------------------------------------------------


def _clamp(value: float) -> float:
    return min(0.99, max(0.01, value))


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _or_half(value: float | None) -> float:
    return _or(value, 0.5)


def classifier_probabilities(truth: TrackTruth) -> dict[str, float]:
    """Each binary classifier's probability of its positive class (`BINARY_CLASSIFIERS`)."""
    mood = truth.mood
    energy, dance = _or_half(truth.energy), _or_half(truth.danceability)
    valence, acoustic = _or_half(truth.valence), _or_half(truth.acousticness)
    electronic_genre = bool(truth.genres) and GENRE_FAMILY.get(truth.genres[0]) == "electronic"
    instrumental = _or_half(truth.instrumentalness)
    if truth.language == "zxx":
        instrumental = max(instrumental, 0.6)
    tonal = truth.key is not None and truth.key >= 0
    return {
        "danceability": _clamp(dance),
        "mood_happy": _clamp(0.85 * valence + (0.15 if mood in _HAPPY else 0.0)),
        "mood_sad": _clamp(0.85 * (1 - valence) + (0.15 if mood in _SAD else 0.0) - 0.1),
        "mood_relaxed": _clamp(0.85 * (1 - energy) + (0.15 if mood in _CALM else 0.0)),
        "mood_aggressive": _clamp(
            0.55 * energy + 0.3 * (1 - valence) + (0.15 if mood in _DARK else 0.0) - 0.1
        ),
        "mood_party": _clamp(0.45 * dance + 0.4 * energy + (0.15 if mood in _PARTY else 0.0)),
        "mood_electronic": _clamp(0.8 * (1 - acoustic) + (0.2 if electronic_genre else 0.0)),
        "mood_acoustic": _clamp(acoustic),
        "voice_instrumental": _clamp(instrumental),
        "tonal_atonal": _clamp(0.9 - 0.5 * _or_half(truth.speechiness) if tonal else 0.15),
        "timbre": _clamp(0.25 + 0.6 * energy),
    }


def vocal_gender(truth: TrackTruth) -> str | None:
    """The singer's gender ("female"/"male") of a vocal track whose tags say so, else None."""
    if truth.language == "zxx":
        return None
    return next((_VOCAL_TAGS[tag] for tag in truth.tags if tag in _VOCAL_TAGS), None)


def _classifier(classes: Mapping[str, float]) -> dict[str, Any]:
    value = max(classes, key=lambda name: classes[name])
    return {"all": dict(classes), "probability": classes[value], "value": value}


def high_level_document(library: GeneratedLibrary, track: GeneratedTrack) -> dict[str, Any]:
    """The high-level document of `track`'s recording: `{highlevel, metadata}`."""
    truth = track.truth
    highlevel: dict[str, Any] = {}
    for name, share in classifier_probabilities(truth).items():
        positive, negative = BINARY_CLASSIFIERS[name]
        highlevel[name] = _classifier({positive: share, negative: 1 - share})
    gender = vocal_gender(truth)
    if gender is not None:
        other = "male" if gender == "female" else "female"
        highlevel["gender"] = _classifier({gender: 0.9, other: 0.1})
    cluster = _MIREX_CLUSTERS.get(truth.mood, "Cluster3")
    clusters = {f"Cluster{n}": 0.1 for n in range(1, 6)}
    clusters[cluster] = 0.6
    highlevel["moods_mirex"] = _classifier(clusters)
    mbid = truth.recording_mbid or ""
    artist = " & ".join(library.artists[a].name for a in track.artist_ids)
    md5 = hashlib.md5(f"acousticbrainz:{mbid}".encode(), usedforsecurity=False).hexdigest()
    return {
        "highlevel": dict(sorted(highlevel.items())),
        "metadata": {
            "audio_properties": {
                "analysis_sample_rate": 44100,
                "bit_rate": 320000,
                "codec": "mp3",
                "downmix": "mix",
                "equal_loudness": 0,
                "length": track.duration_ms / 1000,
                "lossless": False,
                "md5_encoded": md5,
                "replay_gain": round(-18.0 - _or(truth.loudness, -14.0), 2),
            },
            "tags": {
                "musicbrainz_recordingid": [mbid],
                "title": [track.name],
                "artist": [artist],
                "album": [library.albums[track.album_id].name],
            },
            "version": dict(_VERSION),
        },
    }


def recordings(library: GeneratedLibrary) -> dict[str, GeneratedTrack]:
    """recording MBID -> the first library track of that recording."""
    found: dict[str, GeneratedTrack] = {}
    for track in library.tracks.values():
        mbid = track.truth.recording_mbid
        if mbid is not None and mbid not in found:
            found[mbid] = track
    return found


def dump_path(directory: Path, mbid: str, layout: Literal["nested", "flat"] = "nested") -> Path:
    """Where `write_dump` puts the document of `mbid`."""
    if layout == "flat":
        return directory / f"{mbid}.json"
    return directory / DUMP_FOLDER / mbid[0:2] / mbid[2:4] / f"{mbid}-0.json"


def write_dump(
    library: GeneratedLibrary, directory: Path, *, layout: Literal["nested", "flat"] = "nested"
) -> int:
    """Write one high-level document per recording of `library`; returns how many."""
    written = 0
    for mbid, track in recordings(library).items():
        path = dump_path(directory, mbid, layout)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(high_level_document(library, track)))
        written += 1
    return written


# -- the mirror -------------------------------------------------------------------------------


class AcousticBrainzEmulator:
    """A mirror of AcousticBrainz's API over `library`; `app` is the ASGI app."""

    def __init__(
        self,
        library: GeneratedLibrary,
        config: AcousticBrainzConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.library = library
        self.config = config or AcousticBrainzConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.limiter = SlidingWindow(self.clock)
        self.recordings = recordings(library)
        routes = [
            Route("/api/v1/high-level", self._bulk, methods=["GET"]),
            Route("/api/v1/{mbid}/high-level", self._single, methods=["GET"]),
        ]
        self._faults = ProviderFaults(self.config)
        self.app: ASGIApp = self._faults.gateway(
            Starlette(routes=routes, exception_handlers={404: self._not_found}),
            service="acousticbrainz",
            clock=self.clock,
            log=self.requests,
        )

    def reset_faults(self) -> None:
        """Replay random faults from `config.fault_seed`; empty the rate-limit window."""
        self._faults.reset()
        self.limiter.reset()

    def document(self, mbid: str) -> dict[str, Any] | None:
        """The high-level document of `mbid`, None when unknown."""
        track = self.recordings.get(mbid.lower())
        return None if track is None else high_level_document(self.library, track)

    # -- routes ------------------------------------------------------------------------------

    def _throttled(self, request: Request) -> Response | None:
        client = request.client.host if request.client else ""
        limit, window = self.config.rate_limit, self.config.rate_window
        wait = self.limiter.hit(client, limit, window)
        if wait is None:
            return None
        mark_fault(request, "rate_limit")
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-In": str(wait),
            "Retry-After": str(wait),
        }
        return json_response({"message": "Too many requests"}, 429, headers)

    async def _bulk(self, request: Request) -> Response:
        refused = self._throttled(request)
        if refused is not None:
            return refused
        raw = request.query_params.get("recording_ids", "")
        refs = [part.strip() for part in raw.split(";") if part.strip()]
        if not refs:
            return json_response({"message": "Missing `recording_ids` parameter"}, 400)
        if len(refs) > self.config.max_ids:
            message = f"More than {self.config.max_ids} recordings not allowed per request"
            return json_response({"message": message}, 400)
        answer: dict[str, Any] = {}
        for ref in refs:
            mbid, _, offset = ref.partition(":")
            mbid = mbid.lower()
            if not _MBID.match(mbid) or (offset and not offset.isdigit()):
                return json_response({"message": f"{ref} is not a valid recording MBID"}, 400)
            document = self.document(mbid) if offset in ("", "0") else None
            if document is not None:
                answer.setdefault(mbid, {})["0"] = document
        return json_response(answer)

    async def _single(self, request: Request) -> Response:
        refused = self._throttled(request)
        if refused is not None:
            return refused
        mbid = str(request.path_params["mbid"]).lower()
        if not _MBID.match(mbid):
            return json_response({"message": f"{mbid} is not a valid recording MBID"}, 400)
        submission = request.query_params.get("n", "0")
        document = self.document(mbid) if submission == "0" else None
        if document is None:
            return json_response({"message": "Not found"}, 404)
        return json_response(document)

    async def _not_found(self, _request: Request, _exc: Exception) -> Response:
        return json_response({"message": "Not found"}, 404)
