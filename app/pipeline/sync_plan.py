"""Plan the Spotify writes that turn a live playlist into the desired one. Pure: no I/O.

    live = [LiveItem.from_entry(e) for e in await spotify.get_playlist_tracks(playlist_id)]
    plan = plan_sync(live, desired_uris, "replace")
    plan.calls   # the exact writes, in order (see `sync_apply.execute_plan`)
    plan.result  # the playlist's URIs once they are made

What Spotify's write API can and cannot do shapes every choice here:

* `DELETE` removes *every* occurrence of a URI, whatever positions are sent;
* local files (`spotify:local:`) cannot be added back once removed, and unavailable items have
  no URI at all, so neither survives a rewrite of the list;
* a call carries at most 100 URIs, and each write makes a new snapshot id, which the next
  remove or reorder must carry: their bodies hold `SNAPSHOT` in its place.

**Kept items** — local files, unavailable items, episodes, and `pinned` tracks that are not
desired — are never removed, never moved by a call, and keep their order. In every mode a kept
item's index in the result is its live index minus the entries removed above it (additions go
after it, or, in replace mode, into track positions only).

**Modes** (desired URIs must be tracks; repeats in `desired` are dropped, first one wins):

* ``append`` adds the desired tracks the playlist lacks at the end, in desired order, and
  changes nothing else. Duplicates already there are reported and left.
* ``merge`` also removes every track that is not desired (all its occurrences, one DELETE);
  the others keep the user's order, additions go at the end. A desired track present more
  than once is reported and left: removing one copy would mean rewriting the whole list.
* ``replace`` makes the tracks exactly the desired ones, in the desired order, once each;
  kept items keep their index (as above) and tracks fill every other position. A duplicated
  desired track is deleted (all copies) and added back once where it belongs. The tracks whose
  relative order is already right (a longest increasing subsequence of their target
  positions) stay put; every other one is moved by a reorder (neighbours that stay together
  move together), and missing tracks are inserted at their positions, one call per run of up
  to 100. When a rewrite takes fewer calls, the plan is that rewrite instead: with nothing
  kept, a `PUT` of the first 100 URIs and `POST`s of the rest; with kept items (which a `PUT`
  would drop), a `DELETE` of every track that is not kept, then `POST`s putting the desired
  ones back around the kept items, which never move (a shuffled 1,000-track playlist with a
  local file: 20 calls instead of hundreds of reorders). A tie keeps the incremental plan,
  which keeps the `added_at` of every track it does not touch; a rewrite's `adds` and
  `removes` still describe the change as the user sees it, not the calls.

Call counts: append and merge make exactly ceil(removes / 100) + ceil(adds / 100) calls,
removals first; a playlist that already matches needs none in any mode.
`apply_calls_locally` replays calls with Spotify's semantics, for tests and previews.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from app.spotify.models import PlaylistEntry

ItemKind = Literal["track", "local", "episode", "unavailable"]
SyncMode = Literal["replace", "merge", "append"]
CallKind = Literal["remove", "add", "replace", "reorder"]
Resolution = Literal["left", "collapsed", "removed"]

MAX_URIS = 100  # Spotify's limit of URIs (or items) per add, replace or remove call
SNAPSHOT = "$snapshot_id"  # stands for the snapshot id of the previous write
TRACK = "spotify:track:"
_PREFIXES: dict[ItemKind, str] = {
    "track": TRACK,
    "local": "spotify:local:",
    "episode": "spotify:episode:",
}
ADDABLE = (TRACK, "spotify:episode:")  # what a POST or PUT may carry: never local files
REMOVABLE = tuple(_PREFIXES.values())


class LiveItem(BaseModel):
    """One entry of the live playlist, in position order; unavailable entries have no URI."""

    model_config = ConfigDict(frozen=True)

    uri: str | None
    kind: ItemKind
    added_at: datetime | None = None

    @model_validator(mode="after")
    def _uri_fits_kind(self) -> LiveItem:
        if self.kind == "unavailable":
            if self.uri is not None:
                raise ValueError("an unavailable item has no URI")
        elif self.uri is None or not _has_id(self.uri, _PREFIXES[self.kind]):
            raise ValueError(f"a {self.kind} needs a {_PREFIXES[self.kind]}… URI, not {self.uri!r}")
        return self

    @classmethod
    def from_entry(cls, entry: PlaylistEntry) -> LiveItem:
        """The planner's view of an entry read by `SpotifyClient.get_playlist_tracks`."""
        uri = entry.content.uri if entry.content is not None else ""
        for kind, prefix in _PREFIXES.items():
            if _has_id(uri, prefix):
                return cls(uri=uri, kind=kind, added_at=entry.added_at)
        return cls(uri=None, kind="unavailable", added_at=entry.added_at)


class ApiCall(BaseModel):
    """One write to `playlists/{id}/<path_suffix>`; a `snapshot_id` of `SNAPSHOT` is to be
    replaced by the id the previous write returned."""

    method: Literal["POST", "PUT", "DELETE"]
    path_suffix: str = "items"
    body: dict[str, Any]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind(self) -> CallKind:
        if self.method == "DELETE":
            return "remove"
        if self.method == "POST":
            return "add"
        return "replace" if "uris" in self.body else "reorder"

    @property
    def uris(self) -> list[str]:
        """The URIs this call sends (none for a reorder)."""
        if self.method == "DELETE":
            return [item["uri"] for item in self.body["items"]]
        return list(self.body.get("uris", []))


class PlannedAdd(BaseModel):
    uri: str
    position: int  # index in the result


class PlannedMove(BaseModel):
    uris: list[str]  # moved together, in this order
    position: int  # index of the first one in the result


class KeptItem(BaseModel):
    uri: str | None
    kind: ItemKind
    live_position: int
    position: int  # index in the result


class Duplicate(BaseModel):
    """A track the live playlist holds `count` times, and what the plan does about it."""

    uri: str
    count: int
    resolution: Resolution  # left as is, collapsed to one copy, or removed with the others


class SyncPlan(BaseModel):
    """The writes that make a playlist what is desired, and what it will look like."""

    mode: SyncMode
    rewrite: bool = False  # replace mode chose PUT + POSTs over incremental edits
    adds: list[PlannedAdd]
    removes: list[str]  # URIs whose every occurrence goes (collapsed duplicates come back)
    moves: list[PlannedMove]
    kept: list[KeptItem]
    duplicates: list[Duplicate]
    result: list[str | None]
    calls: list[ApiCall]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def write_count(self) -> int:
        return len(self.calls)


# --- the plan --------------------------------------------------------------------------------


def plan_sync(
    live: Sequence[LiveItem],
    desired: Iterable[str],
    mode: SyncMode,
    pinned: Collection[str] = frozenset(),
) -> SyncPlan:
    """The calls that turn `live` into `desired` under `mode` (see the module docstring)."""
    wanted = _unique_tracks(desired)
    kept = _kept_positions(live, set(wanted), pinned)
    if mode == "append":
        return _plan_append(live, wanted, kept)
    if mode == "merge":
        return _plan_merge(live, wanted, kept)
    if mode == "replace":
        return _plan_replace(live, wanted, kept)
    raise ValueError(f"unknown sync mode {mode!r}")


def _plan_append(live: Sequence[LiveItem], wanted: list[str], kept: set[int]) -> SyncPlan:
    present = {item.uri for item in live if item.kind == "track"}
    missing = [uri for uri in wanted if uri not in present]
    result = [item.uri for item in live] + missing
    return SyncPlan(
        mode="append",
        adds=[PlannedAdd(uri=uri, position=len(live) + k) for k, uri in enumerate(missing)],
        removes=[],
        moves=[],
        kept=_kept_report(live, sorted(kept), sorted(kept)),
        duplicates=_duplicates(live, kept, lambda _uri: "left"),
        result=result,
        calls=[_add_call(chunk) for chunk in _chunks(missing)],
    )


def _plan_merge(live: Sequence[LiveItem], wanted: list[str], kept: set[int]) -> SyncPlan:
    wanted_set = set(wanted)
    counts = _track_counts(live, kept)
    removes = [uri for uri in counts if uri not in wanted_set]
    missing = [uri for uri in wanted if uri not in counts]
    gone = set(removes)
    survivors = [i for i, item in enumerate(live) if i in kept or item.uri not in gone]
    index = {i: position for position, i in enumerate(survivors)}
    result = [live[i].uri for i in survivors] + missing
    return SyncPlan(
        mode="merge",
        adds=[PlannedAdd(uri=uri, position=len(survivors) + k) for k, uri in enumerate(missing)],
        removes=removes,
        moves=[],
        kept=_kept_report(live, sorted(kept), (index[i] for i in sorted(kept))),
        duplicates=_duplicates(live, kept, lambda uri: "removed" if uri in gone else "left"),
        result=result,
        calls=_remove_calls(removes) + [_add_call(chunk) for chunk in _chunks(missing)],
    )


def _plan_replace(live: Sequence[LiveItem], wanted: list[str], kept: set[int]) -> SyncPlan:
    wanted_set = set(wanted)
    counts = _track_counts(live, kept)
    removes = [uri for uri in counts if uri not in wanted_set or counts[uri] > 1]
    gone = set(removes)
    duplicates = _duplicates(
        live, kept, lambda uri: "removed" if uri not in wanted_set else "collapsed"
    )
    rewrite_cost = max(1, math.ceil(len(wanted) / MAX_URIS))
    arrangement = _Arrangement(live, wanted, kept, gone)
    calls = _remove_calls(removes) + arrangement.calls
    if not kept and rewrite_cost < len(calls):
        return _plan_rewrite(wanted, removes, counts, duplicates)
    result = [arrangement.uri_of[token] for token in arrangement.target]
    where = {token: t for t, token in enumerate(arrangement.target)}
    plan = SyncPlan(
        mode="replace",
        adds=arrangement.adds,
        removes=removes,
        moves=arrangement.moves,
        kept=_kept_report(live, sorted(kept), (where[i] for i in sorted(kept))),
        duplicates=duplicates,
        result=result,
        calls=calls,
    )
    if kept:
        rebuild = _rebuild_calls(live, kept, arrangement)
        if len(rebuild) < len(calls):
            return plan.model_copy(
                update={
                    "rewrite": True,
                    "adds": _semantic_adds(wanted, gone, counts),
                    "moves": [],
                    "calls": rebuild,
                }
            )
    return plan


def _rebuild_calls(
    live: Sequence[LiveItem], kept: set[int], arrangement: _Arrangement
) -> list[ApiCall]:
    """Replace mode with kept items, the other way round: DELETE every track that is not kept,
    then POST the desired ones back, each run between two kept items at its index (the kept
    items never move). Fewer calls than reordering when the order changed a lot (a shuffled
    playlist holding a local file took about one reorder per track)."""
    tracks = list(
        dict.fromkeys(item.uri for i, item in enumerate(live) if i not in kept and item.uri)
    )
    calls = _remove_calls(tracks)
    position = 0
    run: list[str] = []

    def flush() -> None:
        nonlocal position
        for chunk in _chunks(run):
            calls.append(_add_call(chunk, position))
            position += len(chunk)
        run.clear()

    for token in arrangement.target:
        if token in kept:
            flush()
            position += 1
        else:
            uri = arrangement.uri_of[token]
            assert uri is not None  # only kept entries lack a URI
            run.append(uri)
    flush()
    return calls


def _semantic_adds(wanted: list[str], gone: set[str], counts: Counter[str]) -> list[PlannedAdd]:
    """What a rewrite adds, as the user sees it: new tracks and collapsed duplicates."""
    return [
        PlannedAdd(uri=uri, position=t)
        for t, uri in enumerate(wanted)
        if uri in gone or uri not in counts
    ]


def _plan_rewrite(
    wanted: list[str], removes: list[str], counts: Counter[str], duplicates: list[Duplicate]
) -> SyncPlan:
    """Replace mode as one PUT of the first 100 URIs and POSTs appending the rest; `adds`
    and `removes` still describe the change, as the incremental plan would."""
    gone = set(removes)
    chunks = list(_chunks(wanted))
    calls = [_replace_call(chunks[0] if chunks else [])]
    calls += [_add_call(chunk) for chunk in chunks[1:]]
    return SyncPlan(
        mode="replace",
        rewrite=True,
        adds=_semantic_adds(wanted, gone, counts),
        removes=removes,
        moves=[],
        kept=[],
        duplicates=duplicates,
        result=list(wanted),
        calls=calls,
    )


class _Arrangement:
    """Replace mode after its DELETEs: the inserts and reorders that reach the target order.

    Tokens name entries: a live index for an entry that survives the DELETEs, `len(live) + k`
    for the k-th inserted track. Kept entries and a longest increasing subsequence of the
    others (in target order) stay; the rest is placed left to right, each run right after its
    predecessor in the target, which is already where it belongs.
    """

    def __init__(
        self, live: Sequence[LiveItem], wanted: list[str], kept: set[int], gone: set[str]
    ) -> None:
        self.uri_of: dict[int, str | None] = {i: item.uri for i, item in enumerate(live)}
        self.current = [i for i, item in enumerate(live) if i in kept or item.uri not in gone]
        self.target = self._target(live, wanted, kept)
        self.calls: list[ApiCall] = []
        self.adds: list[PlannedAdd] = []
        self.moves: list[PlannedMove] = []
        self._arrange(kept)

    def _target(self, live: Sequence[LiveItem], wanted: list[str], kept: set[int]) -> list[int]:
        """Kept entries where they were (less the removed entries above), tracks in the
        other slots: one slot per desired track already present, new slots at the end."""
        survivor = {live[i].uri: i for i in self.current if i not in kept}
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
                    slot = len(self.uri_of)
                    self.uri_of[slot] = uri
            target.append(slot)
        return target

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
        self.calls.append(_add_call(uris, None if at == len(cur) else at))
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
            self.calls.append(_reorder_call(start, at, length))
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


# --- pieces shared by the modes --------------------------------------------------------------


def _unique_tracks(desired: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(desired))
    for uri in wanted:
        if not isinstance(uri, str) or not _has_id(uri, TRACK):
            raise ValueError(f"desired items must be track URIs ({TRACK}…), not {uri!r}")
    return wanted


def _kept_positions(
    live: Sequence[LiveItem], wanted: set[str], pinned: Collection[str]
) -> set[int]:
    return {
        i
        for i, item in enumerate(live)
        if item.kind != "track" or (item.uri in pinned and item.uri not in wanted)
    }


def _track_counts(live: Sequence[LiveItem], kept: set[int]) -> Counter[str]:
    """Occurrences of each track URI the plan may touch, in order of first appearance."""
    return Counter(str(item.uri) for i, item in enumerate(live) if i not in kept)


def _duplicates(
    live: Sequence[LiveItem], kept: set[int], resolve: Callable[[str], Resolution]
) -> list[Duplicate]:
    """Tracks present more than once; pinned ones that are kept are always left."""
    counts = Counter(str(item.uri) for item in live if item.kind == "track")
    kept_uris = {live[i].uri for i in kept}
    return [
        Duplicate(uri=uri, count=count, resolution="left" if uri in kept_uris else resolve(uri))
        for uri, count in counts.items()
        if count > 1
    ]


def _kept_report(
    live: Sequence[LiveItem], kept: Iterable[int], positions: Iterable[int]
) -> list[KeptItem]:
    """`kept` live indices (increasing) with their `positions` in the result."""
    return [
        KeptItem(uri=live[i].uri, kind=live[i].kind, live_position=i, position=position)
        for i, position in zip(kept, positions, strict=True)
    ]


def _has_id(uri: str, prefix: str) -> bool:
    return uri.startswith(prefix) and len(uri) > len(prefix)


def _chunks(uris: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(uris), MAX_URIS):
        yield uris[start : start + MAX_URIS]


def _add_call(uris: list[str], position: int | None = None) -> ApiCall:
    body: dict[str, Any] = {"uris": uris}
    if position is not None:
        body["position"] = position
    return ApiCall(method="POST", body=body)


def _replace_call(uris: list[str]) -> ApiCall:
    return ApiCall(method="PUT", body={"uris": uris})


def _remove_calls(uris: list[str]) -> list[ApiCall]:
    return [
        ApiCall(
            method="DELETE",
            body={"items": [{"uri": uri} for uri in chunk], "snapshot_id": SNAPSHOT},
        )
        for chunk in _chunks(uris)
    ]


def _reorder_call(start: int, before: int, length: int) -> ApiCall:
    body = {
        "range_start": start,
        "insert_before": before,
        "range_length": length,
        "snapshot_id": SNAPSHOT,
    }
    return ApiCall(method="PUT", body=body)


def with_exact_order(plan: SyncPlan, target: Sequence[str | None]) -> SyncPlan:
    """`plan` plus the single-entry reorders that put *every* entry — kept items included —
    where `target` has it (a restore: the user asked for the old order back, local files and
    unavailable items too; moving them is safe, only removing them is not). Unchanged when
    the plan's result does not hold exactly `target`'s entries."""
    current = list(plan.result)
    if Counter(current) != Counter(target) or current == list(target):
        return plan
    calls = list(plan.calls)
    for index, wanted in enumerate(target):
        if current[index] == wanted:
            continue
        source = current.index(wanted, index + 1)
        calls.append(_reorder_call(source, index, 1))
        current = reordered(current, source, index, 1)
    return plan.model_copy(update={"calls": calls, "result": current})


# --- replaying calls ------------------------------------------------------------------------


def reordered(items: list[Any], start: int, before: int, length: int) -> list[Any]:
    """`items` after Spotify's reorder: [start, start + length) moved to just before the entry
    that was at `before` (a `before` inside the range moves nothing)."""
    block = items[start : start + length]
    rest = items[:start] + items[start + length :]
    if before <= start:
        at = before
    elif before >= start + length:
        at = before - length
    else:
        at = start
    return rest[:at] + block + rest[at:]


def apply_calls_locally(
    live_uris: Sequence[str | None], calls: Iterable[ApiCall]
) -> list[str | None]:
    """Replay `calls` on a playlist's URIs (None: unavailable) the way Spotify applies them;
    `ValueError` for a call Spotify would refuse."""
    items = list(live_uris)
    for call in calls:
        items = _apply(items, call)
    return items


def _apply(items: list[str | None], call: ApiCall) -> list[str | None]:
    body = call.body
    if call.method == "DELETE":
        gone = set(_checked(call.uris, REMOVABLE, allow_empty=False))
        return [uri for uri in items if uri is None or uri not in gone]
    if call.method == "POST":
        uris: list[str | None] = list(_checked(call.uris, ADDABLE, allow_empty=False))
        at = body.get("position", len(items))
        if not 0 <= at <= len(items):
            raise ValueError(f"position {at} is outside a playlist of {len(items)}")
        return items[:at] + uris + items[at:]
    if "uris" in body:
        if {"range_start", "insert_before", "range_length"} & body.keys():
            raise ValueError("a PUT either replaces or reorders, never both")
        return list(_checked(call.uris, ADDABLE, allow_empty=True))
    start, before = body["range_start"], body["insert_before"]
    length = body.get("range_length", 1)
    if start < 0 or length < 1 or start + length > len(items) or not 0 <= before <= len(items):
        raise ValueError(f"reorder {start}+{length} before {before} is outside {len(items)}")
    return reordered(items, start, before, length)


def _checked(uris: list[str], prefixes: tuple[str, ...], allow_empty: bool) -> list[str]:
    if len(uris) > MAX_URIS or (not uris and not allow_empty):
        raise ValueError(f"a call carries 1 to {MAX_URIS} URIs, not {len(uris)}")
    for uri in uris:
        if not uri.startswith(prefixes):
            raise ValueError(f"Spotify cannot take {uri!r} here")
    return uris
