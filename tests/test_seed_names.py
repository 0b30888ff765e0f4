"""The seed architecture's public names are a contract: each is where docs/architecture.md says.

The table between `<!-- seed-names -->` markers maps every name the seed document uses to the
object that holds it now (`module:qualified.name`, or a route as `METHOD /path`). These tests
import every one, check that no seed name is missing from the table, and check the names a
reader of the seed imports from the package faces (`from app.pipeline import …`).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from app.api.app import create_app
from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]

# Every public name of ../shared/seed/architecture.md (kept here: the contract does not change
# when that folder is absent).
SEED_NAMES = {
    "run_step_for_job",
    "matches_rules",
    "build_enrichment_view",
    "build_rule_based_playlists",
    "write_json",
    "read_json",
    "load_jobs",
    "load_enrichments_cache",
    "save_enrichments_cache",
    "load_rules",
    "get_all_liked_tracks",
    "list_user_playlists",
    "TrackSource",
    "TrackSourceType",
    "Track",
    "Classification",
    "TrackEnrichment",
    "PlaylistRuleSet",
    "RuleGroup",
    "app.pipeline.rules_engine",
    "fetch_tracks",
    "POST /pipeline/tracks/fetch-sources",
    "POST /pipeline/{step}/run-async",
    "GET /pipeline/jobs/{id}",
    "GET /pipeline/tracks/aggregate",
    "GET /data/enrichments",
    "GET /data/rules",
    "POST /pipeline/playlists/preview-from-rules",
    "GET /spotify/playlists",
}

_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`")


def _table() -> dict[str, str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("<!-- seed-names -->")[1].split("<!-- /seed-names -->")[0]
    return {m.group(1): m.group(2) for line in block.splitlines() if (m := _ROW.match(line))}


def test_every_seed_name_is_in_the_table() -> None:
    assert set(_table()) >= SEED_NAMES


def test_the_app_serves_every_router_the_table_names(tmp_path: Path) -> None:
    app = create_app(Settings(cache_dir=tmp_path, spotify_client_id="seed-names-test"))
    paths = set(app.openapi()["paths"])
    assert {route.path for route in _routes().values()} <= paths


def _routes() -> dict[str, APIRoute]:
    """Every route of the routers in app/api/routes, by `METHOD /path`."""
    found: dict[str, APIRoute] = {}
    for path in sorted((ROOT / "app" / "api" / "routes").glob("[!_]*.py")):
        router = importlib.import_module(f"app.api.routes.{path.stem}").router
        for route in router.routes:
            if isinstance(route, APIRoute):
                found.update({f"{method} {route.path}": route for method in route.methods})
    return found


def _resolve(where: str) -> object:
    module_name, _, qualname = where.partition(":")
    target: object = importlib.import_module(module_name)
    for part in filter(None, qualname.split(".")):
        target = getattr(target, part)
    return target


@pytest.mark.parametrize(("name", "where"), sorted(_table().items()))
def test_each_seed_name_lives_where_the_table_says(name: str, where: str) -> None:
    target = _resolve(where)
    if name.split(" ", 1)[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
        method, path = name.split(" ", 1)
        routes = _routes()
        route = routes.get(name) or routes[f"{method} {path.replace('{id}', '{job_id}')}"]
        assert route.endpoint is target
    elif not where.endswith(":") and ":" in where:
        assert callable(target) or isinstance(target, type)


def test_the_package_faces_name_the_seed_entry_points() -> None:
    from app.pipeline import (
        build_enrichment_view,
        build_rule_based_playlists,
        matches_rules,
        run_step_for_job,
    )

    rule = {"conditions": [{"field": "tempo", "operator": "gt", "value": 120}]}
    assert matches_rules({"tempo": 130}, rule)
    assert not matches_rules({"tempo": 110}, rule)
    previews = build_rule_based_playlists(
        [{"id": "fast", "name": "Fast", "rules": rule}],
        [{"track_id": "a", "enrichment": {"tempo": 130}}, {"track_id": "b", "enrichment": {}}],
    )
    assert [(p["rule_id"], p["track_ids"]) for p in previews] == [("fast", ["a"])]
    assert build_enrichment_view([], ("manual",)) == {}
    assert run_step_for_job.__module__ == "app.pipeline.jobs.steps"
