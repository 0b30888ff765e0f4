"""The steps this release ships. Later issues register theirs here."""

from __future__ import annotations

from app.pipeline.health import verify_step
from app.pipeline.steps import StepRegistry


def default_registry() -> StepRegistry:
    """A fresh registry with every built-in step."""
    registry = StepRegistry()
    registry.register("verify", verify_step)
    return registry
