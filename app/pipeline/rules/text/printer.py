"""The printer of the rules text form and the normal form it shares with the parser.

`ParsedRules` is what a text describes (the rule tree, the five clauses that say which tracks
and how many, and the settings clauses it states); `normalize` gives a rule tree its canonical
shape (the parser returns it, the printer writes it); `format_rules` prints a rule set,
`ParsedRules` or rule tree as canonical text, writing only the parentheses it needs;
`is_date_literal` says which texts the parser reads as unquoted dates. The syntax itself is
described, with worked examples, in `parser`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.rules import (
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    SortKey,
)
from app.pipeline.rules.operators import BY_NAME, NEGATION, TEXT_FORMS, VALUE_KIND
from app.pipeline.rules.text.grammar import FIELD_KEYWORDS

__all__ = [
    "OPERATOR_TEXT",
    "SETTINGS_DEFAULTS",
    "TEXT_FIELDS",
    "TRACK_FIELD",
    "ParsedRules",
    "PlaylistTarget",
    "format_rules",
    "is_date_literal",
    "normalize",
    "rule_set_json",
]

TRACK_FIELD = "track"
"""The field of `in playlist` / `in rule` conditions, which test the track itself."""

TEXT_FIELDS = ("rules", "sources", "sort", "limit", "dedupe", "max_per_artist")
"""The `PlaylistRuleSet` fields the text describes completely (no clause: the default)."""

SETTINGS_DEFAULTS: dict[str, Any] = {
    "include": [],
    "exclude": [],
    "target_playlist_id": None,
    "target_playlist_name": None,
    "sync_mode": "replace",
    "auto_apply": True,
    "enabled": True,
    "description": None,
}
"""The `PlaylistRuleSet` fields the settings clauses describe, with their defaults: a text that
leaves a clause out keeps the rule set's value (`ParsedRules.apply_to`)."""

_SETTINGS = "; null: the text has no such clause (a saved rule set keeps its value)"


class PlaylistTarget(BaseModel):
    """The `target` clause: the Spotify playlist a rule set writes to, by id (an existing one)
    and/or by name (created on the first apply when none has it); neither: `target none`."""

    model_config = ConfigDict(extra="forbid")

    playlist_id: str | None = Field(default=None, min_length=1, max_length=200)
    playlist_name: str | None = Field(default=None, min_length=1, max_length=200)


class ParsedRules(BaseModel):
    """What a text describes: the rule tree and the five clauses (with the model's defaults),
    and the settings clauses it states (`None`: not stated)."""

    model_config = ConfigDict(extra="forbid")

    rules: RuleGroup = Field(default_factory=RuleGroup)
    sources: list[str] | None = None
    sort: list[SortKey] = Field(default_factory=list)
    limit: LimitSpec | None = None
    dedupe: Literal["none", "id", "isrc", "recording"] = "none"
    max_per_artist: int | None = Field(default=None, ge=1)
    include: list[str] | None = Field(
        default=None, description="`pin …`: pinned track ids ([]: `pin none`)" + _SETTINGS
    )
    exclude: list[str] | None = Field(
        default=None, description="`ban …`: banned track ids ([]: `ban none`)" + _SETTINGS
    )
    target: PlaylistTarget | None = Field(
        default=None, description="`target …` (both null: `target none`)" + _SETTINGS
    )
    sync_mode: Literal["replace", "merge", "append"] | None = Field(
        default=None, description="`mode …`" + _SETTINGS
    )
    auto_apply: bool | None = Field(
        default=None, description="`apply by itself` (true) or `hold for review`" + _SETTINGS
    )
    enabled: bool | None = Field(default=None, description="`enabled` or `disabled`" + _SETTINGS)
    description: str | None = Field(
        default=None,
        max_length=2000,
        description='`description "…"` ("": `description none`)' + _SETTINGS,
    )

    def settings(self) -> dict[str, Any]:
        """The rule set fields the settings clauses state (a clause left out: not there)."""
        stated: dict[str, Any] = {}
        for name in ("include", "exclude", "sync_mode", "auto_apply", "enabled"):
            value = getattr(self, name)
            if value is not None:
                stated[name] = list(value) if isinstance(value, list) else value
        if self.target is not None:
            stated["target_playlist_id"] = self.target.playlist_id
            stated["target_playlist_name"] = self.target.playlist_name
        if self.description is not None:
            stated["description"] = self.description or None
        return stated

    def apply_to(self, rule_set: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a rule set's JSON with the six text fields replaced (no clause: the
        default) and the settings the text states (no clause: the rule set's value kept)."""
        six = self.model_dump(mode="json", include=set(TEXT_FIELDS))
        return {**rule_set, **six, **self.settings()}


_SETTINGS_KEYS = (
    "include",
    "exclude",
    "target",
    "sync_mode",
    "auto_apply",
    "enabled",
    "description",
)


def rule_set_json(body: Mapping[str, Any]) -> dict[str, Any]:
    """A rule set's JSON from one that may hold `ParsedRules`' settings (what
    `/data/rules/parse` answers, spread into a rule set: ``target``, nulls for what the text
    does not state); a plain rule set's JSON is returned as it is. Raises `ValueError` if the
    settings are not `ParsedRules`' either."""
    nulls = any(body.get(k, "") is None for k in _SETTINGS_KEYS if k != "description")
    if "target" not in body and not nulls:
        return dict(body)
    parsed = ParsedRules.model_validate({k: body[k] for k in _SETTINGS_KEYS if k in body})
    rest = {key: value for key, value in body.items() if key not in _SETTINGS_KEYS}
    return {**rest, **parsed.settings()}


# --- normal form -------------------------------------------------------------------------------


def normalize(group: RuleGroup) -> RuleGroup:
    """The canonical tree the printer writes and the parser returns (same meaning).

    Flattens a group into a parent with the same operator, replaces one-child groups by their
    child, folds `not` into the negative twin (``not (x = 1)`` → ``x != 1``), removes double
    negation, and gives values their canonical container (lists, ``None`` for `exists`).
    A root with a single condition becomes ``and [condition]``.
    """
    node = _normalize_node(group)
    return node if isinstance(node, RuleGroup) else RuleGroup(conditions=[node])


def _normalize_node(node: RuleCondition | RuleGroup) -> RuleCondition | RuleGroup:
    if isinstance(node, RuleCondition):
        return _canonical_value(node)
    if not node.conditions:
        return node
    children: list[RuleCondition | RuleGroup] = []
    for child in (_normalize_node(c) for c in node.conditions):
        if (
            isinstance(child, RuleGroup)
            and child.conditions
            and not child.negate
            and child.operator == node.operator
        ):
            children.extend(child.conditions)
        else:
            children.append(child)
    if len(children) == 1:
        return _negated(children[0]) if node.negate else children[0]
    return RuleGroup(operator=node.operator, negate=node.negate, conditions=children)


def _negated(node: RuleCondition | RuleGroup) -> RuleCondition | RuleGroup:
    """NOT of an already normal node, itself normal."""
    if isinstance(node, RuleGroup):
        if node.negate and len(node.conditions) == 1:  # `not (x > 1)`: double negation
            return node.conditions[0]
        return node.model_copy(update={"negate": not node.negate})
    twin = NEGATION.get(node.operator)
    if twin is None:  # gt gte lt lte has_all before after: only `not (…)` says it
        return RuleGroup(negate=True, conditions=[node])
    return node.model_copy(update={"operator": twin})


def _canonical_value(condition: RuleCondition) -> RuleCondition:
    kind = VALUE_KIND[condition.operator]
    value = condition.value
    if kind == "none" and value is not None:
        return condition.model_copy(update={"value": None})
    if kind in ("pair", "list") and isinstance(value, tuple):
        return condition.model_copy(update={"value": list(value)})
    return condition


# --- printer -----------------------------------------------------------------------------------

OPERATOR_TEXT: dict[RuleOperator, str] = {op: forms[0] for op, forms in TEXT_FORMS.items()}
"""Each operator's text form, as the printer writes it (for help screens and the UI)."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?)?)?"
)
_SPAN_TEXT = re.compile(r"[0-9]+(?:mo|h|d|w|y)")
_SIMPLE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def format_rules(rules: PlaylistRuleSet | ParsedRules | RuleGroup | Mapping[str, Any]) -> str:
    """The canonical text of a rule set (or of its rule tree): normalized, one clause per line.

    Raises `ValueError` for what has no text form: an empty nested group, a value of the wrong
    shape for its operator (validation reports those), a non-finite number, ``sources: []``.
    """
    parts = _as_parts(rules)
    lines = []
    root = normalize(parts.rules)
    if root.conditions:
        lines.append(_group_text(root))
    elif root.negate or root.operator != "and":
        raise ValueError("an empty `or` or negated root group has no text form")
    if parts.sources is not None:
        if not parts.sources:
            raise ValueError("`sources: []` (no candidates at all) has no text form")
        lines.append("from " + ", ".join(_source_text(s) for s in parts.sources))
    if parts.sort:
        lines.append("sort by " + _sort_keys_text(parts.sort))
    if parts.limit is not None:
        lines.append(_limit_text(parts.limit))
    if parts.dedupe != "none":
        lines.append(f"dedupe by {parts.dedupe}")
    if parts.max_per_artist is not None:
        lines.append(f"max {parts.max_per_artist} per artist")
    lines.extend(_settings_lines(parts))
    return "\n".join(lines)


def _as_parts(rules: PlaylistRuleSet | ParsedRules | RuleGroup | Mapping[str, Any]) -> ParsedRules:
    if isinstance(rules, ParsedRules):
        return rules
    if isinstance(rules, RuleGroup):
        return ParsedRules(rules=rules)
    if isinstance(rules, PlaylistRuleSet):
        return _rule_set_parts(rules.model_dump())
    if set(rules) - set(TEXT_FIELDS) <= set(ParsedRules.model_fields):  # ParsedRules' JSON
        return ParsedRules.model_validate(rules)
    return _rule_set_parts(rules)


def _rule_set_parts(rule_set: Mapping[str, Any]) -> ParsedRules:
    """The parts of a rule set's JSON: its settings stated where they are not the default (a
    rule set's text says what it has; a new rule set gets the same from the defaults)."""
    parts: dict[str, Any] = {f: rule_set[f] for f in TEXT_FIELDS if f in rule_set}
    for name in ("include", "exclude", "sync_mode", "auto_apply", "enabled", "description"):
        value = rule_set.get(name, SETTINGS_DEFAULTS[name])
        if value != SETTINGS_DEFAULTS[name] and value != "":
            parts[name] = value
    playlist_id = rule_set.get("target_playlist_id")
    playlist_name = rule_set.get("target_playlist_name")
    if playlist_id or playlist_name:
        parts["target"] = {"playlist_id": playlist_id, "playlist_name": playlist_name}
    return ParsedRules.model_validate(parts)


def _settings_lines(parts: ParsedRules) -> list[str]:
    """The settings clauses `parts` states, one per line, in the grammar's order."""
    lines = []
    for keyword, ids in (("pin", parts.include), ("ban", parts.exclude)):
        if ids is not None:
            lines.append(_track_ids_text(keyword, ids))
    if parts.target is not None:
        lines.append("target " + _target_text(parts.target))
    if parts.sync_mode is not None:
        lines.append(f"mode {parts.sync_mode}")
    if parts.auto_apply is not None:
        lines.append("apply by itself" if parts.auto_apply else "hold for review")
    if parts.enabled is not None:
        lines.append("enabled" if parts.enabled else "disabled")
    if parts.description is not None:
        lines.append("description " + (_quote(parts.description) if parts.description else "none"))
    return lines


_WIDTH = 100
"""A `pin`/`ban` list longer than this goes one id a line (a diff then shows one id a line)."""


def _track_ids_text(keyword: str, ids: list[str]) -> str:
    if not ids:
        return f"{keyword} none"
    quoted = [_quote(track_id) for track_id in ids]
    line = f"{keyword} " + ", ".join(quoted)
    if len(line) <= _WIDTH:
        return line
    indent = " " * (len(keyword) + 1)
    return f"{keyword} " + f",\n{indent}".join(quoted)


def _target_text(target: PlaylistTarget) -> str:
    if target.playlist_id is None and target.playlist_name is None:
        return "none"
    text = "playlist"
    if target.playlist_id is not None:
        text += " " + _quote(target.playlist_id)
    if target.playlist_name is not None:
        text += " named " + _quote(target.playlist_name)
    return text


def _group_text(group: RuleGroup) -> str:
    if not group.conditions:
        raise ValueError("an empty nested group has no text form")
    inner = f" {group.operator} ".join(
        _child_text(child, group.operator) for child in group.conditions
    )
    if group.negate:
        return f"not ({inner})"
    return inner


def _child_text(node: RuleCondition | RuleGroup, parent_operator: str) -> str:
    if isinstance(node, RuleCondition):
        return _condition_text(node)
    text = _group_text(node)
    # `and` binds tighter than `or`: only an `or` group inside an `and` needs parentheses.
    if not node.negate and node.operator == "or" and parent_operator == "and":
        return f"({text})"
    return text


def _condition_text(condition: RuleCondition) -> str:
    operator = condition.operator
    kind = VALUE_KIND[operator]
    value = condition.value
    where = f"{condition.field} {operator.value}"
    implied = (
        "track" in BY_NAME[operator].applies_to
        and condition.field == TRACK_FIELD
        and not condition.case_sensitive
        and not condition.accent_insensitive
    )
    parts = [] if implied else [_field_text(condition.field)]
    parts.append(OPERATOR_TEXT[operator])
    if kind == "scalar":
        parts.append(_scalar_text(value, where))
    elif kind == "pair":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(f"{where}: needs a [low, high] pair, got {value!r}")
        parts.append(f"{_scalar_text(value[0], where)}..{_scalar_text(value[1], where)}")
    elif kind == "list":
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: needs a list, got {value!r}")
        parts.append("[" + ", ".join(_scalar_text(v, where) for v in value) + "]")
    elif kind == "span":
        if not isinstance(value, str):
            raise ValueError(f"{where}: needs a time span such as '30d', got {value!r}")
        parts.append(value if _SPAN_TEXT.fullmatch(value) else _quote(value))
    elif kind == "ref":
        if not isinstance(value, str):
            raise ValueError(f"{where}: needs a name in quotes, got {value!r}")
        parts.append(_quote(value))
    if condition.case_sensitive:
        parts.append("case sensitive")
    if condition.accent_insensitive:
        parts.append("accent insensitive")
    return " ".join(parts)


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} has no text form")
        return repr(value)
    if isinstance(value, str):
        return value if is_date_literal(value) else _quote(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise ValueError(f"{where}: {value!r} is not a text, number, date or boolean")


def is_date_literal(text: str) -> bool:
    """A date the parser accepts unquoted: YYYY-MM, YYYY-MM-DD or an ISO date-time."""
    if not _DATE.fullmatch(text):
        return False
    try:
        if len(text) == 7:
            return 1 <= int(text[5:]) <= 12 and int(text[:4]) >= 1
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _field_text(name: str) -> str:
    if _NAME.fullmatch(name) and name.lower() not in FIELD_KEYWORDS:
        return name
    return _quote(name)


def _quote(text: str) -> str:
    """Double-quoted, escaping only what must be; a backslash stays single when unambiguous."""
    out = ['"']
    for index, char in enumerate(text):
        if char == "\\":
            following = text[index + 1] if index + 1 < len(text) else None
            plain = (
                following is not None
                and following not in '"\\ntru'
                and _escape_char(following) == following
            )
            out.append("\\" if plain else "\\\\")
        else:
            out.append(_escape_char(char))
    out.append('"')
    return "".join(out)


def _escape_char(char: str) -> str:
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    code = ord(char)
    # Control characters and anything `str.splitlines` treats as a line break stay visible.
    if code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029):
        return f"\\u{code:04x}"
    return char


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _source_text(source: str) -> str:
    if source == "liked":
        return "liked"
    for kind in ("playlist", "csv"):
        if source.startswith(f"{kind}:"):
            return f"{kind} {_quote(source[len(kind) + 1 :])}"
    return _quote(source)


def _sort_keys_text(keys: Iterable[SortKey]) -> str:
    texts = []
    for key in keys:
        text = _field_text(key.field) + (" desc" if key.order == "desc" else "")
        texts.append(text + (f" seed {key.seed}" if key.seed is not None else ""))
    return ", ".join(texts)


def _limit_text(limit: LimitSpec) -> str:
    unit = {"tracks": " tracks", "minutes": " minutes", "percent": "%"}[limit.unit]
    text = f"limit {_number_text(limit.value)}{unit}"
    if limit.selected_by:
        text += " selected by " + _sort_keys_text(limit.selected_by)
    return text
