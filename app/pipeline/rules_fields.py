"""The field registry: every field a rule may test, with its type and where it comes from.

Built-in fields come from the track itself and from where it was found (sources, playlists);
enrichment fields are discovered in the stored enrichments with an inferred type. The registry
drives validation ("`has_any` needs a list field; `tempo` is a number"), the UI's drop-downs and
did-you-mean suggestions, and tells the engine how to compare values (dates, case…).

This module is the facade: field types, the operators each takes (`operators_for`, with the
table) and the built-in fields are `rules_fields_tables`; the registry with its lookups and
did-you-mean `rules_fields_registry`; building it from a library (`registry_from_library`,
`infer_type`) `rules_fields_discovery`. `__all__` re-exports what callers use.
"""

from __future__ import annotations

from app.pipeline.rules_fields_discovery import (
    MAX_EXAMPLES,
    SAMPLE_VALUES,
    infer_type,
    registry_from_library,
)
from app.pipeline.rules_fields_registry import FieldRegistry, closest
from app.pipeline.rules_fields_tables import (
    BUILTIN_FIELDS,
    LIST_OPERATORS,
    SCALAR_OPERATORS,
    TRACK_FIELD,
    TRACK_OPERATORS,
    FieldInfo,
    FieldOrigin,
    FieldType,
    Op,
    operators_for,
    type_label,
)

__all__ = [
    "BUILTIN_FIELDS",
    "LIST_OPERATORS",
    "MAX_EXAMPLES",
    "SAMPLE_VALUES",
    "SCALAR_OPERATORS",
    "TRACK_FIELD",
    "TRACK_OPERATORS",
    "FieldInfo",
    "FieldOrigin",
    "FieldRegistry",
    "FieldType",
    "Op",
    "closest",
    "infer_type",
    "operators_for",
    "registry_from_library",
    "type_label",
]
