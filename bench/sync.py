"""Sync benchmark: write calls per case and mode against the floor, planning time for a
10,000-track playlist, and a clear-and-re-add baseline (what many tools do).

For each case (small and large playlists, a small and a large change, duplicates, local files
and unavailable items, unchanged) and each mode, the plan is replayed with Spotify's write
semantics (`apply_calls_locally`: DELETE removes every occurrence, ≤ 100 URIs a call; the same
semantics the emulator tests check) to confirm it reaches the intended playlist, and its
calls are counted: merge and append must equal the floor ceil(adds/100) + ceil(removes/100);
an unchanged playlist must cost 0. The baseline clears the playlist and re-adds the tracks
(`PUT` of the first 100, then `POST`s), counted the same way, with the items it loses (local
files and unavailable items cannot be added back).

    python bench/sync.py [--no-record]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.pipeline.sync.model import LiveItem, SyncMode
from app.pipeline.sync.planner import plan_sync
from app.pipeline.sync.replay import apply_calls_locally
from bench._report import record

MODES: tuple[SyncMode, ...] = ("replace", "merge", "append")


def track(n: int) -> str:
    return f"spotify:track:{n:022d}"


def live_of(uris: list[str | None]) -> list[LiveItem]:
    items = []
    for uri in uris:
        if uri is None:
            items.append(LiveItem(uri=None, kind="unavailable"))
        elif uri.startswith("spotify:local:"):
            items.append(LiveItem(uri=uri, kind="local"))
        else:
            items.append(LiveItem(uri=uri, kind="track"))
    return items


def cases(rng: random.Random) -> dict[str, tuple[list[str | None], list[str]]]:
    small = [track(i) for i in range(60)]
    large = [track(i) for i in range(5_000)]
    changed = large[:4_750] + [track(i) for i in range(10_000, 10_250)]  # 5% out, 5% in
    rewritten = [track(i) for i in range(20_000, 25_000)]
    dupes: list[str | None] = [*small, small[3], small[3], small[10]]
    local: list[str | None] = [*small]
    local[5:5] = ["spotify:local:Artist:Album:Song:200", None]
    local.append("spotify:local:Other:Album:Tune:180")
    shuffled = small[:]
    rng.shuffle(shuffled)
    return {
        "small, unchanged": (list(small), small),
        "small, new order": (list(small), shuffled),
        "large, unchanged": (list(large), large),
        "large, 5% changed": (list(large), changed),
        "large, all changed": (list(large), rewritten),
        "duplicates": (dupes, [*small[:50], track(900)]),
        "local files + unavailable": (local, [*small[10:], track(901), track(902)]),
        "new playlist": ([], small),
    }


def floor(mode: SyncMode, adds: int, removes: int) -> int:
    return math.ceil(adds / 100) + (0 if mode == "append" else math.ceil(removes / 100))


def baseline(live: list[str | None], desired: list[str]) -> tuple[int, int]:
    """Clear and re-add: (calls, items lost)."""
    calls = max(1, math.ceil(len(desired) / 100))
    lost = sum(1 for uri in live if uri is None or uri.startswith("spotify:local:"))
    return calls, lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-record", action="store_true", help="do not update the docs")
    args = parser.parse_args()
    rng = random.Random(7)
    rows = [
        "| case | mode | adds | removes | calls | floor | baseline calls "
        "| items lost: ours / baseline |",
        "|---|---|---|---|---|---|---|---|",
    ]
    problems: list[str] = []
    for name, (live_uris, desired) in cases(rng).items():
        live = live_of(live_uris)
        for mode in MODES:
            plan = plan_sync(live, desired, mode)
            result = apply_calls_locally(live_uris, plan.calls)
            if result != plan.result:
                problems.append(f"{name}/{mode}: replay differs from the plan's result")
            if any(len(call.uris) > 100 for call in plan.calls):
                problems.append(f"{name}/{mode}: a call over 100 URIs")
            kept_before = [u for u in live_uris if u is None or u.startswith("spotify:local:")]
            kept_after = [u for u in result if u is None or u.startswith("spotify:local:")]
            lost = len(kept_before) - len(kept_after)
            base_calls, base_lost = baseline(live_uris, desired)
            adds, removes = len(plan.adds), len(plan.removes)
            least = floor(mode, adds, removes)
            if mode != "replace" and len(plan.calls) != least:
                problems.append(f"{name}/{mode}: {len(plan.calls)} calls, floor {least}")
            if "unchanged" in name and plan.calls:
                problems.append(f"{name}/{mode}: an unchanged playlist made calls")
            floor_text = str(least) if mode != "replace" else f"{least} + moves"
            rows.append(
                f"| {name} | {mode} | {adds} | {removes} | {len(plan.calls)} | {floor_text} | "
                f"{base_calls} | {lost} / {base_lost} |"
            )

    # Planning time for a 10,000-track playlist (data already read), best of 3.
    big = [track(i) for i in range(10_000)]
    changed = big[:9_500] + [track(i) for i in range(50_000, 50_500)]
    tail = changed[9_000:]
    rng.shuffle(tail)  # and the last 10% in a new order
    changed[9_000:] = tail
    timings: dict[str, float] = {}
    for label, desired in (("5% changed, 10% reordered", changed), ("unchanged", big)):
        live = live_of(list(big))
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            plan_sync(live, desired, "replace")
            best = min(best, time.perf_counter() - start)
        timings[label] = best
    read_pages = math.ceil(10_000 / 50)
    lines = [
        "Write calls per case and mode (plans replayed with Spotify's write semantics):",
        "",
        *rows,
        "",
        "Planning a 10,000-track playlist (replace mode, after reading it): "
        + ", ".join(f"{label} {seconds * 1000:.0f} ms" for label, seconds in timings.items())
        + f" (target ≤ 1 s); reading it takes {read_pages} page requests (see the fetch bench).",
        "",
        "Result: " + ("all checks passed" if not problems else "PROBLEMS: " + "; ".join(problems)),
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        record("sync", text)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
