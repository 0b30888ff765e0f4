"""ReccoBeats: Spotify-style audio features (energy, valence, tempo…) by Spotify track id.

    provider = ReccoBeatsProvider(settings)
    report = await enrich_tracks(provider, stores, net)

One request per batch of up to `MAX_IDS` tracks: `GET /audio-features?ids=a,b,c`. The answer's
`content` lists features only for the tracks ReccoBeats knows (its coverage is partial), each
under ReccoBeats' own UUID; the Spotify id is the last part of its `href`
(``https://open.spotify.com/track/<id>``), which is how results map back to our tracks. A track
missing from the answer is not found.

Categories written: acousticness, danceability, energy, instrumentalness, liveness, loudness
(dB), speechiness, valence (0..1 except loudness), `tempo` (BPM; left out when ReccoBeats gives
null or 0), `key` (pitch class 0..11; left out when -1, unknown) and `mode` (1 major, 0 minor).

ReccoBeats does not publish its limits; we pace at `rate_limit` and `ServiceClient` honours the
429s (with `Retry-After`) it sends when we are too fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import UpstreamError
from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider, FieldSpec
from app.providers.http import ProviderNet, get_json

MAX_IDS = 40  # ids per /audio-features request (ReccoBeats refuses more with a 400)
SPOTIFY_TRACK_URI = "spotify:track:"
RATIOS = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "speechiness",
    "valence",
)


class AudioFeatures(BaseModel):
    """One item of ReccoBeats' `content` (missing features are None)."""

    model_config = ConfigDict(extra="ignore")

    href: str = ""
    acousticness: float | None = None
    danceability: float | None = None
    energy: float | None = None
    instrumentalness: float | None = None
    liveness: float | None = None
    loudness: float | None = None
    speechiness: float | None = None
    valence: float | None = None
    tempo: float | None = None
    key: int | None = None
    mode: int | None = None


def spotify_id_of(href: str) -> str:
    """The Spotify id at the end of a link (``https://open.spotify.com/track/<id>?si=…``)."""
    path = urlsplit(href).path if "://" in href else href
    return path.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def feature_categories(features: AudioFeatures) -> dict[str, Any]:
    """The categories we store (see the module docstring for what is left out)."""
    categories: dict[str, Any] = {name: getattr(features, name) for name in RATIOS}
    categories["loudness"] = features.loudness
    tempo = features.tempo
    categories["tempo"] = tempo if tempo is not None and tempo > 0 else None
    key = features.key
    categories["key"] = key if key is not None and 0 <= key <= 11 else None
    categories["mode"] = features.mode if features.mode in (0, 1) else None
    return categories


def content_items(body: Any) -> list[Any]:
    """The `content` list of an answer; anything else is a broken answer."""
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, list):
        raise UpstreamError(
            "ReccoBeats sent an answer without a `content` list for GET /audio-features",
            code="provider_bad_response",
        )
    return content


class ReccoBeatsProvider(FeatureProvider):
    """Audio features from ReccoBeats (see the module docstring)."""

    id = "reccobeats"
    version = "1"
    description = (
        "Spotify-style audio features (energy, danceability, valence, tempo, key…) by Spotify "
        "track id; coverage is partial."
    )
    fields = (
        FieldSpec("acousticness", "number", "0..1: how likely the track is acoustic."),
        FieldSpec("danceability", "number", "0..1: how suitable for dancing."),
        FieldSpec("energy", "number", "0..1: intensity and activity."),
        FieldSpec("instrumentalness", "number", "0..1: how likely there are no vocals."),
        FieldSpec("liveness", "number", "0..1: how likely an audience is present."),
        FieldSpec("loudness", "number", "Average loudness in dB (about -60..0)."),
        FieldSpec("speechiness", "number", "0..1: how much spoken word."),
        FieldSpec("tempo", "number", "Beats per minute; absent when unknown."),
        FieldSpec("valence", "number", "0..1: how positive the track sounds."),
        FieldSpec("key", "integer", "Pitch class 0 (C) .. 11 (B); absent when unknown."),
        FieldSpec("mode", "integer", "1 major, 0 minor."),
    )
    match_methods = ("spotify_id",)
    batch_size = MAX_IDS
    rate_limit = 4.0  # ReccoBeats publishes no limit: stay modest
    concurrency = 2
    settings_used = ("reccobeats_url",)

    def applicable(self, item: EnrichItem) -> str | None:
        if item.track.is_local:
            return "local file"
        return None if item.track.uri.startswith(SPOTIFY_TRACK_URI) else "no Spotify id"

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        recco = net.client(self.settings.reccobeats_url, rate=self.rate_limit)
        by_id = {item.id: item for item in items}
        body = await get_json(recco, "/audio-features", params={"ids": ",".join(by_id)})
        outcome = BatchOutcome()
        for raw in content_items(body):
            self._map_item(raw, by_id, outcome)
        for item in items:
            if item.id not in outcome.matched and item.id not in outcome.failed:
                outcome.missing(item)  # ReccoBeats does not know it
        return outcome

    def _map_item(self, raw: Any, by_id: dict[str, EnrichItem], outcome: BatchOutcome) -> None:
        href = raw.get("href") if isinstance(raw, dict) else None
        item = by_id.get(spotify_id_of(href)) if isinstance(href, str) else None
        if item is None:
            return  # not one of ours (or no link back): nothing to map it to
        try:
            features = AudioFeatures.model_validate(raw)
        except ValidationError as exc:
            # Asked again next run rather than cached as "not found".
            outcome.fail(item, f"ReccoBeats sent unreadable features ({exc.error_count()})")
            return
        categories = feature_categories(features)
        outcome.found(item, self.entry(categories, method="spotify_id", confidence=1.0))
