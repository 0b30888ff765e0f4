"""MusicBrainz: genres and tags of the recordings found (the labels half of `MusicBrainzProvider`).

- **ListenBrainz** (`SAP_LISTENBRAINZ_URL`, a separate service with its own pace):
  `GET /metadata/recording/?recording_mbids=a,b…&inc=artist tag release`, up to 20 MBIDs per
  request. `genres` are the recording's tags that are genres (they carry a `genre_mbid`), else
  the release group's, else the credited artists' (first artist first); `genres_from` says
  which. `tags` are all of the recording's tags, most voted first.
- **Without ListenBrainz** (`SAP_LISTENBRAINZ_URL=""`): `GET /recording/{mbid}?inc=genres+tags`
  per recording, then `GET /release-group/{id}?inc=genres` and `GET /artist/{id}?inc=genres`
  when the level above has none (remembered for the run, in `RunLookups`). That is at least one
  more MusicBrainz request per track at one per second: ~17 minutes per 1,000 tracks instead
  of ~20 s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.core.errors import UpstreamError
from app.net.client import ServiceClient
from app.providers.http import get_json, parse_json
from app.providers.musicbrainz.matching import Hit, json_object

_MBID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

LISTENBRAINZ_BATCH = 20
LISTENBRAINZ_RATE = 5.0  # requests/s; ListenBrainz publishes no number, be polite

GenreLevel = Literal["recording", "release-group", "artist"]


@dataclass(frozen=True)
class Labels:
    """Genres (and the level they come from), tags and release group of one recording."""

    genres: tuple[str, ...] = ()
    genres_from: GenreLevel | None = None
    tags: tuple[str, ...] = ()
    release_group: str | None = None


def ranked(entries: Any, *, name_key: str, genres_only: bool = False) -> list[str]:
    """Names of MusicBrainz/ListenBrainz `{name|tag, count, genre_mbid?}` entries, most voted
    first (a stable sort keeps the service's order among equals); down-voted ones dropped."""
    kept: list[tuple[int, str]] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping):
            continue
        name, count = entry.get(name_key), entry.get("count", 1)
        if not isinstance(name, str) or not name.strip():
            continue
        if not isinstance(count, int | float) or count <= 0:
            continue
        if genres_only and not entry.get("genre_mbid"):
            continue
        kept.append((-int(count), name.strip()))
    kept.sort(key=lambda pair: pair[0])
    return list(dict.fromkeys(name for _, name in kept))


# -- ListenBrainz -------------------------------------------------------------------------------


async def listenbrainz_labels(
    listenbrainz: ServiceClient, mbids: Sequence[str]
) -> dict[str, Labels]:
    """Labels of `mbids` from ListenBrainz's batch metadata, `LISTENBRAINZ_BATCH` per request."""
    labels: dict[str, Labels] = {}
    for chunk in _chunks(mbids, LISTENBRAINZ_BATCH):
        body = await get_json(
            listenbrainz,
            "/metadata/recording/",
            params={"recording_mbids": ",".join(chunk), "inc": "artist tag release"},
        )
        if not isinstance(body, Mapping):
            raise UpstreamError(
                f"{listenbrainz.service} sent metadata that is not an object",
                code="provider_bad_response",
            )
        for mbid in chunk:
            entry = body.get(mbid)
            if isinstance(entry, Mapping):
                labels[mbid] = labels_from_listenbrainz(entry)
    return labels


def labels_from_listenbrainz(entry: Mapping[str, Any]) -> Labels:
    """`Labels` from one recording of ListenBrainz's `/metadata/recording/` answer."""
    tag = json_object(entry.get("tag"))
    group = json_object(entry.get("release")).get("release_group_mbid")
    recording = tag.get("recording")
    levels: list[tuple[GenreLevel, list[str]]] = [
        ("recording", ranked(recording, name_key="tag", genres_only=True)),
        ("release-group", ranked(tag.get("release_group"), name_key="tag", genres_only=True)),
        ("artist", _artist_genres(entry, tag.get("artist"))),
    ]
    genres, level = next(((g, lvl) for lvl, g in levels if g), ([], None))
    return Labels(
        genres=tuple(genres),
        genres_from=level,
        tags=tuple(ranked(recording, name_key="tag")),
        release_group=group if isinstance(group, str) else None,
    )


def _artist_genres(entry: Mapping[str, Any], artist_tags: Any) -> list[str]:
    """Genres of the credited artists, the first artist's first."""
    credited = json_object(entry.get("artist")).get("artists") or ()
    order = [a.get("artist_mbid") for a in credited if isinstance(a, Mapping)]
    by_artist: dict[Any, list[Any]] = {}
    for tag in artist_tags if isinstance(artist_tags, list) else ():
        if isinstance(tag, Mapping):
            by_artist.setdefault(tag.get("artist_mbid"), []).append(tag)
    keys = [key for key in order if key in by_artist] + [k for k in by_artist if k not in order]
    names = [
        name for key in keys for name in ranked(by_artist[key], name_key="tag", genres_only=True)
    ]
    return list(dict.fromkeys(names))


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- MusicBrainz lookups (no ListenBrainz) ------------------------------------------------------


@dataclass
class RunLookups:
    """Genres of release groups and artists already looked up in this run (no-ListenBrainz)."""

    release_groups: dict[str, list[str]] = field(default_factory=dict)
    artists: dict[str, list[str]] = field(default_factory=dict)


async def musicbrainz_labels(musicbrainz: ServiceClient, hit: Hit, lookups: RunLookups) -> Labels:
    """Recording genres, else its release group's, else its artists' (one request each)."""
    body = await _lookup(musicbrainz, "recording", hit.mbid, "genres+tags") or {}
    tags = ranked(body.get("tags"), name_key="name")
    genres = ranked(body.get("genres"), name_key="name")
    if genres:
        return Labels(tuple(genres), "recording", tuple(tags))
    if hit.release_group:
        genres = await _genres_of(
            musicbrainz, "release-group", hit.release_group, lookups.release_groups
        )
        if genres:
            return Labels(tuple(genres), "release-group", tuple(tags))
    artist_genres: list[str] = []
    for artist_id in hit.artist_ids:
        artist_genres += await _genres_of(musicbrainz, "artist", artist_id, lookups.artists)
    genres = list(dict.fromkeys(artist_genres))
    return Labels(tuple(genres), "artist" if genres else None, tuple(tags))


async def _lookup(
    musicbrainz: ServiceClient, kind: str, mbid: str, inc: str
) -> Mapping[str, Any] | None:
    """A MusicBrainz lookup; None when the entity is gone (404: merged or deleted), or when
    `mbid` (from an earlier answer) is not an MBID: only an id's shape goes into a path."""
    if _MBID.fullmatch(mbid) is None:
        return None
    path = f"/{kind}/{mbid}"
    response = await musicbrainz.request("GET", path, params={"inc": inc, "fmt": "json"})
    if response.status_code == 404:
        return None
    body = parse_json(musicbrainz, response, f"GET {path}")
    return body if isinstance(body, Mapping) else None


async def _genres_of(
    musicbrainz: ServiceClient, kind: str, mbid: str, cache: dict[str, list[str]]
) -> list[str]:
    if mbid not in cache:
        body = await _lookup(musicbrainz, kind, mbid, "genres") or {}
        cache[mbid] = ranked(body.get("genres"), name_key="name")
    return cache[mbid]
