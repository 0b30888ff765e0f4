"""Plan the Spotify writes that turn a live playlist into the desired one. Pure: no I/O.

    live = [LiveItem.from_entry(e) for e in await spotify.get_playlist_tracks(playlist_id)]
    plan = plan_sync(live, desired_uris, "replace")
    plan.calls   # the exact writes, in order (see `executor.execute_plan`)
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
additions first (a failure half-way never leaves fewer of the wanted tracks than before; the
tracks a merge removes are never among those it adds); a playlist that already matches needs
none in any mode. Replace mode's DELETEs come first (its inserts and moves count positions
without them); they take only unwanted tracks, and duplicated wanted ones, added back once.
`apply_calls_locally` replays calls with Spotify's semantics, for tests and previews.
The models and call builders live in `model`, the replay in `replay`, replace mode's inserts
and reorders in `arrangement`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence

from app.pipeline.sync.arrangement import Arrangement
from app.pipeline.sync.model import (
    MAX_URIS,
    TRACK,
    ApiCall,
    Duplicate,
    KeptItem,
    LiveItem,
    PlannedAdd,
    Resolution,
    SyncMode,
    SyncPlan,
    add_call,
    chunked,
    has_id,
    remove_calls,
    replace_call,
)

__all__ = ["plan_sync"]


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
        calls=[add_call(chunk) for chunk in chunked(missing)],
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
        # Adds first: a failure half-way never leaves fewer of the wanted tracks than before.
        calls=[add_call(chunk) for chunk in chunked(missing)] + remove_calls(removes),
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
    arrangement = Arrangement.for_desired(live, wanted, kept, gone)
    calls = remove_calls(removes) + arrangement.calls
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
    live: Sequence[LiveItem], kept: set[int], arrangement: Arrangement
) -> list[ApiCall]:
    """Replace mode with kept items, the other way round: DELETE every track that is not kept,
    then POST the desired ones back, each run between two kept items at its index (the kept
    items never move). Fewer calls than reordering when the order changed a lot (a shuffled
    playlist holding a local file took about one reorder per track)."""
    tracks = list(
        dict.fromkeys(item.uri for i, item in enumerate(live) if i not in kept and item.uri)
    )
    calls = remove_calls(tracks)
    position = 0
    run: list[str] = []

    def flush() -> None:
        nonlocal position
        for chunk in chunked(run):
            calls.append(add_call(chunk, position))
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
    chunks = list(chunked(wanted))
    calls = [replace_call(chunks[0] if chunks else [])]
    calls += [add_call(chunk) for chunk in chunks[1:]]
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


# --- pieces shared by the modes --------------------------------------------------------------


def _unique_tracks(desired: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(desired))
    for uri in wanted:
        if not isinstance(uri, str) or not has_id(uri, TRACK):
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
