"""Last.fm: the tags listeners gave a track ("chillout", "80s", "female vocalists"…), by name.

    provider = LastfmProvider(settings)          # needs SAP_LASTFM_API_KEY (free)
    report = await enrich_tracks(provider, stores, net)

For each track, `track.getTopTags` with its first artist and its title (`autocorrect=1`, so
Last.fm fixes small spelling differences). When Last.fm does not know the track (error 6) or
it has no tag worth keeping, the artist's tags (`artist.getTopTags`) stand in, with a lower
confidence; each artist is asked about once per run. Only names are sent, so local files are
looked up too.

Categories written: `tags` (at most `MAX_TAGS`, most used first, lower-cased, only those with
a count of at least `MIN_TAG_COUNT` on Last.fm's 0..100 scale) and `tags_from` ("track", or
"artist" for the fallback). A track without any kept tag either way is not found.

Errors: 29 (rate limit; a 429, or an HTTP 200 body) pauses the service and retries; 8, 11 and
16 (temporary failures) are retried like a 5xx; 10 and 26 (invalid or suspended API key) fail
the batch with an error naming the key, and every later batch of the run fails at once without
asking, so the runner stops the run instead of sending the bad key again and again. Any request
that still fails after retries ends its batch: what the batch learnt is kept, the rest count
as failed (a batch that learnt nothing fails whole, which is what the runner counts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core.config import Settings
from app.core.errors import UpstreamError
from app.net.client import ServiceClient
from app.net.policy import Throttled, Transient
from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider, FieldSpec, one_by_one
from app.providers.http import ProviderNet, parse_json

KEY_URL = "https://www.last.fm/api/account/create"
MIN_TAG_COUNT = 10  # Last.fm counts are relative (top tag = 100); below 10 is mostly noise
MAX_TAGS = 15
TRACK_CONFIDENCE = 0.9  # autocorrect may pick another recording of the same song
ARTIST_CONFIDENCE = 0.5  # the artist's tags describe the track only roughly
RATE_LIMIT_WAIT = 5.0  # Last.fm names no wait with error 29; its limit is a few requests/s

NOT_FOUND = 6  # "Invalid parameters": what Last.fm says for an unknown track or artist
OPERATION_FAILED = 8
INVALID_API_KEY = 10
SERVICE_OFFLINE = 11
TEMPORARY_ERROR = 16
SUSPENDED_API_KEY = 26
RATE_LIMITED = 29
TRANSIENT_ERRORS = frozenset({OPERATION_FAILED, SERVICE_OFFLINE, TEMPORARY_ERROR})
KEY_ERRORS = frozenset({INVALID_API_KEY, SUSPENDED_API_KEY})
KEY_REJECTED = "provider_key_rejected"  # `UpstreamError.code` of a refused API key


class LastfmTag(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = ""
    count: int = 0


class LastfmTopTags(BaseModel):
    """`toptags` of either method; a lone tag may come as an object instead of a list."""

    model_config = ConfigDict(extra="ignore")

    tag: list[LastfmTag] = Field(default_factory=list)

    @field_validator("tag", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


def lastfm_error(response: httpx.Response) -> tuple[int, str] | None:
    """The `(code, message)` of a Last.fm `{"error": 6, "message": …}` body, or None."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    return code, str(body.get("message") or "")


def key_problem(code: int, message: str) -> UpstreamError:
    what = "is suspended" if code == SUSPENDED_API_KEY else "is not valid"
    return UpstreamError(
        f"the Last.fm API key {what} (Last.fm error {code}: {message}); check "
        f"SAP_LASTFM_API_KEY, or get a new free key at {KEY_URL}",
        code=KEY_REJECTED,
    )


def check_lastfm(response: httpx.Response) -> None:
    """Map Last.fm's error codes to a pause, a retry, or a key problem."""
    error = lastfm_error(response)
    if error is None:
        return
    code, message = error
    if code == RATE_LIMITED:
        raise Throttled(RATE_LIMIT_WAIT, f"Last.fm rate limit (error {code}: {message})")
    if code in TRANSIENT_ERRORS:
        raise Transient(f"Last.fm error {code}: {message}")
    if code in KEY_ERRORS:
        raise key_problem(code, message)


def kept_tags(toptags: LastfmTopTags) -> list[str]:
    """Tag names worth keeping, most used first (see the module docstring)."""
    ranked = sorted(toptags.tag, key=lambda tag: -tag.count)
    names = (tag.name.strip().lower() for tag in ranked if tag.count >= MIN_TAG_COUNT)
    return list(dict.fromkeys(name for name in names if name))[:MAX_TAGS]


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


class _Run:
    """What one run remembers: artists' tags (asked once), and a refused key."""

    def __init__(self) -> None:
        self.artist_tags: dict[str, list[str]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.key_error: UpstreamError | None = None


class LastfmProvider(FeatureProvider):
    """Track (or artist) tags from Last.fm (see the module docstring)."""

    id = "lastfm"
    version = "1"
    description = (
        "Listener tags (genres, moods, eras…) of the track, or of its artist when the track "
        "has none; needs a free API key."
    )
    fields = (
        FieldSpec("tags", "list", "Last.fm top tags, lower-cased, most used first."),
        FieldSpec("tags_from", "text", '"track", or "artist" when the artist\'s tags stand in.'),
    )
    match_methods = ("artist_title",)
    batch_size = 10
    rate_limit = 4.0  # Last.fm asks for no more than a few requests per second
    concurrency = 2
    settings_used = ("lastfm_url", "lastfm_api_key")

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._runs: WeakKeyDictionary[ProviderNet, _Run] = WeakKeyDictionary()

    def disabled_reason(self) -> str | None:
        if self.settings.lastfm_api_key:
            return None
        return f"no Last.fm API key: get a free one at {KEY_URL} and set SAP_LASTFM_API_KEY"

    def applicable(self, item: EnrichItem) -> str | None:
        track = item.track
        if not track.artists or not track.artists[0].name.strip():
            return "no artist name"
        return None if track.name.strip() else "no title"

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        run = self._runs.setdefault(net, _Run())
        if run.key_error is not None:
            raise run.key_error
        lastfm = net.client(self.settings.lastfm_url, rate=self.rate_limit)

        def remember_key_error(exc: UpstreamError) -> None:
            if exc.code == KEY_REJECTED:
                run.key_error = exc  # every later batch of this run stops at once

        return await one_by_one(
            items,
            lambda item, outcome: self._enrich_one(item, lastfm, run, outcome),
            remember_key_error,
        )

    async def _enrich_one(
        self, item: EnrichItem, lastfm: ServiceClient, run: _Run, outcome: BatchOutcome
    ) -> None:
        artist, title = item.track.artists[0].name.strip(), item.track.name.strip()
        params = {"method": "track.getTopTags", "artist": artist, "track": title}
        tags, source, confidence = await self._top_tags(lastfm, params), "track", TRACK_CONFIDENCE
        if not tags:
            tags = await self._artist_tags(lastfm, run, artist)
            source, confidence = "artist", ARTIST_CONFIDENCE
        if not tags:
            outcome.missing(item)
            return
        categories = {"tags": tags, "tags_from": source}
        outcome.found(item, self.entry(categories, method="artist_title", confidence=confidence))

    async def _artist_tags(self, lastfm: ServiceClient, run: _Run, artist: str) -> list[str]:
        key = name_key(artist)
        if key not in run.artist_tags:
            # Concurrent batches wait for the one lookup in flight; a failure caches nothing.
            async with run.locks.setdefault(key, asyncio.Lock()):
                if key not in run.artist_tags:
                    params = {"method": "artist.getTopTags", "artist": artist}
                    run.artist_tags[key] = await self._top_tags(lastfm, params)
        return run.artist_tags[key]

    async def _top_tags(self, lastfm: ServiceClient, params: dict[str, str]) -> list[str]:
        """The kept tags of one `*.getTopTags` call; [] when Last.fm does not know it."""
        method = params["method"]
        query = {**params, "autocorrect": "1", "api_key": self.api_key(), "format": "json"}
        response = await lastfm.request("GET", "/", params=query, check=check_lastfm)
        error = lastfm_error(response)
        if error is not None:
            code, message = error
            if code == NOT_FOUND:
                return []
            raise UpstreamError(f"Last.fm error {code} for {method}: {message}")
        body = parse_json(lastfm, response, method)
        try:
            toptags = LastfmTopTags.model_validate(
                body.get("toptags", {}) if isinstance(body, dict) else None
            )
        except ValidationError as exc:
            raise UpstreamError(
                f"Last.fm sent an unexpected body for {method} ({exc.error_count()} problem(s))",
                code="provider_bad_response",
            ) from None
        return kept_tags(toptags)

    def api_key(self) -> str:
        key = self.settings.lastfm_api_key
        if not key:
            raise UpstreamError(self.disabled_reason() or "no Last.fm API key", code=KEY_REJECTED)
        return key
