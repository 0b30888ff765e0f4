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

import numpy as np
import numpy.typing as npt

from app.core.rules import PlaylistRuleSet, SortKey
from app.pipeline.rules.fields.types import FieldType
from app.pipeline.rules.library.order import (
    artist_codes,
    ranks,
    repeated,
    repeated_flags,
    seconds,
    seconds_of,
)
from app.pipeline.rules.library.views import Library

__all__ = [
    "Positions",
    "RuleResult",
    "Stage",
    "order_positions",
    "run_pipeline",
]

Stage = Literal["excluded", "deduped", "over limit", "artist cap"]
RECORDING_DURATION_TOLERANCE_MS = 3000

Positions = npt.NDArray[np.intp]
"""Library positions, in the order a stage leaves them: the stages keep them in arrays, so
that picking, sorting and capping are done in C and only the ids of the result are made."""
_NONE: Positions = np.empty(0, dtype=np.intp)


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
    dropped_positions: dict[Stage, Positions] = field(default_factory=dict, repr=False)
    library_ids: list[str] = field(default_factory=list, repr=False)
    positions: Positions = field(default_factory=lambda: _NONE, repr=False)
    """The library positions of `track_ids` (pins that are not in the library aside), in no
    particular order: what counting over the library reads instead of the ids."""

    @cached_property
    def dropped(self) -> dict[str, Stage]:
        """Track id → the stage that dropped it (pinned tracks are not dropped)."""
        found: dict[str, Stage] = {}
        for stage, positions in self.dropped_positions.items():
            ids = map(self.library_ids.__getitem__, positions.tolist())
            found.update(dict.fromkeys(ids, stage))
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
    ordered = _ordered(np.fromiter(positions, dtype=np.intp), keys, library, type_of)
    found: list[int] = ordered.tolist()
    return found


def _ordered(
    positions: Positions,
    keys: Sequence[SortKey],
    library: Library,
    type_of: Callable[[str], tuple[str, FieldType | None]],
) -> Positions:
    """`order_positions` over an array: a stable sort by each key's library-wide ranks, the
    last key first."""
    for key in reversed(keys):
        descending = key.order == "desc"
        if key.field.strip().lower() == "random":
            seed = key.seed if key.seed is not None else secrets.randbits(32)
            ids = library.ids
            items: list[int] = positions.tolist()
            items.sort(key=lambda p: _shuffle_key(seed, ids[p]), reverse=descending)
            positions = np.array(items, dtype=np.intp)
            continue
        name, ftype = type_of(key.field)
        rank = np.frombuffer(ranks(library, name, ftype, descending), dtype=np.int32)
        positions = positions[np.argsort(rank[positions], kind="stable")]
    return positions


def _dedupe(
    positions: Positions, mode: str, library: Library, dropped: dict[Stage, Positions]
) -> Positions:
    if mode == "none":
        return positions
    shared = repeated(library, mode)
    # In order: the first one met is kept. Only tracks whose marker another track of the
    # library shares can be duplicates: usually few, walked one by one.
    walked: list[int] = positions[repeated_flags(library, mode)[positions]].tolist()
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
        dropped["deduped"] = _NONE
        return positions
    dropped["deduped"] = np.array([p for p in walked if p in duplicate], dtype=np.intp)
    gone = np.isin(positions, dropped["deduped"])
    return positions[~gone]


def _capped(kept: Positions, cap: int, library: Library) -> npt.NDArray[np.bool_]:
    """Which of `kept` (in choosing order) come after `cap` tracks of their first artist."""
    artists = artist_codes(library)[kept]
    by_artist = np.argsort(artists, kind="stable")  # each artist's tracks, in choosing order
    grouped = artists[by_artist]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if len(kept) else _NONE
    sizes = np.diff(np.r_[starts, len(kept)])
    seen_before = np.empty(len(kept), dtype=np.intp)  # earlier tracks of the same artist
    seen_before[by_artist] = np.arange(len(kept)) - np.repeat(starts, sizes)
    over: npt.NDArray[np.bool_] = (artists >= 0) & (seen_before >= cap)
    return over


def _seconds(view: Mapping[str, Any]) -> float:
    return seconds_of(view.get("duration_ms"), view.get("duration"))


def run_pipeline(
    rule_set: PlaylistRuleSet,
    positions: Sequence[int] | Positions,
    candidates: int,
    library: Library,
    type_of: Callable[[str], tuple[str, FieldType | None]],
) -> RuleResult:
    """The playlist from `positions` (the candidates matching the rules, in library order;
    `candidates`: how many there were), through the fixed stages above."""
    ids = library.ids
    matched = np.asarray(positions, dtype=np.intp)
    dropped: dict[Stage, Positions] = {}
    excluded = frozenset(rule_set.exclude)
    kept = matched
    if excluded:
        index = library.index
        banned = np.fromiter(
            (index[track_id] for track_id in excluded if track_id in index), dtype=np.intp
        )
        out = np.isin(matched, banned)
        dropped["excluded"] = matched[out]
        kept = matched[~out]
    kept = _dedupe(kept, rule_set.dedupe, library, dropped)
    limit = rule_set.limit
    lengths = np.frombuffer(seconds(library), dtype=np.float64)
    if limit is not None:
        chooser = limit.selected_by or rule_set.sort
        ordered = _ordered(kept, chooser, library, type_of) if chooser else kept
        if limit.unit == "tracks":
            count = int(limit.value)
        elif limit.unit == "percent":
            count = max(1, math.floor(len(ordered) * limit.value / 100)) if len(ordered) else 0
        else:
            # Tracks in choosing order while the running total stays within the budget: the
            # first one that would pass it ends the playlist (a sum in order, as one adds).
            over = np.flatnonzero(np.cumsum(lengths[ordered]) > limit.value * 60)
            count = int(over[0]) if len(over) else len(ordered)
        dropped["over limit"] = ordered[count:]
        kept = ordered[:count]
    if rule_set.max_per_artist is not None:
        over_cap = _capped(kept, rule_set.max_per_artist, library)
        dropped["artist cap"] = kept[over_cap]
        kept = kept[~over_cap]
    if rule_set.sort:
        kept = _ordered(kept, rule_set.sort, library, type_of)
    elif limit is not None:
        kept = np.sort(kept)
    track_ids: list[str] = library.id_array()[kept].tolist()
    duration = sum(lengths[kept].tolist())
    pinned: list[str] = []
    placed = kept
    if rule_set.include:
        present = set(track_ids)
        added: list[int] = []
        for track_id in dict.fromkeys(rule_set.include):
            if track_id in excluded:
                continue
            pinned.append(track_id)
            if track_id not in present:
                present.add(track_id)
                track_ids.append(track_id)
                view = library.view(track_id)
                duration += _seconds(view) if view is not None else 0.0
                position = library.index.get(track_id)
                if position is not None:
                    added.append(position)
        if added:
            placed = np.concatenate([kept, np.array(added, dtype=np.intp)])
    return RuleResult(
        rule_set.id,
        rule_set.name,
        rule_set.enabled,
        track_ids,
        candidates=candidates,
        matched=len(matched),
        pinned=pinned,
        duration_ms=int(duration * 1000),
        dropped_positions=dropped,
        library_ids=ids,
        positions=placed,
    )
