"""Running one provider over the library: choose the tracks, batch, save, report.

    report = await enrich_tracks(services, "deezer", source="liked", progress=show)

Which tracks are asked about (`plan_enrichment`):

- the library's tracks (every track of a fetched source), or the given `track_ids`, or one
  `source`'s tracks;
- minus those the provider cannot look up (`applicable`: a local file, no ISRC for Deezer, no
  MusicBrainz recording for AcousticBrainz…) — counted as *not applicable*;
- minus those already answered at the provider's current version — counted as *cached* — where
  a "not found" answer counts as an answer until `SAP_ENRICH_NOT_FOUND_RETRY_DAYS` have passed;
  `refresh=True` asks again about everything;
- capped by the provider's `run_cap()` (the LLM's tracks-per-run setting).

Batches (`provider.batches`) run `provider.concurrency` at a time (the service's pace still
holds, see `http`). Results (found and not-found) are saved every `SAVE_EVERY` seconds and at
the end (`ResultSaver`, shared by the providers of one job: `parallel`), so a run cut short
keeps its work and the next run — or the job rerun after a restart — starts where it
stopped. A batch that fails after retries counts its tracks as failed (nothing cached, so they
are asked again next time); three failed batches in a row, a refused API key (`FATAL_CODES`),
or a service asking to wait longer than `SAP_PROVIDER_MAX_RETRY_AFTER` stop the run with that
error after saving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from app.core.errors import AppError, NotFoundError, RateLimitedError
from app.core.models import Track, TrackEnrichment, utc_now
from app.data import Stores
from app.providers.base import FATAL_CODES, BatchOutcome, EnrichItem, FeatureProvider
from app.providers.http import ProviderNet

log = logging.getLogger(__name__)

SAVE_EVERY = 10.0  # seconds between saves of a long run
WRITE_SHARE = 0.2  # at most this share of a run's time goes to writing enrichments.json
MAX_FAILED_BATCHES_IN_A_ROW = 3

ProgressFn = Callable[["EnrichReport"], None]


@dataclass
class EnrichReport:
    """Counts of one provider run; `done`/`total` drive progress bars."""

    provider: str
    version: str
    selected: int = 0  # tracks considered
    not_applicable: int = 0
    cached: int = 0
    capped: int = 0  # left for a later run by the provider's cap
    total: int = 0  # tracks asked about in this run
    matched: int = 0
    not_found: int = 0
    failed: int = 0
    requests: int = 0
    stopped: str | None = None  # why the run ended early
    errors: list[str] = field(default_factory=list)  # distinct batch failures (first few)

    @property
    def done(self) -> int:
        return self.matched + self.not_found + self.failed

    def summary(self) -> str:
        return (
            f"{self.provider}: {self.matched} matched, {self.not_found} not found, "
            f"{self.failed} failed of {self.total} asked ({self.cached} cached, "
            f"{self.not_applicable} not applicable, {self.requests} requests)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done": self.done}


@dataclass(frozen=True)
class EnrichPlan:
    provider: FeatureProvider
    items: list[EnrichItem]  # to ask about, in library order
    report: EnrichReport


def library_tracks(
    stores: Stores, *, track_ids: Sequence[str] | None = None, source: str | None = None
) -> list[Track]:
    """The tracks a run is about: the given ids, one source's tracks, or the whole library."""
    tracks = stores.tracks.load_tracks()
    if track_ids is not None:
        unknown = [track_id for track_id in track_ids if track_id not in tracks]
        if unknown:
            shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
            raise NotFoundError(
                f"{len(unknown)} track id(s) are not in the fetched library: {shown}",
                code="track_not_found",
            )
        return [tracks[track_id] for track_id in dict.fromkeys(track_ids)]
    sources = stores.sources.load()
    if source is not None:
        if source not in sources:
            known = ", ".join(sorted(sources)) or "none yet; fetch first"
            raise NotFoundError(
                f"no fetched source {source!r}; known: {known}", code="source_not_found"
            )
        records: Iterable[Any] = [sources[source]]
    else:
        records = sources.values()
    wanted: dict[str, None] = {}
    for record in records:
        for entry in record.entries:
            wanted.setdefault(entry.track_id)
    return [tracks[track_id] for track_id in wanted if track_id in tracks]


def _is_current(entry: TrackEnrichment | None, version: str, retry_after: timedelta) -> bool:
    if entry is None or entry.version != version:
        return False
    if entry.not_found:
        return utc_now() - entry.timestamp < retry_after
    return True


def plan_enrichment(
    provider: FeatureProvider,
    stores: Stores,
    *,
    track_ids: Sequence[str] | None = None,
    source: str | None = None,
    refresh: bool = False,
    tracks: Sequence[Track] | None = None,
) -> EnrichPlan:
    """Which tracks this run asks `provider` about (see the module docstring); `tracks`: the
    selection, when the caller has already read it (`library_tracks`)."""
    if tracks is None:
        tracks = library_tracks(stores, track_ids=track_ids, source=source)
    # Only this provider's entries and those it reads, streamed: not the whole store as models.
    cache = stores.enrichments.entries_for(
        {track.id for track in tracks}, sources={provider.id, *provider.reads}
    )
    version = provider.current_version()
    report = EnrichReport(provider=provider.id, version=version, selected=len(tracks))
    retry_after = timedelta(days=provider.settings.enrich_not_found_retry_days)
    items: list[EnrichItem] = []
    for track in tracks:
        entries = {entry.source: entry for entry in cache.get(track.id, ())}
        item = EnrichItem(track, entries)
        if provider.applicable(item) is not None:
            report.not_applicable += 1
        elif not refresh and _is_current(entries.get(provider.id), version, retry_after):
            report.cached += 1
        else:
            items.append(item)
    cap = provider.run_cap()
    if cap is not None and len(items) > cap:
        report.capped = len(items) - cap
        items = items[:cap]
    report.total = len(items)
    return EnrichPlan(provider, items, report)


class ResultSaver:
    """The results of one enrich job (one provider or several at once) on their way to
    enrichments.json through `save_enrichments_cache`.

    Each write rewrites the whole file (2 to 3 s for a 100,000-track library), so the results of
    every provider of the job are written together, at most every `SAVE_EVERY` seconds and
    never more than a fifth of the time (`WRITE_SHARE`), in a worker thread of their own, so
    that requests go on while the file is written. `flush()` writes what is pending and waits
    for it (a provider's results are on disk before the next one reads them); `close()` does
    the same from a stopping job, without the event loop.
    """

    def __init__(self, stores: Stores, clock: Callable[[], float] = time.monotonic) -> None:
        self.stores = stores
        self.clock = clock
        self.pending: dict[str, dict[str, TrackEnrichment]] = {}  # track id -> source -> entry
        self._next = clock() + SAVE_EVERY
        self._writing: Future[None] | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sap-enrich-save")

    def add(self, provider: FeatureProvider, outcome: BatchOutcome) -> None:
        for track_id, entry in outcome.matched.items():
            self.pending.setdefault(track_id, {})[provider.id] = entry
        for track_id in outcome.not_found:
            self.pending.setdefault(track_id, {})[provider.id] = provider.not_found_entry()

    def maybe_flush(self) -> None:
        """Start a write of what is pending when one is due and none is under way (the last
        write's error, if it failed, is raised here)."""
        writing = self._writing
        if writing is not None:
            if not writing.done():
                return
            self._writing = None
            writing.result()
        if self.pending and self.clock() >= self._next:
            self._writing = self._writer.submit(self._write, self._take())

    async def flush(self) -> None:
        """Write everything pending now, and wait for it."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await asyncio.wrap_future(writing)
        if self.pending:
            await asyncio.wrap_future(self._writer.submit(self._write, self._take()))

    def close(self) -> None:
        """Wait for the write under way, write the rest, and stop the writer thread."""
        try:
            if self._writing is not None:
                writing, self._writing = self._writing, None
                writing.result()
            if self.pending:
                self._write(self._take())
        finally:
            self._writer.shutdown(wait=True)

    def _take(self) -> dict[str, list[TrackEnrichment]]:
        taken = {track_id: list(entries.values()) for track_id, entries in self.pending.items()}
        self.pending = {}
        return taken

    def _write(self, entries: dict[str, list[TrackEnrichment]]) -> None:
        started = self.clock()
        self.stores.enrichments.save_enrichments_cache(entries)
        ended = self.clock()
        self._next = ended + max(SAVE_EVERY, (ended - started) * (1 / WRITE_SHARE - 1))


async def run_plan(
    plan: EnrichPlan,
    stores: Stores,
    net: ProviderNet,
    *,
    progress: ProgressFn | None = None,
    check_cancelled: Callable[[], None] | None = None,
    saver: ResultSaver | None = None,
) -> EnrichReport:
    """Ask the provider about the planned tracks; save as it goes (through `saver`, a job's
    shared one, else its own); return the counts."""
    provider, report = plan.provider, plan.report
    own_saver = saver is None
    saver = saver if saver is not None else ResultSaver(stores)
    slots = asyncio.Semaphore(max(1, provider.concurrency))
    failed_in_a_row = 0
    requests_before = net.requests
    if progress is not None:
        progress(report)

    async def run_batch(batch: Sequence[EnrichItem]) -> tuple[Sequence[EnrichItem], Any]:
        async with slots:
            if check_cancelled is not None:
                check_cancelled()
            try:
                return batch, await provider.enrich_batch(batch, net)
            except AppError as exc:
                return batch, exc

    tasks = [asyncio.ensure_future(run_batch(batch)) for batch in provider.batches(plan.items)]
    try:
        for next_done in asyncio.as_completed(tasks):
            batch, result = await next_done
            if isinstance(result, AppError):
                failed_in_a_row += 1
                report.failed += len(batch)
                if result.detail not in report.errors and len(report.errors) < 5:
                    report.errors.append(result.detail)
                log.warning("%s: a batch of %d failed: %s", provider.id, len(batch), result)
                if (
                    isinstance(result, RateLimitedError)
                    or result.code in FATAL_CODES
                    or failed_in_a_row >= MAX_FAILED_BATCHES_IN_A_ROW
                ):
                    report.stopped = result.detail
                    raise result
            else:
                failed_in_a_row = 0
                outcome: BatchOutcome = result
                asked = {item.id for item in batch}
                # Anything the provider forgot to account for counts as not found.
                for track_id in asked - outcome.matched.keys() - outcome.failed.keys():
                    outcome.missing(track_id)
                report.matched += len(outcome.matched)
                report.not_found += len(outcome.not_found)
                report.failed += len(outcome.failed)
                for reason in list(outcome.failed.values())[:1]:
                    if reason not in report.errors and len(report.errors) < 5:
                        report.errors.append(reason)
                saver.add(provider, outcome)
                saver.maybe_flush()
            report.requests = net.requests - requests_before
            if progress is not None:
                progress(report)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own_saver:
            saver.close()
        report.requests = net.requests - requests_before
    return report


async def enrich_tracks(
    provider: FeatureProvider,
    stores: Stores,
    net: ProviderNet,
    *,
    track_ids: Sequence[str] | None = None,
    source: str | None = None,
    refresh: bool = False,
    progress: ProgressFn | None = None,
    check_cancelled: Callable[[], None] | None = None,
) -> EnrichReport:
    """Plan and run one provider (see the module docstring)."""
    plan = plan_enrichment(provider, stores, track_ids=track_ids, source=source, refresh=refresh)
    return await run_plan(plan, stores, net, progress=progress, check_cancelled=check_cancelled)
