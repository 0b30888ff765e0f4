"""The steps this release ships, each with the input (job metadata) it accepts.

Every step is registered with its `StepInput` model, so the runner checks a job's metadata
before it is queued (a 422 naming the field), whoever submits it: the API's run-async and v1
routes, the CLI, a rerun, a resumed job. Steps are named by where they live and imported when
first run (`StepRegistry.register_lazy`): `sap fetch` does not load the rules engine, the sync
planner and every provider's step to run one fetch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.pipeline.jobs.steps import StepInput, StepRegistry
from app.pipeline.sources.planning import PlannedSource, PlaylistHint
from app.pipeline.sync.guards import Guard

# The names of the enrichment steps (`app.pipeline.enrichment.service` names them too, and
# tests/pipeline/jobs/test_registry.py holds the two together).
ENRICH_STEP = "enrich"
EXTERNAL_STEP = "external"


class NoInput(StepInput):
    """A step that takes nothing besides the runner's own keys."""


class FetchTracksInput(StepInput):
    """One planned source (`POST /pipeline/tracks/fetch-sources` plans it)."""

    source_type: Literal["liked", "playlist", "csv"]
    source_id: str | None = Field(default=None, max_length=4096)
    label: str | None = Field(default=None, max_length=200)
    playlist: PlaylistHint | None = None


class FetchSourcesInput(StepInput):
    """Several planned sources, read in one job."""

    sources: list[PlannedSource] = Field(min_length=1, max_length=10_000)


class EnrichInput(StepInput):
    """Providers (default: every enabled one) over the library, a source or some tracks, all
    at the same time; `provider` names one alone (the metadata of jobs made before)."""

    providers: list[str] | None = Field(default=None, max_length=20)
    provider: str | None = Field(default=None, max_length=64)
    track_ids: list[str] | None = Field(default=None, max_length=200_000)
    source: str | None = Field(default=None, max_length=4096)
    refresh: bool = False

    @model_validator(mode="after")
    def _one_way_to_name_providers(self) -> EnrichInput:
        if self.provider is not None and self.providers is not None:
            raise ValueError("give providers or provider, not both")
        return self


class ExternalInput(StepInput):
    """Every enabled provider (or `providers`), all at the same time."""

    providers: list[str] | None = Field(default=None, max_length=20)
    track_ids: list[str] | None = Field(default=None, max_length=200_000)
    source: str | None = Field(default=None, max_length=4096)
    refresh: bool = False


class ClassifyInput(StepInput):
    classifier: str | None = Field(default=None, max_length=64)


class BuildInput(StepInput):
    source: Literal["rules", "classifications"] | None = None
    classifier: str | None = Field(default=None, max_length=64)


class DiffInput(StepInput):
    rule_ids: list[str] | None = Field(default=None, max_length=1000)


class ApplyInput(StepInput):
    """`plan_id` or `plan_ids` (none: every pending plan of the latest diff)."""

    plan_id: str | None = Field(default=None, max_length=64)
    plan_ids: list[str] | None = Field(default=None, max_length=1000)
    force: list[Guard] = Field(default_factory=list, max_length=3)


class RestoreInput(StepInput):
    backup_id: str = Field(max_length=64)


class SyncInput(StepInput):
    """The unattended sync: fetch, enrich, plan, and with `apply` apply what no guard stops."""

    rule_ids: list[str] | None = Field(default=None, max_length=1000)
    apply: bool = False
    fetch: bool = True
    enrich: bool = True
    periodic: bool = Field(default=False, description="Set by `serve --sync-every`.")


def default_registry() -> StepRegistry:
    """A fresh registry with every built-in step."""
    registry = StepRegistry()
    steps: list[tuple[str, str, type[StepInput]]] = [
        ("verify", "app.pipeline.health:verify_step", NoInput),
        ("fetch_tracks", "app.pipeline.sources.service:fetch_tracks_step", FetchTracksInput),
        ("fetch_sources", "app.pipeline.sources.service:fetch_sources_step", FetchSourcesInput),
        ("tracks", "app.pipeline.sources.service:tracks_step", NoInput),
        (ENRICH_STEP, "app.pipeline.enrichment.service:enrich_step", EnrichInput),
        (EXTERNAL_STEP, "app.pipeline.enrichment.service:external_step", ExternalInput),
        ("classify", "app.pipeline.classify:classify_step", ClassifyInput),
        ("build", "app.pipeline.classify:build_step", BuildInput),
        ("diff", "app.pipeline.sync.service:diff_step", DiffInput),
        ("apply", "app.pipeline.sync.applying:apply_step", ApplyInput),
        ("restore", "app.pipeline.sync.backups:restore_step", RestoreInput),
        ("sync", "app.pipeline.sync.unattended:sync_step", SyncInput),
    ]
    for name, target, input_model in steps:
        registry.register_lazy(name, target, input_model=input_model)
    return registry
