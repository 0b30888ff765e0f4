"""The steps this release ships: every step the job runner, the API and the CLI can run."""

from __future__ import annotations

from app.pipeline.classify import build_step, classify_step
from app.pipeline.enrichment.service import ENRICH_STEP, EXTERNAL_STEP, enrich_step, external_step
from app.pipeline.health import verify_step
from app.pipeline.jobs.steps import StepRegistry
from app.pipeline.sources.service import fetch_sources_step, fetch_tracks_step, tracks_step
from app.pipeline.sync.applying import apply_step
from app.pipeline.sync.backups import restore_step
from app.pipeline.sync.service import diff_step
from app.pipeline.sync.unattended import sync_step


def default_registry() -> StepRegistry:
    """A fresh registry with every built-in step."""
    registry = StepRegistry()
    registry.register("verify", verify_step)
    registry.register("fetch_tracks", fetch_tracks_step)
    registry.register("fetch_sources", fetch_sources_step)
    registry.register("tracks", tracks_step)
    registry.register(ENRICH_STEP, enrich_step)
    registry.register(EXTERNAL_STEP, external_step)
    registry.register("classify", classify_step)
    registry.register("build", build_step)
    registry.register("diff", diff_step)
    registry.register("apply", apply_step)
    registry.register("restore", restore_step)
    registry.register("sync", sync_step)
    return registry
