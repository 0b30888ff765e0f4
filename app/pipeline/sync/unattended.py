"""Unattended sync: refresh the sources, enrich new tracks, plan, and apply what is safe.

    report = await sync_library(services, apply=True)      # what `sap sync --yes` does

1. **Fetch** the sources fetched before (liked songs, playlists; CSV files are not re-read):
   unchanged playlists cost one listing request.
2. **Enrich** with every enabled default provider, all at the same time
   (`enrichment.parallel`); tracks already enriched cost nothing, so only new tracks are looked
   up; a provider that fails is reported and the others go on.
3. **Plan** every enabled rule set with a target (or the given ones); a rule set that cannot be
   evaluated is *skipped as broken*, reported with its problems (and logged), the others are
   planned.
4. **Apply** (only with `apply=True`) each plan whose guards did not trip; a plan with a tripped
   guard is *skipped* and reported with its reason — never forced. `ok` is False when anything
   was skipped or failed, which the CLI turns into a non-zero exit for cron. A plan of a rule
   set with `auto_apply` off is *held for review*: stored, not applied, waiting for the user to
   apply it (`ok` stays True: holding is what the user asked for).

Without `apply` (a dry run: `sap sync --dry-run`, or without `--yes`) the same decisions are
made and reported — the same guards, "skipped (…)" and "unchanged" outcomes and the same `ok` —
and a plan the real run would apply is "planned". Only what happens during a real apply (the
playlist edited between planning and applying, Spotify refusing a write) can differ.

The `SyncReport` says what each step did; it is the ``sync`` job's payload.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from app.core.errors import AppError, NotFoundError
from app.core.models import JobPartState, JobStatus, ManagedPlaylist, PipelineJob, utc_now
from app.core.rules import PlaylistRuleSet
from app.pipeline.enrichment.parallel import enrich_together
from app.pipeline.enrichment.runner import library_tracks
from app.pipeline.enrichment.service import ProviderRunReport
from app.pipeline.jobs.steps import StepContext
from app.pipeline.rules.previews import BrokenRuleSet
from app.pipeline.rules.rule_sets import stored_rule_sets
from app.pipeline.services import Services
from app.pipeline.sources.planning import SourceRequest, plan_fetch
from app.pipeline.sources.service import FetchSourcesReport, fetch_many
from app.pipeline.sync.applying import apply_plan
from app.pipeline.sync.plans import ApplyResult, PlanBrief
from app.pipeline.sync.service import plan_brief, plan_rule_sets
from app.providers.registry import default_provider_ids

if TYPE_CHECKING:
    from app.pipeline.jobs.runner import JobManager

log = logging.getLogger(__name__)

HELD = "held for review"
RUNS_SHOWN = 10


class ProviderRunFailure(BaseModel):
    """A provider that could not run (a provider down does not stop the sync)."""

    provider: str
    error: str


class SyncedPlan(PlanBrief):
    """A plan of the sync and what became of it."""

    outcome: str = Field(
        description="applied, unchanged, held for review (the rule set's auto_apply is off), "
        "skipped (why) or failed (why); in a dry run, planned (the real run would apply it), "
        "unchanged, held for review or skipped (why), as the real run would say."
    )
    applied: ApplyResult | None = Field(default=None, description="Set when it was applied.")


class SyncReport(BaseModel):
    """What each step of an unattended sync did (a ``sync`` job's payload)."""

    fetched: FetchSourcesReport | None = Field(
        default=None, description="Null when nothing was fetched."
    )
    enriched: list[ProviderRunReport | ProviderRunFailure] = Field(default_factory=list)
    plans: list[SyncedPlan] = Field(default_factory=list)
    broken: list[BrokenRuleSet] = Field(
        default_factory=list,
        description="Rule sets skipped because they could not be evaluated, with their problems.",
    )
    ok: bool = Field(
        default=True,
        description="False when a source could not be fetched, a rule set was skipped as "
        "broken, or a plan was skipped or failed (in a dry run: would be skipped).",
    )
    dry_run: bool = Field(
        default=False,
        description="Nothing was applied (no `apply`): the outcomes, guards and `ok` are those "
        "the real run would report, `planned` standing for `applied`.",
    )


def _fetched_sources(services: Services) -> list[SourceRequest]:
    requests: list[SourceRequest] = []
    for record in services.stores.sources.load().values():
        if record.source_type.value == "liked":
            requests.append(SourceRequest(source_type="liked"))
        elif record.source_type.value == "playlist" and record.source_id:
            requests.append(SourceRequest(source_type="playlist", source_id=record.source_id))
    return requests


async def sync_library(
    services: Services,
    *,
    rule_ids: Sequence[str] | None = None,
    apply: bool = False,
    fetch: bool = True,
    enrich: bool = True,
    ctx: StepContext | None = None,
) -> SyncReport:
    """Steps 1 to 4 of the module docstring; returns what each step did."""
    report = SyncReport(dry_run=not apply)

    def say(message: str) -> None:
        if ctx is not None:
            ctx.check_cancelled()
            ctx.progress(0, None, message)

    if fetch:
        requests = _fetched_sources(services)
        if requests:
            say("fetching changed sources")
            planned = await plan_fetch(services, requests, skip_unreadable=True)
            report.fetched = await fetch_many(services, planned)
            report.ok = report.fetched.failed == 0  # a source left out: not ok, for cron
    providers = default_provider_ids(services.settings) if enrich else []
    if providers:
        say(f"enriching with {', '.join(providers)}")
        parts = await enrich_together(
            services,
            providers,
            tracks=library_tracks(services.stores),
            check_cancelled=ctx.check_cancelled if ctx is not None else None,
        )
        for part in parts:  # a provider down must not stop the sync
            if part.state is JobPartState.FAILED and part.error is not None:
                failure = ProviderRunFailure(provider=part.provider, error=part.error.detail)
                report.enriched.append(failure)
            else:
                report.enriched.append(ProviderRunReport.of_part(part))
    say("planning")
    planning = await plan_rule_sets(services, rule_ids)
    held = {rs.id for rs in stored_rule_sets(services.stores) if not rs.auto_apply}
    for broken in planning.broken:
        log.warning(
            "rule set %r is broken, not synced: %s",
            broken.rule_id,
            "; ".join(problem.message for problem in broken.problems),
        )
        report.broken.append(broken)
        report.ok = False
    for plan in planning.plans:
        entry = SyncedPlan(**dict(plan_brief(plan)), outcome="planned")
        # Decided the same way with or without `apply`: a dry run reports the guards, the
        # outcomes and `ok` the real run would (only "planned" stands for "applied").
        if plan.guards:
            reasons = "; ".join(f"{g.guard}: {g.message}" for g in plan.guards)
            entry.outcome = f"skipped ({reasons})"
            report.ok = False
        elif plan.summary.writes == 0 and not plan.create:
            entry.outcome = "unchanged"
        elif plan.rule_id in held:  # stored: the user applies it from the Sync screen
            entry.outcome = HELD
        elif apply:
            say(f"applying {plan.id}")
            try:
                entry.applied = await apply_plan(services, plan.id)
                entry.outcome = "applied"
            except AppError as exc:
                entry.outcome = f"failed ({exc.detail})"
                report.ok = False
        report.plans.append(entry)
    return report


async def sync_step(ctx: StepContext) -> SyncReport:
    """Unattended sync (metadata: rule_ids?, apply, fetch, enrich)."""
    meta = ctx.metadata
    return await sync_library(
        ctx.services,
        rule_ids=meta.get("rule_ids"),
        apply=bool(meta.get("apply", False)),
        fetch=bool(meta.get("fetch", True)),
        enrich=bool(meta.get("enrich", True)),
        ctx=ctx,
    )


class PeriodicSync:
    """`serve --sync-every`: submits a ``sync`` job (with apply) every `interval` seconds,
    unless one is still queued or running. The first run comes one interval after start;
    `next_run_at` says when the next one is due."""

    def __init__(
        self, jobs: JobManager, interval: float, now: Callable[[], datetime] = utc_now
    ) -> None:
        self.jobs = jobs
        self.interval = interval
        self.now = now
        self.next_run_at: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sap-periodic-sync", daemon=True)

    def start(self) -> None:
        self.next_run_at = self.now() + timedelta(seconds=self.interval)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.next_run_at = self.now() + timedelta(seconds=self.interval)
            busy = [
                job for job in self.jobs.list(step="sync", limit=5).items if not job.status.finished
            ]
            if busy:
                log.info("periodic sync skipped: job %s is still %s", busy[0].id, busy[0].status)
                continue
            job = self.jobs.submit("sync", {"apply": True, "periodic": True})
            log.info("periodic sync started as job %s", job.id)


# --- what the Sync screen shows of it ---------------------------------------------------------


def every_words(seconds: float) -> str:
    """An interval in words: ``every 6 hours``, ``every 30 minutes``, ``every day``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if (seconds >= size and seconds % size == 0) or unit == "second":
            count = seconds / size
            if count == 1:
                return f"every {unit}"
            shown = f"{count:g}" if count != int(count) else str(int(count))
            return f"every {shown} {unit}s"
    raise AssertionError("unreachable")  # pragma: no cover


class RuleSetSync(BaseModel):
    """One rule set as unattended sync treats it."""

    rule_id: str
    name: str
    enabled: bool
    target: str | None = Field(description="Its playlist's id or name (null: no target).")
    auto_apply: bool = Field(
        description="True: applied by itself when no guard trips; False: held for review."
    )


class SyncRun(BaseModel):
    """One unattended sync job and what it did (its `SyncReport`, once finished)."""

    job_id: str
    status: JobStatus
    created_at: datetime
    finished_at: datetime | None
    periodic: bool = Field(description="Started by the server's schedule (not by a person).")
    report: SyncReport | None = Field(description="Null until it finishes, or when it failed.")
    error: str | None = Field(description="Why the run failed as a whole.")

    @classmethod
    def of(cls, job: PipelineJob) -> SyncRun:
        report = None
        if isinstance(job.payload, dict):
            report = SyncReport.model_validate(job.payload)
        return cls(
            job_id=job.id,
            status=job.status,
            created_at=job.created_at,
            finished_at=job.finished_at,
            periodic=bool(job.metadata.get("periodic")),
            report=report,
            error=job.error.message if job.error is not None else None,
        )


ScheduleKind = Literal["server", "off"]


class UnattendedStatus(BaseModel):
    """How unattended sync runs here: the schedule in words, the next run, each rule set's
    choice, and the last runs."""

    schedule: ScheduleKind = Field(
        description="server: this server runs it (SAP_SYNC_EVERY); off: nothing here runs it "
        "(cron may: see `cron_line`)."
    )
    every_seconds: float | None
    in_words: str = Field(description="The schedule in words.")
    next_run_at: datetime | None = Field(description="When this server runs it next.")
    running_job_id: str | None = Field(description="A sync job waiting or running now.")
    serve_command: str = Field(description="How to have the server run it every six hours.")
    cron_line: str = Field(description="A crontab line that runs it every six hours instead.")
    rule_sets: list[RuleSetSync]
    runs: list[SyncRun] = Field(description="The last sync jobs, newest first.")


def _rule_set_sync(rule_set: PlaylistRuleSet, managed: ManagedPlaylist | None) -> RuleSetSync:
    named = managed.name if managed is not None else None  # the name its last apply saw
    return RuleSetSync(
        rule_id=rule_set.id,
        name=rule_set.name,
        enabled=rule_set.enabled,
        target=named or rule_set.target_playlist_name or rule_set.target_playlist_id,
        auto_apply=rule_set.auto_apply,
    )


def unattended_status(
    services: Services, jobs: JobManager, periodic: PeriodicSync | None
) -> UnattendedStatus:
    """The Sync screen's "Unattended" view (see `UnattendedStatus`)."""
    runs = [SyncRun.of(job) for job in jobs.list(step="sync", limit=RUNS_SHOWN).items]
    managed = services.stores.playlists.load()
    running = next((run.job_id for run in runs if not run.status.finished), None)
    every = periodic.interval if periodic is not None else None
    words = (
        f"The server syncs {every_words(every)}, applying what no guard stops."
        if every is not None
        else "Off: this server does not sync by itself."
    )
    return UnattendedStatus(
        schedule="server" if every is not None else "off",
        every_seconds=every,
        in_words=words,
        next_run_at=periodic.next_run_at if periodic is not None else None,
        running_job_id=running,
        serve_command="sap serve --sync-every 6h",
        cron_line=f"0 */6 * * *  {Path(sys.executable).parent / 'sap'} sync --yes "
        ">> ~/sap-sync.log 2>&1",
        rule_sets=[
            _rule_set_sync(rs, managed.get(rs.id)) for rs in stored_rule_sets(services.stores)
        ],
        runs=runs,
    )


def set_auto_apply(services: Services, rule_id: str, auto_apply: bool) -> RuleSetSync:
    """Choose whether unattended sync applies a rule set's plan by itself (the rest of the rule
    set is left as stored)."""
    with services.stores.rules.update() as documents:
        for document in documents:
            if document.get("id") == rule_id:
                document["auto_apply"] = auto_apply
                break
        else:
            raise NotFoundError(f"no rule set with id {rule_id!r}", code="rule_not_found")
    for rule_set in stored_rule_sets(services.stores):
        if rule_set.id == rule_id:
            return _rule_set_sync(rule_set, services.stores.playlists.load().get(rule_id))
    raise NotFoundError(f"rule set {rule_id!r} cannot be read", code="rule_not_found")
