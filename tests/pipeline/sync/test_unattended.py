"""The unattended sync's dry run says what the real run would: the same guards, the same
outcomes (``planned`` standing for ``applied``) and the same `ok`, whatever the playlist's
state — new, unchanged, narrowed by the rules, or edited in Spotify since the last apply."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.demo import DemoEnvironment
from app.pipeline.sources.planning import SourceRequest
from app.pipeline.sources.service import fetch_source
from app.pipeline.sync.unattended import SyncReport, sync_library


@pytest.fixture
def fetched(demo_env: DemoEnvironment) -> DemoEnvironment:
    asyncio.run(fetch_source(demo_env.services, SourceRequest(source_type="liked")))
    _set_rule(demo_env, 240)
    return demo_env


def _set_rule(env: DemoEnvironment, seconds: int) -> None:
    with env.services.stores.rules.update() as documents:
        documents[:] = [
            {
                "id": "long",
                "name": "Long ones",
                "rules": {
                    "conditions": [{"field": "duration", "operator": "gt", "value": seconds}]
                },
                "target_playlist_name": "Long ones",
            }
        ]


def _sync(env: DemoEnvironment, *, apply: bool) -> SyncReport:
    return asyncio.run(sync_library(env.services, apply=apply, fetch=False, enrich=False))


def _seen(report: SyncReport) -> tuple[list[tuple[str | None, str]], bool]:
    return [(plan.rule_id, plan.outcome) for plan in report.plans], report.ok


def _dry_then_real(env: DemoEnvironment) -> tuple[Any, Any]:
    dry = _sync(env, apply=False)
    assert dry.dry_run is True
    real = _sync(env, apply=True)
    assert real.dry_run is False
    dry_outcomes, dry_ok = _seen(dry)
    dry_as_real = [
        (rule_id, "applied" if outcome == "planned" else outcome)
        for rule_id, outcome in dry_outcomes
    ]
    return (dry_as_real, dry_ok), _seen(real)


def test_a_dry_run_reports_what_the_real_run_then_does(fetched: DemoEnvironment) -> None:
    emulator = fetched.emulator
    # A new playlist: planned, then applied.
    dry, real = _dry_then_real(fetched)
    assert dry == real == ([("long", "applied")], True)
    playlist_id = fetched.services.stores.playlists.load()["long"].playlist_id

    # Nothing changed: unchanged both times.
    dry, real = _dry_then_real(fetched)
    assert dry == real == ([("long", "unchanged")], True)

    # Edited in Spotify since the last apply, and the rules changed: both skip it for drift.
    liked = emulator.library.liked[-1].track_id
    emulator.edit_playlist_as_other_user(playlist_id, add=[f"spotify:track:{liked}"])
    _set_rule(fetched, 200)
    before = emulator.playlist_uris(playlist_id)
    dry, real = _dry_then_real(fetched)
    assert dry == real
    [(rule_id, outcome)], ok = real
    assert rule_id == "long" and outcome.startswith("skipped (drift: ") and ok is False
    assert emulator.playlist_uris(playlist_id) == before


def test_a_dry_run_skips_for_remove_share_as_the_real_run_does(fetched: DemoEnvironment) -> None:
    _sync(fetched, apply=True)
    _set_rule(fetched, 400)  # most of the playlist would go
    dry, real = _dry_then_real(fetched)
    assert dry == real
    [(_rule_id, outcome)], ok = real
    assert outcome.startswith("skipped (remove_share: ") and ok is False


def test_a_rule_set_held_for_review_is_held_in_the_dry_run_and_the_real_run(
    fetched: DemoEnvironment,
) -> None:
    with fetched.services.stores.rules.update() as documents:
        documents[0]["auto_apply"] = False
    dry, real = _dry_then_real(fetched)
    assert dry == real == ([("long", "held for review")], True)
    assert fetched.services.stores.playlists.load() == {}  # nothing was created or written
    held = list(fetched.services.stores.plans.load().values())[-1]  # the real run's
    assert held["status"] == "planned"  # waiting for the user's apply
