"""MusicBrainz: each track's recording MBID, release group, first release year, genres and tags.

`MusicBrainzProvider` finds each batch's recordings (`matching`: one ISRC search
per batch of tracks with an ISRC, one artist + title search per batch of tracks without one —
the two kinds are batched apart; a track whose ISRC MusicBrainz does not list is *not found*),
then their genres and tags (`labels`: ListenBrainz
batch metadata, or MusicBrainz lookups with release-group and artist fallbacks when
`SAP_LISTENBRAINZ_URL=""`). The modules' docstrings give the requests and the matching order.

Categories: `recording_mbid`, `release_group_mbid` (of the recording's earliest official
non-compilation release), `first_release_year`, `genres`, `genres_from`, `tags`.
Without `SAP_CONTACT` the provider is disabled: MusicBrainz refuses clients that do not say
who they are.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence

from app.core.config import Settings
from app.core.errors import UpstreamError
from app.core.models import TrackEnrichment
from app.net.client import ServiceClient
from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider, FieldSpec
from app.providers.http import ProviderNet
from app.providers.musicbrainz.labels import (
    LISTENBRAINZ_RATE,
    Labels,
    RunLookups,
    listenbrainz_labels,
    musicbrainz_labels,
)
from app.providers.musicbrainz.matching import (
    Hit,
    Match,
    clean_isrc,
    match_isrcs,
    match_names,
    searchable_by_name,
)

__all__ = ["MusicBrainzProvider"]


class MusicBrainzProvider(FeatureProvider):
    """Recording MBIDs by ISRC (batched) or artist + title; genres and tags via ListenBrainz."""

    id = "musicbrainz"
    type = "external"
    version = "1"
    description = (
        "MusicBrainz recording, first release year, genres and tags (ISRC search in batches, "
        "artist + title when there is no ISRC; genres via ListenBrainz)."
    )
    fields = (
        FieldSpec("recording_mbid", "text", "MusicBrainz recording id"),
        FieldSpec("release_group_mbid", "text", "Release group of the first release"),
        FieldSpec("first_release_year", "integer", "Year of the recording's first release"),
        FieldSpec("genres", "list", "Genres, most voted first (lower case)"),
        FieldSpec("genres_from", "text", "Where genres come from: recording/release-group/artist"),
        FieldSpec("tags", "list", "The recording's folksonomy tags, most voted first"),
    )
    match_methods = ("isrc", "artist_title")
    rate_limit = 1.0
    settings_used = (
        "contact",
        "musicbrainz_url",
        "musicbrainz_batch_size",
        "musicbrainz_name_batch_size",
        "listenbrainz_url",
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # Release-group and artist genres looked up during one run (one `ProviderNet`).
        self._lookups: weakref.WeakKeyDictionary[ProviderNet, RunLookups] = (
            weakref.WeakKeyDictionary()
        )

    def disabled_reason(self) -> str | None:
        if not self.settings.contact:
            return (
                "MusicBrainz requires an identifiable User-Agent: set SAP_CONTACT to your "
                "e-mail address or a URL"
            )
        return None

    def batch_limit(self) -> int:
        return self.settings.musicbrainz_batch_size

    def batches(self, items: Sequence[EnrichItem]) -> list[Sequence[EnrichItem]]:
        """Tracks with an ISRC `SAP_MUSICBRAINZ_BATCH_SIZE` at a time, then those without
        `SAP_MUSICBRAINZ_NAME_BATCH_SIZE` at a time: each batch costs one search of its kind."""
        with_isrc = [item for item in items if clean_isrc(item.track.isrc)]
        by_name = [item for item in items if not clean_isrc(item.track.isrc)]
        return [
            *_cut(with_isrc, self.settings.musicbrainz_batch_size),
            *_cut(by_name, self.settings.musicbrainz_name_batch_size),
        ]

    def applicable(self, item: EnrichItem) -> str | None:
        track = item.track
        if track.is_local:
            return "local file"
        if clean_isrc(track.isrc) is None and not searchable_by_name(track):
            return "no ISRC and no artist/title"
        return None

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        musicbrainz = net.client(self.settings.musicbrainz_url, rate=self.rate_limit)
        outcome = BatchOutcome()
        with_isrc = [item for item in items if clean_isrc(item.track.isrc)]
        by_name = [item.track for item in items if not clean_isrc(item.track.isrc)]
        matches = await match_isrcs(musicbrainz, with_isrc)
        try:
            matches.update(
                await match_names(musicbrainz, by_name, self.settings.musicbrainz_name_batch_size)
            )
        except UpstreamError as exc:
            if not with_isrc:
                raise  # the batch learnt nothing: the runner counts a failed batch
            for track in by_name:
                outcome.fail(track.id, exc.detail)
        hits = {match.hit.mbid: match.hit for match in matches.values()}
        labels = await self._labels(net, musicbrainz, hits)
        for item in items:
            if item.id in outcome.failed:
                continue
            found = matches.get(item.id)
            if found is None:
                outcome.missing(item)
            else:
                outcome.found(item, self._entry(found, labels.get(found.hit.mbid, Labels())))
        return outcome

    def _entry(self, match: Match, labels: Labels) -> TrackEnrichment:
        hit = match.hit
        return self.entry(
            {
                "recording_mbid": hit.mbid,
                "release_group_mbid": hit.release_group or labels.release_group,
                "first_release_year": hit.first_release_year,
                "genres": list(labels.genres),
                "genres_from": labels.genres_from if labels.genres else None,
                "tags": list(labels.tags),
            },
            method=match.method,
            confidence=match.confidence,
        )

    # -- genres and tags ----------------------------------------------------------------------

    async def _labels(
        self, net: ProviderNet, musicbrainz: ServiceClient, hits: Mapping[str, Hit]
    ) -> dict[str, Labels]:
        """Recording MBID -> labels: from ListenBrainz when it is set, else MusicBrainz lookups
        (release-group and artist genres remembered for the run)."""
        if not hits:
            return {}
        if self.settings.listenbrainz_url:
            listenbrainz = net.client(self.settings.listenbrainz_url, rate=LISTENBRAINZ_RATE)
            return await listenbrainz_labels(listenbrainz, list(hits))
        lookups = self._lookups.setdefault(net, RunLookups())
        return {
            mbid: await musicbrainz_labels(musicbrainz, hit, lookups) for mbid, hit in hits.items()
        }


def _cut(items: Sequence[EnrichItem], size: int) -> list[Sequence[EnrichItem]]:
    size = max(1, size)
    return [items[start : start + size] for start in range(0, len(items), size)]
