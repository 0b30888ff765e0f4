"""How rules see a track's enrichment: one merged mapping over every provider's entry.

`build_enrichment_view` merges a track's enrichment entries (one per provider) into one mapping in
which every value keeps its provenance: a scalar comes from the most trusted provider that has it
(by the `Precedence` it is given: the provider registry's ranks, or the user's
``SAP_ENRICHMENT_PRECEDENCE``, see `app.providers.registry`); a list (genres,
tags…) is the order-preserving, case-insensitively de-duplicated union over all providers. The
user's manual values always come first; a manual ``tags_removed`` list takes those tags off the
merged ``tags`` whichever provider gave them. Nested category objects are flattened with dots
(``{"audio": {"tempo": 120}}`` → ``audio.tempo``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.core.models import TrackEnrichment
from app.providers.registry import Precedence


class EnrichmentView(dict[str, Any]):
    """A track's merged enrichment: key → value, and `provenance`: key → provider(s)."""

    __slots__ = ("provenance",)

    def __init__(self) -> None:
        super().__init__()
        self.provenance: dict[str, str] = {}


REMOVED_TAGS_KEY = "tags_removed"
"""A manual entry's list of tags the user took off the track, whichever provider gave them."""


_intern = sys.intern
_PLAIN_TYPES = frozenset({str, int, float, bool, list, tuple, type(None)})


def flatten_categories(
    categories: Mapping[str, Any], prefix: str = ""
) -> Iterable[tuple[str, Any]]:
    """(dotted key, value) pairs of a possibly nested categories mapping."""
    for key, value in categories.items():
        name = sys.intern(prefix + key) if prefix else key  # one key object per name
        kind = type(value)
        if kind is dict or (kind not in _PLAIN_TYPES and isinstance(value, Mapping)):
            yield from flatten_categories(value, name + ".")
        else:
            yield name, value


def _dedupe_key(item: Any) -> Any:
    if type(item) is str:
        return item.casefold()
    try:
        hash(item)
    except TypeError:
        return repr(item)
    return (item.__class__, item)


def shared_text(item: Any) -> Any:
    """Short text values (genres, tags…) repeat across thousands of tracks: keep one copy."""
    return sys.intern(item) if type(item) is str and len(item) <= 64 else item


def is_missing(value: Any) -> bool:
    """What rules treat as no value: None, empty text, an empty list."""
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def _source_and_categories(entry: TrackEnrichment | Mapping[str, Any]) -> tuple[str, Any]:
    if isinstance(entry, TrackEnrichment):
        return entry.source, entry.categories
    return entry["source"], entry.get("categories") or {}


def build_enrichment_view(
    entries: Iterable[TrackEnrichment | Mapping[str, Any]],
    precedence: Precedence | Sequence[str],
) -> EnrichmentView:
    """Merge one track's provider entries — models, or their stored JSON form — most trusted
    first by `precedence` (see the module docstring)."""
    view = EnrichmentView()
    seen: dict[str, set[Any]] = {}  # list keys: dedupe keys already present
    rank = (precedence if isinstance(precedence, Precedence) else Precedence(precedence)).rank
    ordered = sorted(
        map(_source_and_categories, entries), key=lambda pair: (rank(pair[0]), pair[0])
    )
    provenance = view.provenance
    for source, categories in ordered:
        for key, value in flatten_categories(categories):
            kind = type(value)
            is_list = kind is list or kind is tuple
            if (is_list and not value) or value is None or value == "":
                continue
            current = view.get(key)
            if current is None:
                if is_list:
                    unique: dict[Any, Any] = {}
                    for item in value:
                        if not is_missing(item):
                            item = shared_text(item)
                            unique.setdefault(_dedupe_key(item), item)  # first spelling wins
                    view[key] = list(unique.values())
                    seen[key] = set(unique)
                else:
                    view[key] = _intern(value) if kind is str and len(value) <= 64 else value
                provenance[key] = source
                continue
            if not is_list and type(current) is not list:
                continue  # a more trusted provider already gave this scalar
            if type(current) is not list:  # a scalar meets a list: merge as lists
                current = view[key] = [current]
                seen[key] = {_dedupe_key(current[0])}
            known = seen[key]
            added = False
            for item in value if is_list else (value,):
                marker = _dedupe_key(item)
                if not is_missing(item) and marker not in known:
                    known.add(marker)
                    current.append(shared_text(item))
                    added = True
            if added and source not in provenance[key].split(", "):
                provenance[key] += f", {source}"
    removed = view.pop(REMOVED_TAGS_KEY, None)
    view.provenance.pop(REMOVED_TAGS_KEY, None)
    if removed and isinstance(view.get("tags"), list):
        hidden = {_dedupe_key(tag) for tag in removed}
        view["tags"] = [tag for tag in view["tags"] if _dedupe_key(tag) not in hidden]
        if not view["tags"]:
            del view["tags"]
            view.provenance.pop("tags", None)
    return view
