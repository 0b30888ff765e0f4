"""Where the enabled rule sets' playlists overlap: a matrix of shared tracks, the tracks that
land in several playlists, and the liked songs that land in none.

    found = library_overlaps(stores, services.library)
    found.matrix[0][1]           # tracks rule set 0's and rule set 1's playlists share
    found.pairs[0].filter        # 'in rule "a" and in rule "b"': those tracks, for the library
    found.liked_nowhere.count    # liked songs no enabled rule set places

Computed from the library-mode preview (each playlist's ids) with set operations, not a loop
over the library per rule set. Every group carries its tracks as a filter in the rules
language, so the Overlaps screen (and `sap library query`) browses them through the library
query; a filter that would need more conditions than a rule set may hold is null.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import combinations

from pydantic import BaseModel, Field

from app.core.models import utc_now
from app.core.rules import MAX_CONDITIONS, PlaylistRuleSet, RuleCondition, RuleGroup, RuleOperator
from app.data import Stores
from app.pipeline.rules.engine.evaluate import evaluate_each
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.previews import BrokenRuleSet
from app.pipeline.rules.service import preview_library

__all__ = ["OverlapGroup", "OverlapPair", "OverlapRuleSet", "Overlaps", "library_overlaps"]

LIKED_ID = "sap:liked"
"""The id the liked songs are evaluated under (the rule-set id pattern, unlikely a user's)."""


class OverlapRuleSet(BaseModel):
    rule_id: str
    rule_name: str
    track_count: int
    filter: str = Field(description='Its tracks in the rules language (`in rule "id"`).')


class OverlapPair(BaseModel):
    """Two playlists sharing tracks."""

    rule_ids: list[str] = Field(min_length=2, max_length=2)
    tracks: int
    filter: str = Field(description="The shared tracks in the rules language.")


class OverlapGroup(BaseModel):
    """Some tracks, counted, and how to see them."""

    count: int
    filter: str | None = Field(
        description="These tracks in the rules language; null when it would need more "
        f"conditions than a rule set may hold ({MAX_CONDITIONS})."
    )


class LikedNowhere(OverlapGroup):
    liked: int = Field(description="Liked songs in the library.")


class Overlaps(BaseModel):
    """The overlaps of the enabled rule sets' playlists (`GET /pipeline/playlists/overlaps`)."""

    tracks: int = Field(description="Tracks in the library.")
    rule_sets: list[OverlapRuleSet] = Field(description="The enabled rule sets, in stored order.")
    matrix: list[list[int]] = Field(
        description="`matrix[i][j]`: tracks rule set i's and j's playlists share (the diagonal: "
        "each playlist's size), in the order of `rule_sets`."
    )
    pairs: list[OverlapPair] = Field(description="Pairs sharing tracks, most shared first.")
    several: OverlapGroup = Field(description="Tracks that land in two playlists or more.")
    liked_nowhere: LikedNowhere = Field(description="Liked songs that land in no playlist.")
    broken: list[BrokenRuleSet] = Field(description="Rule sets that could not be evaluated.")


def _in_rule(rule_id: str) -> str:
    return f"in rule {json.dumps(rule_id)}"


def _either(pairs: Sequence[tuple[str, str]]) -> str | None:
    if not pairs or 2 * len(pairs) > MAX_CONDITIONS:
        return None
    if len(pairs) == 1:
        return f"{_in_rule(pairs[0][0])} and {_in_rule(pairs[0][1])}"
    return " or ".join(f"({_in_rule(a)} and {_in_rule(b)})" for a, b in pairs)


def _liked(library: Library, now: datetime) -> set[str]:
    liked = PlaylistRuleSet(
        id=LIKED_ID,
        name="Liked songs",
        rules=RuleGroup(
            conditions=[RuleCondition(field="liked", operator=RuleOperator.EQ, value=True)]
        ),
    )
    return set(evaluate_each([liked], library, now=now).results[LIKED_ID].track_ids)


def library_overlaps(
    stores: Stores, library: LibraryCache | Library, *, now: datetime | None = None
) -> Overlaps:
    """The overlaps of the enabled rule sets over the loaded library (see the module)."""
    at = now or utc_now()
    preview = preview_library(stores, library, now=at)
    views = library if isinstance(library, Library) else library.views()
    shown = preview.playlists
    members = [set(playlist.track_ids) for playlist in shown]
    size = len(shown)
    matrix = [[0] * size for _ in range(size)]
    pairs: list[OverlapPair] = []
    several: set[str] = set()
    for i, j in combinations(range(size), 2):
        shared = members[i] & members[j]
        matrix[i][j] = matrix[j][i] = len(shared)
        if shared:
            several |= shared
            a, b = shown[i].rule_id, shown[j].rule_id
            pairs.append(OverlapPair(rule_ids=[a, b], tracks=len(shared), filter=_either([(a, b)])))
    for i, members_i in enumerate(members):
        matrix[i][i] = len(members_i)
    pairs.sort(key=lambda pair: -pair.tracks)
    liked = _liked(views, at)
    placed: set[str] = set().union(*members)
    nowhere = liked - placed
    ids = [playlist.rule_id for playlist in shown]
    nowhere_filter = (
        " and ".join(["liked = true", *(f"not {_in_rule(rule_id)}" for rule_id in ids)])
        if len(ids) < MAX_CONDITIONS
        else None
    )
    return Overlaps(
        tracks=len(views),
        rule_sets=[
            OverlapRuleSet(
                rule_id=playlist.rule_id,
                rule_name=playlist.rule_name,
                track_count=playlist.track_count,
                filter=_in_rule(playlist.rule_id),
            )
            for playlist in shown
        ],
        matrix=matrix,
        pairs=pairs,
        several=OverlapGroup(
            count=len(several), filter=_either([(p.rule_ids[0], p.rule_ids[1]) for p in pairs])
        ),
        liked_nowhere=LikedNowhere(count=len(nowhere), liked=len(liked), filter=nowhere_filter),
        broken=preview.broken,
    )
