"""`sap fetch` as a user runs it: a whole `sap` process in a terminal, against Spotify's
emulator served over HTTP by another process, next to its floors and baselines in the same run.

The emulator (`sap emulate`, its own process) answers each request after `--latency-ms` (30)
and holds 10,000 liked songs and 20 playlists of 250 entries; it counts the requests it
answers (`GET /_stats`). The user logged in once (done here, untimed, into a template data
directory); every measured run is then `sap fetch` with no option (liked songs and every
playlist the user can read) into a fresh copy of that directory, on a pseudo-terminal as a
shell gives it (the progress bar is drawn), timed from spawn to exit. Two settings, taking
turns in each round so a burst of other load hits both alike:

- *defaults*: the client-side pacer at its default rate (``SAP_SPOTIFY_RATE_LIMIT``, 50/s);
- *pacer off*: ``SAP_SPOTIFY_RATE_LIMIT=0``.

Floors, from the requests the emulator counted for one fetch (R), the concurrency the process
used (c, ``SAP_SPOTIFY_CONCURRENCY``), the latency (L) and the pacer's rate (r):
latency floor R / c x L, pacer floor R / r (none with the pacer off); the target (issue 14)
is 1.3 x max(floors) + 0.3 s of start-up, and the report says which floor binds. Same run,
as baselines: `sap version` (a `sap` process doing nothing: the start-up share), a refresh
with nothing changed (`sap fetch` again), and, labelled as in-process figures, the same
plan + fetch inside this process, a plain sequential `next` loop and spotipy.

`--before PATH` adds the same fetch, pacer off, run by another `sap` executable (an unchanged
checkout's `.venv/bin/sap`) in the same rounds: on a shared machine whose load moves, the
ratio of the two medians is the figure that compares.

    python bench/fetch.py [--runs 5] [--latency-ms 30] [--before SAP] [--no-loops] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import math
import os
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import Settings
from app.data import Stores
from app.pipeline.rules.library.stamp import snapshot_is_current
from app.pipeline.services import Services
from app.pipeline.sources.planning import plan_library
from app.pipeline.sources.service import fetch_many
from app.providers.registry import PROVIDERS
from app.spotify.auth.login import headless_login
from bench._report import ROOT, record
from bench._server import SAP, free_port

DEFAULTS = Settings.model_fields
CONCURRENCY = int(DEFAULTS["spotify_concurrency"].default)
PACER_RATE = float(DEFAULTS["spotify_rate_limit"].default)
START_UP_ALLOWANCE = 0.3  # seconds, the target's allowance for a process to start


# --- the emulator ------------------------------------------------------------------------------


def start_emulator(port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "app",
        "emulate",
        "--port",
        str(port),
        "--seed",
        "7",
        "--tracks",
        str(args.tracks),
        "--playlists",
        str(args.playlists),
        "--playlist-size",
        str(args.size),
        "--latency-ms",
        str(args.latency_ms),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the emulator did not start")


def api_requests(base: str) -> int:
    stats = httpx.get(f"{base}/_stats", timeout=10).json()
    return int(stats["requests"].get("spotify_api", 0))


# --- `sap` processes ---------------------------------------------------------------------------


def user_environment(base: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a user whose app points at the emulator: their shell's, without any
    other `SAP_` setting, plus `settings` (names without the prefix)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAP_")}
    env.setdefault("TERM", "xterm-256color")
    env |= {
        "SAP_SPOTIFY_CLIENT_ID": "bench",
        "SAP_CACHE_DIR": str(data_dir),
        "SAP_SPOTIFY_API_URL": f"{base}/spotify/v1",
        "SAP_SPOTIFY_ACCOUNTS_URL": f"{base}/spotify/accounts",
    }
    return env | {f"SAP_{name.upper()}": value for name, value in settings.items()}


def on_terminal(argv: list[str], env: Mapping[str, str]) -> tuple[float, str]:
    """Run `argv` with a pseudo-terminal (120 x 40) as its stdout and stderr, as a shell does;
    the seconds from spawn to exit, and what it printed. Exit 1 when it fails."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    output = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process exited and the terminal closed
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=dict(env), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    code = process.wait()
    elapsed = time.perf_counter() - start
    os.close(slave)
    reader.join(10)
    os.close(master)
    text = output.decode(errors="replace")
    if code != 0:
        raise SystemExit(f"{' '.join(argv[1:])} exited {code}:\n{text[-2000:]}")
    return elapsed, text


def snapshot_settled(data_dir: Path, timeout: float = 300.0) -> float:
    """Seconds from now until the library snapshot of `data_dir` is current: the build a `sap`
    command leaves to a process behind it (`SAP_CLI_LIBRARY_REFRESH=background`), waited for
    so that it takes no CPU from the next measured process (0 when it was built before)."""
    stores, precedence = Stores.open(data_dir), PROVIDERS.precedence()
    start = time.perf_counter()
    while not snapshot_is_current(stores, precedence):
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"no library snapshot in {data_dir} after {timeout:.0f} s")
        time.sleep(0.01)
    return time.perf_counter() - start


def login(base: str, template: Path) -> str:
    """Log the user in once (the emulator consents by itself); their user id."""
    settings = Settings(
        cache_dir=template,
        spotify_client_id="bench",
        spotify_api_url=f"{base}/spotify/v1",
        spotify_accounts_url=f"{base}/spotify/accounts",
    )
    return asyncio.run(headless_login(Services.from_settings(settings).spotify)).id


def fresh_copy(template: Path, target: Path) -> Path:
    """A data directory as the user has it after logging in (tokens only)."""
    shutil.copytree(template, target)
    return target


# --- in this process (second line) ---------------------------------------------------------------


def settle() -> None:
    """Wait for the library warm-up a fetch starts in the background once it has saved: left
    running, it would take CPU from whatever is measured next."""
    for thread in threading.enumerate():
        if thread.name == "sap-warm-library":
            thread.join()


def in_process(base: str, data_dir: Path) -> tuple[float, Services]:
    """Plan the library and read every source concurrently in this process; seconds."""
    settings = Settings(
        cache_dir=data_dir,
        spotify_client_id="bench",
        spotify_api_url=f"{base}/spotify/v1",
        spotify_accounts_url=f"{base}/spotify/accounts",
        spotify_rate_limit=0,
    )
    services = Services.from_settings(settings)

    async def fetch() -> None:
        result = await fetch_many(services, await plan_library(services))
        assert result.failed == 0, result

    start = time.perf_counter()
    asyncio.run(fetch())
    elapsed = time.perf_counter() - start
    settle()
    return elapsed, services


def entries_read(services: Services) -> int:
    """Every playlist position and liked song the fetch saw, as the raw loops count them."""
    return sum(
        len(record.entries)
        + sum(count for kind, count in record.skipped.items() if kind != "duplicates")
        for record in services.stores.sources.load().values()
    )


def sequential_loop(api: str, token: str, user_id: str) -> int:
    """The obvious client: follow `next` one request at a time."""
    headers = {"Authorization": f"Bearer {token}"}
    entries = 0
    with httpx.Client(headers=headers, timeout=30) as http:

        def walk(url: str | None) -> list[Any]:
            items: list[Any] = []
            while url:
                page = http.get(url).raise_for_status().json()
                items += page["items"]
                url = page["next"]
            return items

        entries += len(walk(f"{api}/me/tracks?limit=50"))
        for playlist in walk(f"{api}/me/playlists?limit=50"):
            if playlist["owner"]["id"] == user_id or playlist["collaborative"]:
                entries += len(
                    walk(
                        f"{api}/playlists/{playlist['id']}/items?limit=50"
                        "&additional_types=track,episode"
                    )
                )
    return entries


def spotipy_loop(api: str, token: str, user_id: str) -> int:
    import spotipy

    sp = spotipy.Spotify(auth=token, requests_timeout=30, retries=0)
    sp.prefix = api + "/"
    entries = 0
    page = sp.current_user_saved_tracks(limit=50)
    while page:
        entries += len(page["items"])
        page = sp.next(page)
    playlists: list[Any] = []
    page = sp.current_user_playlists(limit=50)
    while page:
        playlists += page["items"]
        page = sp.next(page)
    for playlist in playlists:
        if playlist["owner"]["id"] != user_id and not playlist["collaborative"]:
            continue
        page = sp.playlist_items(playlist["id"], limit=50, additional_types=("track", "episode"))
        while page:
            entries += len(page["items"])
            page = sp.next(page)
    return entries


def _spotipy_version() -> str:
    from importlib.metadata import version

    return version("spotipy")


# --- the report --------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--playlists", type=int, default=20)
    parser.add_argument("--size", type=int, default=250)
    parser.add_argument("--runs", type=int, default=5, help="rounds of the measured processes")
    parser.add_argument("--before", help="another `sap` executable to time the same way")
    parser.add_argument("--before-label", help="what to call it in the report (its commit)")
    parser.add_argument("--no-loops", action="store_true", help="skip the sequential baselines")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3 (min / median / max)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    latency = args.latency_ms / 1000
    emulator = start_emulator(port, args)
    try:
        with tempfile.TemporaryDirectory(prefix="sap-bench-fetch-") as tmp:
            root = Path(tmp)
            template = root / "logged-in"
            user_id = login(base, template)

            def sap(
                name: str, data_dir: Path, *argv: str, executable: str = SAP, **settings: str
            ) -> tuple[float, int]:
                """One `sap` process on a terminal: seconds, and the API requests it made. The
                snapshot build it may leave behind it is waited for, out of the time."""
                before = api_requests(base)
                env = user_environment(base, data_dir, **settings)
                elapsed, _ = on_terminal([executable, *argv], env)
                behind[name].append(snapshot_settled(data_dir))
                return elapsed, api_requests(base) - before

            behind: dict[str, list[float]] = defaultdict(list)
            # Untimed: the emulator builds each JSON object the first time it serves it, and a
            # first process may still write bytecode; neither is what a user's fetch pays.
            sap("warm-up", fresh_copy(template, root / "warm-up"), "fetch")
            in_process(base, fresh_copy(template, root / "warm-up-in-process"))

            cases = {"defaults": {}, "pacer off": {"spotify_rate_limit": "0"}}
            before_times: list[float] = []
            if args.before:  # untimed first, like ours
                sap(
                    "warm-up",
                    fresh_copy(template, root / "warm-up-before"),
                    "fetch",
                    executable=args.before,
                )
            times: dict[str, list[float]] = {name: [] for name in cases}
            requests: dict[str, set[int]] = {name: set() for name in cases}
            refresh_times: list[float] = []
            refresh_requests: set[int] = set()
            version_times: list[float] = []
            load_before = os.getloadavg()
            for run in range(args.runs):
                order = list(cases.items())
                if run % 2:
                    order.reverse()
                for name, settings in order:
                    data_dir = fresh_copy(template, root / f"{name}-{run}".replace(" ", "-"))
                    elapsed, count = sap(name, data_dir, "fetch", **settings)
                    times[name].append(elapsed)
                    requests[name].add(count)
                    if name == "pacer off":
                        elapsed, count = sap("refresh", data_dir, "fetch", **settings)
                        refresh_times.append(elapsed)
                        refresh_requests.add(count)
                if args.before:
                    data_dir = fresh_copy(template, root / f"before-{run}")
                    elapsed, count = sap(
                        "before", data_dir, "fetch", executable=args.before, spotify_rate_limit="0"
                    )
                    before_times.append(elapsed)
                    requests["pacer off"].add(count)
                version_times.append(sap("version", template, "version")[0])
            load_after = os.getloadavg()

            in_process_times = []
            for run in range(args.runs):
                elapsed, services = in_process(base, fresh_copy(template, root / f"ip-{run}"))
                in_process_times.append(elapsed)
            entries = entries_read(services)
            token = services.spotify.tokens.load()
            assert token is not None

            loops: list[tuple[str, float, int]] = []
            if not args.no_loops:
                api = f"{base}/spotify/v1"
                for label, loop in (
                    ("sequential `next` loop (httpx)", sequential_loop),
                    (f"spotipy {_spotipy_version()} `next` loop", spotipy_loop),
                ):
                    start = time.perf_counter()
                    loop_entries = loop(api, token.access_token, user_id)
                    loops.append((label, time.perf_counter() - start, loop_entries))
    finally:
        emulator.terminate()
        emulator.wait(10)

    for name, counts in requests.items():
        assert len(counts) == 1, f"{name}: the runs made different numbers of requests {counts}"
    assert requests["defaults"] == requests["pacer off"], requests
    for label, _, loop_entries in loops:
        assert loop_entries == entries, (label, loop_entries, entries)
    [count] = requests["defaults"]
    latency_floor = count / CONCURRENCY * latency
    pacer_floor = count / PACER_RATE
    refresh_budget = 1 + math.ceil(args.playlists / 50)

    def floors(pacer: bool) -> tuple[float, str]:
        if pacer and pacer_floor > latency_floor:
            return pacer_floor, "pacer"
        return latency_floor, "latency"

    rows = [
        "| `sap fetch` process | requests | min / median / max | binding floor | "
        "median ÷ floor | target (1.3 x floor + 0.3 s) | met |",
        "|---|---|---|---|---|---|---|",
    ]
    met = True
    for name, values in times.items():
        floor, binding = floors(pacer=name == "defaults")
        target = 1.3 * floor + START_UP_ALLOWANCE
        median = statistics.median(values)
        met = met and median <= target
        rows.append(
            f"| {name} | {count} | {spread(values)} | {binding}: {floor:.2f} s | "
            f"{median / floor:.2f}x | {target:.2f} s | {'yes' if median <= target else 'NO'} |"
        )
    [refreshed] = refresh_requests
    rows.append(
        f"| refresh, nothing changed (pacer off) | {refreshed} (budget {refresh_budget}) | "
        f"{spread(refresh_times)} | | | | {'yes' if refreshed <= refresh_budget else 'NO'} |"
    )
    if before_times:
        ratio = statistics.median(before_times) / statistics.median(times["pacer off"])
        rows.append(
            f"| baseline: before ({args.before_label or args.before}), pacer off | {count} | "
            f"{spread(before_times)} | | {statistics.median(before_times) / latency_floor:.2f}x "
            f"| | ours is {ratio:.2f}x faster |"
        )
    rows.append(f"| baseline: `sap version` (start-up) | 0 | {spread(version_times)} | | | | |")
    rows.append("")
    rows.append(
        "The library's snapshot (what the next preview loads), built by a process each `sap "
        "fetch` leaves behind it, was current this long after the process exited (waited for "
        "before the next process started, out of the times above): "
        + "; ".join(
            f"{name} {spread(behind[name])}"
            for name in ("defaults", "pacer off", "refresh", "before")
            if behind.get(name)
        )
        + "."
    )
    lines = [
        f"`sap fetch` with no option (liked songs and every readable playlist: {entries:,} "
        f"entries) in a fresh data directory, a whole process on a terminal, against the "
        f"emulator in its own process with {args.latency_ms:g} ms latency per request; "
        f"{args.runs} rounds, the settings taking turns. Concurrency {CONCURRENCY}; pacer "
        f"{PACER_RATE:g} requests/s by default (bursts of one second's worth). Floors: latency "
        f"{count} / {CONCURRENCY} x {args.latency_ms:g} ms = {latency_floor:.2f} s; pacer "
        f"{count} / {PACER_RATE:g} = {pacer_floor:.2f} s. Load average (1/5/15 min) "
        f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f} before, "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} after; "
        f"{os.cpu_count()} CPU shared by the emulator, `sap` and anything else running.",
        "",
        *rows,
        "",
        "In this process (second line: no start-up, no job record, no table; pacer off), "
        "and the sequential baselines:",
        "",
        "| run | min / median / max | median ÷ latency floor | in-process ours is faster by |",
        "|---|---|---|---|",
        f"| plan + concurrent fetch + save, in process | {spread(in_process_times)} | "
        f"{statistics.median(in_process_times) / latency_floor:.2f}x | |",
    ]
    ours = statistics.median(in_process_times)
    for label, seconds, _ in loops:
        lines.append(
            f"| {label} | {seconds:.2f} s | {seconds / latency_floor:.2f}x | "
            f"{seconds / ours:.1f}x |"
        )
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record("fetch", report)
    if not met or refreshed > refresh_budget:
        print("MISSED: at least one target above was not met")
        if args.strict:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
