"""Exact plans (restores, roll-backs, resumptions): for any live playlist and any wanted list —
duplicates, local files, episodes and unavailable items included — the calls, replayed with
Spotify's semantics, give exactly the wanted list whenever Spotify can make it, and otherwise
only what Spotify cannot (re-adding a local file or an unavailable item, removing the latter)
is missing or extra. Planning the result again needs no call."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from app.pipeline.sync.exact import exactness, plan_exact
from app.pipeline.sync.model import MAX_URIS, LiveItem
from app.pipeline.sync.replay import apply_calls_locally


def item(uri: str | None) -> LiveItem:
    if uri is None:
        return LiveItem(uri=None, kind="unavailable")
    kind = uri.split(":")[1]
    return LiveItem(uri=uri, kind="track" if kind == "track" else kind)  # type: ignore[arg-type]


TRACKS = [f"spotify:track:t{n:04d}" for n in range(10)]
ODD: list[str | None] = [
    None,
    "spotify:local:A:B:C:100",
    "spotify:local:D:E:F:200",
    "spotify:episode:e0001",
]
entries = st.sampled_from([*TRACKS, *ODD])


@settings(max_examples=400, deadline=None)
@given(live=st.lists(entries, max_size=16), target=st.lists(entries, max_size=16))
def test_an_exact_plan_reaches_the_wanted_list_or_all_spotify_allows(
    live: list[str | None], target: list[str | None]
) -> None:
    plan = plan_exact([item(u) for u in live], target)
    replayed = apply_calls_locally(live, plan.calls)
    assert replayed == plan.result
    # Only what Spotify cannot do is left: missing entries are local files or unavailable
    # items the playlist no longer holds (as many copies); extra ones cannot be removed.
    have, want = Counter(replayed), Counter(target)
    for uri in want - have:
        assert uri is None or uri.startswith("spotify:local:")
        assert Counter(live)[uri] < want[uri]
    for uri, count in (have - want).items():
        assert uri is None or uri.startswith("spotify:local:")
        assert count <= Counter(live)[uri]
    gap = exactness(replayed, target)
    if gap.exact:
        assert replayed == target
    assert plan_exact([item(u) for u in replayed], replayed).calls == []


@settings(max_examples=150, deadline=None)
@given(
    target=st.lists(st.sampled_from(TRACKS), max_size=14),
    data=st.data(),
)
def test_duplicates_come_back_exactly(target: list[str], data: st.DataObject) -> None:
    """The playlist of 37 with duplicates that came back as 34: a shuffle, with copies lost or
    added, is put back copy for copy."""
    now = data.draw(st.permutations(target))
    now = now[: data.draw(st.integers(0, len(now)))] + data.draw(
        st.lists(st.sampled_from(TRACKS), max_size=4)
    )
    plan = plan_exact([item(u) for u in now], list(target))
    assert apply_calls_locally(list(now), plan.calls) == target == plan.result


def test_a_large_shuffle_is_rebuilt_in_few_calls_and_small_edits_stay_incremental() -> None:
    many = [f"spotify:track:{n:022d}" for n in range(250)]
    shuffled = many[1::2] + many[::2]
    rebuilt = plan_exact([item(u) for u in shuffled], many)
    assert [c.method for c in rebuilt.calls] == ["PUT", "POST", "POST"]
    assert rebuilt.rewrite and apply_calls_locally(shuffled, rebuilt.calls) == many

    with_local: list[str | None] = ["spotify:local:A:B:C:1", *shuffled]
    wanted: list[str | None] = ["spotify:local:A:B:C:1", *many]
    around = plan_exact([item(u) for u in with_local], wanted)
    assert around.rewrite and len(around.calls) == 3 + 3  # DELETEs of 250, POSTs of 250
    assert apply_calls_locally(with_local, around.calls) == wanted

    one_gone = many[:100] + many[101:]
    small = plan_exact([item(u) for u in one_gone], many)
    assert not small.rewrite and len(small.calls) == 1
    assert [(a.uri, a.position) for a in small.adds] == [(many[100], 100)]
    assert max(len(c.uris) for c in rebuilt.calls) <= MAX_URIS
