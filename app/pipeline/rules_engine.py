"""The rules engine: which tracks each rule set selects, in what order, and why.

Pipeline per rule set, fixed (docs: rules-dsl.md): candidates (`sources`) → `rules` →
`exclude` → dedupe → choose N (`limit.selected_by`, else `sort`, else library order) →
`max_per_artist` (walked in that choosing order) → output `sort` (else library order) →
`include` pins (kept where they are, else appended; a track both pinned and excluded stays out).

Rule sets referring to others (`in_rule`) are evaluated children first; a cycle is rejected with
the cycle named. Rules are compiled once per run (`rules_compile`); on a large library the
conditions are decided per distinct value and combined as bit masks, on a small one per view.

Seed names kept: `matches_rules`, `build_enrichment_view` (re-exported), and
`build_rule_based_playlists` for the `[{track_id, enrichment}]` preview payload.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import compress
from operator import itemgetter
from typing import Any, Literal

from app.core.fs import paused_gc
from app.core.models import utc_now
from app.core.rules import (
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    SortKey,
)
from app.pipeline.rules_compile import (
    Columns,
    ConditionNode,
    GroupNode,
    Node,
    as_bool,
    as_instant,
    as_number,
    as_text,
    compile_tree,
    invalid,
    registry_types,
)
from app.pipeline.rules_fields import FieldRegistry, FieldType
from app.pipeline.rules_view import (
    SOURCE_PROVIDER,
    TRACK_PROVIDER,
    Library,
    build_enrichment_view,
    load_library_views,
    track_view,
)

__all__ = [
    "RuleResult",
    "Stage",
    "build_enrichment_view",
    "build_rule_based_playlists",
    "compile_group",
    "evaluate_rule_sets",
    "explain",
    "load_library_views",
    "matches_rules",
    "track_view",
]

Stage = Literal["excluded", "deduped", "over limit", "artist cap"]
Strategy = Literal["auto", "columns", "views"]
COLUMNS_FROM = 1000
"""Libraries at least this large are evaluated set-wise (`strategy="auto"`)."""
RECORDING_DURATION_TOLERANCE_MS = 3000


def _rule_set(value: PlaylistRuleSet | Mapping[str, Any]) -> PlaylistRuleSet:
    return value if isinstance(value, PlaylistRuleSet) else PlaylistRuleSet.model_validate(value)


def compile_group(
    group: RuleGroup,
    *,
    now: datetime,
    registry: FieldRegistry | None = None,
    rule_members: Mapping[str, Iterable[str]] | None = None,
) -> Callable[[Mapping[str, Any]], bool]:
    """A closure deciding `group` for one track view (`rule_members`: rule id → track ids)."""
    members = {key: frozenset(ids) for key, ids in (rule_members or {}).items()}
    return compile_tree(group, now=now, registry=registry, rule_members=members).test


def matches_rules(
    view: Mapping[str, Any],
    group: RuleGroup | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """Seed-compatible: does one track's view satisfy `group`? (Compiles on every call.)"""
    rules = group if isinstance(group, RuleGroup) else RuleGroup.model_validate(group)
    return compile_group(rules, now=now or utc_now())(view)


# --- results -------------------------------------------------------------------------------------


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
        pinned = set(self.pinned)
        ids = self.library_ids
        return {
            ids[p]: stage
            for stage, positions in self.dropped_positions.items()
            for p in positions
            if ids[p] not in pinned
        }

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


# --- dependency order ----------------------------------------------------------------------------


def _references(group: RuleGroup) -> list[str]:
    refs: list[str] = []
    for node in group.conditions:
        if isinstance(node, RuleGroup):
            refs.extend(_references(node))
        elif node.operator in (RuleOperator.IN_RULE, RuleOperator.NOT_IN_RULE):
            refs.append(str(node.value))
    return refs


def dependency_order(rule_sets: Sequence[PlaylistRuleSet]) -> list[PlaylistRuleSet]:
    """Rule sets with every `in_rule` target before its users; a cycle raises, named."""
    by_id: dict[str, PlaylistRuleSet] = {}
    for rule_set in rule_sets:
        if rule_set.id in by_id:
            raise invalid(f"two rule sets have the id {rule_set.id!r}")
        by_id[rule_set.id] = rule_set
    deps = {rule_set.id: list(dict.fromkeys(_references(rule_set.rules))) for rule_set in rule_sets}
    for rule_id, refs in deps.items():
        for ref in refs:
            if ref not in by_id:
                raise invalid(f"rule set {rule_id!r} refers to unknown rule {ref!r}")
    order: list[PlaylistRuleSet] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(rule_id: str) -> None:
        if state.get(rule_id) == 2:
            return
        if state.get(rule_id) == 1:
            cycle = [*path[path.index(rule_id) :], rule_id]
            raise invalid(f"rules {' → '.join(cycle)} form a cycle")
        state[rule_id] = 1
        path.append(rule_id)
        for ref in deps[rule_id]:
            visit(ref)
        path.pop()
        state[rule_id] = 2
        order.append(by_id[rule_id])

    for rule_set in rule_sets:
        visit(rule_set.id)
    return order


# --- ordering, dedupe, limits --------------------------------------------------------------------


def _first(value: Any) -> Any:
    if value.__class__ is list or value.__class__ is tuple:
        for item in value:
            if item is not None and item != "":
                return item
        return None
    return None if value == "" else value


def _sort_converter(ftype: FieldType | None) -> Callable[[Any], Any]:
    def generic(value: Any) -> Any:
        item = _first(value)
        if item is None:
            return None
        if isinstance(item, bool):
            return (0, int(item))
        if isinstance(item, int | float):
            return None if item != item else (0, float(item))
        if isinstance(item, datetime):
            return (1, as_instant(item))
        return (2, as_text(item).casefold())

    if ftype == "number":
        return lambda value: as_number(_first(value)) if value is not None else None
    if ftype == "date":
        return lambda value: as_instant(_first(value)) if value is not None else None
    if ftype == "bool":
        return lambda value: as_bool(_first(value)) if value is not None else None
    return generic


def _shuffle_key(seed: int, track_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{track_id}".encode(), digest_size=8).digest()


_UNSET: Any = object()


def _per_track(library: Library, key: Any) -> list[Any]:
    """A per-position cache on the library (filled lazily, kept across runs)."""
    cache: list[Any] | None = library.columns.get(key)
    if cache is None:
        cache = library.columns[key] = [_UNSET] * len(library.views)
    return cache


def _keys(
    positions: Iterable[int], library: Library, key: Any, compute: Callable[[int], Any]
) -> list[Any]:
    cache = _per_track(library, key)
    out = []
    for p in positions:
        value = cache[p]
        if value is _UNSET:
            value = cache[p] = compute(p)
        out.append(value)
    return out


def _sort_value(
    views: list[dict[str, Any]], name: str, convert: Callable[[Any], Any]
) -> Callable[[int], Any]:
    return lambda p: convert(views[p].get(name))


def order_positions(
    positions: Iterable[int],
    keys: Sequence[SortKey],
    library: Library,
    type_of: Callable[[str], tuple[str, FieldType | None]],
) -> list[int]:
    """Stable multi-key sort; missing values last in either direction; `random` = shuffle."""
    views = library.views
    items = list(positions)
    for key in reversed(keys):
        descending = key.order == "desc"
        if key.field.strip().lower() == "random":
            seed = key.seed if key.seed is not None else secrets.randbits(32)
            items.sort(key=lambda p: _shuffle_key(seed, views[p]["id"]), reverse=descending)
            continue
        name, ftype = type_of(key.field)
        convert = _sort_converter(ftype)
        values = _keys(items, library, ("sort", name, ftype), _sort_value(views, name, convert))
        present = [(k, p) for k, p in zip(values, items, strict=True) if k is not None]
        present.sort(key=itemgetter(0), reverse=descending)
        items = [p for _, p in present] + [
            p for k, p in zip(values, items, strict=True) if k is None
        ]
    return items


_BRACKETED = re.compile(r"[\(\[][^\)\]]*\b(remaster(ed)?|mono|stereo)\b[^\)\]]*[\)\]]")
_DASHED = re.compile(r"\s+-\s+.*\b(remaster(ed)?|mono|stereo|single version)\b.*$")
_NON_WORD = re.compile(r"[\W_]+")
_VERSION_WORDS = ("remaster", "mono", "stereo", "single version")


def normalise_text(text: str) -> str:
    """Casefolded, accents stripped, remaster/mono suffixes dropped, punctuation collapsed."""
    folded = text.casefold()
    if any(word in folded for word in _VERSION_WORDS):
        folded = _DASHED.sub("", _BRACKETED.sub("", folded))
    if not folded.isascii():
        folded = "".join(
            ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch)
        )
    return _NON_WORD.sub(" ", folded).strip()


def _recording(view: Mapping[str, Any]) -> tuple[str, str, int | None]:
    artist = _first(view.get("artists")) or ""
    title = view.get("name") or ""
    ms = view.get("duration_ms")
    length = int(ms) if isinstance(ms, int | float) and ms else None
    return normalise_text(as_text(artist)), normalise_text(as_text(title)), length


def _isrc(view: Mapping[str, Any]) -> str | None:
    isrc = view.get("isrc")
    return as_text(isrc).strip().casefold() if isrc else None


def _dedupe(
    positions: list[int], mode: str, library: Library, dropped: dict[Stage, list[int]]
) -> list[int]:
    if mode == "none":
        return positions
    views = library.views
    kept: list[int] = []
    duplicates = dropped.setdefault("deduped", [])
    if mode == "recording":
        recordings = _keys(positions, library, "recording", lambda p: _recording(views[p]))
        durations: dict[tuple[str, str], list[int | None]] = {}
        tolerance = RECORDING_DURATION_TOLERANCE_MS
        for p, (artist, title, length) in zip(positions, recordings, strict=True):
            others = durations.get((artist, title))
            if others is None:
                durations[(artist, title)] = [length]
            elif any(o is None or length is None or abs(o - length) <= tolerance for o in others):
                duplicates.append(p)
                continue
            else:
                others.append(length)
            kept.append(p)
        return kept
    if mode == "id":
        markers = [library.ids[p] for p in positions]
    else:
        markers = _keys(positions, library, "isrc", lambda p: _isrc(views[p]))
    seen: set[Any] = set()
    for p, marker in zip(positions, markers, strict=True):
        if marker is not None:
            if marker in seen:
                duplicates.append(p)
                continue
            seen.add(marker)
        kept.append(p)
    return kept


def _artist(view: Mapping[str, Any]) -> str | None:
    artist = _first(view.get("artists"))
    return None if artist is None else as_text(artist).casefold()


def _seconds(view: Mapping[str, Any]) -> float:
    ms = view.get("duration_ms")
    if isinstance(ms, int | float) and not isinstance(ms, bool):
        return float(ms) / 1000
    seconds = as_number(view.get("duration"))
    return seconds or 0.0


def _run_pipeline(
    rule_set: PlaylistRuleSet,
    positions: list[int],
    candidates: int,
    library: Library,
    type_of: Callable[[str], tuple[str, FieldType | None]],
) -> RuleResult:
    views, ids = library.views, library.ids
    dropped: dict[Stage, list[int]] = {}
    excluded = frozenset(rule_set.exclude)
    kept = positions
    if excluded:
        kept = [p for p in positions if ids[p] not in excluded]
        dropped["excluded"] = [p for p in positions if ids[p] in excluded]
    kept = _dedupe(kept, rule_set.dedupe, library, dropped)
    limit = rule_set.limit
    seconds = _per_track(library, "seconds")
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
                length = seconds[p]
                if length is _UNSET:
                    length = seconds[p] = _seconds(views[p])
                if total + length > budget:
                    break
                total += length
                count += 1
        dropped["over limit"] = ordered[count:]
        kept = ordered[:count]
    if rule_set.max_per_artist is not None:
        cap, per_artist, capped, over = rule_set.max_per_artist, dict[str, int](), [], []
        artists = _keys(kept, library, "artist", lambda p: _artist(views[p]))
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
    track_ids = [ids[p] for p in kept]
    duration = sum(_keys(kept, library, "seconds", lambda p: _seconds(views[p])))
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


# --- evaluation ----------------------------------------------------------------------------------


def _sources_node(rule_set: PlaylistRuleSet, library: Library, now: datetime) -> Node | None:
    if rule_set.sources is None:
        return None
    condition = RuleCondition(
        field="sources",
        operator=RuleOperator.HAS_ANY,
        value=list(rule_set.sources),
        case_sensitive=True,
    )
    return compile_tree(RuleGroup(conditions=[condition]), now=now, library=library)


def evaluate_rule_sets(
    rule_sets: Iterable[PlaylistRuleSet | Mapping[str, Any]],
    library: Library,
    *,
    now: datetime,
    registry: FieldRegistry | None = None,
    strategy: Strategy = "auto",
) -> dict[str, RuleResult]:
    """Every rule set's result, keyed by rule id (disabled sets too: others may refer to them).

    `now` is the single moment `in_last` measures from. `strategy` picks set-wise (`columns`)
    or per-view evaluation; both give the same result (`auto`: columns on larger libraries).
    """
    with paused_gc():  # millions of short-lived containers, no cycles
        return _evaluate(
            dependency_order([_rule_set(rule_set) for rule_set in rule_sets]),
            library,
            now=now,
            registry=registry,
            strategy=strategy,
        )


def _evaluate(
    ordered: list[PlaylistRuleSet],
    library: Library,
    *,
    now: datetime,
    registry: FieldRegistry | None,
    strategy: Strategy,
) -> dict[str, RuleResult]:
    type_of = registry_types(registry, library)
    use_columns = strategy == "columns" or (strategy == "auto" and len(library) >= COLUMNS_FROM)
    columns = Columns.of(library) if use_columns else None
    members: dict[str, frozenset[str]] = {}
    results: dict[str, RuleResult] = {}
    views = library.views
    for rule_set in ordered:
        node = compile_tree(
            rule_set.rules, now=now, registry=registry, library=library, rule_members=members
        )
        sources = _sources_node(rule_set, library, now)
        if columns is not None:
            n = len(views)
            candidates = sources.mask(columns) if sources is not None else columns.universe
            selected = candidates & node.mask(columns)
            positions = list(compress(range(n), selected.to_bytes(n, "little")))
            candidate_count = candidates.to_bytes(n, "little").count(1)
        else:
            source_test = sources.test if sources is not None else None
            test = node.test
            eligible = [
                p for p, view in enumerate(views) if source_test is None or source_test(view)
            ]
            candidate_count = len(eligible)
            positions = [p for p in eligible if test(views[p])]
        result = _run_pipeline(rule_set, positions, candidate_count, library, type_of)
        results[rule_set.id] = result
        members[rule_set.id] = frozenset(result.track_ids)
    return {rule_set.id: results[rule_set.id] for rule_set in ordered}


# --- explain -------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _provider(name: str, position: int | None, library: Library) -> str | None:
    info = FieldRegistry.builtin().resolve(name)
    if info is not None and info.origin == "track":
        return TRACK_PROVIDER
    if info is not None and info.origin == "source":
        return SOURCE_PROVIDER
    if position is None:
        return None
    return library.provenance[position].get(name)


def _explain_node(
    node: Node, view: Mapping[str, Any], position: int | None, library: Library
) -> dict[str, Any]:
    if isinstance(node, GroupNode):
        return {
            "operator": node.group.operator,
            "negate": node.group.negate,
            "passed": node.test(view),
            "conditions": [
                _explain_node(child, view, position, library) for child in node.children
            ],
        }
    assert isinstance(node, ConditionNode)
    condition = node.condition
    if node.mode == "rule":
        actual: Any = view.get("id") in node.members
        provider: str | None = "rules"
    else:
        actual = _jsonable(view.get(node.field))
        provider = _provider(node.field, position, library) if actual is not None else None
    return {
        "field": condition.field,
        "operator": condition.operator.value,
        "value": _jsonable(condition.value),
        "case_sensitive": condition.case_sensitive,
        "actual": actual,
        "provider": provider,
        "passed": node.test(view),
    }


def explain(
    track_id: str,
    rule_set: PlaylistRuleSet | Mapping[str, Any],
    library: Library,
    *,
    now: datetime,
    rule_sets: Iterable[PlaylistRuleSet | Mapping[str, Any]] = (),
    registry: FieldRegistry | None = None,
    results: Mapping[str, RuleResult] | None = None,
) -> dict[str, Any]:
    """Why `track_id` is (not) in `rule_set`'s playlist: the condition tree with each actual
    value, its provider and pass/fail, and the outcome — ``included``, ``pinned``, ``failed
    rules``, ``not in sources``, ``not in library``, or the stage that dropped it (``excluded``,
    ``deduped``, ``over limit``, ``artist cap``). `rule_sets` are the others `in_rule` may
    name; `results` a finished run to reuse."""
    target = _rule_set(rule_set)
    if results is None or target.id not in results:
        others = [_rule_set(other) for other in rule_sets]
        everything = [other for other in others if other.id != target.id] + [target]
        results = evaluate_rule_sets(everything, library, now=now, registry=registry)
    result = results[target.id]
    members = {key: frozenset(value.track_ids) for key, value in results.items()}
    node = compile_tree(
        target.rules, now=now, registry=registry, library=library, rule_members=members
    )
    position = library.index.get(track_id)
    view: Mapping[str, Any] = library.views[position] if position is not None else {"id": track_id}
    sources = _sources_node(target, library, now)
    candidate = position is not None and (sources is None or sources.test(view))
    passed = node.test(view)
    if track_id in result.pinned:
        outcome = "pinned"
    elif track_id in result.dropped:
        outcome = result.dropped[track_id]
    elif track_id in result.track_ids:
        outcome = "included"
    elif position is None:
        outcome = "not in library"
    elif not candidate:
        outcome = "not in sources"
    else:
        outcome = "failed rules"
    return {
        "track_id": track_id,
        "rule_id": target.id,
        "rule_name": target.name,
        "outcome": outcome,
        "included": track_id in result.track_ids,
        "candidate": candidate,
        "matched_rules": passed,
        "position": result.track_ids.index(track_id) if track_id in result.track_ids else None,
        "rules": _explain_node(node, view, position, library),
    }


# --- seed payload mode ---------------------------------------------------------------------------


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
    rule_sets = [_rule_set(rule) for rule in rules]
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
