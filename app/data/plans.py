"""plans.json: sync plans by id, so a plan made by one command can be applied by another.

A plan is stored as the planner computed it (JSON), with the fingerprint of the live playlist
it was computed against (`app.pipeline.sync.service` writes them and prunes old ones). Each value
is the JSON of an `app.pipeline.sync.plans.StoredPlan`: the store keeps plain JSON (the data
layer does not import the pipeline's models) and the sync service validates a plan when it reads
one, so a plan written by an older release (without `superseded_by` or `backup_id`) still loads.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.core.errors import NotFoundError
from app.data.store import JsonStore

PlanMap = dict[str, dict[str, Any]]  # plan id -> a StoredPlan's JSON (app.pipeline.sync.plans)


class PlanStore(JsonStore[PlanMap]):
    filename = "plans.json"
    schema_version = 1
    indent = False
    adapter: ClassVar = TypeAdapter(PlanMap)

    def empty(self) -> PlanMap:
        return {}

    def get(self, plan_id: str) -> dict[str, Any]:
        plan = self.load().get(plan_id)
        if plan is None:
            raise NotFoundError(f"no plan {plan_id!r}; make one first", code="plan_not_found")
        return plan
