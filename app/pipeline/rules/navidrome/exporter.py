"""Navidrome ``.nsp`` export: our rule set as ``.nsp`` JSON, saying what Navidrome cannot hold.

`export_nsp` pushes negations down (De Morgan, operator twins), rewrites what has an exact
equivalent (``year >= 1990`` → ``year > 1989``, ``in [a, b]`` → any of ``is``…, noted in
`NspExport.notes`) and leaves out the rest, one line per thing in `NspExport.dropped` with how
dropping it changes the playlist (wider or narrower).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.rules import PlaylistRuleSet, RuleCondition, RuleGroup, RuleOperator, SortKey
from app.pipeline.rules.fields.discovery import infer_type
from app.pipeline.rules.navidrome.tables import (
    DATE_FIELDS,
    DATE_NOTE,
    FIELD_TO_NSP,
    INTEGRAL_FIELDS,
    NSP_TO_FIELD,
    OPERATOR_TO_NSP,
    OURS_ONLY,
    is_number,
    is_scalar,
    ms_to_seconds,
    navidrome_field,
    whole_days,
)
from app.pipeline.rules.operators import NEGATION
from app.pipeline.rules.text.printer import OPERATOR_TEXT, format_rules

__all__ = ["NspExport", "export_nsp"]

Op = RuleOperator
NOT_HAS_ALL = "not_has_all"  # `not (x has all [...])`: has no operator of its own
_REWRITTEN = frozenset({Op.GTE, Op.LTE, Op.IN, Op.NOT_IN, Op.HAS_ANY, Op.HAS_ALL, Op.HAS_NONE})
"""Operators with no `.nsp` form that `translate` writes with Navidrome's own."""
_LACKING = {
    Op.REGEX: "regular expressions",
    Op.NOT_REGEX: "regular expressions",
    Op.EXISTS: "a test for a present value",
    Op.NOT_EXISTS: "a test for a missing value",
    Op.NOT_BETWEEN: "`not between` (outside a range)",
}
"""How the export names what Navidrome lacks, when saying the operator's text is not clear."""


class NspExport(BaseModel):
    """The ``.nsp`` JSON of a rule set, and what the export changed or left out."""

    model_config = ConfigDict(frozen=True)

    nsp: dict[str, Any] = Field(description="The `.nsp` file's JSON.")
    dropped: list[str] = Field(
        default_factory=list,
        description="One line per thing Navidrome cannot express: left out, with its effect "
        "on the playlist (wider or narrower).",
    )
    notes: list[str] = Field(
        default_factory=list, description="Meaning-preserving rewrites and caveats."
    )


def export_nsp(rule_set: PlaylistRuleSet, *, navidrome_fields: Iterable[str] = ()) -> NspExport:
    """The ``.nsp`` JSON of a rule set, with what Navidrome cannot express in `dropped`.

    `navidrome_fields`: extra field names the target Navidrome knows (custom tags), exported
    unchanged. Negated groups are pushed down (De Morgan, operator twins) before anything is
    dropped; a dropped condition's line says whether the playlist gets wider or narrower.
    """
    writer = _Writer(frozenset(f.lower() for f in navidrome_fields))
    root = writer.group(rule_set.rules, negated=False)
    if not next(iter(root.values())):
        root = {"all": [{"gt": {"playcount": -1}}]}
        line = (
            "no condition to export: Navidrome refuses a smart playlist without rules, so the "
            'export matches every track with `{"gt": {"playcount": -1}}`'
        )
        if rule_set.rules.conditions:  # every condition was dropped: that is a change
            writer.dropped.append(line + "; the exported playlist holds the whole library")
        else:
            writer.notes.append(line)
    data: dict[str, Any] = {"name": rule_set.name}
    if rule_set.description:
        data["comment"] = rule_set.description
    data.update(root)
    data.update(writer.sort(rule_set.sort))
    data.update(writer.limit(rule_set))
    writer.clauses(rule_set)
    if writer.dates:
        writer.notes.append(DATE_NOTE)
    return NspExport(nsp=data, dropped=writer.dropped, notes=writer.notes)


def _describe(node: RuleCondition | RuleGroup, negated: bool = False) -> str:
    try:
        text = format_rules(RuleGroup(conditions=[node]))
    except ValueError:
        text = json.dumps(node.model_dump(mode="json", exclude_defaults=True))
    return f"not ({text})" if negated else text


def _effect(parent: str, text: str) -> str:
    if parent == "all":
        return f"the exported playlist is wider: it no longer requires `{text}`"
    return f"the exported playlist is narrower: tracks matched only by `{text}` are left out"


class _Writer:
    def __init__(self, extra_fields: frozenset[str]) -> None:
        self.extra_fields = extra_fields
        self.dropped: list[str] = []
        self._why: dict[int, str] = {}  # index in `dropped` → reason, for `drop` lines
        self.notes: list[str] = []
        self.dates = False

    def drop(self, what: str, why: str, parent: str) -> None:
        self._why[len(self.dropped)] = why
        self.dropped.append(f"`{what}`: {why}; {_effect(parent, what)}")

    def group(self, group: RuleGroup, *, negated: bool) -> dict[str, Any]:
        """The group with `negated` pushed down (De Morgan); unexpressible children left out."""
        flip = group.negate != negated
        operator = group.operator if not flip else ("or" if group.operator == "and" else "and")
        key = "all" if operator == "and" else "any"
        children: list[dict[str, Any]] = []
        for child in group.conditions:
            if isinstance(child, RuleGroup):
                before = len(self.dropped)
                exported = self.group(child, negated=flip)
                if child.conditions and not next(iter(exported.values())):
                    # An emptied `any` would match nothing (an emptied `all` everything): leave
                    # the whole group out instead, in one line with every reason.
                    reasons = sorted(
                        {self._why.pop(i, "") for i in range(before, len(self.dropped))}
                    )
                    del self.dropped[before:]
                    why = "; ".join(r for r in reasons if r)
                    self.drop(
                        _describe(child, flip),
                        f"nothing in it can be expressed ({why}), so the whole group is left out",
                        key,
                    )
                else:
                    children.append(exported)
            else:
                condition = self.condition(child, negated=flip, parent=key)
                if condition is not None:
                    children.append(condition)
        return {key: children}

    def nsp_field(self, condition: RuleCondition, parent: str, text: str) -> str | None:
        folded = condition.field.strip().lower()
        if folded == "duration_ms":
            return "duration"  # the value is converted to seconds by the caller
        if folded in OURS_ONLY:
            self.drop(text, f"Navidrome has no field for `{condition.field}`", parent)
            return None
        nsp = FIELD_TO_NSP.get(folded, folded)
        if not navidrome_field(nsp, self.extra_fields):
            self.drop(text, f"Navidrome has no field `{condition.field}`", parent)
            return None
        back = NSP_TO_FIELD.get(nsp, nsp)
        if back != folded and folded not in ("title", "artist"):
            self.notes.append(
                f"`{condition.field}` is written as Navidrome `{nsp}`, which imports as `{back}`"
            )
        return nsp

    def condition(
        self, condition: RuleCondition, *, negated: bool, parent: str
    ) -> dict[str, Any] | None:
        text = _describe(condition, negated)
        op: str = condition.operator
        if negated:
            twin = NEGATION.get(condition.operator)
            if twin is not None:
                op = twin
            elif condition.operator is Op.HAS_ALL:
                op = NOT_HAS_ALL
            else:
                self.drop(text, f"Navidrome has no negation of `{condition.operator}`", parent)
                return None
        value = condition.value
        if op in (Op.IN_PLAYLIST, Op.NOT_IN_PLAYLIST):
            if not isinstance(value, str):
                self.drop(text, "a playlist is given by its id (text)", parent)
                return None
            return {OPERATOR_TO_NSP[Op(op)]: {"id": value}}
        if op in (Op.IN_RULE, Op.NOT_IN_RULE):
            self.drop(text, "Navidrome cannot refer to another rule set", parent)
            return None
        if op != NOT_HAS_ALL and op not in OPERATOR_TO_NSP and op not in _REWRITTEN:
            lacking = _LACKING.get(Op(op), f"`{OPERATOR_TEXT[Op(op)]}`")
            self.drop(text, f"Navidrome has no {lacking}", parent)
            return None
        name = self.nsp_field(condition, parent, text)
        if name is None:
            return None
        if condition.field.strip().lower() == "duration_ms":
            value = ms_to_seconds(value)
            if value is None:
                self.drop(text, "only numbers of milliseconds convert to `duration`", parent)
                return None
            self.notes.append(f"`{text}` is written in seconds, on Navidrome `duration`")
        if condition.case_sensitive and _has_text(value):
            negative = op in (Op.NE, Op.NOT_CONTAINS, Op.NOT_IN, Op.HAS_NONE, NOT_HAS_ALL)
            effect = "excludes" if negative else "matches"
            self.dropped.append(
                f"`{text}`: Navidrome cannot compare case-sensitively; exported "
                f"ignoring case, so it also {effect} other capitalisations"
            )
        if condition.accent_insensitive and _has_text(value):
            negative = op in (Op.NE, Op.NOT_CONTAINS, Op.NOT_IN, Op.HAS_NONE, NOT_HAS_ALL)
            effect = "excludes" if negative else "matches"
            self.dropped.append(
                f"`{text}`: Navidrome compares accents exactly; exported as written, so it "
                f"no longer {effect} other accentuations"
            )
        return self.translate(op, name, value, text, parent)

    def translate(
        self,
        op: str,
        name: str,
        value: Any,
        text: str,
        parent: str,
    ) -> dict[str, Any] | None:
        if op in (Op.IN_LAST, Op.NOT_IN_LAST):
            days = whole_days(value)
            if days is None:
                self.drop(text, "Navidrome counts whole days only", parent)
                return None
            if value != f"{days}d":
                self.notes.append(f"`{text}` is written as {days} days")
            return {OPERATOR_TO_NSP[Op(op)]: {name: days}}
        if op in (Op.IN, Op.HAS_ANY, Op.NOT_IN, Op.HAS_NONE, Op.HAS_ALL, NOT_HAS_ALL):
            if not isinstance(value, list) or not all(map(is_scalar, value)):
                self.drop(text, "the value is not a list of text or numbers", parent)
                return None
            positive = op in (Op.IN, Op.HAS_ANY, Op.HAS_ALL)
            each = "is" if positive else "isNot"
            every = op in (Op.HAS_ALL, Op.NOT_IN, Op.HAS_NONE)
            parts = [{each: {name: item}} for item in value]
            self.notes.append(f"`{text}` is written as {'all' if every else 'any'} of `{each}`")
            if len(parts) == 1:
                return parts[0]
            return {"all" if every else "any": parts}
        operator = Op(op)
        if operator is Op.BETWEEN:
            if not (isinstance(value, list) and len(value) == 2 and all(map(is_scalar, value))):
                self.drop(text, "the value is not a pair [low, high]", parent)
                return None
            self._note_dates(name, value)
            return {"inTheRange": {name: list(value)}}
        if not is_scalar(value):
            self.drop(text, "the value is not text, a number or true/false", parent)
            return None
        if operator in (Op.GTE, Op.LTE):
            return self.inclusive(operator, name, value, text, parent)
        self._note_dates(name, [value])
        if operator not in OPERATOR_TO_NSP:
            self.drop(text, f"Navidrome has no `{op}`", parent)
            return None
        return {OPERATOR_TO_NSP[operator]: {name: value}}

    def inclusive(
        self, op: RuleOperator, name: str, value: Any, text: str, parent: str
    ) -> dict[str, Any] | None:
        strict = "gt" if op is Op.GTE else "lt"
        if not is_number(value):
            symbol = ">=" if op is Op.GTE else "<="
            self.drop(text, f"Navidrome has no `{symbol}` except on numbers", parent)
            return None
        if name in INTEGRAL_FIELDS and float(value).is_integer():
            bound = int(value) - 1 if op is Op.GTE else int(value) + 1
            self.notes.append(f"`{text}` is written as `{name} {strict} {bound}` (whole numbers)")
            return {strict: {name: bound}}
        self.notes.append(f"`{text}` is written as any of `{strict}` and `is`")
        return {"any": [{strict: {name: value}}, {"is": {name: value}}]}

    def _note_dates(self, name: str, values: list[Any]) -> None:
        if name in DATE_FIELDS or any(infer_type(v) == "date" for v in values):
            self.dates = True

    def sort_key(self, key: SortKey) -> str | None:
        folded = key.field.strip().lower()
        if folded == "random":
            if key.seed is not None:
                self.dropped.append(
                    f"sort by random seed {key.seed}: Navidrome reshuffles on every refresh "
                    "(no stable shuffle)"
                )
            return "random"
        if folded == "duration_ms":
            folded = "duration"
        nsp = FIELD_TO_NSP.get(folded, folded)
        if folded in OURS_ONLY or not navidrome_field(nsp, self.extra_fields):
            self.dropped.append(f"sort by {key.field}: Navidrome has no field `{key.field}`")
            return None
        return nsp

    def sort(self, keys: list[SortKey]) -> dict[str, Any]:
        if not keys:
            self.dropped.append(
                "no sort: here the playlist is in library order; Navidrome orders it by title"
            )
            return {}
        written = [(name, key.order) for key in keys if (name := self.sort_key(key)) is not None]
        if written == [("title", "asc")]:
            return {}  # Navidrome's default
        if not written:
            self.dropped.append("no sort field left: Navidrome orders the playlist by title")
            return {}
        if len(written) == 1:
            name, order = written[0]
            return {"sort": name, "order": "desc"} if order == "desc" else {"sort": name}
        self.notes.append(
            "several sort fields need a Navidrome that accepts comma-separated `sort` fields "
            "(older ones sort by title)"
        )
        return {"sort": ",".join(("-" if o == "desc" else "") + n for n, o in written)}

    def limit(self, rule_set: PlaylistRuleSet) -> dict[str, Any]:
        limit = rule_set.limit
        if limit is None:
            return {}
        if limit.selected_by and limit.selected_by != rule_set.sort:
            chosen = ", ".join(f"{k.field} {k.order}" for k in limit.selected_by)
            self.dropped.append(
                f"limit selected by {chosen}: Navidrome chooses the tracks to keep by the sort "
                "order instead, so other tracks may be kept"
            )
        value = limit.value
        if limit.unit == "minutes":
            self.dropped.append(
                f"limit {value:g} minutes: Navidrome limits by tracks only; the exported "
                "playlist is wider (no limit)"
            )
            return {}
        if not float(value).is_integer():
            self.dropped.append(
                f"limit {value:g}%: Navidrome takes a whole percentage; the exported playlist "
                "is wider (no limit)"
            )
            return {}
        return {"limitPercent" if limit.unit == "percent" else "limit": int(value)}

    def clauses(self, rule_set: PlaylistRuleSet) -> None:
        if rule_set.sources is not None:
            shown = ", ".join(rule_set.sources) or "(none)"
            self.dropped.append(
                f"from {shown}: Navidrome takes every track of its library; the exported "
                "playlist is wider"
            )
        if rule_set.dedupe != "none":
            self.dropped.append(
                f"dedupe by {rule_set.dedupe}: Navidrome does not remove duplicates; the exported "
                "playlist may hold several versions of a song"
            )
        if rule_set.max_per_artist is not None:
            self.dropped.append(
                f"max {rule_set.max_per_artist} per artist: Navidrome has no per-artist cap; the "
                "exported playlist is wider"
            )
        if rule_set.include:
            self.dropped.append(
                f"include (pinned) {len(rule_set.include)} track(s): Navidrome cannot pin "
                "tracks; the exported playlist is narrower"
            )
        if rule_set.exclude:
            self.dropped.append(
                f"exclude (banned) {len(rule_set.exclude)} track(s): Navidrome cannot ban "
                "tracks; the exported playlist is wider"
            )
        self.settings(rule_set)

    def settings(self, rule_set: PlaylistRuleSet) -> None:
        """Notes for the settings of the Spotify sync, which a `.nsp` has no place for (they
        change no track of the playlist)."""
        synced = [
            f"target {rule_set.target_playlist_id or rule_set.target_playlist_name}"
            if rule_set.target_playlist_id or rule_set.target_playlist_name
            else "",
            f"mode {rule_set.sync_mode}" if rule_set.sync_mode != "replace" else "",
            "hold for review" if not rule_set.auto_apply else "",
        ]
        if any(synced):
            self.notes.append(
                f"{', '.join(s for s in synced if s)}: how this tool syncs to Spotify; a .nsp "
                "has no place for it"
            )
        if not rule_set.enabled:
            self.notes.append(
                "the rule set is disabled here; a .nsp cannot say so: Navidrome will run it"
            )


def _has_text(value: Any) -> bool:
    if isinstance(value, list):
        return any(isinstance(v, str) for v in value)
    return isinstance(value, str)
