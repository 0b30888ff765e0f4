"""Several providers over the library at the same time, each inside its own service's limits.

    parts = await enrich_together(services, ["musicbrainz", "deezer", "lastfm"], on_change=show)

An enrich job runs every provider it was given as one task of one event loop: MusicBrainz,
Deezer, ReccoBeats, Last.fm and the LLM call different services, so none waits for another,
and the whole run takes about as long as its slowest provider instead of the sum of them all
(a 3,000-track library: 27 minutes one after the other). What keeps each one polite is where
it always was: a service's pace is its `HostPacer`, shared by everything in the process that
calls that service (`app.providers.http`), so two providers — or two jobs — calling one service
still share its limit.

- **Order where it matters**: a provider that reads another's output (`FeatureProvider.reads`:
  AcousticBrainz needs MusicBrainz's recording ids) starts when that one has finished and its
  results are saved, whether it succeeded or not; the others start at once.
- **Failures stay apart**: a provider that cannot run (disabled since the job was queued), or
  whose run stops (its service down, a refused key, a wait longer than allowed), or that
  crashes, is marked failed with its error; the others go on. The job then ends `partial`
  (some providers did their work) or `failed` (none did), naming each failed provider and why
  (`EnrichRunReport.shortfall`).
- **Cancelling stops them all**: a cancelled job cancels every provider's task at its next
  await; what was learnt so far is saved.
- **Saving**: the providers share one `ResultSaver`, so enrichments.json is rewritten once per
  interval for all of them (in a thread of its own), not once per provider.
- **Progress**: one `ProviderPart` per provider (its state, counts, error and time), reported
  through `on_change` as each batch lands; the job keeps them as `JobPart`s in
  `progress.parts`, so a client can draw one bar per provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.errors import AppError, UpstreamError
from app.core.models import JobError, JobPart, JobPartState, Track
from app.pipeline.enrichment.runner import (
    EnrichReport,
    ResultSaver,
    plan_enrichment,
    run_plan,
)
from app.pipeline.jobs.steps import JobCancelled
from app.pipeline.services import Services
from app.providers.registry import PROVIDERS, runnable_provider

log = logging.getLogger(__name__)

ChangeFn = Callable[[list["ProviderPart"]], None]


@dataclass
class ProviderPart:
    """One provider's share of an enrich job: where it stands, its counts and its error."""

    provider: str
    report: EnrichReport
    state: JobPartState = JobPartState.PENDING
    error: AppError | None = None
    waiting_for: tuple[str, ...] = ()
    started: float | None = None  # time.monotonic()
    finished: float | None = None

    @property
    def seconds(self) -> float | None:
        """How long the provider ran (so far, while it runs)."""
        if self.started is None:
            return None
        return round((self.finished or time.monotonic()) - self.started, 3)

    def message(self) -> str:
        report = self.report
        if self.state is JobPartState.PENDING:
            return f"waiting for {', '.join(self.waiting_for)}" if self.waiting_for else "queued"
        if self.state is JobPartState.FAILED and self.error is not None:
            return self.error.detail
        if self.state is JobPartState.CANCELLED:
            return "cancelled"
        return f"{report.matched} matched, {report.not_found} not found, {report.failed} failed"

    def job_part(self) -> JobPart:
        planned = self.started is not None  # its tracks are counted from then on
        error = self.error
        return JobPart(
            id=self.provider,
            state=self.state,
            done=self.report.done,
            total=self.report.total if planned else None,
            message=self.message(),
            error=None if error is None else JobError(code=error.code, message=error.detail),
        )


def provider_order(provider_ids: Sequence[str]) -> list[str]:
    """`provider_ids` once each, in the registry's run order (unknown ids last, as given)."""
    known = list(PROVIDERS.ids())
    unique = list(dict.fromkeys(provider_ids))
    return sorted(unique, key=lambda pid: known.index(pid) if pid in known else len(known))


def _version(provider_id: str) -> str:
    return PROVIDERS.provider(provider_id).version if provider_id in PROVIDERS else ""


async def enrich_together(
    services: Services,
    provider_ids: Sequence[str],
    *,
    tracks: Sequence[Track],
    refresh: bool = False,
    on_change: ChangeFn | None = None,
    check_cancelled: Callable[[], None] | None = None,
) -> list[ProviderPart]:
    """Run the providers over `tracks` at the same time (see the module docstring); returns
    each one's part, in run order. Raises only when the job is cancelled."""
    order = provider_order(provider_ids)
    parts = {
        pid: ProviderPart(pid, EnrichReport(provider=pid, version=_version(pid))) for pid in order
    }
    saver = ResultSaver(services.stores)
    tasks: dict[str, asyncio.Task[None]] = {}

    def changed() -> None:
        if on_change is not None:
            on_change(list(parts.values()))

    async def run_one(provider_id: str) -> None:
        part = parts[provider_id]
        needs = [tasks[other] for other in part.waiting_for]
        if needs:
            await asyncio.wait(needs)  # finished, however it ended
        try:
            provider = runnable_provider(provider_id, services.settings)
            plan = plan_enrichment(provider, services.stores, tracks=tracks, refresh=refresh)
            part.report = plan.report
            part.state, part.started = JobPartState.RUNNING, time.monotonic()
            changed()
            async with services.provider_net() as net:
                await run_plan(
                    plan,
                    services.stores,
                    net,
                    progress=lambda _report: changed(),
                    check_cancelled=check_cancelled,
                    saver=saver,
                )
            report = part.report
            if report.failed and not (report.matched or report.not_found):
                # Nothing got through: a failed part says why better than "done" with failures.
                first = report.errors[0] if report.errors else "?"
                raise UpstreamError(f"every request failed ({first})", code="provider_unavailable")
            part.state = JobPartState.DONE
        except asyncio.CancelledError:
            part.state = JobPartState.CANCELLED
            raise
        except AppError as exc:
            part.state, part.error = JobPartState.FAILED, exc
            log.warning("enrich: %s failed: %s", provider_id, exc.detail)
        except JobCancelled:
            part.state = JobPartState.CANCELLED
            raise
        except Exception as exc:
            log.exception("enrich: %s crashed", provider_id)
            part.state = JobPartState.FAILED
            part.error = AppError(f"internal error: {type(exc).__name__}", code="internal_error")
        finally:
            part.finished = time.monotonic() if part.started is not None else None
            changed()
        # Its results on disk before a provider that reads them plans from the store.
        await saver.flush()

    for pid in order:
        cls = PROVIDERS.provider(pid) if pid in PROVIDERS else None
        parts[pid].waiting_for = tuple(
            other for other in order if cls is not None and other in cls.reads and other != pid
        )
    changed()
    for pid in order:
        tasks[pid] = asyncio.create_task(run_one(pid), name=f"enrich-{pid}")
    try:
        await asyncio.gather(*tasks.values())
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for part in parts.values():
            if part.state in (JobPartState.PENDING, JobPartState.RUNNING):
                part.state = JobPartState.CANCELLED
        saver.close()
        changed()
    return list(parts.values())
