"""The field registry: fields by name (aliases resolve to their field) and their lookups.

It answers validation ("`has_any` needs a list field; `tempo` is a number") and the engine
(`operators`, `resolve`), suggests the closest spelling of a mistyped name (`suggest`, and
`closest`, the did-you-mean validation also uses for keys, operators and rule ids), and gives the
UI's drop-downs their rows (`describe`, `GET /data/rules/fields`). `FieldRegistry.builtin()`
holds the built-in fields; `discovery.registry_from_library` adds the enrichment
keys of a library.
"""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from app.core.rules import RuleOperator
from app.pipeline.rules.fields.types import (
    BUILTIN_FIELDS,
    TRACK_FIELD,
    TRACK_OPERATORS,
    FieldInfo,
    FieldOrigin,
    FieldType,
    operators_for,
)

_ORIGIN_ORDER = {"track": 0, "source": 1, "enrichment": 2}
_TRACK_ROW_DESCRIPTION = (
    "the track itself: membership in a playlist (id or name) or in another rule set's result"
)


class FieldRow(BaseModel):
    """One field as the UI's drop-downs list it (`GET /data/rules/fields`)."""

    name: str
    type: FieldType | Literal["track"] = Field(
        description="Of its values; `track` for the pseudo-field of the track operators."
    )
    list: bool = Field(description="It holds several values (genres, artists…).")
    operators: builtins.list[RuleOperator] = Field(description="Operators valid on it.")
    examples: builtins.list[str]
    coverage: float | None = Field(
        description="Share of library tracks with a value (null: not measured)."
    )
    origin: FieldOrigin
    providers: builtins.list[str] = Field(description="Enrichment providers seen giving it.")
    declared_by: builtins.list[str] = Field(
        description="Providers that give it when they run (their declared fields), in run "
        "order; with `coverage` 0, no track has it yet: run one of them."
    )
    aliases: builtins.list[str]
    description: str
    notes: builtins.list[str] = Field(description="E.g. a type conflict seen during discovery.")

    @classmethod
    def of(cls, info: FieldInfo) -> FieldRow:
        return cls(
            name=info.name,
            type=info.type,
            list=info.is_list,
            operators=list(operators_for(info)),
            examples=list(info.examples),
            coverage=None if info.coverage is None else round(info.coverage, 4),
            origin=info.origin,
            providers=list(info.providers),
            declared_by=list(info.declared_by),
            aliases=list(info.aliases),
            description=info.description,
            notes=list(info.notes),
        )


@dataclass
class FieldRegistry:
    """Fields by name (aliases resolve to their field)."""

    fields: dict[str, FieldInfo] = field(default_factory=dict)

    @classmethod
    def builtin(cls) -> FieldRegistry:
        return cls({info.name: info for info in BUILTIN_FIELDS})

    def add(self, info: FieldInfo) -> None:
        self.fields[info.name] = info

    def resolve(self, name: str) -> FieldInfo | None:
        """The field called `name` (or aliased so): exactly, else case-insensitively."""
        exact = self.fields.get(name)
        if exact is not None:
            return exact
        key = name.strip().casefold()
        for info in self.fields.values():
            if info.name.casefold() == key or key in info.aliases:
                return info
        return None

    def names(self) -> list[str]:
        return sorted(self.fields)

    def spellings(self) -> list[str]:
        """Every name a rule may use: fields, aliases and the pseudo-field `track`."""
        names = [TRACK_FIELD]
        for info in self.fields.values():
            names.append(info.name)
            names.extend(info.aliases)
        return names

    def suggest(self, name: str, *, limit: int = 1) -> list[str]:
        """The closest known spellings of a mistyped field name (did-you-mean), best first."""
        return closest(name, self.spellings(), limit=limit)

    def operators(self, name: str) -> tuple[RuleOperator, ...]:
        """Operators valid on the field `name` (`TRACK_OPERATORS` for `track`); () if unknown."""
        if name.strip().casefold() == TRACK_FIELD:
            return TRACK_OPERATORS
        info = self.resolve(name)
        return () if info is None else operators_for(info)

    def describe(self) -> list[FieldRow]:
        """The rows of `GET /data/rules/fields`: built-ins first, then the enrichment fields
        tracks have, by name, then those no track has yet (declared by providers), by name."""
        builtin_order = {info.name: index for index, info in enumerate(BUILTIN_FIELDS)}
        infos = sorted(
            self.fields.values(),
            key=lambda i: (
                _ORIGIN_ORDER[i.origin],
                builtin_order.get(i.name, len(builtin_order)),
                i.origin == "enrichment" and i.coverage == 0,
                i.name.casefold(),
            ),
        )
        rows = [FieldRow.of(info) for info in infos]
        track_row = FieldRow(
            name=TRACK_FIELD,
            type="track",
            list=False,
            operators=list(TRACK_OPERATORS),
            examples=[],
            coverage=None,
            origin="track",
            providers=[],
            declared_by=[],
            aliases=[],
            description=_TRACK_ROW_DESCRIPTION,
            notes=[],
        )
        split = sum(1 for info in infos if info.origin != "enrichment")
        return [*rows[:split], track_row, *rows[split:]]


def closest(word: str, candidates: Iterable[str], *, limit: int = 1) -> list[str]:
    """Up to `limit` candidates close to `word` (difflib ratio ≥ 0.6, case-insensitive)."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    matches = difflib.get_close_matches(word.casefold(), list(by_folded), n=limit, cutoff=0.6)
    return [by_folded[match] for match in matches]
