"""Rule files (kept in git by users): many rule sets in one text file, each under a header.

`parse_rules_file` splits a file into rule set payloads (each ``[id] Name`` line starts one,
its whole definition follows in the text syntax); `validate_rules_file` reports on each and on
the file as a whole; `apply_rules_file` validates them all, then stores them all, or none;
`format_rules_file` writes rule sets as such a file (`sap rules export`), and applying it gives
them back. The rule sets of one file may refer to each other (`in rule "x"`) as well as to the
stored ones. A settings clause a file leaves out (``target``, ``pin``…) keeps what the stored
rule set has (`rule_sets.merged_payload`): a file written before those clauses existed does not
clear them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.errors import NotFoundError, UnprocessableError
from app.core.rules import PlaylistRuleSet
from app.data import Stores
from app.pipeline.rules.rule_sets import (
    RenderedProblem,
    SavedRuleSet,
    UnreadableRuleSet,
    ValidationReport,
    check_rule_set,
    document,
    field_registry,
    problems_report,
    read_stored_rule_sets,
    saved,
    store_rule_sets,
    stored_rule_sets,
)
from app.pipeline.rules.text.printer import format_rules
from app.pipeline.rules.validation.references import check_references
from app.pipeline.rules.validation.validator import rules_invalid_error

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


def export_rule_sets(stores: Stores, ids: Sequence[str] | None = None) -> str:
    """The stored rule sets (or those of `ids`, in that order) as a rules file; one that
    cannot be read is named in a comment with its problems (`sap rules validate` shows them)."""
    readable, unreadable = read_stored_rule_sets(stores)
    if ids is None:
        return format_rules_file(readable, unreadable)
    by_id = {rule_set.id: rule_set for rule_set in readable}
    broken = {item.rule_id: item for item in unreadable}
    missing = [rule_id for rule_id in ids if rule_id not in by_id and rule_id not in broken]
    if missing:
        raise NotFoundError(
            f"no rule set with id {', '.join(map(repr, missing))}", code="rule_not_found"
        )
    return format_rules_file(
        [by_id[i] for i in ids if i in by_id], [broken[i] for i in ids if i in broken]
    )


def format_rules_file(
    rule_sets: Sequence[PlaylistRuleSet], unreadable: Sequence[UnreadableRuleSet] = ()
) -> str:
    """Rule sets as one rules file: a ``[id] Name`` header each, then its whole text.

    A name is written on its header line: line breaks in it become spaces."""
    blocks = ["# rule sets of spotify-auto-playlists (`sap rules apply-file` reads this back)"]
    for item in unreadable:
        problems = "; ".join(problem.render() for problem in item.problems)
        blocks.append(f"# [{item.rule_id}] not exported, it cannot be read: {problems}")
    for rule_set in rule_sets:
        name = " ".join(rule_set.name.split())
        text = format_rules(rule_set)
        blocks.append(f"[{rule_set.id}] {name}" + (f"\n{text}" if text else ""))
    return "\n\n".join(blocks) + "\n"


class RulesFileReport(BaseModel):
    """What checking a rules file found, rule set by rule set and across them."""

    rule_sets: list[ValidationReport] = Field(description="One per rule set, in file order.")
    errors: list[RenderedProblem] = Field(
        description="Problems of the file as a whole: `in_rule` cycles through its rule sets."
    )


def validate_rules_file(stores: Stores, payloads: Sequence[Mapping[str, Any]]) -> RulesFileReport:
    """The report of each rule set of one file (as `validation_report`), and the errors of
    the file as a whole: `in_rule` cycles through its rule sets (and the stored ones), which no
    single report can show since, while each is checked, the others stand in empty."""
    existing = file_context(stores, payloads)
    registry = field_registry(stores)
    reports: list[ValidationReport] = []
    valid: list[PlaylistRuleSet] = []
    for payload in payloads:
        rule_set, problems, text, warnings = check_rule_set(
            stores, payload, registry=registry, existing=existing
        )
        reports.append(problems_report(problems, text, warnings))
        if rule_set is not None:
            valid.append(rule_set)
    cycles = check_references(stored_outside(stores, payloads) + valid)
    return RulesFileReport(rule_sets=reports, errors=problems_report(cycles, None).errors)


def apply_rules_file(stores: Stores, content: str) -> list[SavedRuleSet]:
    """Validate every rule set of a file, then upsert them all (nothing if one is invalid);
    each is answered with its warnings (fields no track has yet)."""
    payloads = parse_rules_file(content)
    registry = field_registry(stores)
    others = stored_outside(stores, payloads)
    checked: list[PlaylistRuleSet] = []
    answers: list[SavedRuleSet] = []
    for payload in payloads:
        rule_set, problems, text, warnings = check_rule_set(
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
        answers.append(saved(rule_set, warnings, text))
    cycles = check_references(others + checked)
    if cycles:
        raise rules_invalid_error(cycles)
    store_rule_sets(stores, checked)
    return answers


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


Change = Literal["new", "changed", "unchanged", "invalid"]


class RuleFileEntry(BaseModel):
    """One rule set of a rules file, and what applying the file would do to it."""

    id: str
    name: str
    change: Change = Field(
        description="`new` (no stored rule set has its id), `changed`, `unchanged`, or "
        "`invalid` (then the file cannot be applied)."
    )
    text: str = Field(description="Its text as the file gives it.")
    stored_text: str | None = Field(description="The stored rule set's text, when it exists.")
    changed_fields: list[str] = Field(
        default_factory=list,
        description="For `changed`: the rule set's keys the file would change (`rules`, "
        "`limit`, `target_playlist_name`…), as applying it would store them.",
    )
    report: ValidationReport


class RulesFilePreview(BaseModel):
    """What applying a rules file would change, before anything is written."""

    applicable: bool = Field(description="Every rule set is valid and no cycle runs through them.")
    rule_sets: list[RuleFileEntry]
    errors: list[RenderedProblem] = Field(
        description="Problems of the file as a whole (`in_rule` cycles)."
    )
    kept: list[str] = Field(
        description="Stored rule sets the file does not name: applying keeps them as they are."
    )


def preview_rules_file(stores: Stores, content: str) -> RulesFilePreview:
    """What `apply_rules_file` would do with `content`: each rule set new, changed or
    unchanged (or invalid, with its problems), and the stored ones it leaves alone."""
    payloads = parse_rules_file(content)
    report = validate_rules_file(stores, payloads)
    stored = {rule_set.id: rule_set for rule_set in stored_rule_sets(stores)}
    registry = field_registry(stores)
    existing = file_context(stores, payloads)
    entries: list[RuleFileEntry] = []
    for payload, checked in zip(payloads, report.rule_sets, strict=True):
        rule_id, name = str(payload["id"]), str(payload["name"])
        before = stored.get(rule_id)
        before_document = document(before) if before is not None else None
        change: Change
        changed: list[str] = []
        if not checked.valid:
            change = "invalid"
        elif before is None:
            change = "new"
        else:
            rule_set = check_rule_set(
                stores, payload, registry=registry, existing=existing
            ).rule_set
            after = rule_set.model_dump() if rule_set is not None else {}
            before_fields = before.model_dump()
            changed = [key for key in before_fields if before_fields[key] != after.get(key)]
            change = "changed" if changed else "unchanged"
        entries.append(
            RuleFileEntry(
                id=rule_id,
                name=name,
                change=change,
                text=str(payload.get("text", "")).strip("\n"),
                stored_text=None if before_document is None else before_document.text,
                changed_fields=changed,
                report=checked,
            )
        )
    named = {entry.id for entry in entries}
    return RulesFilePreview(
        applicable=all(entry.report.valid for entry in entries) and not report.errors,
        rule_sets=entries,
        errors=report.errors,
        kept=[rule_id for rule_id in stored if rule_id not in named],
    )
