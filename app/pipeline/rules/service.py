"""Rule sets as users manage them: stored JSON with its text form, validation, previews, explain.

Every entry point (API, CLI, files) goes through here:

    rule_set = upsert_rule_set(stores, {"id": "chill", "name": "Chill", "text": "energy < 0.4"})
    preview = preview_library(stores, services.library)   # every enabled rule set, the library
    why = explain_track(stores, services.library, track_id, "chill")

A rule set arrives as JSON, or as JSON whose `text` holds its whole definition but the id and
name in the text syntax (settings the text leaves out are kept: `rule_sets.merged_payload`).
Either way it is validated against the field
registry of the stored library before anything is written; every problem is reported at once,
with its position in the text or its JSON path.

Previews evaluate each rule set on its own: one that cannot be evaluated (or read, or that
refers to one that cannot) is listed under ``broken`` with its problems, and the others are
previewed (what a preview answers: the models of `previews`). The warm-up (`warm_library`:
load the library, run the enabled rule sets once to build the engine's field indexes) runs in
the background at server start and after a fetch.

Stored rule sets (check, upsert, get, delete, validation reports) are `rule_sets`, rule files
`rule_files`, the loaded library `library.cache`; here are the structure-only checks and the
formatter, previews, explain, the warm-up and the Navidrome glue.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, ValidationError

from app.core.errors import AppError, NotFoundError, RulesInvalidError, UnprocessableError
from app.core.fs import paused_gc
from app.core.models import utc_now
from app.core.rules import PlaylistRuleSet, RuleGroup, RuleProblem
from app.data import Stores
from app.pipeline.rules.engine.breakdown import NodeCount, node_counts
from app.pipeline.rules.engine.compile import compile_tree
from app.pipeline.rules.engine.evaluate import (
    Evaluation,
    RuleSetFailure,
    evaluate_each,
    matches_rules,
    references,
    sources_node,
)
from app.pipeline.rules.engine.explain import Explanation, explain
from app.pipeline.rules.engine.stages import RuleResult
from app.pipeline.rules.fields.declared import add_declared_fields
from app.pipeline.rules.fields.discovery import registry_from_payload
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.columns import Columns
from app.pipeline.rules.library.views import Library, library_from_payload
from app.pipeline.rules.navidrome.exporter import NspExport, export_nsp
from app.pipeline.rules.navidrome.importer import import_nsp
from app.pipeline.rules.previews import (
    BrokenRuleSet,
    CountedRuleSet,
    LibraryPreview,
    LibraryPreviewPlaylist,
    PayloadPreview,
    PreviewNowhere,
    PreviewOverlap,
    PreviewPartition,
    PreviewPlaylist,
    RuleSetCount,
    RuleSetCounts,
    StageCounts,
)
from app.pipeline.rules.rule_sets import (
    RuleSetDocument,
    check_rule_set,
    document,
    field_registry,
    get_rule_set,
    merged_payload,
    read_stored_rule_sets,
    store_rule_sets,
    stored_rule_sets,
)
from app.pipeline.rules.text.printer import TEXT_FIELDS, ParsedRules, format_rules, rule_set_json
from app.pipeline.rules.validation.coverage import (
    RuleWarning,
    absent_in_library,
    field_warnings,
)
from app.pipeline.rules.validation.validator import load_rule_sets, rules_invalid_error

log = logging.getLogger(__name__)

__all__ = [
    "NspImportReport",
    "WarmUp",
    "broken_rule_set",
    "count_rule_set",
    "count_rule_sets",
    "evaluate_group",
    "explain_track",
    "export_nsp_rules",
    "format_document",
    "import_nsp_rules",
    "playlist_of",
    "preview_library",
    "preview_payload",
    "structured",
    "structured_group",
    "warm_library",
    "warm_library_in_background",
]


def structured(documents: Sequence[Mapping[str, Any]]) -> list[PlaylistRuleSet]:
    """Typed rule sets from JSON checked for structure only (fields are not looked up: the
    seed's payload mode and evaluate test arbitrary keys); raises `RulesInvalidError`."""
    loaded, problems = load_rule_sets(list(documents))
    if problems:
        raise rules_invalid_error(problems)
    return loaded


def _structured_one(document: Mapping[str, Any], strip: str) -> PlaylistRuleSet:
    """One rule set checked for structure; `strip` leaves the problem paths the caller's."""
    loaded, problems = load_rule_sets([document])
    if problems:
        raise rules_invalid_error(
            [
                problem.model_copy(
                    update={"path": (problem.path or "").removeprefix(strip).lstrip(".")}
                )
                for problem in problems
            ]
        )
    return loaded[0]


def structured_group(group: Mapping[str, Any]) -> RuleGroup:
    """A rule group checked for structure; problems have paths such as ``conditions[0].value``."""
    return _structured_one({"id": "group", "name": "group", "rules": group}, "[0].rules").rules


def format_document(body: Mapping[str, Any]) -> str:
    """`/data/rules/format`: the text of a rule set (with id and name), of the rules and clauses
    `/data/rules/parse` returns, or of a bare rule group (with conditions)."""
    if "id" in body or "name" in body:
        try:
            document = rule_set_json(body)
        except ValidationError as exc:
            raise _settings_invalid(exc) from None
        target: PlaylistRuleSet | ParsedRules | RuleGroup = _structured_one(document, "[0]")
    elif set(body) & set(ParsedRules.model_fields):
        six = {key: value for key, value in body.items() if key in TEXT_FIELDS}
        rule_set = _structured_one({"id": "format", "name": "format", **six}, "[0]")
        try:
            settings = ParsedRules.model_validate(
                {key: value for key, value in body.items() if key not in TEXT_FIELDS}
            )
        except ValidationError as exc:
            raise _settings_invalid(exc) from None
        target = settings.model_copy(
            update={field: getattr(rule_set, field) for field in TEXT_FIELDS}
        )
    elif "conditions" in body:
        target = structured_group(body)
    else:
        raise UnprocessableError(
            "give a rule set (with id and name), rules and clauses (as /data/rules/parse "
            "returns) or a rule group (with conditions)",
            code="rules_invalid",
        )
    try:
        return format_rules(target)
    except ValueError as exc:  # what has no text form (e.g. an empty `or` group)
        raise UnprocessableError(str(exc), code="rules_invalid") from None


def _settings_invalid(error: ValidationError) -> UnprocessableError:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return UnprocessableError(f"{where}: {first['msg']}", code="rules_invalid")


def evaluate_group(group: Mapping[str, Any], enrichment: Mapping[str, Any]) -> bool:
    """The seed's `/data/rules/evaluate`: one rule group against one flat enrichment map."""
    return matches_rules(dict(enrichment), structured_group(group), now=utc_now())


# --- previews ------------------------------------------------------------------------------


def broken_rule_set(failure: RuleSetFailure) -> BrokenRuleSet:
    """A rule set a preview could not make, as previews list it under ``broken``."""
    return BrokenRuleSet(
        rule_id=failure.rule_id,
        rule_name=failure.rule_name,
        problems=list(failure.problems),
        broken_references=list(failure.broken_references),
    )


def preview_payload(
    rules: Sequence[Mapping[str, Any]], tracks: Sequence[Mapping[str, Any]]
) -> PayloadPreview:
    """Seed payload mode: rule sets over the given `[{track_id, enrichment}]`: each enabled
    rule set's playlist (`rule_id, rule_name, track_ids, track_count`) and the broken ones."""
    rule_sets = structured(inline_documents(None, rules))
    with paused_gc():  # tens of thousands of views and their indexes, no cycles
        library = library_from_payload(tracks)
        evaluation = evaluate_each(
            rule_sets, library, now=utc_now(), registry=registry_from_payload(library.views)
        )
    enabled = [rule_set for rule_set in rule_sets if rule_set.enabled]
    return PayloadPreview(
        playlists=[
            PreviewPlaylist(
                rule_id=rule_set.id,
                rule_name=rule_set.name,
                track_ids=evaluation.results[rule_set.id].track_ids,
                track_count=len(evaluation.results[rule_set.id].track_ids),
            )
            for rule_set in enabled
            if rule_set.id in evaluation.results
        ],
        broken=[
            broken_rule_set(failure)
            for failure in evaluation.failures_behind(rule_set.id for rule_set in enabled)
        ],
    )


def inline_documents(
    stores: Stores | None, rules: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rule sets sent with a request, each JSON or JSON whose `text` holds its rules (merged as
    a save would, `merged_payload`; with no `stores`, payload mode, only what was sent); a
    text that does not parse raises `RulesInvalidError` with every such problem, at its line
    and column, its path naming the rule set (``[1].text``)."""
    documents: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for index, rule in enumerate(rules):
        try:
            documents.append(merged_payload(stores, rule).data)
        except RulesInvalidError as exc:
            problems += [
                {**problem, "path": f"[{index}].text"} for problem in exc.extra["problems"]
            ]
        except UnprocessableError as exc:  # `text` is not a string
            problems.append({"message": exc.detail, "path": f"[{index}].text", "length": 1})
    if problems:
        raise RulesInvalidError(problems)
    return documents


@dataclass(frozen=True)
class _Selection:
    rule_sets: list[PlaylistRuleSet]  # what is evaluated (others may refer to them)
    wanted: list[str]  # the ids to show, in stored (or given) order
    unreadable: dict[str, RuleSetFailure] = field(default_factory=dict)


def _selected(
    stores: Stores,
    rules: Sequence[Mapping[str, Any]] | None,
    ids: Sequence[str] | None,
    *,
    disabled: bool = False,
) -> _Selection:
    """What to evaluate and what to show: `ids`, else every enabled rule set (and the
    disabled ones with `disabled`); an unknown id raises `NotFoundError` naming it."""

    def shown(rule_id: str, enabled: bool) -> bool:
        return rule_id in ids if ids else enabled or disabled

    if rules is not None:
        rule_sets = structured(inline_documents(stores, rules))
        return _Selection(rule_sets, [rs.id for rs in rule_sets if shown(rs.id, rs.enabled)])
    stored, unreadable = read_stored_rule_sets(stores)
    if ids:
        known = {rule_set.id for rule_set in stored} | {item.rule_id for item in unreadable}
        missing = [rule_id for rule_id in ids if rule_id not in known]
        if missing:
            raise NotFoundError(
                f"no rule set with id {', '.join(map(repr, missing))}", code="rule_not_found"
            )
    return _Selection(
        stored,
        [rs.id for rs in stored if shown(rs.id, rs.enabled)]
        + [item.rule_id for item in unreadable if shown(item.rule_id, item.enabled)],
        {
            item.rule_id: RuleSetFailure(item.rule_id, item.name, tuple(item.problems))
            for item in unreadable
        },
    )


def _views(library: LibraryCache | Library) -> Library:
    return library if isinstance(library, Library) else library.views()


def preview_library(
    stores: Stores,
    library: LibraryCache | Library,
    *,
    rules: Sequence[Mapping[str, Any]] | None = None,
    ids: Sequence[str] | None = None,
    now: datetime | None = None,
    nowhere_limit: int = 200,
    detail: bool = False,
) -> LibraryPreview:
    """Library mode: enabled rule sets (or `ids`, or the given `rules`) over the library, plus
    the partition view; `library` is the loaded library (`Services.library`) or ready views.
    Each playlist says how many tracks each stage removed; `detail` adds, per track, the stage
    that dropped it and the rule sets it lands in (large: `explain` answers for one track).

    The partition says, for each track, the rule sets it lands in; the overlaps between rule
    sets (pairs sharing tracks); and the tracks that land nowhere. A rule set that cannot be
    previewed is listed under ``broken`` (see `broken_rule_set`), the others are previewed.
    """
    selection = _selected(stores, rules, ids)
    views = _views(library)
    evaluation = evaluate_each(
        selection.rule_sets, views, now=now or utc_now(), broken=selection.unreadable
    )
    shown = [evaluation.results[i] for i in selection.wanted if i in evaluation.results]
    rule_ids = [result.rule_id for result in shown]

    def members(code: int) -> list[str]:
        return [rule_id for bit, rule_id in enumerate(rule_ids) if code >> bit & 1]

    landed, combos, outside = _combinations(shown, views)
    overlaps: Counter[tuple[str, str]] = Counter()
    for code, count in combos.items():
        if code & (code - 1):  # two rule sets or more
            for pair in combinations(sorted(members(code)), 2):
                overlaps[pair] += count
    placed_in_library = int(np.count_nonzero(landed))
    nowhere = views.id_array()[np.flatnonzero(~landed)[:nowhere_limit]].tolist()
    lands = _lands(shown, members) if detail else None
    # Built from the engine's own results: constructed, not validated again (hundreds of
    # thousands of track ids and dropped-track entries at 100,000 tracks).
    absent = absent_in_library(views)
    by_id = {rule_set.id: rule_set for rule_set in selection.rule_sets}
    return LibraryPreview.model_construct(
        playlists=[
            _library_playlist(result, field_warnings(by_id[result.rule_id], absent), detail)
            for result in shown
        ],
        partition=PreviewPartition.model_construct(
            tracks=len(views),
            placed=placed_in_library + len(outside),
            track_rules=lands,
            overlaps=[
                PreviewOverlap(rule_ids=list(pair), tracks=count)
                for pair, count in sorted(overlaps.items(), key=lambda item: (-item[1], item[0]))
            ],
            nowhere=PreviewNowhere(count=len(views) - placed_in_library, track_ids=nowhere),
        ),
        broken=[broken_rule_set(f) for f in evaluation.failures_behind(selection.wanted)],
    )


def _combinations(
    shown: Sequence[RuleResult], library: Library
) -> tuple[npt.NDArray[np.bool_], Counter[int], dict[str, int]]:
    """Where the tracks land, as combinations of the shown rule sets (an int with a bit per
    rule set, in their order): which library tracks land somewhere; how many tracks land in
    each combination; the combination of each pinned track that is not in the library.

    Each library track's combination is built in a column of 64-bit words (a word per 64 rule
    sets), a rule set at a time over its positions, and the combinations are counted by
    `numpy.unique`: no per-track Python work at 100,000 tracks."""
    words = np.zeros((max(1, (len(shown) + 63) // 64), len(library)), dtype=np.uint64)
    outside: dict[str, int] = {}
    for bit, result in enumerate(shown):
        word, shift = divmod(bit, 64)
        words[word, result.positions] |= np.uint64(1 << shift)
        for track_id in result.pinned:
            if track_id not in library.index:
                outside[track_id] = outside.get(track_id, 0) | 1 << bit
    landed: npt.NDArray[np.bool_] = np.any(words, axis=0)
    combos: Counter[int] = Counter(outside.values())
    if len(words) == 1:
        codes, counts = np.unique(words[0, landed], return_counts=True)
        combos.update(dict(zip(codes.tolist(), counts.tolist(), strict=True)))
    else:
        rows, counts = np.unique(words[:, landed].T, axis=0, return_counts=True)
        for row, count in zip(rows.tolist(), counts.tolist(), strict=True):
            combos[sum(value << (64 * i) for i, value in enumerate(row))] += count
    return landed, combos, outside


def _lands(
    shown: Sequence[RuleResult], members: Callable[[int], list[str]]
) -> dict[str, list[str]]:
    """Track id → the shown rule sets it lands in (`detail`), in the order tracks are met."""
    codes: dict[str, int] = {}
    for bit, result in enumerate(shown):
        flag = 1 << bit
        for track_id in result.track_ids:
            codes[track_id] = codes.get(track_id, 0) | flag
    return {track_id: members(code) for track_id, code in codes.items()}


def count_rule_sets(
    stores: Stores,
    library: LibraryCache | Library,
    *,
    ids: Sequence[str] | None = None,
    now: datetime | None = None,
) -> RuleSetCounts:
    """The rules list's figures: each stored rule set's (`ids`, else every one, disabled ones
    too) count, minutes and what each stage removed, as its library preview says them, and
    the broken ones; no track ids, no partition (a preview's answer is mostly ids)."""
    selection = _selected(stores, None, ids, disabled=True)
    views = _views(library)
    evaluation = evaluate_each(
        selection.rule_sets, views, now=now or utc_now(), broken=selection.unreadable
    )
    absent = absent_in_library(views)
    by_id = {rule_set.id: rule_set for rule_set in selection.rule_sets}
    return RuleSetCounts(
        counts=[
            CountedRuleSet(
                **_figures(result),
                enabled=result.enabled,
                warnings=field_warnings(by_id[result.rule_id], absent),
            )
            for result in (evaluation.results.get(rule_id) for rule_id in selection.wanted)
            if result is not None
        ],
        broken=[broken_rule_set(f) for f in evaluation.failures_behind(selection.wanted)],
    )


def stage_counts(result: RuleResult) -> StageCounts:
    """How many tracks each stage removed (pins: how many they added)."""
    return StageCounts(
        rules=result.candidates - result.matched,
        excluded=result.removed_by("excluded"),
        deduped=result.removed_by("deduped"),
        over_limit=result.removed_by("over limit"),
        artist_cap=result.removed_by("artist cap"),
        pins=result.pins_added,
    )


def _figures(result: RuleResult) -> dict[str, Any]:
    """What a preview's playlist and the editor's count both say of a rule set's result."""
    return {
        "rule_id": result.rule_id,
        "rule_name": result.rule_name,
        "track_count": len(result.track_ids),
        "candidates": result.candidates,
        "matched": result.matched,
        "removed": stage_counts(result),
        "duration_ms": result.duration_ms,
        "minutes": round(result.duration_ms / 60000, 1),
    }


def _library_playlist(
    result: RuleResult, warnings: list[RuleWarning], detail: bool
) -> LibraryPreviewPlaylist:
    return LibraryPreviewPlaylist.model_construct(
        **_figures(result),
        enabled=result.enabled,
        track_ids=result.track_ids,
        dropped=result.dropped if detail else None,
        pinned=result.pinned,
        warnings=warnings,
    )


def _registry(stores: Stores, views: Library) -> FieldRegistry:
    """The field registry of the loaded library: what its build discovered, else found once
    per library (kept on `views.columns`: a new library, after a fetch, finds it again)."""
    key = ("field registry",)
    registry: FieldRegistry | None = views.columns.get(key)
    if registry is None:
        if views.discovered is not None:
            registry = add_declared_fields(FieldRegistry(dict(views.discovered.fields)))
        else:
            registry = field_registry(stores)
        views.columns[key] = registry
    return registry


def count_rule_set(
    stores: Stores,
    library: LibraryCache | Library,
    rule: str | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> RuleSetCount:
    """One rule set's count, minutes and what each stage removed: what the rules editor asks
    while typing. `rule` is a stored id or a rule set (JSON or text), saved or not; one with a
    problem raises `RulesInvalidError` naming it, as validate does.

    Only the rule set and the stored ones it refers to (`in_rule`) are evaluated, over the
    engine's cached field indexes: milliseconds on a warm library."""
    playlist = playlist_of(stores, library, rule, now=now)
    return RuleSetCount(
        **_figures(playlist.result),
        warnings=playlist.warnings,
        nodes=_node_counts(playlist.rule_set, _views(library), playlist.evaluation, playlist.now),
    )


@dataclass(frozen=True)
class OnePlaylist:
    """One rule set's result over the library and the fields it reads that no track has."""

    rule_set: PlaylistRuleSet
    result: RuleResult
    warnings: list[RuleWarning]
    evaluation: Evaluation
    now: datetime


def playlist_of(
    stores: Stores,
    library: LibraryCache | Library,
    rule: str | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> OnePlaylist:
    """One rule set's playlist (`rule`: a stored id or a rule set, JSON or text, saved or
    not), evaluated with only the stored rule sets it refers to; a problem raises
    `RulesInvalidError` naming it."""
    stored = stored_rule_sets(stores)
    views = _views(library)
    if isinstance(rule, str):
        target = get_rule_set(stores, rule)
        warnings = field_warnings(target, absent_in_library(views))
    else:
        checked = check_rule_set(stores, rule, registry=_registry(stores, views), existing=stored)
        if checked.rule_set is None:
            raise rules_invalid_error(checked.problems, text=checked.text)
        target, warnings = checked.rule_set, checked.warnings
    by_id = {rule_set.id: rule_set for rule_set in stored if rule_set.id != target.id}
    needed: dict[str, PlaylistRuleSet] = {}
    queue = references(target.rules)
    while queue:
        ref = queue.pop()
        if ref in by_id and ref not in needed:
            needed[ref] = by_id[ref]
            queue.extend(references(by_id[ref].rules))
    moment = now or utc_now()
    evaluation = evaluate_each([*needed.values(), target], views, now=moment)
    error = evaluation.error_for(target.id)
    if error is not None:
        raise error
    return OnePlaylist(target, evaluation.results[target.id], list(warnings), evaluation, moment)


def _node_counts(
    rule_set: PlaylistRuleSet, views: Library, evaluation: Evaluation, now: datetime
) -> list[NodeCount]:
    """Per condition and per group, what it matches and removes among the candidates
    (`engine.breakdown`), over the same compiled tree and cached masks the count used."""
    members = {rule_id: frozenset(r.track_ids) for rule_id, r in evaluation.results.items()}
    root = compile_tree(rule_set.rules, now=now, library=views, rule_members=members)
    columns = Columns.of(views)
    sources = sources_node(rule_set, views, now)
    candidates = sources.mask(columns) if sources is not None else columns.universe
    return node_counts(root, columns, candidates)


def explain_track(
    stores: Stores,
    library: LibraryCache | Library,
    track_id: str,
    rule: str | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> Explanation:
    """Why a track is (not) in a rule set's playlist (`rule`: a stored id or a rule set, JSON
    or text as saving takes it).

    Other stored rule sets matter only if the rule set refers to them (`in_rule`): a broken
    one elsewhere does not stop the explanation."""
    stored = stored_rule_sets(stores)
    if isinstance(rule, str):
        target = get_rule_set(stores, rule)
    else:
        [target] = structured(inline_documents(stores, [rule]))  # JSON or text
    return explain(track_id, target, _views(library), now=now or utc_now(), rule_sets=stored)


# --- warm-up -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarmUp:
    """What a warm-up did: whether the library was loaded, the rule sets run, the broken ones."""

    loaded: bool
    evaluated: list[str] = field(default_factory=list)
    broken: list[BrokenRuleSet] = field(default_factory=list)


def warm_library(stores: Stores, library: LibraryCache) -> WarmUp:
    """Load the library and run the enabled rule sets once, building the engine's field
    indexes ahead of the first preview (see `warm_library_in_background`), and discover its
    fields for validating and saving rule sets; both are saved with the library's snapshot.

    A broken rule set is logged and skipped: the others still warm their fields. Nothing is
    loaded without a fetched library; a bad file is logged (previews will report it).
    """
    if not library.has_library():
        return WarmUp(loaded=False)
    try:
        views = library.views()
        rule_sets = stored_rule_sets(stores)
        enabled = [rule_set.id for rule_set in rule_sets if rule_set.enabled]
        # All of them, as a preview runs them (disabled ones may be referred to).
        evaluation = (
            evaluate_each(rule_sets, views, now=utc_now()) if enabled else Evaluation({}, {})
        )
    except AppError as exc:  # a bad file: previews will report it properly
        log.info("library warm-up skipped: %s", exc.detail)
        return WarmUp(loaded=library.is_warm())
    broken = [broken_rule_set(failure) for failure in evaluation.failures_behind(enabled)]
    for item in broken:
        log.info(
            "warm-up: rule set %r is broken: %s",
            item.rule_id,
            "; ".join(problem.message for problem in item.problems),
        )
    return WarmUp(True, [i for i in enabled if i in evaluation.results], broken)


def warm_library_in_background(
    stores: Stores, library: LibraryCache, *, then: Callable[[], object] | None = None
) -> threading.Thread:
    """Run `warm_library` in a daemon thread (at server start, after a fetch), so that a
    user's first preview takes the fast path; a preview arriving meanwhile waits for the
    build instead of starting a second one (`LibraryCache.views`). `then` runs after it in
    the same thread (the server warms its library queries: `LibraryQueries.warm`)."""

    def run() -> None:
        warm_library(stores, library)
        if then is not None:
            then()

    thread = threading.Thread(target=run, name="sap-warm-library", daemon=True)
    thread.start()
    return thread


# --- Navidrome smart playlists ---------------------------------------------------------------


class NspImportReport(BaseModel):
    """What importing a Navidrome `.nsp` file stored, and what to look at."""

    rule: RuleSetDocument = Field(description="The rule set stored (disabled if it has problems).")
    notes: list[str] = Field(description="What has no exact equivalent here.")
    problems: list[RuleProblem] = Field(
        description="Why it does not validate against this library (then it is disabled)."
    )
    warnings: list[RuleWarning] = Field(
        description="Fields it reads that no track has yet, naming the providers that would "
        "give them (it is not disabled for that)."
    )


def import_nsp_rules(
    stores: Stores,
    data: str | bytes | Mapping[str, Any],
    *,
    rule_id: str | None = None,
    name: str | None = None,
) -> NspImportReport:
    """Import a Navidrome `.nsp` file as a rule set and store it.

    The import keeps every condition (fields we do not know keep their Navidrome name). If the
    result does not validate against this library — a field such as `playcount` that no
    provider gives — or the file holds what a rule set cannot express (an unknown operator,
    `offset`), it is stored *disabled* with its problems, so nothing runs until fixed; what
    was not imported is written at the end of its description, so nothing is lost.
    """
    imported = import_nsp(data, rule_id=rule_id, name=name)
    rule_set = imported.rule_set
    checked = check_rule_set(stores, rule_set.model_dump(mode="json"))
    problems = [*imported.problems, *checked.problems]
    if problems:
        rule_set = rule_set.model_copy(update={"enabled": False})
    if imported.problems:  # kept with the rule set: its text shows what is missing
        rule_set = rule_set.model_copy(
            update={"description": _not_imported(rule_set.description, imported.problems)}
        )
    store_rule_sets(stores, [rule_set])
    return NspImportReport(
        rule=document(rule_set),
        notes=imported.notes,
        problems=problems,
        warnings=checked.warnings,
    )


def _not_imported(description: str | None, problems: Sequence[RuleProblem]) -> str:
    """The description, followed by what the import could not express (at most 2,000
    characters, as a description may hold)."""
    lines = [f"{problem.path}: {problem.message}" for problem in problems]
    note = "Not imported from the .nsp (fix before enabling): " + "; ".join(lines)
    text = f"{description}\n\n{note}" if description else note
    return text if len(text) <= 2000 else text[:1999] + "…"


def export_nsp_rules(stores: Stores, rule_id: str) -> NspExport:
    """A stored rule set as a Navidrome `.nsp` file, with what it cannot express."""
    return export_nsp(get_rule_set(stores, rule_id))
