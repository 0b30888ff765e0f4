"""Stored rule sets: each checked against the field registry of the stored library, then written.

A rule set arrives as JSON, or as JSON whose `text` holds the rules and clauses in the text
syntax. A text describes the rules, `from`, `sort`, `limit`, `dedupe` and `max per artist`
completely (no clause: the default), and the settings (pins, bans, target, mode, enabled,
`hold for review`, description) it states: a setting it leaves out keeps the value the JSON
sent, else the stored rule set's (`merged_payload`), so re-saving a rule set's rules never drops
its target or pins. `check_rule_set` validates it (every problem
at once, with its position in the text or its JSON path, `in_rule` cycles included) before
`upsert_rule_set` writes anything; `validation_report` is what the API and CLI show. A field
the rule set reads that no track has yet (before its provider has run) is a warning, never a
problem: `save_rule_set` saves and answers the warnings (`validation.coverage`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import BaseModel, Field, ValidationError

from app.core.errors import NotFoundError, RulesInvalidError, UnprocessableError
from app.core.rules import PlaylistRuleSet, RuleProblem
from app.data import Stores
from app.pipeline.rules.fields.declared import add_declared_fields
from app.pipeline.rules.fields.discovery import registry_from_library
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.text.parser import parse_located, parse_rules
from app.pipeline.rules.text.printer import SETTINGS_DEFAULTS, format_rules, rule_set_json
from app.pipeline.rules.validation.coverage import RuleWarning, absent_in_registry, field_warnings
from app.pipeline.rules.validation.references import check_references
from app.pipeline.rules.validation.validator import (
    load_rule_sets,
    rules_invalid_error,
    validate_rule_set,
)
from app.spotify.ids import is_spotify_id


def field_registry(stores: Stores, library: LibraryCache | None = None) -> FieldRegistry:
    """Built-in fields, every enrichment key found in the stored library, and every field a
    provider declares (coverage 0 when no track has it yet: see `fields.declared`).

    With the loaded library (`Services.library`), discovery is what the library's build found
    in the same pass over the stores (kept in its snapshot: the next process loads it), never
    a pass of its own per call."""
    if library is None:
        discovered = _discovered(stores)
    else:
        discovered = library.views().discovered or library.derived(
            _REGISTRY_KEY, lambda: _discovered(stores)
        )
    return add_declared_fields(FieldRegistry(dict(discovered.fields)))


_REGISTRY_KEY = ("field registry",)


def _discovered(stores: Stores) -> FieldRegistry:
    # Streamed as plain JSON: no models of the whole library (see docs/performance.md).
    return registry_from_library(
        (raw for _track_id, raw in stores.tracks.iter_raw()),
        stores.enrichments.iter_raw(),
        stores.sources.load(),
    )


class RuleSetDocument(PlaylistRuleSet):
    """A rule set as the API and the CLI show it: the JSON model and its text form."""

    text: str = Field(description="The rules and clauses in the text syntax.")


def document(rule_set: PlaylistRuleSet) -> RuleSetDocument:
    """A rule set with its text form."""
    return RuleSetDocument.model_validate({**dict(rule_set), "text": format_rules(rule_set)})


class RenderedProblem(RuleProblem):
    """A problem with its one-line form and, for text, the source line and a caret."""

    rendered: str = Field(description="As `RuleProblem.render` writes it.")

    @classmethod
    def of(cls, problem: RuleProblem, text: str | None) -> RenderedProblem:
        return cls(**dict(problem), rendered=problem.render(text))


class RenderedWarning(RuleWarning):
    """A warning with its one-line form and, for text, the source line and a caret."""

    rendered: str = Field(description="As `RuleProblem.render` writes it.")

    @classmethod
    def of(cls, warning: RuleWarning, text: str | None) -> RenderedWarning:
        return cls(**dict(warning), rendered=warning.render(text))


class ValidationReport(BaseModel):
    """Whether a rule set is valid, every problem it has, and what it should know (fields no
    track has yet: valid, but matching nothing through them until a provider has run)."""

    valid: bool
    errors: list[RenderedProblem]
    warnings: list[RenderedWarning] = Field(
        default_factory=list,
        description="Fields it reads that no track has yet, each naming the providers that "
        "would give it; they do not stop saving.",
    )


class SavedRuleSet(RuleSetDocument):
    """A rule set as saved, with the warnings its validation gave."""

    warnings: list[RenderedWarning] = Field(
        description="Fields it reads that no track has yet (see `ValidationReport.warnings`)."
    )


class RuleSetCheck(NamedTuple):
    """What `check_rule_set` found: the rule set when it has no problem, the problems, the
    text it came from, and the warnings (which never stop it)."""

    rule_set: PlaylistRuleSet | None
    problems: list[RuleProblem]
    text: str | None
    warnings: list[RuleWarning]


def stored_rule_sets(stores: Stores) -> list[PlaylistRuleSet]:
    """The stored rule sets that are valid (an invalid one is reported by `rules validate`)."""
    rule_sets, _problems = load_rule_sets(stores.rules.load_rules())
    return rule_sets


@dataclass(frozen=True)
class UnreadableRuleSet:
    """A stored rule set that is not one (rules.json edited by hand, or written by a version
    that checked less): what can be read of it, and its problems."""

    rule_id: str
    name: str
    enabled: bool
    problems: list[RuleProblem]


def read_stored_rule_sets(stores: Stores) -> tuple[list[PlaylistRuleSet], list[UnreadableRuleSet]]:
    """The stored rule sets, and those that cannot be read as one (see `UnreadableRuleSet`;
    one without a usable id is named by its position, ``#3``)."""
    rule_sets: list[PlaylistRuleSet] = []
    unreadable: list[UnreadableRuleSet] = []
    for index, document in enumerate(stores.rules.load_rules()):
        loaded, problems = load_rule_sets([document])
        if loaded:
            rule_sets.extend(loaded)
            continue
        raw_id, raw_name = document.get("id"), document.get("name")
        rule_id = raw_id if isinstance(raw_id, str) and raw_id else f"#{index}"
        unreadable.append(
            UnreadableRuleSet(
                rule_id=rule_id,
                name=raw_name if isinstance(raw_name, str) else rule_id,
                enabled=document.get("enabled") is not False,
                problems=[
                    problem.model_copy(
                        update={
                            "path": (problem.path or "").removeprefix("[0]").lstrip(".") or None
                        }
                    )
                    for problem in problems
                ],
            )
        )
    return rule_sets, unreadable


_KEPT = ("name", *SETTINGS_DEFAULTS)
"""What a text payload keeps of the stored rule set when neither its JSON nor its text says."""


class MergedPayload(NamedTuple):
    """A rule set's JSON with its text merged in, and the text (None: JSON only)."""

    data: dict[str, Any]
    text: str | None


def merged_payload(stores: Stores | None, payload: Mapping[str, Any]) -> MergedPayload:
    """The rule set's JSON, with the rules and clauses of `text` merged in when given.

    With a text, what it leaves out of the settings is taken from the JSON sent with it, else
    from the stored rule set of the same id (its name too): ``{"id": "fast", "text": "tempo >
    150"}`` changes the rules of "fast" and keeps its target, mode, pins and bans. A setting is
    cleared by saying so: ``target none``, ``pin none``, ``ban none``, ``description none``.
    Without a text the JSON is the whole rule set, as it always was; without `stores` (the
    seed's payload mode, which has no stored rule sets) nothing is kept."""
    text = payload.get("text")
    try:
        base = rule_set_json({key: value for key, value in payload.items() if key != "text"})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UnprocessableError(f"{where}: {first['msg']}", code="rules_invalid") from None
    if text is None:
        return MergedPayload(base, None)
    if not isinstance(text, str):
        raise UnprocessableError(
            "`text` must be a string holding rules in the text syntax", code="rules_invalid"
        )
    parsed = parse_rules(text)
    stored = _stored_document(stores, base.get("id")) if stores is not None else {}
    kept = {key: stored[key] for key in _KEPT if key in stored and key not in base}
    return MergedPayload(parsed.apply_to({**kept, **base}), text)


def _stored_document(stores: Stores, rule_id: object) -> Mapping[str, Any]:
    """The stored JSON of a rule set (as stored: even one that no longer validates), or {}."""
    if not isinstance(rule_id, str) or not rule_id:
        return {}
    return next((doc for doc in stores.rules.load_rules() if doc.get("id") == rule_id), {})


def whole_text_payload(rule_set: PlaylistRuleSet, text: str) -> dict[str, Any]:
    """A payload saying that `text` is the rule set's whole definition, as `sap rules edit`
    shows it: a settings clause deleted from it goes back to its default (is cleared)."""
    return {**rule_set.model_dump(mode="json"), **SETTINGS_DEFAULTS, "text": text}


def check_rule_set(
    stores: Stores,
    payload: Mapping[str, Any],
    *,
    registry: FieldRegistry | None = None,
    existing: Sequence[PlaylistRuleSet] | None = None,
    library: LibraryCache | None = None,
) -> RuleSetCheck:
    """Validate a payload (JSON or text); the rule set when it has no problem, and the
    warnings of the fields it reads that no track has yet."""
    try:
        data, text = merged_payload(stores, payload)
    except RulesInvalidError as exc:
        problems = [
            RuleProblem.model_validate({k: v for k, v in p.items() if k != "rendered"})
            for p in exc.extra.get("problems", [])
        ]
        return RuleSetCheck(None, problems, exc.text, [])
    registry = registry or field_registry(stores, library)
    warnings = field_warnings(data, absent_in_registry(registry), text=text)
    others = [
        rs
        for rs in (existing if existing is not None else stored_rule_sets(stores))
        if rs.id != data.get("id")
    ]
    known = {rs.id for rs in others} | ({str(data["id"])} if data.get("id") else set())
    problems = validate_rule_set(data, registry, known_rule_ids=known, text=text)
    problems += _target_problems(data, text)
    if problems:
        return RuleSetCheck(None, problems, text, warnings)
    rule_set = PlaylistRuleSet.model_validate(data)
    cycles = check_references([*others, rule_set])
    return RuleSetCheck(None if cycles else rule_set, cycles, text, warnings)


def _target_problems(data: Mapping[str, Any], text: str | None) -> list[RuleProblem]:
    """A target playlist id goes into Spotify's URLs: it must have a Spotify id's shape.

    Checked on what comes in (save, validate, import), not on what is stored: a rule set saved
    earlier with a placeholder (the seed's examples say "pl1") still loads and previews; its
    sync is refused by the client, naming the id.
    """
    target = data.get("target_playlist_id")
    if not isinstance(target, str) or not target or is_spotify_id(target):
        return []
    shown = target if len(target) <= 40 else target[:39] + "…"
    problem = RuleProblem(
        message=f"{shown!r} is not a Spotify playlist id (22 letters and digits)",
        path="target_playlist_id",
        hint="copy it from the playlist's link: open.spotify.com/playlist/<id>"
        + (" (or write `target none`)" if text is not None else ""),
    )
    where = parse_located(text).where.get("target") if text is not None else None
    if where is not None:  # the text's `target` clause said it: point at it
        line, column, length = where
        problem = problem.model_copy(update={"line": line, "column": column, "length": length})
    return [problem]


def upsert_rule_set(
    stores: Stores, payload: Mapping[str, Any], library: LibraryCache | None = None
) -> PlaylistRuleSet:
    """Create or replace (by id) a rule set after validating it; nothing is written otherwise.
    `library`: the loaded library, whose discovered fields are reused (`field_registry`)."""
    rule_set, problems, text, _warnings = check_rule_set(stores, payload, library=library)
    if rule_set is None:
        raise rules_invalid_error(problems, text=text)
    store_rule_sets(stores, [rule_set])
    return rule_set


def save_rule_set(
    stores: Stores, payload: Mapping[str, Any], library: LibraryCache | None = None
) -> SavedRuleSet:
    """`upsert_rule_set`, answered as the API and the CLI show it: the document and the
    warnings (fields no track has yet) that did not stop it."""
    rule_set, problems, text, warnings = check_rule_set(stores, payload, library=library)
    if rule_set is None:
        raise rules_invalid_error(problems, text=text)
    store_rule_sets(stores, [rule_set])
    return saved(rule_set, warnings, text)


def saved(
    rule_set: PlaylistRuleSet, warnings: Sequence[RuleWarning], text: str | None
) -> SavedRuleSet:
    """A stored rule set with its warnings, rendered against the `text` it came from."""
    return SavedRuleSet.model_validate(
        {
            **dict(document(rule_set)),
            "warnings": [RenderedWarning.of(warning, text) for warning in warnings],
        }
    )


def store_rule_sets(stores: Stores, rule_sets: Sequence[PlaylistRuleSet]) -> None:
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
    library: LibraryCache | None = None,
) -> ValidationReport:
    """What the API and CLI show of a rule set's problems; each carries its rendered line.

    `existing`: the rule sets `in_rule` may name (default: the stored ones); `library`: the
    loaded library, whose discovered fields are reused."""
    _rule_set, problems, text, warnings = check_rule_set(
        stores, payload, existing=existing, library=library
    )
    return problems_report(problems, text, warnings)


def problems_report(
    problems: Sequence[RuleProblem],
    text: str | None,
    warnings: Sequence[RuleWarning] = (),
) -> ValidationReport:
    """The report of `problems` (and `warnings`), each with its rendered line of `text`."""
    return ValidationReport(
        valid=not problems,
        errors=[RenderedProblem.of(problem, text) for problem in problems],
        warnings=[RenderedWarning.of(warning, text) for warning in warnings],
    )
