"""Planning several rule sets against the real emulator: a broken one is skipped with its
problems, the others are planned; the unattended sync reports it and is not ok."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from app.demo import DemoEnvironment
from app.pipeline.sources.planning import SourceRequest
from app.pipeline.sources.service import fetch_source
from app.pipeline.sync.service import plan_rule_sets
from app.pipeline.sync.unattended import sync_library


def _rule(rule_id: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": rule_id.title(),
        "rules": {"conditions": [condition]},
        "target_playlist_name": f"Auto {rule_id}",
    }


@pytest.fixture
def fetched(demo_env: DemoEnvironment) -> DemoEnvironment:
    asyncio.run(fetch_source(demo_env.services, SourceRequest(source_type="liked")))
    # Written through the store: a regex RE2 cannot compile (the API refuses it today), and a
    # rule set built on it.
    with demo_env.services.stores.rules.update() as documents:
        documents[:] = [
            _rule("bad", {"field": "name", "operator": "regex", "value": "(?<=a)b"}),
            _rule("long", {"field": "duration", "operator": "gt", "value": 240}),
            _rule("on-bad", {"field": "id", "operator": "in_rule", "value": "bad"}),
        ]
    return demo_env


def test_a_broken_rule_set_is_skipped_with_its_problems(fetched: DemoEnvironment) -> None:
    planning = asyncio.run(plan_rule_sets(fetched.services))
    assert [plan.rule_id for plan in planning.plans] == ["long"]
    assert planning.plans[0].create is True
    assert planning.plans[0].summary.adds > 0
    assert [broken.rule_id for broken in planning.broken] == ["bad", "on-bad"]
    assert "invalid pattern" in planning.broken[0].problems[0].message
    assert planning.broken[1].broken_references == ["bad"]
    stored = fetched.services.stores.plans.load()
    assert [plan["rule_id"] for plan in stored.values()] == ["long"]


def test_asking_for_a_rule_set_built_on_a_broken_one_reports_both(
    fetched: DemoEnvironment,
) -> None:
    planning = asyncio.run(plan_rule_sets(fetched.services, ["on-bad", "long"]))
    assert [plan.rule_id for plan in planning.plans] == ["long"]
    assert [broken.rule_id for broken in planning.broken] == ["on-bad", "bad"]
    assert planning.broken[0].problems[0].message == "refers to rule set 'bad', which is broken"


def test_the_unattended_sync_applies_the_others_names_the_broken_and_is_not_ok(
    fetched: DemoEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.pipeline.sync.unattended"):
        report = asyncio.run(sync_library(fetched.services, apply=True, fetch=False, enrich=False))
    assert report.ok is False
    assert [(plan.rule_id, plan.outcome) for plan in report.plans] == [("long", "applied")]
    assert [broken.rule_id for broken in report.broken] == ["bad", "on-bad"]
    assert "invalid pattern" in report.broken[0].problems[0].message
    assert report.broken[1].broken_references == ["bad"]
    warned = [record.getMessage() for record in caplog.records]
    assert any("'bad' is broken, not synced" in message for message in warned)
    assert any("'on-bad' is broken, not synced" in message for message in warned)
    # Nothing broken: the same sync is ok.
    with fetched.services.stores.rules.update() as documents:
        documents[:] = [doc for doc in documents if doc["id"] == "long"]
    again = asyncio.run(sync_library(fetched.services, apply=True, fetch=False, enrich=False))
    assert again.ok is True and again.broken == []
    assert [(plan.rule_id, plan.outcome) for plan in again.plans] == [("long", "unchanged")]
