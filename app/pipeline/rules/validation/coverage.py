"""Fields no track has (yet): warnings, not errors, naming the providers that would give them.

`energy < 0.4` before any ReccoBeats run is a good rule that matches nothing yet. Saving it must
not be refused, and its empty playlist must not look like an answer: wherever a rule set is
validated, saved or previewed, `field_warnings` lists each field it reads (conditions,
`selected by`, `sort`) that no track has, once per field, with who would give it:

    line 1, column 1: no track has 'energy' yet — run enrichment for reccobeats: `sap enrich --provider reccobeats`

Whether a track has a field is the caller's to say (`absent`): validation asks the field
registry of the stored library (coverage 0), previews ask the loaded library's views. Built-in
fields never warn; a name no provider declares and no track has is an unknown field (an error)
in validation, and a warning in previews of rule sets given in the request.
"""  # noqa: E501 (the example line is one rendered warning)

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import Field

from app.core.rules import PlaylistRuleSet, RuleProblem
from app.pipeline.rules.fields.declared import providers_giving
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import TRACK_FIELD, TRACK_OPERATORS
from app.pipeline.rules.library.views import Library
from app.pipeline.rules.validation.conditions import Found
from app.pipeline.rules.validation.references import conditions_of
from app.pipeline.rules.validation.validator import Spans, path_key, positioned

__all__ = [
    "RuleWarning",
    "absent_in_library",
    "absent_in_registry",
    "field_warnings",
    "fields_read",
]

_RANDOM_SORT = "random"


class RuleWarning(RuleProblem):
    """A field a rule set reads that no track has (yet): the rule set is valid, and matches
    nothing through it until a provider gives it."""

    field: str = Field(description="The field, as the library names it.")
    providers: list[str] = Field(
        description="The providers that would give it (run order); empty when none does."
    )


def fields_read(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, field name) of every field `raw` reads: conditions in document order (track
    operators aside), then `limit.selected_by`, then `sort` (``random`` aside)."""
    for path, condition in sorted(conditions_of(raw.get("rules"), "rules"), key=_by_path):
        name = condition.get("field")
        operator = condition.get("operator")
        if not isinstance(name, str) or name.strip().casefold() == TRACK_FIELD:
            continue
        if operator in {op.value for op in TRACK_OPERATORS}:
            continue
        yield f"{path}.field", name
    limit = raw.get("limit")
    selected = limit.get("selected_by") if isinstance(limit, Mapping) else None
    for base, keys in (("limit.selected_by", selected), ("sort", raw.get("sort"))):
        if not isinstance(keys, list):
            continue
        for index, key in enumerate(keys):
            name = key.get("field") if isinstance(key, Mapping) else None
            if isinstance(name, str) and name.strip().casefold() != _RANDOM_SORT:
                yield f"{base}[{index}].field", name


def _by_path(item: tuple[str, Mapping[str, Any]]) -> tuple[tuple[int, int | str], ...]:
    return path_key(item[0])


def field_warnings(
    rule_set: Mapping[str, Any] | PlaylistRuleSet,
    absent: Callable[[str], str | None],
    *,
    text: str | None = None,
    spans: Spans | None = None,
) -> list[RuleWarning]:
    """One warning per field `rule_set` reads that no track has, positioned like problems.

    `absent(name)` says, for a name as the rule writes it, the field's name when no track has
    it, else None.
    """
    raw = rule_set.model_dump(mode="python") if isinstance(rule_set, PlaylistRuleSet) else rule_set
    found: list[Found] = []
    warned: set[str] = set()
    for path, name in fields_read(raw):
        field = absent(name)
        if field is None or field in warned:
            continue
        warned.add(field)
        providers = providers_giving(field)
        warning = RuleWarning(
            message=f"no track has {field!r} yet",
            path=path,
            hint=_hint(field, providers),
            field=field,
            providers=list(providers),
        )
        found.append(Found(warning, name))
    return [w for w in positioned(found, text, spans) if isinstance(w, RuleWarning)]


def _hint(field: str, providers: tuple[str, ...]) -> str:
    if not providers:
        return (
            f"no provider gives it: set it yourself (`sap tag TRACK {field}=VALUE`) or check "
            "the spelling"
        )
    options = " ".join(f"--provider {provider}" for provider in providers)
    return f"run enrichment for {' or '.join(providers)}: `sap enrich {options}`"


def absent_in_registry(registry: FieldRegistry) -> Callable[[str], str | None]:
    """`absent` for validation: an enrichment field of `registry` whose coverage is 0."""

    def absent(name: str) -> str | None:
        info = registry.resolve(name)
        if info is None or info.origin != "enrichment" or info.coverage != 0:
            return None
        return info.name

    return absent


def absent_in_library(library: Library) -> Callable[[str], str | None]:
    """`absent` for previews: a field that is not built in and that no view has a value for
    (under its name, or its name in another case: see `Library.key_for`)."""
    builtin = FieldRegistry.builtin()

    def absent(name: str) -> str | None:
        if builtin.resolve(name) is not None:
            return None
        key = library.key_for(name)
        return None if library.has_values(key) else key

    return absent
