"""A library filter: conditions in the rules language, decided by the rules engine.

    matched = run_filter(stores, views, 'tempo > 120 and genres has any ["jazz"]', registry)
    matched.positions    # library positions of the matching tracks, in library order

A filter is the text of a rule set without its playlist clauses: conditions, and `from …`
(which sources) if wanted. It is checked exactly as a rule set is (the same parser, field
registry and validation: a problem is a 422 `rules_invalid` naming its line and column) and
evaluated by the engine as that rule set, so it selects exactly the tracks
`POST /pipeline/playlists/preview-from-rules` gives for a rule set with these rules. The
clauses that make a playlist rather than choose tracks (`sort by`, `limit`, `dedupe by`,
`max N per artist`) are refused, each named at its line: the query has its own sort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from app.core.rules import PlaylistRuleSet, RuleProblem
from app.data import Stores
from app.pipeline.rules.engine.evaluate import evaluate_each, references
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.rule_sets import check_rule_set, stored_rule_sets
from app.pipeline.rules.text.parser import parse_located
from app.pipeline.rules.text.printer import ParsedRules
from app.pipeline.rules.validation.coverage import RuleWarning
from app.pipeline.rules.validation.validator import rules_invalid_error

FILTER_ID = "sap:library-filter"
"""The id the filter is evaluated under (the rule-set id pattern, unlikely to be a user's)."""

_CLAUSES = {
    "sort": "`sort by` orders a playlist: give the query's `sort` instead",
    "limit": "`limit` sizes a playlist: a filter keeps every matching track",
    "dedupe": "`dedupe by` belongs to a playlist: a filter keeps every matching track",
    "max": "`max N per artist` belongs to a playlist: a filter keeps every matching track",
}
_CLAUSE_LINE = re.compile(r"^([ \t]*)(sort|limit|dedupe|max)\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class FilterMatch:
    """What a filter selected: positions in library order, and its warnings (fields no
    track has yet, naming the providers that would give them)."""

    positions: list[int]
    warnings: list[RuleWarning] = field(default_factory=list)
    text: str | None = None


def run_filter(
    stores: Stores, views: Library, text: str, registry: FieldRegistry, *, now: datetime
) -> FilterMatch:
    """The tracks of `views` matching the filter `text` (see the module docstring); raises
    `RulesInvalidError` naming every problem."""
    parsed, where = parse_located(text)  # a syntax error: raised with its caret
    settings = _settings_problems(parsed, where)
    if settings:
        raise rules_invalid_error(settings, text=text)
    refers = references(parsed.rules)
    stored = stored_rule_sets(stores) if refers else []
    checked = check_rule_set(
        stores,
        {"id": FILTER_ID, "name": "Library filter", "text": text},
        registry=registry,
        existing=stored,
    )
    problems = list(checked.problems) + _clause_problems(text, checked.rule_set)
    if problems or checked.rule_set is None:
        raise rules_invalid_error(problems, text=text)
    target = checked.rule_set
    needed = _referenced(target, stored)
    evaluation = evaluate_each([*needed, target], views, now=now)
    error = evaluation.error_for(target.id)
    if error is not None:
        raise error
    track_ids = evaluation.results[target.id].track_ids
    return FilterMatch(list(map(views.index.__getitem__, track_ids)), checked.warnings, text)


def _referenced(target: PlaylistRuleSet, stored: list[PlaylistRuleSet]) -> list[PlaylistRuleSet]:
    """The stored rule sets `target` refers to (`in rule`), transitively."""
    by_id = {rule_set.id: rule_set for rule_set in stored if rule_set.id != target.id}
    needed: dict[str, PlaylistRuleSet] = {}
    queue = references(target.rules)
    while queue:
        ref = queue.pop()
        if ref in by_id and ref not in needed:
            needed[ref] = by_id[ref]
            queue.extend(references(by_id[ref].rules))
    return list(needed.values())


def _settings_problems(
    parsed: ParsedRules, where: dict[str, tuple[int, int, int]]
) -> list[RuleProblem]:
    """A problem for each settings clause (`pin`, `target`, `mode`…) of the filter, at its
    first word: they belong to a rule set, and `pin` would add tracks the filter never chose."""
    stated = {
        name
        for name in ("include", "exclude", "target", "sync_mode", "auto_apply", "enabled")
        if getattr(parsed, name) is not None
    } | ({"description"} if parsed.description is not None else set())
    problems = []
    for name in sorted(stated, key=lambda n: where[n]):
        line, column, length = where[name]
        problems.append(
            RuleProblem(
                message="a filter takes conditions (and `from …`), not a rule set's settings",
                line=line,
                column=column,
                length=length,
                hint="pins, bans, target, mode and the like are saved with a rule set",
            )
        )
    return problems


def _clause_problems(text: str, rule_set: PlaylistRuleSet | None) -> list[RuleProblem]:
    """A problem for each playlist clause of the filter, at the line that starts it."""
    if rule_set is not None and not (
        rule_set.sort or rule_set.limit or rule_set.dedupe != "none" or rule_set.max_per_artist
    ):
        return []
    problems: list[RuleProblem] = []
    for match in _CLAUSE_LINE.finditer(text):
        word = match.group(2).lower()
        line = text.count("\n", 0, match.start()) + 1
        problems.append(
            RuleProblem(
                message=f"a filter takes conditions, not the `{word}` clause",
                line=line,
                column=len(match.group(1)) + 1,
                length=len(word),
                hint=_CLAUSES[word],
            )
        )
    if not problems and rule_set is not None:  # a clause on the line of the conditions
        problems.append(
            RuleProblem(
                message="a filter takes conditions (and `from …`), not playlist clauses",
                hint="write the sort in the query's `sort`; limits, dedupe and artist caps "
                "belong to rule sets",
            )
        )
    return problems
