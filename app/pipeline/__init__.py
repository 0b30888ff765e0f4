"""Business logic: track sources, enrichment, rules, sync, and the background jobs that run them.

One folder per concept: `jobs/` (steps, runner), `sources/`, `enrichment/`, `rules/`, `sync/`;
`services.Services` is what every step receives, `registry` the steps this release ships. The
seed's entry points are named here:

    from app.pipeline import run_step_for_job, matches_rules, build_rule_based_playlists

They load on first use, so that importing one part of the pipeline (a CLI command, a store
check) does not load the rules engine and the job runner with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.pipeline.jobs.steps import run_step_for_job
    from app.pipeline.rules.engine.evaluate import build_rule_based_playlists, matches_rules
    from app.pipeline.rules.library.enrichment_view import build_enrichment_view

_HOMES = {
    "run_step_for_job": "app.pipeline.jobs.steps",
    "matches_rules": "app.pipeline.rules.engine.evaluate",
    "build_rule_based_playlists": "app.pipeline.rules.engine.evaluate",
    "build_enrichment_view": "app.pipeline.rules.library.enrichment_view",
}

__all__ = [
    "build_enrichment_view",
    "build_rule_based_playlists",
    "matches_rules",
    "run_step_for_job",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
