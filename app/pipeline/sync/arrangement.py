"""Incremental edits: the inserts and reorders that bring the entries left after the DELETEs
into the target order. Pure: no I/O.

    arrangement = Arrangement.for_desired(live, wanted, kept, gone)   # replace mode
    arrangement = Arrangement(uri_of, current, target)                # any target (`exact`)
    arrangement.calls   # POSTs and reorders, to send after the DELETEs
    arrangement.target  # the tokens (see `Arrangement`) in result order

The entries whose relative order is already right, a longest increasing subsequence of their
target positions, stay put (`_anchors`); kept items never move.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence

from app.pipeline.sync.model import (
    MAX_URIS,
    ApiCall,
    LiveItem,
    PlannedAdd,
    PlannedMove,
    add_call,
    reorder_call,
)
from app.pipeline.sync.replay import reordered


class Arrangement:
    """The inserts and reorders that turn `current` into `target`.

    Tokens name entries: in replace mode (`for_desired`) a live index for an entry that
    survives the DELETEs, `len(live) + k` for the k-th inserted track; `uri_of` maps every
    token to its URI. A token of `target` that is not in `current` is inserted (its URI must
    be addable); every token of `current` must be in `target`. Tokens in `kept` and a longest
    increasing subsequence of the others (in target order) stay; the rest is placed left to
    right, each run right after its predecessor in the target, which is already where it
    belongs.
    """

    def __init__(
        self,
        uri_of: dict[int, str | None],
        current: list[int],
        target: list[int],
        kept: Collection[int] = (),
    ) -> None:
        self.uri_of = uri_of
        self.current = current
        self.target = target
        self.calls: list[ApiCall] = []
        self.adds: list[PlannedAdd] = []
        self.moves: list[PlannedMove] = []
        self._arrange(set(kept))

    @classmethod
    def for_desired(
        cls, live: Sequence[LiveItem], wanted: list[str], kept: set[int], gone: set[str]
    ) -> Arrangement:
        """Replace mode after its DELETEs of `gone`: kept entries where they were (less the
        removed entries above), tracks in the other slots: one slot per desired track already
        present, new slots at the end."""
        uri_of: dict[int, str | None] = {i: item.uri for i, item in enumerate(live)}
        current = [i for i, item in enumerate(live) if i in kept or item.uri not in gone]
        survivor = {live[i].uri: i for i in current if i not in kept}
        wanted_set = set(wanted)
        slots: list[int | None] = []
        seen: set[str | None] = set()
        for i, item in enumerate(live):
            if i in kept:
                slots.append(i)
            elif item.uri in wanted_set and item.uri not in seen:
                slots.append(None)
                seen.add(item.uri)
        slots += [None] * (len(wanted) - len(seen))
        tracks = iter(wanted)
        target: list[int] = []
        for slot in slots:
            if slot is None:
                uri = next(tracks)
                slot = survivor.get(uri)
                if slot is None:
                    slot = len(uri_of)
                    uri_of[slot] = uri
            target.append(slot)
        return cls(uri_of, current, target, kept)

    def _arrange(self, kept: set[int]) -> None:
        where = {token: t for t, token in enumerate(self.target)}
        stay = _anchors(self.current, where, kept)
        existing = set(self.current)
        cur = list(self.current)
        t = 0
        while t < len(self.target):
            if self.target[t] in stay:
                t += 1
            elif self.target[t] in existing:
                t = self._move(cur, t, stay)
            else:
                t = self._insert(cur, t, existing)

    def _after_predecessor(self, cur: list[int], t: int) -> int:
        return cur.index(self.target[t - 1]) + 1 if t else 0

    def _insert(self, cur: list[int], t: int, existing: set[int]) -> int:
        end = t
        while end < len(self.target) and self.target[end] not in existing and end - t < MAX_URIS:
            end += 1
        block = self.target[t:end]
        at = self._after_predecessor(cur, t)
        uris = [str(self.uri_of[token]) for token in block]
        self.calls.append(add_call(uris, None if at == len(cur) else at))
        self.adds += [PlannedAdd(uri=uri, position=t + k) for k, uri in enumerate(uris)]
        cur[at:at] = block
        return end

    def _move(self, cur: list[int], t: int, stay: set[int]) -> int:
        start = cur.index(self.target[t])
        end = t + 1
        while (
            end < len(self.target)
            and self.target[end] not in stay
            and start + end - t < len(cur)
            and cur[start + end - t] == self.target[end]
        ):
            end += 1
        at = self._after_predecessor(cur, t)
        if at != start:  # else the run already follows its predecessor
            length = end - t
            self.calls.append(reorder_call(start, at, length))
            uris = [str(self.uri_of[token]) for token in self.target[t:end]]
            self.moves.append(PlannedMove(uris=uris, position=t))
            cur[:] = reordered(cur, start, at, length)
        return end


def _anchors(current: list[int], where: dict[int, int], kept: set[int]) -> set[int]:
    """Entries that need not move: every kept one, and a longest run of the others that is
    already in target order and sits between the same kept entries as in the target."""
    kept_targets = sorted(where[token] for token in kept)
    candidates: list[int] = []
    passed = 0
    for token in current:
        if token in kept:
            passed += 1
        elif bisect.bisect_left(kept_targets, where[token]) == passed:
            candidates.append(token)
    return set(kept) | set(_longest_increasing(candidates, where))


def _longest_increasing(tokens: list[int], key: dict[int, int]) -> list[int]:
    """A longest subsequence of `tokens` whose `key`s increase (patience sorting, n log n)."""
    tails: list[int] = []  # key of the smallest tail of an increasing run of each length
    tail_at: list[int] = []  # index in `tokens` of that tail
    previous: list[int] = [-1] * len(tokens)
    for index, token in enumerate(tokens):
        length = bisect.bisect_left(tails, key[token])
        if length == len(tails):
            tails.append(key[token])
            tail_at.append(index)
        else:
            tails[length] = key[token]
            tail_at[length] = index
        previous[index] = tail_at[length - 1] if length else -1
    run: list[int] = []
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        run.append(tokens[index])
        index = previous[index]
    return run[::-1]
