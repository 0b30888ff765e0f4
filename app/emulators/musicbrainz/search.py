"""`Searcher`: evaluates a parsed query over the recordings and scores the hits."""

from __future__ import annotations

import math
from collections.abc import Iterable

from app.emulators.musicbrainz.data import MusicBrainzData, Recording, release_id, words
from app.emulators.musicbrainz.query import Leaf, Query, QueryError


def _contains(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


class Searcher:
    """Evaluates a query over the recordings: candidates from the indexes, then a filter."""

    def __init__(self, data: MusicBrainzData) -> None:
        self.data = data

    def search(self, query: Query) -> list[tuple[Recording, int]]:
        candidates = self._candidates(query)
        pool: Iterable[str] = self.data.recordings if candidates is None else candidates
        scored: list[tuple[float, int, Recording]] = []
        for mbid in pool:
            recording = self.data.recordings[mbid]
            value = self._score(query, recording)
            if value is not None and value > 0:
                scored.append((value, self.data.order[mbid], recording))
        if not scored:
            return []
        scored.sort(key=lambda hit: (-hit[0], hit[1]))
        best = scored[0][0]
        return [(recording, max(1, round(100 * value / best))) for value, _, recording in scored]

    def _candidates(self, query: Query) -> set[str] | None:
        """Recordings that may match (None: any may)."""
        if isinstance(query, Leaf):
            return self._leaf_candidates(query)
        if query.op == "not":
            return None
        sets = [self._candidates(child) for child in query.children]
        if query.op == "or":
            if any(s is None for s in sets):
                return None
            return set().union(*(s for s in sets if s is not None))
        known = [s for s in sets if s is not None]
        return set.intersection(*known) if known else None

    def _leaf_candidates(self, leaf: Leaf) -> set[str] | None:
        data = self.data
        if leaf.low is not None:
            return None
        if leaf.field == "isrc":
            return set(data.by_isrc.get(leaf.value.upper(), ()))
        if leaf.field == "rid":
            return {leaf.value.lower()} & data.recordings.keys()
        if leaf.field == "arid":
            return set(data.by_artist_mbid.get(leaf.value.lower(), ()))
        if leaf.field == "rgid":
            return set(data.by_release_group.get(leaf.value.lower(), ()))
        index = {"recording": data.by_title_word, "artist": data.by_artist_word}.get(leaf.field)
        if index is None:
            return None
        found: set[str] | None = None
        for word in words(leaf.value):
            postings = index.get(word, set())
            found = set(postings) if found is None else found & postings
        return found if found is not None else set()

    def _score(self, query: Query, recording: Recording) -> float | None:
        """A positive number when `recording` matches, else None."""
        if isinstance(query, Leaf):
            return self._leaf_score(query, recording)
        if query.op == "not":
            return None if self._score(query.children[0], recording) is not None else 0.0
        scores = [self._score(child, recording) for child in query.children]
        if query.op == "and":
            return None if any(s is None for s in scores) else sum(s or 0.0 for s in scores)
        matched = [s for s in scores if s is not None]
        return sum(matched) if matched else None

    def _leaf_score(self, leaf: Leaf, recording: Recording) -> float | None:
        data = self.data
        track = recording.track
        name = leaf.field
        if name == "dur":
            length = track.duration_ms
            if leaf.low is not None and leaf.high is not None:
                low = 0 if leaf.low == "*" else _number(leaf.low)
                high = math.inf if leaf.high == "*" else _number(leaf.high)
                return 1.0 if low <= length <= high else None
            return 1.0 if length == _number(leaf.value) else None
        if name == "isrc":
            return 1.0 if leaf.value.upper() in recording.isrcs else None
        if name == "rid":
            return 1.0 if leaf.value.lower() == recording.mbid else None
        if name == "arid":
            return (
                1.0
                if any(a.mbid == leaf.value.lower() for a in data.artists_of(recording))
                else None
            )
        albums = [data.library.albums[a] for a in recording.album_ids]
        if name == "rgid":
            return 1.0 if any(a.mbid == leaf.value.lower() for a in albums) else None
        if name == "reid":
            return 1.0 if any(release_id(a) == leaf.value.lower() for a in albums) else None
        if name == "recording":
            return _text_score(words(leaf.value), [words(track.name)])
        if name == "artist":
            names = [words(a.name) for a in data.artists_of(recording)]
            return _text_score(words(leaf.value), [words(data.credit_name(recording)), *names])
        if name == "release":
            return _text_score(words(leaf.value), [words(a.name) for a in albums])
        return None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise QueryError(f"not a number: {text!r}") from exc


def _text_score(needle: list[str], fields: list[list[str]]) -> float | None:
    """The share of the best field's words that the phrase covers, if it occurs in one."""
    if not needle:
        return None
    best = None
    for haystack in fields:
        if haystack and _contains(haystack, needle):
            share = len(needle) / len(haystack)
            best = share if best is None else max(best, share)
    return best
