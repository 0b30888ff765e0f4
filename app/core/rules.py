"""The rules DSL's model: what a playlist rule set is, as JSON (the source of truth).

A `PlaylistRuleSet` describes one playlist: which tracks belong (`rules`, a tree of
`RuleGroup`s and `RuleCondition`s), from which sources, in what order, how many. The text
syntax (`app.pipeline.rules.text`) is a second, exactly equivalent view of the same model.

Files written by the seed (a flat `RuleGroup` of `{field, operator, value}` conditions with the
operators eq … regex) load unchanged: every field they used keeps its name and meaning.

This module checks *structure* only (types, shapes, known operators, limits on size). Whether a
field exists, whether an operator suits its type and whether a value is well-formed is decided
against the field registry by the validator (`app.pipeline.rules.validation`), which reports every
problem with its position.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

RULES_SCHEMA_VERSION = 1
MAX_DEPTH = 8
MAX_CONDITIONS = 200
MAX_REGEX_LENGTH = 500
MAX_LIST_VALUES = 1000
MAX_LIMIT = 1_000_000_000  # tracks or minutes; a limit beyond any library is a typo
MAX_RULE_TEXT_CHARS = 100_000
"""The longest rule text (characters) parse, validate and save accept: 200 conditions with
long regexes and comments fit many times over; a 10 MB text took the parser 18 to 47 s."""


class RuleOperator(StrEnum):
    """Every operator of the language; the seed's are eq … regex.

    The name is all the model needs. Everything else about an operator (its negative twin, text
    form, value shape, the field types it applies to, how it tests a value, its Navidrome form)
    is declared once in the operator registry, `app.pipeline.rules.operators`, which refuses to
    load while a member here has no entry there.
    """

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    NOT_BETWEEN = "not_between"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    NOT_STARTS_WITH = "not_starts_with"
    ENDS_WITH = "ends_with"
    NOT_ENDS_WITH = "not_ends_with"
    REGEX = "regex"
    NOT_REGEX = "not_regex"
    HAS_ANY = "has_any"
    HAS_ALL = "has_all"
    HAS_NONE = "has_none"
    BEFORE = "before"
    AFTER = "after"
    IN_LAST = "in_last"
    NOT_IN_LAST = "not_in_last"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"
    IN_PLAYLIST = "in_playlist"
    NOT_IN_PLAYLIST = "not_in_playlist"
    IN_RULE = "in_rule"
    NOT_IN_RULE = "not_in_rule"


_SPAN = re.compile(r"^\s*(\d+)\s*(h|d|w|mo|y)\s*$")
SPAN_SECONDS = {"h": 3600, "d": 86_400, "w": 7 * 86_400, "mo": 30 * 86_400, "y": 365 * 86_400}


def parse_span(text: str) -> int:
    """Seconds in a relative span such as ``30d`` (units h d w mo y; mo = 30 d, y = 365 d)."""
    match = _SPAN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time span like 12h, 30d, 2w, 6mo or 1y")
    return int(match.group(1)) * SPAN_SECONDS[match.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RuleCondition(_Strict):
    """`field operator value`; text comparisons ignore case unless `case_sensitive`, and
    ignore accents (é = e, ñ = n) when `accent_insensitive`."""

    field: str = Field(min_length=1, max_length=100)
    operator: RuleOperator
    value: Any = None
    case_sensitive: bool = False
    accent_insensitive: bool = False

    @field_validator("value")
    @classmethod
    def _storable_numbers(cls, value: Any) -> Any:
        # Every store writes 64-bit integers and finite doubles; anything else would pass
        # validation and crash the save.
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                continue
            if isinstance(item, int) and not -(2**63) <= item < 2**63:
                raise ValueError(f"{str(item)[:40]} does not fit in 64 bits")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{item} is not a number the rules can hold")
        return value


def _node_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "group" if "conditions" in value else "condition"
    return "group" if isinstance(value, RuleGroup) else "condition"


RuleNode = Annotated[
    Annotated[RuleCondition, Tag("condition")] | Annotated["RuleGroup", Tag("group")],
    Discriminator(_node_kind),
]


class RuleGroup(_Strict):
    """All (`and`) or any (`or`) of its conditions; `negate` inverts the whole group."""

    operator: Literal["and", "or"] = "and"
    negate: bool = False
    conditions: list[RuleNode] = Field(default_factory=list)

    @field_validator("operator", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"all": "and", "any": "or"}.get(value.strip().lower(), value.strip().lower())
        return value

    def depth(self) -> int:
        """1 for a group of plain conditions."""
        return 1 + max((c.depth() for c in self.conditions if isinstance(c, RuleGroup)), default=0)

    def condition_count(self) -> int:
        return sum(c.condition_count() if isinstance(c, RuleGroup) else 1 for c in self.conditions)


class SortKey(_Strict):
    """One sort criterion; `field: "random"` with `seed` gives a stable shuffle."""

    field: str = Field(min_length=1, max_length=100)
    order: Literal["asc", "desc"] = "asc"
    seed: int | None = None


class LimitSpec(_Strict):
    """Keep N tracks, N minutes or N percent, chosen by `selected_by` (else by the sort)."""

    value: float = Field(gt=0, le=MAX_LIMIT)
    unit: Literal["tracks", "minutes", "percent"] = "tracks"
    selected_by: list[SortKey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sane(self) -> LimitSpec:
        if self.unit == "tracks" and self.value != int(self.value):
            raise ValueError("a limit in tracks must be a whole number")
        if self.unit == "percent" and self.value > 100:
            raise ValueError("a limit in percent must be at most 100")
        return self


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class PlaylistRuleSet(_Strict):
    """One playlist's rules. Fields the seed had keep their names and meaning."""

    schema_version: int = RULES_SCHEMA_VERSION
    id: str
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool = True
    rules: RuleGroup = Field(default_factory=RuleGroup)
    sources: list[str] | None = None  # "liked", "playlist:<id>", "csv:<name>"; None: all
    sort: list[SortKey] = Field(default_factory=list)
    limit: LimitSpec | None = None
    dedupe: Literal["none", "id", "isrc", "recording"] = "none"
    max_per_artist: int | None = Field(default=None, ge=1)
    include: list[str] = Field(default_factory=list)  # pinned track ids
    exclude: list[str] = Field(default_factory=list)  # banned track ids
    target_playlist_id: str | None = None
    target_playlist_name: str | None = Field(default=None, max_length=200)
    sync_mode: Literal["replace", "merge", "append"] = "replace"
    # Unattended sync applies this rule set's plan by itself when no guard trips; False: hold it
    # for review.
    auto_apply: bool = True

    @field_validator("id", mode="after")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "an id is 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter "
                f"or digit (got {value!r})"
            )
        return value

    @model_validator(mode="after")
    def _size(self) -> PlaylistRuleSet:
        if self.rules.depth() > MAX_DEPTH:
            raise ValueError(f"rules are nested {self.rules.depth()} deep; at most {MAX_DEPTH}")
        count = self.rules.condition_count()
        if count > MAX_CONDITIONS:
            raise ValueError(f"{count} conditions; a rule set may have at most {MAX_CONDITIONS}")
        return self


class RuleProblem(BaseModel):
    """One problem in a rule set, in the shape every interface shows (API, CLI, UI).

    Text input has `line`/`column` (1-based) and `length` of the offending text; JSON input has
    `path` (e.g. ``rules.conditions[2].value``). `hint` suggests a fix (did-you-mean…).
    """

    message: str
    line: int | None = None
    column: int | None = None
    length: int = 1
    path: str | None = None
    hint: str | None = None

    def render(self, text: str | None = None) -> str:
        """``line 1, column 17: message — hint`` plus the source line and a caret when known."""
        where = (
            f"line {self.line}, column {self.column}: "
            if self.line is not None
            else f"{self.path}: "
            if self.path
            else ""
        )
        head = f"{where}{self.message}" + (f" — {self.hint}" if self.hint else "")
        if text is None or self.line is None or self.column is None:
            return head
        lines = text.splitlines()
        if not 1 <= self.line <= len(lines):
            return head
        source = lines[self.line - 1]
        caret = " " * (self.column - 1) + "^" * max(1, self.length)
        return f"{head}\n{source}\n{caret}"
