"""The stored library as the rules' fields need it: built with field discovery in its pass,
prepared with the field types the engine sorts by.

    LibraryCache(stores, precedence, load=load_stored_library, prepare=prepare_library)

What `Services` gives its `LibraryCache`: the library (`library.build`) knows nothing of
fields, which stand above it, so discovery and the field types are handed to it here.
"""

from __future__ import annotations

from app.data import Stores
from app.pipeline.rules.fields.discovery import Discovery, sample_type
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.fields.types import FieldType
from app.pipeline.rules.library.build import load_library_views
from app.pipeline.rules.library.order import prepare
from app.pipeline.rules.library.views import Library
from app.providers.registry import Precedence

__all__ = ["library_field_type", "load_stored_library", "prepare_library"]

_BUILTIN = FieldRegistry.builtin()


def load_stored_library(stores: Stores, precedence: Precedence) -> Library:
    """The stored library as typed columns, with the fields discovery found in the same pass
    (`Library.discovered`: what validating and saving a rule set check against)."""
    return load_library_views(stores, precedence=precedence, discovery=Discovery())


def prepare_library(library: Library) -> None:
    """The sort ranks and dedupe markers every preview of a new library needs first, its
    fields typed as the engine types them without a registry (`library_field_type`)."""
    prepare(library, lambda name: library_field_type(library, name))


def library_field_type(library: Library, name: str) -> FieldType | None:
    """A field's type as the built-in registry gives it, else inferred from the library's
    first 500 values of it (kept on the library)."""
    info = _BUILTIN.resolve(name)
    if info is not None:
        return info.type
    cache_key = ("type", name)
    if cache_key not in library.columns:
        library.columns[cache_key] = sample_type(library.sample(name, 500))
    inferred: FieldType | None = library.columns[cache_key]
    return inferred
