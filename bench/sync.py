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

Then the user's path (issue 14): `sap plan` as a whole process on a terminal, against Spotify's
emulator served by another process (`sap emulate`, `--latency-ms` per request, 30 by default),
for a managed 10,000-track playlist with 5% changed. Set up untimed, as a user would: log in,
`sap fetch` (10,500 liked songs), two rule sets over the liked songs, each excluding 500 of
them, planned and applied (`sap plan`, `sap apply`) into two new playlists; then one rule set
excludes another 500 (500 removes and 500 adds: 5% changed). Timed, taking turns in each
round: `sap plan <changed>`; the baseline `sap plan <unchanged>` (the same process, reads and
library, with nothing to change: the floor of what a plan costs); and `sap version` (the
start-up share). The in-process planning time stays as a labelled second line.

    python bench/sync.py [--runs 5] [--latency-ms 30] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.data.rules import RuleStore
from app.data.tracks import TrackStore
from app.pipeline.sync.model import LiveItem, SyncMode
from app.pipeline.sync.planner import plan_sync
from app.pipeline.sync.replay import apply_calls_locally
from bench._report import record
from bench._server import SAP, free_port
from bench.fetch import (
    CONCURRENCY,
    PACER_RATE,
    api_requests,
    login,
    on_terminal,
    snapshot_settled,
    start_emulator,
    user_environment,
)

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


# --- the user's path: `sap plan` against the emulator ---------------------------------------------

PLAYLIST_SIZE = 10_000
CHANGED = 500  # 5% of the playlist out, as many in
CHANGED_ID, UNCHANGED_ID = "bench-changed", "bench-unchanged"


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f} s"


def _sap_json(env: dict[str, str], *argv: str) -> object:
    """An untimed `sap` command's JSON output (the setup a user did before)."""
    import subprocess

    done = subprocess.run(
        [SAP, *argv, "--json"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"sap {' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _rule_set(rule_id: str, name: str, exclude: list[str]) -> dict[str, object]:
    return {
        "id": rule_id,
        "name": name,
        "sources": ["liked"],
        "exclude": exclude,
        "target_playlist_name": name,
        "sync_mode": "replace",
    }


def user_path(args: argparse.Namespace) -> list[str]:
    """Time `sap plan` processes on a managed 10,000-track playlist; the report's lines."""
    emulator_args = argparse.Namespace(
        tracks=PLAYLIST_SIZE + CHANGED, playlists=0, size=1, latency_ms=args.latency_ms
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port, emulator_args)
    try:
        with tempfile.TemporaryDirectory(prefix="sap-bench-sync-") as tmp:
            data_dir = Path(tmp) / "data"
            login(base, data_dir)
            env = user_environment(base, data_dir)
            on_terminal([SAP, "fetch"], env)
            snapshot_settled(data_dir)  # the build it leaves behind it, not in the plans' time
            ids = sorted(TrackStore(data_dir).load_tracks())
            assert len(ids) == PLAYLIST_SIZE + CHANGED, len(ids)
            first, second = ids[:CHANGED], ids[CHANGED : 2 * CHANGED]
            rules = RuleStore(data_dir)
            rules.save_rules(
                [
                    _rule_set(CHANGED_ID, "Bench changed", first),
                    _rule_set(UNCHANGED_ID, "Bench unchanged", first),
                ]
            )
            plans = _sap_json(env, "plan")
            assert isinstance(plans, list) and len(plans) == 2, plans
            for plan in plans:
                assert plan["create"] and plan["summary"]["adds"] == PLAYLIST_SIZE, plan["summary"]
                _sap_json(env, "apply", plan["id"])
            rules.save_rules(
                [
                    _rule_set(CHANGED_ID, "Bench changed", second),
                    _rule_set(UNCHANGED_ID, "Bench unchanged", first),
                ]
            )
            # Untimed warm-up, and the check that the plans are the ones described.
            summaries = {}
            for rule_id in (CHANGED_ID, UNCHANGED_ID):
                [plan] = _sap_json(env, "plan", rule_id)  # type: ignore[misc]
                summaries[rule_id] = plan["summary"]
            changed, unchanged = summaries[CHANGED_ID], summaries[UNCHANGED_ID]
            assert (changed["adds"], changed["removes"]) == (CHANGED, CHANGED), changed
            assert (unchanged["adds"], unchanged["removes"], unchanged["writes"]) == (0, 0, 0)

            cases = {
                "changed": [SAP, "plan", CHANGED_ID],
                "unchanged": [SAP, "plan", UNCHANGED_ID],
                "version": [SAP, "version"],
            }
            times: dict[str, list[float]] = {name: [] for name in cases}
            requests: dict[str, set[int]] = {name: set() for name in cases}
            load_before = os.getloadavg()
            for run in range(args.runs):
                order = list(cases.items())
                if run % 2:
                    order.reverse()
                for name, argv in order:
                    before = api_requests(base)
                    elapsed, _ = on_terminal(argv, env)
                    times[name].append(elapsed)
                    requests[name].add(api_requests(base) - before)
            load_after = os.getloadavg()
    finally:
        emulator.terminate()
        emulator.wait(10)

    ratio = statistics.median(times["changed"]) / statistics.median(times["unchanged"])
    start_up = statistics.median(times["version"])

    def count(name: str) -> str:
        return "/".join(str(n) for n in sorted(requests[name]))

    reads = max(requests["changed"])
    latency_floor = reads / CONCURRENCY * args.latency_ms / 1000
    pacer_floor = reads / PACER_RATE
    binding = "pacer" if pacer_floor > latency_floor else "latency"

    lines = [
        f"`sap plan` as a user runs it: a whole process on a terminal (the table lists every "
        f"added and removed track), against the Spotify emulator in its own process with "
        f"{args.latency_ms:g} ms latency per request, for a managed {PLAYLIST_SIZE:,}-track "
        f"playlist (replace mode) of a rule set over {PLAYLIST_SIZE + CHANGED:,} liked songs; "
        f"{args.runs} rounds, the cases taking turns; default settings (pacer on). Load "
        f"average (1/5/15 min) {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f} "
        f"before, {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} after; "
        f"{os.cpu_count()} CPU shared by the emulator, `sap` and anything else running.",
        "",
        "| process | Spotify requests | min / median / max | ÷ baseline (median) |",
        "|---|---|---|---|",
        f"| `sap plan`, 5% changed ({changed['adds']} adds, {changed['removes']} removes, "
        f"{changed['moves']} moves, {changed['writes']} write calls planned) | {count('changed')} "
        f"| {spread(times['changed'])} | {ratio:.2f}x |",
        f"| baseline: `sap plan`, same playlist size, nothing changed (0 write calls) "
        f"| {count('unchanged')} | {spread(times['unchanged'])} | 1.00x |",
        f"| start-up: `sap version` | {count('version')} | {spread(times['version'])} | "
        f"{start_up / statistics.median(times['unchanged']):.2f}x |",
        "",
        f"Floors of the reads ({reads} requests: the user, the playlist, its pages of 50): "
        f"latency {reads} / {CONCURRENCY} x {args.latency_ms:g} ms = {latency_floor:.2f} s, "
        f"pacer {reads} / {PACER_RATE:g} per s = {pacer_floor:.2f} s (less its one-second "
        f"burst); the {binding} binds. The changed plan's median is "
        f"{statistics.median(times['changed']) / max(latency_floor, pacer_floor):.2f}x the "
        "binding floor; the baseline's (same reads, no change) "
        f"{statistics.median(times['unchanged']) / max(latency_floor, pacer_floor):.2f}x.",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-record", action="store_true", help="do not update the docs")
    parser.add_argument("--runs", type=int, default=5, help="rounds of the `sap plan` processes")
    parser.add_argument("--latency-ms", type=float, default=30.0)
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3 (min / median / max)")
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
    process_lines = user_path(args)
    lines = [
        *process_lines,
        "",
        "In process (second line: the planner alone, data already read, best of 3): "
        "planning a 10,000-track playlist in replace mode: "
        + ", ".join(f"{label} {seconds * 1000:.0f} ms" for label, seconds in timings.items())
        + " (target ≤ 1 s).",
        "",
        "Write calls per case and mode (plans replayed with Spotify's write semantics):",
        "",
        *rows,
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
