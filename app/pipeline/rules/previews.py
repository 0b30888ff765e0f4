"""What a preview answers: each rule set's playlist, where the library's tracks land, and the
rule sets that could not be previewed.

    preview = preview_library(stores, services.library)      # a LibraryPreview
    preview.playlists[0].track_ids, preview.partition.nowhere.count
    [broken.rule_id for broken in preview.broken]             # skipped, each with its problems
    preview.playlists[0].warnings                             # fields no track has yet
    preview.playlists[0].removed.over_limit                   # tracks each stage removed
    count_rule_sets(stores, services.library).counts[0]       # the rules list: the same, no ids

Answers are sized for their reader: ids, counts, minutes and counts per stage. The per-track
detail (which stage dropped each track, each track's rule sets) is opt-in (`detail=True`): at
100,000 tracks it is most of a 14 MB answer; `explain` says why for one track on demand.

`rules.service` makes them (`preview_library`, `preview_payload`, `count_rule_sets`,
`broken_rule_set`); the API answers them as they are, the CLI prints them, and build and sync
planning carry the `BrokenRuleSet`s of the rule sets they skipped.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.core.rules import RuleProblem
from app.pipeline.rules.engine.breakdown import NodeCount
from app.pipeline.rules.engine.stages import Stage
from app.pipeline.rules.validation.coverage import RuleWarning

__all__ = [
    "BrokenRuleSet",
    "CountedRuleSet",
    "LibraryPreview",
    "LibraryPreviewPlaylist",
    "PayloadPreview",
    "PreviewNowhere",
    "PreviewOverlap",
    "PreviewPartition",
    "PreviewPlaylist",
    "RuleSetCount",
    "RuleSetCounts",
    "RuleSetFigures",
    "StageCounts",
]


class BrokenRuleSet(BaseModel):
    """A rule set a preview could not make, and why; the others are previewed."""

    rule_id: str = Field(description="Its id (`#3` for a stored one without a readable id).")
    rule_name: str
    problems: list[RuleProblem] = Field(
        description="What is wrong: e.g. a regex RE2 cannot compile, an unknown `in_rule` "
        "target, a cycle, or a reference to a broken rule set."
    )
    broken_references: list[str] = Field(
        default_factory=list,
        description="The broken rule sets it refers to (`in_rule`), when that is why; each is "
        "listed too.",
    )


class PreviewPlaylist(BaseModel):
    """Payload mode: one rule set's playlist, in the seed's shape."""

    rule_id: str
    rule_name: str
    track_ids: list[str]
    track_count: int


Candidates = Annotated[int, Field(description="Tracks from the rule set's sources.")]
Matched = Annotated[int, Field(description="Of those, tracks passing the rules.")]
Warnings = Annotated[
    list[RuleWarning],
    Field(
        default_factory=list,
        description="Fields the rule set reads that no track has yet, each naming the "
        "providers that would give it: why a playlist may be empty.",
    ),
]


class StageCounts(BaseModel):
    """How many tracks each stage of a rule set's pipeline removed (pins add):
    ``candidates - rules - excluded - deduped - over_limit - artist_cap + pins = track_count``.

    A pinned track a stage dropped counts under that stage and again under `pins`."""

    rules: int = Field(description="Candidates failing the rules.")
    excluded: int = Field(description="Removed by `exclude`.")
    deduped: int = Field(description="Removed as duplicates (`dedupe`).")
    over_limit: int = Field(description="Beyond the `limit`.")
    artist_cap: int = Field(description="Over `max_per_artist`.")
    pins: int = Field(description="Added by `include` pins (tracks not already in).")


class RuleSetFigures(BaseModel):
    """What a preview's playlist says of a rule set, without its tracks: count, minutes, what
    each stage removed, the fields no track has yet."""

    rule_id: str
    rule_name: str
    track_count: int
    candidates: Candidates
    matched: Matched
    removed: StageCounts
    duration_ms: int
    minutes: float
    warnings: Warnings


class RuleSetCount(RuleSetFigures):
    """One rule set's count and minutes, what each stage removed, and what each condition and
    group of its rules does among the candidates (the editor's count)."""

    nodes: list[NodeCount] = Field(
        default_factory=list,
        description="Per node of the rule tree (the root first, then depth first): what it "
        "matches on its own, what it removes in an `and` group, what only it adds in an `or` "
        "group, among the candidates.",
    )


class CountedRuleSet(RuleSetFigures):
    """One stored rule set's figures in the rules list (the same as its library preview's)."""

    enabled: bool


class RuleSetCounts(BaseModel):
    """The rules list's figures: each stored rule set's count, minutes and what each stage
    removed, and the ones that could not be counted; no track ids (a preview has them)."""

    counts: list[CountedRuleSet] = Field(description="In stored order.")
    broken: list[BrokenRuleSet] = Field(description="Rule sets that could not be counted.")


class LibraryPreviewPlaylist(PreviewPlaylist):
    """Library mode: one rule set's playlist and how it was chosen."""

    enabled: bool
    candidates: Candidates
    matched: Matched
    removed: StageCounts
    dropped: dict[str, Stage] | None = Field(
        default=None,
        exclude_if=lambda dropped: dropped is None,
        description="Only with `detail`: track id → the stage that dropped it (pinned tracks "
        "are not dropped). Without it, `explain` says why for one track.",
    )
    pinned: list[str]
    duration_ms: int
    minutes: float
    warnings: Warnings


class PreviewOverlap(BaseModel):
    rule_ids: list[str]
    tracks: int


class PreviewNowhere(BaseModel):
    count: int
    track_ids: list[str] = Field(description="The first of them.")


class PreviewPartition(BaseModel):
    """Where the library's tracks land: per track its rule sets, overlaps, the rest."""

    tracks: int
    placed: int
    track_rules: dict[str, list[str]] | None = Field(
        default=None,
        exclude_if=lambda track_rules: track_rules is None,
        description="Only with `detail`: track id → the rule sets it lands in.",
    )
    overlaps: list[PreviewOverlap] = Field(
        description="Each pair of rule sets sharing tracks, with how many: the most shared "
        "first, equal counts in the order of the pair's rule ids."
    )
    nowhere: PreviewNowhere


class LibraryPreview(BaseModel):
    playlists: list[LibraryPreviewPlaylist]
    partition: PreviewPartition
    broken: list[BrokenRuleSet] = Field(description="Rule sets that could not be previewed.")


class PayloadPreview(BaseModel):
    playlists: list[PreviewPlaylist]
    broken: list[BrokenRuleSet] = Field(
        default_factory=list,
        # The seed's payload mode answers `{playlists}` exactly: an empty list is left out.
        exclude_if=lambda broken: not broken,
        description="Rule sets that could not be previewed (absent when none: the seed's shape).",
    )
