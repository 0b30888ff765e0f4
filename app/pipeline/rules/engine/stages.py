"""The fixed per-rule-set pipeline after the rules matched: from matching tracks to a playlist.

`run_pipeline` takes the library positions a rule set's `rules` selected from its candidates and
applies, in this order (docs: rules-dsl.md): `exclude` → dedupe (`id`, `isrc` or `recording`) →
choose N (`limit.selected_by`, else `sort`, else library order) → `max_per_artist` (walked in
that choosing order) → output `sort` (else library order) → `include` pins (kept where they
are, else appended; a track both pinned and excluded stays out). The `RuleResult` records, for
each dropped track, the stage that dropped it. Sort ranks, dedupe markers, artists and lengths
are library-wide, computed once per library (`library.order`, prepared with its snapshot).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from app.core.rules import PlaylistRuleSet, SortKey
from app.pipeline.rules.fields.types import FieldType
from app.pipeline.rules.library.order import (
    first_artists,
    ranks,
    repeated,
    seconds,
    seconds_of,
)
from app.pipeline.rules.library.views import Library

__all__ = [
    "RuleResult",
    "Stage",
    "order_positions",
    "run_pipeline",
]

Stage = Literal["excluded", "deduped", "over limit", "artist cap"]
RECORDING_DURATION_TOLERANCE_MS = 3000


@dataclass
class RuleResult:
    """One rule set's playlist, and for each dropped track the stage that dropped it."""

    rule_id: str
    rule_name: str
    enabled: bool
    track_ids: list[str]
    candidates: int = 0  # tracks from the rule set's sources
    matched: int = 0  # of those, tracks passing the rules
    pinned: list[str] = field(default_factory=list)
    duration_ms: int = 0
    dropped_positions: dict[Stage, list[int]] = field(default_factory=dict, repr=False)
    library_ids: list[str] = field(default_factory=list, repr=False)

    @cached_property
    def dropped(self) -> dict[str, Stage]:
        """Track id → the stage that dropped it (pinned tracks are not dropped)."""
        found: dict[str, Stage] = {}
        for stage, positions in self.dropped_positions.items():
            found.update(dict.fromkeys(map(self.library_ids.__getitem__, positions), stage))
        for track_id in self.pinned:
            found.pop(track_id, None)
        return found

    def removed_by(self, stage: Stage) -> int:
        """How many tracks `stage` dropped (pinned ones included: pins may add them back)."""
        return len(self.dropped_positions.get(stage, ()))

    @property
    def pins_added(self) -> int:
        """Tracks the pins added: those not left by the stages before them."""
        return len(self.track_ids) - (self.matched - sum(map(len, self.dropped_positions.values())))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "enabled": self.enabled,
            "track_ids": self.track_ids,
            "track_count": len(self.track_ids),
            "candidates": self.candidates,
            "matched": self.matched,
            "dropped": self.dropped,
            "pinned": self.pinned,
            "duration_ms": self.duration_ms,
        }


# --- ordering, dedupe, limits --------------------------------------------------------------------


def _shuffle_key(seed: int, track_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{track_id}".encode(), digest_size=8).digest()


def order_positions(
    positions: Iterable[int],
    keys: Sequence[SortKey],
    library: Library,
    type_of: Callable[[str], tuple[str, FieldType | None]],
) -> list[int]:
    """Stable multi-key sort; missing values last in either direction; `random` = shuffle."""
    ids = library.ids
    items = list(positions)
    for key in reversed(keys):
        descending = key.order == "desc"
        if key.field.strip().lower() == "random":
            seed = key.seed if key.seed is not None else secrets.randbits(32)
            items.sort(key=lambda p: _shuffle_key(seed, ids[p]), reverse=descending)
            continue
        name, ftype = type_of(key.field)
        items.sort(key=ranks(library, name, ftype, descending).__getitem__)
    return items


def _dedupe(
    positions: list[int], mode: str, library: Library, dropped: dict[Stage, list[int]]
) -> list[int]:
    if mode == "none":
        return positions
    shared = repeated(library, mode)
    walked = [p for p in positions if p in shared]  # in order: the first one met is kept
    duplicate: set[int] = set()
    if mode == "recording":
        durations: dict[tuple[str, str], list[int | None]] = {}
        tolerance = RECORDING_DURATION_TOLERANCE_MS
        for p in walked:
            artist, title, length = shared[p]
            others = durations.get((artist, title))
            if others is None:
                durations[(artist, title)] = [length]
            elif any(o is None or length is None or abs(o - length) <= tolerance for o in others):
                duplicate.add(p)
            else:
                others.append(length)
    else:
        seen: set[Any] = set()
        for p in walked:
            marker = shared[p]
            if marker in seen:
                duplicate.add(p)
            else:
                seen.add(marker)
    if not duplicate:
        dropped["deduped"] = []
        return positions
    dropped["deduped"] = [p for p in walked if p in duplicate]
    return [p for p in positions if p not in duplicate]


def _seconds(view: Mapping[str, Any]) -> float:
    return seconds_of(view.get("duration_ms"), view.get("duration"))


def run_pipeline(
    rule_set: PlaylistRuleSet,
    positions: list[int],
    candidates: int,
    library: Library,
    type_of: Callable[[str], tuple[str, FieldType | None]],
) -> RuleResult:
    """The playlist from `positions` (the candidates matching the rules; `candidates`: how
    many there were), through the fixed stages above."""
    ids = library.ids
    dropped: dict[Stage, list[int]] = {}
    excluded = frozenset(rule_set.exclude)
    kept = positions
    if excluded:
        kept = [p for p in positions if ids[p] not in excluded]
        dropped["excluded"] = [p for p in positions if ids[p] in excluded]
    kept = _dedupe(kept, rule_set.dedupe, library, dropped)
    limit = rule_set.limit
    lengths = seconds(library)
    if limit is not None:
        chooser = limit.selected_by or rule_set.sort
        ordered = order_positions(kept, chooser, library, type_of) if chooser else kept
        if limit.unit == "tracks":
            count = int(limit.value)
        elif limit.unit == "percent":
            count = max(1, math.floor(len(ordered) * limit.value / 100)) if ordered else 0
        else:
            budget, total, count = limit.value * 60, 0.0, 0
            for p in ordered:
                length = lengths[p]
                if total + length > budget:
                    break
                total += length
                count += 1
        dropped["over limit"] = ordered[count:]
        kept = ordered[:count]
    if rule_set.max_per_artist is not None:
        cap, per_artist, capped, over = rule_set.max_per_artist, dict[str, int](), [], []
        artists = list(map(first_artists(library).__getitem__, kept))
        for p, marker in zip(kept, artists, strict=True):
            if marker is not None:
                per_artist[marker] = per_artist.get(marker, 0) + 1
                if per_artist[marker] > cap:
                    over.append(p)
                    continue
            capped.append(p)
        dropped["artist cap"] = over
        kept = capped
    if rule_set.sort:
        kept = order_positions(kept, rule_set.sort, library, type_of)
    elif limit is not None:
        kept.sort()
    track_ids = list(map(ids.__getitem__, kept))
    duration = sum(map(lengths.__getitem__, kept))
    pinned: list[str] = []
    if rule_set.include:
        present = set(track_ids)
        for track_id in dict.fromkeys(rule_set.include):
            if track_id in excluded:
                continue
            pinned.append(track_id)
            if track_id not in present:
                present.add(track_id)
                track_ids.append(track_id)
                view = library.view(track_id)
                duration += _seconds(view) if view is not None else 0.0
    return RuleResult(
        rule_set.id,
        rule_set.name,
        rule_set.enabled,
        track_ids,
        candidates=candidates,
        matched=len(positions),
        pinned=pinned,
        duration_ms=int(duration * 1000),
        dropped_positions=dropped,
        library_ids=ids,
    )
