"""The fields providers declare: what each enrichment provider gives, before it has run.

    providers_giving("tempo")          # ('deezer', 'reccobeats'): run order, manual aside
    add_declared_fields(registry)      # every declared field the library lacks, coverage 0

A provider class lists its `fields` (`app.providers.base.FieldSpec`); the provider registry
(`app.providers.registry.PROVIDERS`) lists the providers in run order. So a rule may name a
field before any track has it: validation knows its type, and warns that no track has it yet,
naming who would give it (`validation.coverage`). The user's own values (the manual provider)
are not fetched, so the manual provider is never named.
"""

from __future__ import annotations

from dataclasses import replace

from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import FieldInfo, FieldType
from app.providers.base import FieldKind
from app.providers.registry import PROVIDERS

__all__ = ["add_declared_fields", "declared_fields", "providers_giving"]

_TYPES: dict[FieldKind, tuple[FieldType, bool]] = {
    "text": ("text", False),
    "number": ("number", False),
    "integer": ("number", False),
    "boolean": ("bool", False),
    "date": ("date", False),
    "list": ("text", True),
}


def declared_fields() -> dict[str, FieldInfo]:
    """Every field a fetching provider declares, by name: its type, description and the
    providers declaring it (`declared_by`, run order); coverage 0: no track is known to have it."""
    found: dict[str, FieldInfo] = {}
    for provider in PROVIDERS:
        if provider.type == "manual":
            continue
        for spec in provider.fields:
            known = found.get(spec.name)
            if known is not None:
                found[spec.name] = replace(known, declared_by=(*known.declared_by, provider.id))
                continue
            field_type, is_list = _TYPES[spec.type]
            found[spec.name] = FieldInfo(
                name=spec.name,
                type=field_type,
                is_list=is_list,
                origin="enrichment",
                description=spec.description,
                declared_by=(provider.id,),
                coverage=0.0,
            )
    return found


def providers_giving(name: str) -> tuple[str, ...]:
    """The providers that give the field `name` (exactly, else case-insensitively), run order."""
    fields = declared_fields()
    info = fields.get(name)
    if info is None:
        folded = name.casefold()
        info = next((i for key, i in fields.items() if key.casefold() == folded), None)
    return () if info is None else info.declared_by


def add_declared_fields(registry: FieldRegistry) -> FieldRegistry:
    """`registry` with every declared field: those it has (found in the library) learn who
    declares them; the others are added with coverage 0. A name a built-in already takes
    (itself or an alias) stays the built-in's."""
    for name, declared in declared_fields().items():
        info = registry.resolve(name)
        if info is None:
            registry.add(declared)
        elif info.origin == "enrichment" and not info.declared_by:
            registry.add(replace(info, declared_by=declared.declared_by))
    return registry
