"""Spotify's `fields` query parameter: pick parts of a JSON response.

The syntax, as Spotify documents it for the playlist endpoints:

* a comma-separated list of keys: ``fields=total,limit``;
* a dot for a single nested key: ``fields=tracks.total`` (same as ``tracks(total)``);
* parentheses for several nested keys, applied to every element of a list:
  ``fields=items(added_at,added_by.id)``, nested at will:
  ``fields=items(track(name,href,album(name,href)))``;
* a leading ``!`` in a group keeps everything *except* the listed keys:
  ``fields=items.track.album(!external_urls,images)`` drops both keys from each album.

    >>> select({"a": 1, "b": {"c": 2, "d": 3}}, parse("b(d)"))
    {'b': {'d': 3}}
    >>> select({"items": [{"x": 1, "y": 2}], "total": 1}, parse("items.y,total"))
    {'items': [{'y': 2}], 'total': 1}
    >>> select({"x": 1, "y": 2, "z": 3}, parse("!x,y"))
    {'z': 3}

Keys a response does not have are ignored, as Spotify ignores them; `null` stays `null`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any


class FieldsError(ValueError):
    """A `fields` value that cannot be parsed; the message says where."""


@dataclass
class Selection:
    """Keys to keep (`keep`, each with its own sub-selection or `None` for all of it), or,
    when `drop` is set, every key except those."""

    keep: dict[str, Selection | None] = field(default_factory=dict)
    drop: set[str] = field(default_factory=set)


@functools.lru_cache(maxsize=64)
def parse(text: str) -> Selection:
    """Parse a `fields` value; `FieldsError` if it is malformed.

    Cached: a client reading a playlist sends the same value with every page. The result is
    shared and must not be mutated.
    """
    parser = _FieldsParser(text.replace(" ", ""))
    selection = parser.group()
    if parser.pos != len(parser.text):
        raise FieldsError(f"unexpected {parser.text[parser.pos]!r} at {parser.pos} in fields")
    return selection


def select(value: Any, selection: Selection | None) -> Any:
    """The parts of `value` that `selection` asks for (a new object; `value` is untouched)."""
    if selection is None:
        return value
    if isinstance(value, list):
        return [select(element, selection) for element in value]
    if not isinstance(value, dict):
        return value
    if selection.drop:
        return {k: v for k, v in value.items() if k not in selection.drop}
    # Walk the (few) selected keys, not every key of the value: a track object has dozens.
    return {k: select(value[k], sub) for k, sub in selection.keep.items() if k in value}


class _FieldsParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def group(self) -> Selection:
        """`field (',' field)*` up to the end or a closing parenthesis."""
        selection = Selection()
        negated = self._peek() == "!"
        while True:
            if self._peek() == "!":
                self.pos += 1
            name = self._name()
            sub = self._sub_selection()
            if negated:
                selection.drop.add(name)
            else:
                selection.keep[name] = _merge(selection.keep.get(name, Selection()), sub)
            if self._peek() != ",":
                return selection
            self.pos += 1

    def _sub_selection(self) -> Selection | None:
        if self._peek() == ".":
            self.pos += 1
            name = self._name()
            return Selection(keep={name: self._sub_selection()})
        if self._peek() == "(":
            self.pos += 1
            inner = self.group()
            if self._peek() != ")":
                raise FieldsError(f"missing ')' at {self.pos} in fields")
            self.pos += 1
            return inner
        return None

    def _name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",().!":
            self.pos += 1
        if self.pos == start:
            raise FieldsError(f"expected a field name at {start} in fields")
        return self.text[start : self.pos]

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""


def _merge(first: Selection | None, second: Selection | None) -> Selection | None:
    """Two selections of the same key, e.g. ``items(a),items(b)``; a bare key wins."""
    if first is None or second is None:
        return None
    if not first.keep and not first.drop:
        return second
    merged = Selection(keep=dict(first.keep), drop=first.drop | second.drop)
    for name, sub in second.keep.items():
        merged.keep[name] = _merge(merged.keep.get(name, Selection()), sub)
    return merged
