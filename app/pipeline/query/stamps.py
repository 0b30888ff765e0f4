"""When each provider said what it says about each track: the "when" of a value's provenance.

    stamps = Stamps.read(stores.enrichments, library)   # one pass over enrichments.json
    stamps.at("deezer", position)                       # datetime, or None

The loaded library keeps, per value, which provider gave it (`Library.provenance`), not when;
the time is the provider's entry `timestamp` in enrichments.json. Reading it for one page would
mean reading the whole file, so it is read once per loaded library (about half a second for
100,000 tracks x 5 providers) into one small array per provider: a code per track position
(4 bytes) into the list of distinct times (entries written by one batch share theirs).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from datetime import datetime

from app.core.fs import paused_gc
from app.data.enrichments import EnrichmentStore

_NONE = -1


class Stamps:
    """Per provider, the time of each track's entry (by library position)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._codes: dict[str, array[int]] = {}
        self._times: list[datetime | None] = []

    @classmethod
    def read(cls, store: EnrichmentStore, index: Mapping[str, int]) -> Stamps:
        """The times of the entries in `store` of the tracks of `index` (id → position)."""
        stamps = cls(len(index))
        known: dict[str, int] = {}
        with paused_gc():
            for track_id, entries in store.iter_raw():
                position = index.get(track_id)
                if position is None or not isinstance(entries, list):
                    continue
                for entry in entries:
                    if not isinstance(entry, dict):
                        continue
                    source, text = entry.get("source"), entry.get("timestamp")
                    if not isinstance(source, str) or not isinstance(text, str):
                        continue
                    code = known.get(text)
                    if code is None:
                        code = known[text] = len(stamps._times)
                        stamps._times.append(_parse(text))
                    stamps._column(source)[position] = code
        return stamps

    def _column(self, provider: str) -> array[int]:
        column = self._codes.get(provider)
        if column is None:
            column = self._codes[provider] = array("i", [_NONE]) * self.size
        return column

    def at(self, provider: str, position: int) -> datetime | None:
        """When `provider` wrote the entry of the track at `position` (None: unknown)."""
        column = self._codes.get(provider)
        if column is None or not 0 <= position < self.size:
            return None
        code = column[position]
        return None if code == _NONE else self._times[code]


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
