"""Stored plans: plans.json holds each plan as a `StoredPlan`'s JSON. A plan written before plans
were models (no `superseded_by`, `backup_id`, `excluded`, `attempt`, `rollback`, `one_off` or
`names` yet,
`created_at` ending in +00:00) still loads,
and saving a new plan changes an older one only where it supersedes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.pipeline.services import Services
from app.pipeline.sync.model import SyncPlan
from app.pipeline.sync.service import get_plan, save_plan, stored_plan

URIS = ["spotify:track:cESZc5aPunJuJOG53nTcII", "spotify:track:quhMQ2u8Z1hlcwlpvch1w6"]
OLDER_PLAN: dict[str, Any] = {  # as the release before typed plans wrote it
    "id": "plan-9d010a5635af",
    "created_at": "2026-12-07T04:59:54.716740+00:00",
    "rule_id": "long",
    "rule_name": "Long",
    "playlist_id": None,
    "playlist_name": "Long",
    "create": True,
    "mode": "replace",
    "restore_of": None,
    "fingerprint": {"snapshot_id": None, "contents_hash": "4f53cda18c2baa0c0354bb5f9a3ecbe5"},
    "summary": {"adds": 2, "removes": 0, "moves": 0, "kept": 0, "duplicates": 0, "writes": 1},
    "guards": [],
    "plan": {
        "mode": "replace",
        "rewrite": False,
        "adds": [{"uri": URIS[0], "position": 0}, {"uri": URIS[1], "position": 1}],
        "removes": [],
        "moves": [],
        "kept": [],
        "duplicates": [],
        "result": URIS,
        "calls": [
            {"method": "POST", "path_suffix": "items", "body": {"uris": URIS}, "kind": "add"}
        ],
        "write_count": 1,
    },
    "status": "planned",
    "report": None,
}


def test_a_plan_stored_by_an_older_release_loads(services: Services) -> None:
    services.stores.plans.save({OLDER_PLAN["id"]: OLDER_PLAN})
    plan = get_plan(services, OLDER_PLAN["id"])
    assert plan.created_at == datetime(2026, 12, 7, 4, 59, 54, 716740, tzinfo=UTC)
    assert (plan.status, plan.superseded_by, plan.backup_id, plan.report) == (
        "planned",
        None,
        None,
        None,
    )
    assert plan.plan.result == URIS and plan.brief().summary.writes == 1
    # Served as it was stored, plus the keys that are always there now (empty until set).
    assert plan.model_dump(mode="json") == {
        **OLDER_PLAN,
        "created_at": "2026-12-07T04:59:54.716740Z",
        "summary": {**OLDER_PLAN["summary"], "excluded": 0},
        "excluded": [],
        "superseded_by": None,
        "backup_id": None,
        "attempt": None,
        "rollback": None,
        "one_off": False,
        "names": {},
    }


def test_a_new_plan_supersedes_the_pending_one_and_leaves_the_rest_as_stored(
    services: Services,
) -> None:
    services.stores.plans.save({OLDER_PLAN["id"]: OLDER_PLAN})
    new = stored_plan(
        rule_id="long",
        rule_name="Long",
        playlist_id=None,
        playlist_name="Long",
        create=True,
        plan=SyncPlan.model_validate(OLDER_PLAN["plan"]),
        live=[],
        snapshot_id=None,
        guards=[],
    )
    save_plan(services, new)
    stored = services.stores.plans.load()
    assert list(stored) == [OLDER_PLAN["id"], new.id]
    assert stored[OLDER_PLAN["id"]] == {
        **OLDER_PLAN,
        "status": "superseded",
        "superseded_by": new.id,
    }
    assert get_plan(services, new.id) == new
    assert get_plan(services, OLDER_PLAN["id"]).superseded_by == new.id
