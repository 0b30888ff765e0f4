"""The seed-compatible entry points of the rules engine, kept for existing callers.

`matches_rules` decides one track view against a rule tree (compiling on every call);
`build_rule_based_playlists` previews every enabled rule set over the ``[{track_id,
enrichment}]`` payload, which `library_from_payload` turns into a `Library`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from app.core.models import utc_now
from app.core.rules import PlaylistRuleSet, RuleGroup
from app.pipeline.rules_engine import compile_group, evaluate_rule_sets, rule_set_of
from app.pipeline.rules_view import Library

__all__ = ["build_rule_based_playlists", "library_from_payload", "matches_rules"]


def matches_rules(
    view: Mapping[str, Any],
    group: RuleGroup | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """Seed-compatible: does one track's view satisfy `group`? (Compiles on every call.)"""
    rules = group if isinstance(group, RuleGroup) else RuleGroup.model_validate(group)
    return compile_group(rules, now=now or utc_now())(view)


def library_from_payload(tracks: Iterable[Mapping[str, Any]]) -> Library:
    """A library from the preview payload ``[{track_id, enrichment: {flat dict}}]``."""
    views: list[dict[str, Any]] = []
    provenance: list[Mapping[str, str]] = []
    for item in tracks:
        enrichment = item.get("enrichment") or {}
        view = {key: value for key, value in item.items() if key not in ("track_id", "enrichment")}
        view.update(enrichment)
        view["id"] = str(item.get("track_id") or item.get("id"))
        views.append(view)
        provenance.append(dict.fromkeys(enrichment, "payload"))
    return Library.from_views(views, provenance)


def build_rule_based_playlists(
    rules: Iterable[PlaylistRuleSet | Mapping[str, Any]],
    tracks: Iterable[Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Seed-compatible preview: ``[{rule_id, rule_name, track_ids, track_count}]`` per enabled
    rule set, in the given order."""
    rule_sets = [rule_set_of(rule) for rule in rules]
    results = evaluate_rule_sets(rule_sets, library_from_payload(tracks), now=now or utc_now())
    return [
        {
            "rule_id": rule_set.id,
            "rule_name": rule_set.name,
            "track_ids": results[rule_set.id].track_ids,
            "track_count": len(results[rule_set.id].track_ids),
        }
        for rule_set in rule_sets
        if rule_set.enabled
    ]
