"""Plan the writes that make a playlist *exactly* a given list of entries, duplicates included:
what a restore, the roll-back of a failed apply and the resumption of an interrupted one need.
Pure: no I/O.

    plan = plan_exact(live, [item.uri for item in backup.items])
    apply_calls_locally([i.uri for i in live], plan.calls) == plan.result

Spotify's writes shape it as they shape `planner`: a `DELETE` takes every copy of a URI, local
files and unavailable items cannot be added (so only the ones still in the playlist can be put
back, and an unavailable item can never be removed), and a call carries at most 100 URIs.

Per URI, comparing its copies now (`live`) and wanted (`target`): the same count keeps every
copy; fewer copies now keeps them and inserts the rest; more copies now deletes them all and
inserts the wanted number (a local file cannot be re-added, so its copies all stay); none
wanted deletes it. Copies are matched in order. The kept entries that are already in the right
relative order (a longest increasing subsequence) stay put and the others are moved; an entry
that cannot be removed and is not wanted stays next to the entry it followed.

Two ways there are compared and the one with fewer calls wins (a tie keeps the incremental one,
which keeps the `added_at` of every entry it does not touch): the incremental edit above, and a
rebuild — `PUT` + `POST`s when nothing in the playlist is a local file or unavailable, else a
`DELETE` of every track and episode, then `POST`s around what stays.

`result` is `target` except where Spotify makes it impossible: `missing` entries (local files
and unavailable items no longer in the playlist) and `extra` ones (an unavailable item or a
local file copy the playlist has and `target` does not) are counted by `exactness`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app.pipeline.sync.arrangement import Arrangement
from app.pipeline.sync.model import (
    ADDABLE,
    REMOVABLE,
    Duplicate,
    KeptItem,
    LiveItem,
    PlannedAdd,
    Resolution,
    SyncPlan,
    add_call,
    chunked,
    remove_calls,
    replace_call,
)

__all__ = ["Exactness", "exactness", "plan_exact"]


def _addable(uri: str | None) -> bool:
    return uri is not None and uri.startswith(ADDABLE)


def _removable(uri: str | None) -> bool:
    return uri is not None and uri.startswith(REMOVABLE)


def plan_exact(live: Sequence[LiveItem], target: Sequence[str | None]) -> SyncPlan:
    """The calls that turn `live` into `target`, entry for entry (see the module docstring)."""
    incremental = _Tokens(live, target, rebuild=False)
    rebuild = _Tokens(live, target, rebuild=True)
    plans = [incremental.plan(), rebuild.plan()]
    return min(plans, key=lambda plan: len(plan.calls))  # min keeps the first on a tie


@dataclass(frozen=True)
class Exactness:
    """How far a plan's result is from the list asked for."""

    missing: int  # entries of the target Spotify cannot put back
    extra: int  # entries the playlist keeps that the target does not hold

    @property
    def exact(self) -> bool:
        return not (self.missing or self.extra)


def exactness(result: Sequence[str | None], target: Sequence[str | None]) -> Exactness:
    """`missing` and `extra` entries of `result` against `target` (as multisets)."""
    have, want = Counter(result), Counter(target)
    return Exactness(
        missing=sum((want - have).values()),
        extra=sum((have - want).values()),
    )


class _Tokens:
    """Live entries and target entries as tokens (see `Arrangement`): a live index for an entry
    that stays, `len(live) + k` for the k-th inserted one."""

    def __init__(
        self, live: Sequence[LiveItem], target: Sequence[str | None], *, rebuild: bool
    ) -> None:
        self.live = live
        self.uri_of: dict[int, str | None] = {i: item.uri for i, item in enumerate(live)}
        uris = [item.uri for item in live]
        have, want = Counter(uris), Counter(target)
        self.deleted: list[str] = [
            uri
            for uri in have
            if uri is not None
            and _removable(uri)
            and (
                (rebuild and _addable(uri))  # a rebuild deletes every track and episode
                or not want[uri]
                or (_addable(uri) and have[uri] > want[uri])
            )
        ]
        gone = set(self.deleted)
        self.current = [i for i, uri in enumerate(uris) if uri not in gone]
        self.rebuild = rebuild
        self.rewrite = rebuild and not self.current  # nothing stays: a PUT clears the rest
        self.target = self._target(target)

    def _target(self, target: Sequence[str | None]) -> list[int]:
        copies: dict[str | None, list[int]] = {}
        for i in self.current:
            copies.setdefault(self.uri_of[i], []).append(i)
        matched: list[int] = []
        used: set[int] = set()
        for uri in target:
            available = copies.get(uri)
            if available:
                token = available.pop(0)
                used.add(token)
                matched.append(token)
            elif _addable(uri):
                token = len(self.uri_of)
                self.uri_of[token] = uri
                matched.append(token)
            # else: a local file or unavailable item the playlist no longer has: missing
        # Entries that stay but are not wanted (they cannot be removed): right after the
        # wanted entry they followed in the playlist, or first.
        following: dict[int | None, list[int]] = {}
        last: int | None = None
        for i in self.current:
            if i in used:
                last = i
            else:
                following.setdefault(last, []).append(i)
        tokens = list(following.get(None, []))
        for entry in matched:
            tokens.append(entry)
            tokens += following.get(entry, [])
        return tokens

    def plan(self) -> SyncPlan:
        result = [self.uri_of[token] for token in self.target]
        if self.rewrite:
            chunks = list(chunked([str(uri) for uri in result]))
            calls = [replace_call(chunks[0] if chunks else [])]
            calls += [add_call(chunk) for chunk in chunks[1:]]
            arrangement = None
        else:
            arrangement = Arrangement(self.uri_of, list(self.current), list(self.target))
            calls = remove_calls(self.deleted) + arrangement.calls
        return SyncPlan(
            mode="replace",
            rewrite=self.rebuild,
            adds=self._adds(),
            removes=list(self.deleted),
            moves=arrangement.moves if arrangement is not None else [],
            kept=self._kept(),
            duplicates=self._duplicates(),
            result=result,
            calls=calls,
        )

    def _adds(self) -> list[PlannedAdd]:
        known = set(range(len(self.live)))
        return [
            PlannedAdd(uri=str(self.uri_of[token]), position=position)
            for position, token in enumerate(self.target)
            if token not in known
        ]

    def _kept(self) -> list[KeptItem]:
        where = {token: position for position, token in enumerate(self.target)}
        return [
            KeptItem(uri=item.uri, kind=item.kind, live_position=i, position=where[i])
            for i, item in enumerate(self.live)
            if item.kind in ("local", "unavailable") and i in where
        ]

    def _duplicates(self) -> list[Duplicate]:
        counts = Counter(item.uri for item in self.live if item.kind == "track")
        gone = set(self.deleted)
        wanted = {self.uri_of[token] for token in self.target}

        def resolution(uri: str) -> Resolution:
            if uri not in gone:
                return "left"
            return "collapsed" if uri in wanted else "removed"

        return [
            Duplicate(uri=str(uri), count=count, resolution=resolution(str(uri)))
            for uri, count in counts.items()
            if count > 1
        ]
