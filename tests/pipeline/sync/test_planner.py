"""The sync planner: for any live playlist (duplicates, local files, episodes, unavailable
items) and any desired list, each mode's calls, replayed with Spotify's semantics, give the
documented result with the documented number of calls; replanning the result gives none."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.emulators.library.account import generate_library
from app.emulators.library.model import AccountEntry
from app.emulators.spotify.emulator import SpotifyEmulator
from app.pipeline.sync.model import MAX_URIS, SNAPSHOT, ApiCall, LiveItem, SyncMode, SyncPlan
from app.pipeline.sync.planner import plan_sync
from app.pipeline.sync.replay import apply_calls_locally, reordered
from app.spotify.models import PlaylistEntry

MODES: tuple[SyncMode, ...] = ("append", "merge", "replace")
EMULATOR = SpotifyEmulator(generate_library(seed=1, tracks=30, playlists=3))  # a scratch account


def track(n: int) -> str:
    return f"spotify:track:t{n:04d}"


def item(uri: str | None) -> LiveItem:
    """A live item of the kind its URI says (None: unavailable)."""
    if uri is None:
        return LiveItem(uri=None, kind="unavailable")
    kind = uri.split(":")[1]
    return LiveItem(uri=uri, kind="track" if kind == "track" else kind)  # type: ignore[arg-type]


def items(*uris: str | None) -> list[LiveItem]:
    return [item(uri) for uri in uris]


def uris_of(live: list[LiveItem]) -> list[str | None]:
    return [entry.uri for entry in live]


def unique(uris: list[str]) -> list[str]:
    return list(dict.fromkeys(uris))


# --- strategies -----------------------------------------------------------------------------

POOL = 14  # few distinct tracks, so live and desired overlap and repeat often

tracks_in_pool = st.integers(0, POOL - 1).map(track)
live_items = st.lists(
    st.one_of(
        tracks_in_pool.map(item),
        tracks_in_pool.map(item),
        tracks_in_pool.map(item),
        st.sampled_from(["spotify:local:Band:Demo:Song+A:201", "spotify:local:B:C:D:99"]).map(item),
        st.sampled_from(["spotify:episode:ep1", "spotify:episode:ep2"]).map(item),
        st.just(item(None)),
    ),
    max_size=24,
)
desired_lists = st.lists(tracks_in_pool, max_size=16)
pinned_sets = st.one_of(st.just(frozenset[str]()), st.frozensets(tracks_in_pool, max_size=3))


def protected(live: list[LiveItem], wanted: set[str], pinned: frozenset[str]) -> list[bool]:
    """Which live entries the plan must leave alone (the documented kept items)."""
    return [
        entry.kind != "track" or (entry.uri in pinned and entry.uri not in wanted) for entry in live
    ]


def check_common(live: list[LiveItem], plan: SyncPlan) -> None:
    """What holds in every mode: the calls give `result`, stay within Spotify's limits, never
    carry a local file, and chain snapshots; the result needs no further call."""
    assert apply_calls_locally(uris_of(live), plan.calls) == plan.result
    assert plan.write_count == len(plan.calls)
    for call in plan.calls:
        assert len(call.uris) <= MAX_URIS
        assert not any(uri.startswith("spotify:local:") for uri in call.uris)
        if call.kind in ("remove", "reorder"):
            assert call.body["snapshot_id"] == SNAPSHOT
    for kept in plan.kept:
        assert plan.result[kept.position] == kept.uri


def replan_is_empty(plan: SyncPlan, desired: list[str], pinned: frozenset[str]) -> bool:
    return plan_sync([item(uri) for uri in plan.result], desired, plan.mode, pinned).calls == []


# --- properties -----------------------------------------------------------------------------


@given(live=live_items, desired=desired_lists, pinned=pinned_sets)
@settings(max_examples=300, deadline=None)
def test_append_only_adds_missing_tracks_at_the_end(
    live: list[LiveItem], desired: list[str], pinned: frozenset[str]
) -> None:
    plan = plan_sync(live, desired, "append", pinned)
    check_common(live, plan)
    present = {entry.uri for entry in live}
    missing = [uri for uri in unique(desired) if uri not in present]
    assert plan.result == uris_of(live) + missing
    assert plan.removes == [] and plan.moves == []
    assert plan.write_count == math.ceil(len(missing) / MAX_URIS)
    assert all(d.resolution == "left" for d in plan.duplicates)
    assert replan_is_empty(plan, desired, pinned)


@given(live=live_items, desired=desired_lists, pinned=pinned_sets)
@settings(max_examples=300, deadline=None)
def test_merge_removes_undesired_tracks_keeps_order_and_adds_at_the_end(
    live: list[LiveItem], desired: list[str], pinned: frozenset[str]
) -> None:
    plan = plan_sync(live, desired, "merge", pinned)
    check_common(live, plan)
    wanted = set(desired)
    keep = protected(live, wanted, pinned)
    staying = [e.uri for e, k in zip(live, keep, strict=True) if k or e.uri in wanted]
    present = {e.uri for e in live}
    missing = [uri for uri in unique(desired) if uri not in present]
    assert plan.result == staying + missing
    assert plan.moves == []
    assert plan.write_count == math.ceil(len(plan.removes) / MAX_URIS) + math.ceil(
        len(plan.adds) / MAX_URIS
    )
    counts = Counter(e.uri for e in live if e.kind == "track")
    for duplicate in plan.duplicates:  # desired or pinned duplicates stay, all copies
        assert duplicate.count == counts[duplicate.uri] > 1
        left = duplicate.uri in wanted or duplicate.uri in pinned
        assert plan.result.count(duplicate.uri) == (duplicate.count if left else 0)
    assert replan_is_empty(plan, desired, pinned)


@given(live=live_items, desired=desired_lists, pinned=pinned_sets)
@settings(max_examples=400, deadline=None)
def test_replace_gives_the_desired_tracks_once_with_kept_items_in_place(
    live: list[LiveItem], desired: list[str], pinned: frozenset[str]
) -> None:
    plan = plan_sync(live, desired, "replace", pinned)
    check_common(live, plan)
    wanted = unique(desired)
    keep = protected(live, set(wanted), pinned)
    # The desired tracks, once each, in order; everything else is a kept item, in order.
    assert [uri for uri in plan.result if uri in set(wanted)] == wanted
    kept_uris = [e.uri for e, k in zip(live, keep, strict=True) if k]
    assert [uri for uri in plan.result if uri not in set(wanted)] == kept_uris
    # A kept item moves up by the number of entries removed above it, no more.
    assert [k.live_position for k in plan.kept] == [i for i, k in enumerate(keep) if k]
    for kept in plan.kept:
        above = removed_before(live, keep, set(wanted), kept.live_position)
        assert kept.position == kept.live_position - above
    if plan.rewrite and not any(keep):  # PUT the first 100, POST the rest
        assert plan.write_count == max(1, math.ceil(len(wanted) / MAX_URIS))
    elif plan.rewrite:  # DELETE every track not kept, then POST them back around kept items
        kinds = [call.kind for call in plan.calls]
        deletes = kinds.count("remove")
        assert kinds == ["remove"] * deletes + ["add"] * (len(kinds) - deletes)
        not_kept = {e.uri for e, k in zip(live, keep, strict=True) if not k}
        assert deletes == math.ceil(len(not_kept) / MAX_URIS)
    assert replan_is_empty(plan, desired, pinned)


def removed_before(live: list[LiveItem], keep: list[bool], wanted: set[str], index: int) -> int:
    """Entries above `index` that replace mode drops: tracks not desired, and every copy of a
    desired track after its first."""
    seen: set[str | None] = set()
    removed = 0
    for entry, is_kept in zip(live[:index], keep[:index], strict=True):
        if is_kept:
            continue
        if entry.uri in wanted and entry.uri not in seen:
            seen.add(entry.uri)
        else:
            removed += 1
    return removed


def longest_increasing_length(values: list[int]) -> int:
    """Quadratic and obviously right: the reference for the planner's n log n version."""
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@given(order=st.permutations(list(range(30))))
@settings(max_examples=200, deadline=None)
def test_replace_moves_no_more_tracks_than_lie_outside_a_longest_increasing_run(
    order: list[int],
) -> None:
    # A local file at the end rules out the rewrite, so the reorders are what is counted.
    live = [*items(*(track(n) for n in order)), item("spotify:local:A:B:C:1")]
    desired = [track(n) for n in range(30)]
    plan = plan_sync(live, desired, "replace")
    check_common(live, plan)
    out_of_place = len(order) - longest_increasing_length(order)
    assert plan.adds == [] and plan.removes == []
    # Reorders, or when they would take more calls: one DELETE of every track and one POST.
    assert plan.write_count <= min(out_of_place, 2)
    if not plan.rewrite:
        assert sum(len(move.uris) for move in plan.moves) <= out_of_place
        assert plan.write_count == len(plan.moves)
    assert (plan.write_count == 0) == (order == sorted(order))


def test_a_shuffled_large_playlist_with_a_local_file_is_rebuilt_not_reordered_track_by_track() -> (
    None
):
    shuffled = list(range(1000))
    random.Random(4).shuffle(shuffled)
    local = "spotify:local:Band:Demo:Song+A:201"
    live = [*items(*(track(n) for n in shuffled[:400])), item(local)]
    live += items(*(track(n) for n in shuffled[400:]))
    desired = [track(n) for n in range(1000)]
    plan = plan_sync(live, desired, "replace")
    check_common(live, plan)
    # 10 DELETEs of 100 URIs, then the tracks before the local file (400: 4 POSTs) and after
    # it (600: 6 POSTs); reordering would have taken hundreds of calls.
    assert plan.rewrite and plan.write_count == 20
    assert [call.body.get("position") for call in plan.calls[10:]] == [
        *range(0, 400, 100),
        *range(401, 1001, 100),
    ]
    # Nothing is removed for good: the remove-share guard has nothing to object to.
    assert plan.removes == [] and plan.adds == []
    assert plan.result.index(local) == 400 and [k.position for k in plan.kept] == [400]


@given(
    live_tracks=st.lists(st.integers(0, 599), max_size=260),
    desired=st.lists(st.integers(0, 599), max_size=260),
    mode=st.sampled_from(MODES),
)
@settings(max_examples=60, deadline=None)
def test_large_playlists_split_calls_at_100_uris(
    live_tracks: list[int], desired: list[int], mode: SyncMode
) -> None:
    live = [*items(*(track(n) for n in live_tracks)), item(None)]
    plan = plan_sync(live, [track(n) for n in desired], mode)
    check_common(live, plan)
    if mode != "replace":
        expected = math.ceil(len(plan.removes) / 100) + math.ceil(len(plan.adds) / 100)
        assert plan.write_count == expected


@given(
    size=st.integers(1, 12),
    data=st.data(),
)
@settings(max_examples=200, deadline=None)
def test_replayed_reorders_and_removes_match_the_emulator(size: int, data: st.DataObject) -> None:
    """`apply_calls_locally` against the Spotify emulator's own implementation."""
    values = data.draw(st.lists(st.integers(0, 5), min_size=size, max_size=size))
    start = data.draw(st.integers(0, size - 1))
    length = data.draw(st.integers(1, size - start))
    before = data.draw(st.integers(0, size))
    gone = data.draw(st.sets(st.integers(0, 5)))
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    state = EMULATOR.state
    playlist = state.playlists[state.playlist_order[0]]
    playlist.entries = [AccountEntry("track", moment, "me", track_id=f"{v:022d}") for v in values]
    uris: list[str | None] = [f"spotify:track:{v:022d}" for v in values]

    state.reorder_items(playlist, start, before, length)
    assert reordered(uris, start, before, length) == playlist.uris()
    call = ApiCall(
        method="PUT", body={"range_start": start, "insert_before": before, "range_length": length}
    )
    assert apply_calls_locally(uris, [call]) == playlist.uris()

    if gone:
        doomed = [f"spotify:track:{v:022d}" for v in sorted(gone)]
        state.remove_items(playlist, doomed)
        delete = ApiCall(method="DELETE", body={"items": [{"uri": u} for u in doomed]})
        assert apply_calls_locally(reordered(uris, start, before, length), [delete]) == (
            playlist.uris()
        )


# --- examples -------------------------------------------------------------------------------


A, B, C, D, E = (track(n) for n in range(5))
LOCAL = "spotify:local:Artist:Album:Title:200"
EPISODE = "spotify:episode:4rOoJ6Egrf8K2IrywzwOMk"


@pytest.mark.parametrize("mode", MODES)
def test_a_playlist_that_already_matches_needs_no_call(mode: SyncMode) -> None:
    live = items(A, LOCAL, B, None, C, EPISODE)
    plan = plan_sync(live, [A, B, C], mode)
    assert plan.calls == [] and plan.write_count == 0
    assert plan.result == uris_of(live)
    assert [(k.kind, k.live_position, k.position) for k in plan.kept] == [
        ("local", 1, 1),
        ("unavailable", 3, 3),
        ("episode", 5, 5),
    ]


def test_merge_reports_and_leaves_a_desired_duplicate_but_removes_an_undesired_one() -> None:
    plan = plan_sync(items(A, B, A, C, C, LOCAL), [A, D], "merge")
    assert plan.result == [A, A, LOCAL, D]
    assert {(d.uri, d.count, d.resolution) for d in plan.duplicates} == {
        (A, 2, "left"),
        (C, 2, "removed"),
    }
    assert [call.model_dump() for call in plan.calls] == [  # adds first: nothing wanted is lost
        {"method": "POST", "path_suffix": "items", "body": {"uris": [D]}, "kind": "add"},
        {
            "method": "DELETE",
            "path_suffix": "items",
            "body": {"items": [{"uri": B}, {"uri": C}], "snapshot_id": SNAPSHOT},
            "kind": "remove",
        },
    ]


def test_replace_collapses_a_duplicate_by_deleting_it_and_adding_it_back_in_place() -> None:
    plan = plan_sync(items(A, B, A, LOCAL, C), [A, B, C], "replace")
    assert plan.result == [A, B, LOCAL, C]
    assert plan.removes == [A]
    assert [(d.uri, d.count, d.resolution) for d in plan.duplicates] == [(A, 2, "collapsed")]
    assert [(c.kind, c.body.get("uris"), c.body.get("position")) for c in plan.calls] == [
        ("remove", None, None),
        ("add", [A], 0),
    ]
    assert [(add.uri, add.position) for add in plan.adds] == [(A, 0)]


def test_replace_moves_one_misplaced_track_with_one_reorder() -> None:
    plan = plan_sync(items(A, B, C, D, E, LOCAL), [A, C, D, E, B], "replace")
    assert [call.body for call in plan.calls] == [
        {"range_start": 1, "insert_before": 5, "range_length": 1, "snapshot_id": SNAPSHOT}
    ]
    assert [(move.uris, move.position) for move in plan.moves] == [([B], 4)]
    assert plan.result == [A, C, D, E, B, LOCAL]


def test_replace_moves_neighbours_together() -> None:
    plan = plan_sync(items(D, E, A, B, C, None), [A, B, C, D, E], "replace")
    assert plan.write_count == 1
    assert plan.result == [A, B, C, D, E, None]


def test_replace_keeps_kept_items_at_their_index_less_removals_above() -> None:
    live = items(A, LOCAL, B, C, None, D, EPISODE)
    plan = plan_sync(live, [E, D, A], "replace")
    # B and C go; the slots of A and D take the first desired tracks; A gets a new slot.
    assert plan.result == [E, LOCAL, None, D, EPISODE, A]
    assert [(k.live_position, k.position) for k in plan.kept] == [(1, 1), (4, 2), (6, 4)]


def test_replace_rewrites_a_shuffled_playlist_when_nothing_must_be_kept() -> None:
    order = list(range(150))[::-1]
    desired = [track(n) for n in range(150)]
    plan = plan_sync(items(*(track(n) for n in order)), desired, "replace")
    assert plan.rewrite is True
    assert [(c.method, len(c.uris)) for c in plan.calls] == [("PUT", 100), ("POST", 50)]
    assert plan.calls[1].body == {"uris": desired[100:]}  # appended: no position
    assert plan.result == desired

    # A local file cannot be PUT back: every track is deleted and POSTed back before it.
    with_local = plan_sync([*items(*(track(n) for n in order)), item(LOCAL)], desired, "replace")
    assert with_local.rewrite is True
    assert [(c.kind, len(c.uris), c.body.get("position")) for c in with_local.calls] == [
        ("remove", 100, None),
        ("remove", 50, None),
        ("add", 100, 0),
        ("add", 50, 100),
    ]
    assert with_local.result == [*desired, LOCAL]
    # A small disorder is still fixed by moving only what is out of place.
    nearly = plan_sync(
        [*items(*(track(n) for n in [1, 0, *range(2, 150)])), item(LOCAL)], desired, "replace"
    )
    assert nearly.rewrite is False
    assert [call.kind for call in nearly.calls] == ["reorder"]


def test_replace_with_nothing_desired_empties_the_playlist_but_its_kept_items() -> None:
    plan = plan_sync(items(A, LOCAL, B, A), [], "replace")
    assert plan.result == [LOCAL]
    assert [call.uris for call in plan.calls] == [[A, B]]
    cleared = plan_sync(items(*(track(n) for n in range(120))), [], "replace")
    assert [(c.kind, c.body) for c in cleared.calls] == [("replace", {"uris": []})]


def test_pinned_tracks_are_never_removed_and_stay_in_place() -> None:
    plan = plan_sync(items(A, B, C), [C, A], "replace", pinned={B})
    assert plan.result == [C, B, A]
    assert [(k.uri, k.position) for k in plan.kept] == [(B, 1)]
    assert plan_sync(items(A, B, C), [A], "merge", pinned={B}).result == [A, B]


def test_desired_must_be_track_uris_and_repeats_count_once() -> None:
    with pytest.raises(ValueError, match="track URIs"):
        plan_sync([], [LOCAL], "append")
    with pytest.raises(ValueError, match="track URIs"):
        plan_sync([], [EPISODE], "replace")
    assert plan_sync([], [A, B, A], "append").result == [A, B]


def test_replaying_refuses_what_spotify_refuses() -> None:
    too_many = ApiCall(method="POST", body={"uris": [track(n) for n in range(101)]})
    local = ApiCall(method="POST", body={"uris": [LOCAL]})
    far = ApiCall(method="PUT", body={"range_start": 2, "insert_before": 0, "range_length": 2})
    both = ApiCall(method="PUT", body={"uris": [A], "range_start": 0, "insert_before": 1})
    refused = [(too_many, "1 to 100"), (local, "cannot take"), (far, "outside"), (both, "never")]
    for call, message in refused:
        with pytest.raises(ValueError, match=message):
            apply_calls_locally([A, B], [call])


def test_a_plan_is_plain_json() -> None:
    plan = plan_sync(items(B, A, C, LOCAL, None), [C, A, D], "replace")
    dumped = json.loads(plan.model_dump_json())
    assert dumped["write_count"] == 3
    assert [call["kind"] for call in dumped["calls"]] == ["remove", "reorder", "add"]
    assert dumped["result"] == [C, A, LOCAL, None, D]
    assert SyncPlan.model_validate(dumped) == plan


def test_live_items_come_from_the_entries_the_client_reads() -> None:
    raw = [
        {
            "added_at": "2026-01-02T03:04:05Z",
            "is_local": False,
            "item": {"type": "track", "id": "t0000", "uri": A},
        },
        {"is_local": True, "item": {"type": "track", "id": None, "uri": LOCAL, "is_local": True}},
        {"item": {"type": "episode", "id": "4rOoJ6Egrf8K2IrywzwOMk", "uri": EPISODE}},
        {"item": None, "track": None},
    ]
    live = [LiveItem.from_entry(PlaylistEntry.model_validate(entry)) for entry in raw]
    assert [(e.kind, e.uri) for e in live] == [
        ("track", A),
        ("local", LOCAL),
        ("episode", EPISODE),
        ("unavailable", None),
    ]
    assert live[0].added_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="unavailable"):
        LiveItem(uri=A, kind="unavailable")
    with pytest.raises(ValueError, match="spotify:local:"):
        LiveItem(uri=A, kind="local")
