"""The built-in steps: every one resolves to the function it names, and a process that runs one
step imports that step's code only (checked in a fresh interpreter: what is imported is exact)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.core.errors import UnknownStepError, UnprocessableError
from app.pipeline.enrichment import service as enrichment
from app.pipeline.jobs.steps import StepInput, StepRegistry
from app.pipeline.registry import ENRICH_STEP, EXTERNAL_STEP, NoInput, default_registry
from app.pipeline.sources.service import fetch_sources_step


def test_every_step_resolves_to_the_function_it_names() -> None:
    registry = default_registry()
    specs = {spec.name: spec for spec in registry.specs()}
    assert sorted(specs) == registry.names()
    assert len(specs) == 12 and all(spec.description for spec in specs.values())
    assert specs["fetch_sources"].func is fetch_sources_step
    assert specs[ENRICH_STEP].func is enrichment.enrich_step
    assert (ENRICH_STEP, EXTERNAL_STEP) == (enrichment.ENRICH_STEP, enrichment.EXTERNAL_STEP)


def test_a_lazy_step_is_checked_named_and_refused_like_any_other() -> None:
    registry = StepRegistry()
    registry.register_lazy("verify", "app.pipeline.health:verify_step", input_model=NoInput)
    assert registry.names() == ["verify"]
    with pytest.raises(UnprocessableError, match="rerun_of"):
        registry.check_input("verify", {"rerun_of": 7})
    with pytest.raises(UnknownStepError, match="known steps: verify"):
        registry.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        registry.register_lazy("verify", "app.pipeline.health:verify_step")
    with pytest.raises(ValueError, match=r"package\.module:function"):
        registry.register_lazy("other", "app.pipeline.health.verify_step")

    class Loose(StepInput):
        pass

    registry.register_lazy("loose", "app.pipeline.health:verify_step", input_model=Loose)
    assert registry.get("loose").description == registry.get("verify").description


_RUN = """
import json, sys
from app.pipeline.registry import default_registry
registry = default_registry()
registry.check_input("fetch_sources", {"sources": [{"source_type": "liked"}]})
registry.get("fetch_sources")
print(json.dumps(sorted(sys.modules)))
"""


def test_checking_and_resolving_one_step_imports_none_of_the_others() -> None:
    done = subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True, check=True)
    modules = set(json.loads(done.stdout.splitlines()[-1]))
    assert "app.pipeline.sources.service" in modules
    others = (
        "app.pipeline.classify",
        "app.pipeline.enrichment.service",
        "app.pipeline.sync.applying",
        "app.pipeline.sync.service",
        "app.pipeline.sync.unattended",
        "app.pipeline.rules.service",
        "lark",
    )
    assert sorted(name for name in others if name in modules) == []
