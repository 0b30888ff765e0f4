"""Rule sets as users manage them: stored JSON with its text form, validation, previews, explain.

Every entry point (API, CLI, files) goes through here:

    rule_set = upsert_rule_set(stores, {"id": "chill", "name": "Chill", "text": "energy < 0.4"})
    preview = preview_library(stores)             # every enabled rule set over the library
    why = explain_track(stores, track_id, "chill")

A rule set arrives as JSON, or as JSON whose `text` holds the rules and clauses in the text
syntax (id, name and the sync settings stay JSON). Either way it is validated against the field
registry of the stored library before anything is written; every problem is reported at once,
with its position in the text or its JSON path.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from app.core.errors import AppError, NotFoundError, RulesInvalidError, UnprocessableError
from app.core.models import utc_now
from app.core.rules import PlaylistRuleSet, RuleGroup, RuleProblem
from app.data import Stores
from app.pipeline.rules_engine import evaluate_rule_sets
from app.pipeline.rules_explain import explain
from app.pipeline.rules_fields import FieldRegistry, registry_from_library
from app.pipeline.rules_nsp import NspExport, export_nsp, import_nsp
from app.pipeline.rules_seed import build_rule_based_playlists, matches_rules
from app.pipeline.rules_text import TEXT_FIELDS, ParsedRules, format_rules, parse_rules
from app.pipeline.rules_validation import (
    check_references,
    load_rule_sets,
    rules_invalid_error,
    validate_rule_set,
)
from app.pipeline.rules_view import DEFAULT_PRECEDENCE, Library, load_library_views

log = logging.getLogger(__name__)

_library_cache: dict[Path, tuple[tuple[Any, ...], Library]] = {}
_library_lock = threading.Lock()
_precedence: dict[Path, tuple[str, ...]] = {}  # per cache directory, from the settings
_build_locks: dict[Path, threading.Lock] = {}


def configure_precedence(directory: Path, precedence: Sequence[str]) -> None:
    """Use `precedence` (``SAP_ENRICHMENT_PRECEDENCE``) for the library of `directory`."""
    order = tuple(precedence) or DEFAULT_PRECEDENCE
    with _library_lock:
        if _precedence.get(directory) != order:
            _precedence[directory] = order
            _library_cache.pop(directory, None)


def precedence_for(directory: Path) -> tuple[str, ...]:
    with _library_lock:
        return _precedence.get(directory, DEFAULT_PRECEDENCE)


def library_views(stores: Stores) -> Library:
    """The library's track views, reused while tracks, sources and enrichments are unchanged.

    Building views for 100,000 tracks takes seconds and the engine's per-field indexes live on
    the `Library`, so previews after the first are fast (see docs/performance.md).
    """
    # One build at a time per library: a preview arriving while the background warm-up builds
    # waits for it instead of building a second copy (twice the memory, for nothing).
    with _build_lock_for(stores.directory):
        signature = _signature(stores)
        with _library_lock:
            cached = _library_cache.get(stores.directory)
            if cached is not None and cached[0] == signature:
                return cached[1]
            _library_cache.pop(stores.directory, None)  # let the old views go before building
        library = load_library_views(stores, precedence=precedence_for(stores.directory))
        # Millions of containers that live until the library changes and hold no cycles: out
        # of the cyclic collector's sight, no full collection ever scans them again (the first
        # one after a build took ~1.7 s for 100,000 tracks, paid by whatever request ran
        # next). They are still freed by reference counting when the library is replaced.
        gc.freeze()
        with _library_lock:
            _library_cache[stores.directory] = (signature, library)
        return library


def _build_lock_for(directory: Path) -> threading.Lock:
    with _library_lock:
        return _build_locks.setdefault(directory, threading.Lock())


def warm_library(stores: Stores) -> bool:
    """Load the library and build the engine's field indexes ahead of the first preview.

    Run in the background at server start and after a fetch, so that a user's first preview
    takes the fast path. Returns False (and logs) when there is nothing to do or it failed.
    """
    if not stores.tracks.path.exists():
        return False
    try:
        library = library_views(stores)
        rule_sets = [rs for rs in stored_rule_sets(stores) if rs.enabled]
        if rule_sets:
            evaluate_rule_sets(rule_sets, library, now=utc_now())
    except AppError as exc:  # a bad file or rule: previews will report it properly
        log.info("library warm-up skipped: %s", exc.detail)
        return False
    return True


def warm_library_in_background(stores: Stores) -> threading.Thread:
    thread = threading.Thread(
        target=warm_library, args=(stores,), name="sap-warm-library", daemon=True
    )
    thread.start()
    return thread


def is_warm(stores: Stores) -> bool:
    """Whether the current library is loaded (its files unchanged since)."""
    with _library_lock:
        cached = _library_cache.get(stores.directory)
    return cached is not None and cached[0] == _signature(stores)


def _signature(stores: Stores) -> tuple[Any, ...]:
    return tuple(
        (info.st_ino, info.st_size, info.st_mtime_ns) if info else None
        for info in (
            _stat(store.path) for store in (stores.tracks, stores.sources, stores.enrichments)
        )
    )


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def field_registry(stores: Stores) -> FieldRegistry:
    """Built-in fields plus every enrichment key found in the stored library."""
    # Streamed as plain JSON: no models of the whole library (see docs/performance.md).
    return registry_from_library(
        (raw for _track_id, raw in stores.tracks.iter_raw()),
        stores.enrichments.iter_raw(),
        stores.sources.load(),
    )


def document(rule_set: PlaylistRuleSet) -> dict[str, Any]:
    """A rule set as the API returns it: the JSON model and its text form."""
    return {**rule_set.model_dump(mode="json"), "text": format_rules(rule_set)}


def stored_rule_sets(stores: Stores) -> list[PlaylistRuleSet]:
    """The stored rule sets that are valid (an invalid one is reported by `rules validate`)."""
    rule_sets, _problems = load_rule_sets(stores.rules.load_rules())
    return rule_sets


def _from_payload(payload: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The rule set's JSON, with the rules and clauses of `text` merged in when given."""
    text = payload.get("text")
    base = {key: value for key, value in payload.items() if key != "text"}
    if text is None:
        return base, None
    if not isinstance(text, str):
        raise UnprocessableError(
            "`text` must be a string holding rules in the text syntax", code="rules_invalid"
        )
    return parse_rules(text).apply_to(base), text


def check_rule_set(
    stores: Stores,
    payload: Mapping[str, Any],
    *,
    registry: FieldRegistry | None = None,
    existing: Sequence[PlaylistRuleSet] | None = None,
) -> tuple[PlaylistRuleSet | None, list[RuleProblem], str | None]:
    """Validate a payload (JSON or text); returns the rule set when it has no problem."""
    try:
        data, text = _from_payload(payload)
    except RulesInvalidError as exc:
        problems = [
            RuleProblem.model_validate({k: v for k, v in p.items() if k != "rendered"})
            for p in exc.extra.get("problems", [])
        ]
        return None, problems, exc.text
    registry = registry or field_registry(stores)
    others = [
        rs
        for rs in (existing if existing is not None else stored_rule_sets(stores))
        if rs.id != data.get("id")
    ]
    known = {rs.id for rs in others} | ({str(data["id"])} if data.get("id") else set())
    problems = validate_rule_set(data, registry, known_rule_ids=known, text=text)
    if problems:
        return None, problems, text
    rule_set = PlaylistRuleSet.model_validate(data)
    cycles = check_references([*others, rule_set])
    return (None if cycles else rule_set), cycles, text


def upsert_rule_set(stores: Stores, payload: Mapping[str, Any]) -> PlaylistRuleSet:
    """Create or replace (by id) a rule set after validating it; nothing is written otherwise."""
    rule_set, problems, text = check_rule_set(stores, payload)
    if rule_set is None:
        raise rules_invalid_error(problems, text=text)
    _store(stores, [rule_set])
    return rule_set


def _store(stores: Stores, rule_sets: Sequence[PlaylistRuleSet]) -> None:
    """Replace (by id) or append validated rule sets, in one locked write."""
    with stores.rules.update() as documents:
        for rule_set in rule_sets:
            stored = rule_set.model_dump(mode="json")
            for index, existing in enumerate(documents):
                if existing.get("id") == rule_set.id:
                    documents[index] = stored
                    break
            else:
                documents.append(stored)


def get_rule_set(stores: Stores, rule_id: str) -> PlaylistRuleSet:
    for rule_set in stored_rule_sets(stores):
        if rule_set.id == rule_id:
            return rule_set
    raise NotFoundError(f"no rule set with id {rule_id!r}", code="rule_not_found")


def delete_rule_set(stores: Stores, rule_id: str) -> None:
    with stores.rules.update() as documents:
        kept = [doc for doc in documents if doc.get("id") != rule_id]
        if len(kept) == len(documents):
            raise NotFoundError(f"no rule set with id {rule_id!r}", code="rule_not_found")
        documents[:] = kept


def validation_report(
    stores: Stores,
    payload: Mapping[str, Any],
    *,
    existing: Sequence[PlaylistRuleSet] | None = None,
) -> dict[str, Any]:
    """``{valid, errors[]}`` for the API and CLI; each error carries a rendered line.

    `existing`: the rule sets `in_rule` may name (default: the stored ones)."""
    _rule_set, problems, text = check_rule_set(stores, payload, existing=existing)
    return _report(problems, text)


def validate_rules_file(
    stores: Stores, payloads: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The report of each rule set of one file (as `validation_report`), and the errors of
    the file as a whole: `in_rule` cycles through its rule sets (and the stored ones), which no
    single report can show since, while each is checked, the others stand in empty."""
    existing = file_context(stores, payloads)
    registry = field_registry(stores)
    reports: list[dict[str, Any]] = []
    valid: list[PlaylistRuleSet] = []
    for payload in payloads:
        rule_set, problems, text = check_rule_set(
            stores, payload, registry=registry, existing=existing
        )
        reports.append(_report(problems, text))
        if rule_set is not None:
            valid.append(rule_set)
    cycles = check_references(stored_outside(stores, payloads) + valid)
    return reports, _report(cycles, None)["errors"]


def _report(problems: Sequence[RuleProblem], text: str | None) -> dict[str, Any]:
    return {
        "valid": not problems,
        "errors": [
            {**problem.model_dump(), "rendered": problem.render(text)} for problem in problems
        ],
    }


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
        target: PlaylistRuleSet | ParsedRules | RuleGroup = _structured_one(body, "[0]")
    elif set(body) & set(TEXT_FIELDS):
        rule_set = _structured_one({"id": "format", "name": "format", **body}, "[0]")
        target = ParsedRules.model_validate(rule_set.model_dump(include=set(TEXT_FIELDS)))
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


def evaluate_group(group: Mapping[str, Any], enrichment: Mapping[str, Any]) -> bool:
    """The seed's `/data/rules/evaluate`: one rule group against one flat enrichment map."""
    return matches_rules(dict(enrichment), structured_group(group), now=utc_now())


# --- previews ------------------------------------------------------------------------------


def preview_payload(
    rules: Sequence[Mapping[str, Any]], tracks: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Seed payload mode: rule sets over the given `[{track_id, enrichment}]`."""
    return build_rule_based_playlists(structured(rules), tracks)


def _selected(
    stores: Stores, rules: Sequence[Mapping[str, Any]] | None, ids: Sequence[str] | None
) -> list[PlaylistRuleSet]:
    if rules is not None:
        return structured(rules)
    stored = stored_rule_sets(stores)
    if not ids:
        return stored
    known = {rule_set.id for rule_set in stored}
    missing = [rule_id for rule_id in ids if rule_id not in known]
    if missing:
        raise NotFoundError(
            f"no rule set with id {', '.join(map(repr, missing))}", code="rule_not_found"
        )
    return stored


def preview_library(
    stores: Stores,
    *,
    rules: Sequence[Mapping[str, Any]] | None = None,
    ids: Sequence[str] | None = None,
    now: datetime | None = None,
    library: Library | None = None,
    nowhere_limit: int = 200,
) -> dict[str, Any]:
    """Library mode: enabled rule sets over the stored library, plus the partition view.

    The partition says, for each track, the rule sets it lands in; the overlaps between rule
    sets (pairs sharing tracks); and the tracks that land nowhere.
    """
    rule_sets = _selected(stores, rules, ids)
    library = library or library_views(stores)
    results = evaluate_rule_sets(rule_sets, library, now=now or utc_now())
    wanted = set(ids or []) or {rs.id for rs in rule_sets if rs.enabled}
    shown = [results[rs.id] for rs in rule_sets if rs.id in wanted]
    lands: dict[str, list[str]] = {}
    for result in shown:
        for track_id in result.track_ids:
            lands.setdefault(track_id, []).append(result.rule_id)
    # Pairs counted once per distinct combination of rule sets, not once per track.
    overlaps: Counter[tuple[str, str]] = Counter()
    for combination, count in Counter(map(tuple, lands.values())).items():
        for pair in combinations(sorted(combination), 2):
            overlaps[pair] += count
    nowhere = [track_id for track_id in library.ids if track_id not in lands]
    return {
        "playlists": [
            {**result.to_dict(), "minutes": round(result.duration_ms / 60000, 1)}
            for result in shown
        ],
        "partition": {
            "tracks": len(library),
            "placed": len(lands),
            "track_rules": lands,
            "overlaps": [
                {"rule_ids": list(pair), "tracks": count} for pair, count in overlaps.most_common()
            ],
            "nowhere": {"count": len(nowhere), "track_ids": nowhere[:nowhere_limit]},
        },
    }


def explain_track(
    stores: Stores, track_id: str, rule: str | Mapping[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """Why a track is (not) in a rule set's playlist (`rule`: a stored id or a rule set)."""
    stored = stored_rule_sets(stores)
    if isinstance(rule, str):
        target = get_rule_set(stores, rule)
    else:
        loaded, problems = load_rule_sets([dict(rule)])
        if problems:
            raise rules_invalid_error(problems)
        target = loaded[0]
    library = library_views(stores)
    return explain(track_id, target, library, now=now or utc_now(), rule_sets=stored)


# --- rule files (kept in git by users) -----------------------------------------------------

_HEADER = "["


def parse_rules_file(content: str) -> list[dict[str, Any]]:
    """Rule sets from a text file: each starts with a ``[id] Name`` line, then its rules.

    # my playlists
    [fast] Fast ones
    tempo > 140
    sort by tempo desc

    [calm] Calm evenings
    energy < 0.4 and not genres has any ["metal"]
    """
    payloads: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    body: list[str] = []
    for number, line in enumerate(content.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(_HEADER) and "]" in stripped:
            if current is not None:
                payloads.append({**current, "text": "\n".join(body)})
            rule_id, _, name = stripped[1:].partition("]")
            if not rule_id.strip() or not name.strip():
                raise UnprocessableError(
                    f"line {number}: a rule set starts with '[id] Name', got {stripped!r}",
                    code="rules_file_invalid",
                )
            # Blank lines stand in for the file above the body: positions are file lines.
            current, body = {"id": rule_id.strip(), "name": name.strip()}, [""] * number
        elif current is None:
            if stripped and not stripped.startswith("#"):
                raise UnprocessableError(
                    f"line {number}: text before the first '[id] Name' header",
                    code="rules_file_invalid",
                )
        else:
            body.append(line)
    if current is not None:
        payloads.append({**current, "text": "\n".join(body)})
    if not payloads:
        raise UnprocessableError(
            "no rule set in the file (each starts with '[id] Name')", code="rules_file_invalid"
        )
    return payloads


def apply_rules_file(stores: Stores, content: str) -> list[PlaylistRuleSet]:
    """Validate every rule set of a file, then upsert them all (nothing if one is invalid)."""
    payloads = parse_rules_file(content)
    registry = field_registry(stores)
    others = stored_outside(stores, payloads)
    checked: list[PlaylistRuleSet] = []
    for payload in payloads:
        rule_set, problems, text = check_rule_set(
            stores, payload, registry=registry, existing=others + _placeholders(payloads)
        )
        if rule_set is None:
            raise rules_invalid_error(
                [
                    problem.model_copy(update={"message": f"[{payload['id']}] {problem.message}"})
                    for problem in problems
                ],
                text=text,
            )
        checked.append(rule_set)
    cycles = check_references(others + checked)
    if cycles:
        raise rules_invalid_error(cycles)
    _store(stores, checked)
    return checked


def stored_outside(stores: Stores, payloads: Sequence[Mapping[str, Any]]) -> list[PlaylistRuleSet]:
    """The stored rule sets a file does not replace."""
    incoming_ids = {str(payload["id"]) for payload in payloads}
    return [rs for rs in stored_rule_sets(stores) if rs.id not in incoming_ids]


def file_context(stores: Stores, payloads: Sequence[Mapping[str, Any]]) -> list[PlaylistRuleSet]:
    """What the rule sets of one file may refer to: each other and the stored ones."""
    return stored_outside(stores, payloads) + _placeholders(payloads)


def _placeholders(payloads: Sequence[Mapping[str, Any]]) -> list[PlaylistRuleSet]:
    """Stand-ins so rule sets of one file may refer to each other (`in rule "x"`)."""
    return [PlaylistRuleSet(id=str(p["id"]), name=str(p["name"])) for p in payloads]


# --- Navidrome smart playlists ---------------------------------------------------------------


def import_nsp_rules(
    stores: Stores,
    data: str | bytes | Mapping[str, Any],
    *,
    rule_id: str | None = None,
    name: str | None = None,
) -> tuple[PlaylistRuleSet, list[str], list[RuleProblem]]:
    """Import a Navidrome `.nsp` file as a rule set and store it.

    The import keeps every condition (fields we do not know keep their Navidrome name). If the
    result does not validate against this library — a field such as `playcount` that no
    provider gives — it is stored *disabled*, so nothing is lost and nothing runs until fixed.
    """
    imported = import_nsp(data, rule_id=rule_id, name=name)
    rule_set = imported.rule_set
    _checked, problems, _text = check_rule_set(stores, rule_set.model_dump(mode="json"))
    if problems:
        rule_set = rule_set.model_copy(update={"enabled": False})
    _store(stores, [rule_set])
    return rule_set, imported.notes, problems


def export_nsp_rules(stores: Stores, rule_id: str) -> NspExport:
    """A stored rule set as a Navidrome `.nsp` file, with what it cannot express."""
    return export_nsp(get_rule_set(stores, rule_id))
