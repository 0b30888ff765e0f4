"""Library load: `sap preview` of 50 rule sets over 100,000 tracks, as a user runs it.

Each run is a whole `sap preview` process from a shell, timed from start to exit with its peak
RSS (`wait4`'s `ru_maxrss`), min/median/max over `--repeat` runs:

- cold: no library snapshot (deleted before each run), as when something changed the stores
  without a job (a file copied in): the library is built from the JSON stores, prepared and
  saved as the snapshot;
- snapshot: the user's next run, or the first one after a fetch, an enrichment or a manual
  edit (those jobs write the snapshot once they have committed).

The app's bytecode is compiled first (`compileall`), as an install leaves it.

The baseline, in the same sitting: a plain Python process that only parses the four JSON
stores (tracks, sources, enrichments, rules) with orjson — what any reader of the stores pays.
Then the server: `sap serve` over the same directory (snapshot present), and from this process
`GET /data/enrichments/coverage` over HTTP, warm (after the first answer), min/median/max of
10 calls; and in-process, labelled as such, `coverage` with the library loaded.

The data directory is a copy of `bench_data_dir`'s (the benchmark deletes snapshots in it),
kept under `.bench-data/`.

    python bench/library_load.py [--tracks 100000] [--rule-sets 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.data import Stores
from app.pipeline.enrichment.service import coverage
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.stamp import SNAPSHOT_NAME
from app.providers.registry import PROVIDERS
from bench._library import BENCH_DATA, bench_data_dir
from bench._report import best_of, record
from bench._server import sap_server

ROOT = Path(__file__).resolve().parents[1]
STORES = ("tracks.json", "sources.json", "enrichments.json", "rules.json")
SAP = [str(Path(sys.executable).with_name("sap"))]  # the installed entry point, as a user runs it
BASELINE = (
    "import orjson, sys, pathlib\n"
    "for name in sys.argv[1:]:\n"
    "    orjson.loads(pathlib.Path(name).read_bytes())\n"
)


def data_dir(tracks: int, rule_sets: int) -> Path:
    """A private copy of the benchmark library (its snapshot files are ours to delete)."""
    source = bench_data_dir(tracks, rule_sets)
    target = BENCH_DATA / f"{source.name}-load"
    if not all((target / name).exists() for name in STORES):
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name in STORES:
            shutil.copy2(source / name, target / name)
    return target


def run(command: list[str], env: dict[str, str]) -> tuple[float, int, bytes]:
    """Seconds from start to exit, peak RSS in MB and stdout of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} exited with {process.returncode}")
    return elapsed, usage.ru_maxrss // 1024, out


def http_coverage(directory: Path, env: dict[str, str], calls: int = 10) -> list[float]:
    """Seconds per warm `GET /data/enrichments/coverage` to a `sap serve` over `directory`."""
    with sap_server(directory, env=env, timeout=120) as (_, client):
        client.get("/data/enrichments/coverage").raise_for_status()  # loads the library
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            client.get("/data/enrichments/coverage").raise_for_status()
            times.append(time.perf_counter() - start)
        return times


def clear_snapshot(directory: Path) -> None:
    (directory / SNAPSHOT_NAME).unlink(missing_ok=True)


def series(runs: list[tuple[float, int, bytes]]) -> tuple[list[float], int]:
    return [elapsed for elapsed, _, _ in runs], max(rss for _, rss, _ in runs)


def spread(times: list[float]) -> str:
    return (
        f"{min(times):.2f} / {statistics.median(times):.2f} / {max(times):.2f} s"
        f" (min / median / max of {len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--rule-sets", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    directory = data_dir(args.tracks, args.rule_sets)
    env = {**os.environ, "SAP_SPOTIFY_CLIENT_ID": "bench"}
    preview = [*SAP, "preview", "--cache-dir", str(directory)]
    baseline_command = [sys.executable, "-c", BASELINE, *(str(directory / n) for n in STORES)]
    # The app's bytecode compiled ahead, as an install leaves it: a machine that writes no
    # `.pyc` at run time (PYTHONDONTWRITEBYTECODE, read-only installs) would otherwise compile
    # every module on every run, which is the CLI start-up's concern, not the library's.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "app")], check=True)
    load_before = os.getloadavg()

    baseline, cold, warm = [], [], []
    for _ in range(args.repeat):  # interleaved: each kind meets the same load
        baseline.append(run(baseline_command, env))
        clear_snapshot(directory)
        cold.append(run(preview, env))
        warm.append(run(preview, env))
    load_after = os.getloadavg()
    outputs = {out for _, _, out in cold + warm}
    if len(outputs) != 1:
        raise SystemExit("the previews from the snapshot differ from the cold ones")

    coverage_http = http_coverage(directory, env)
    library = LibraryCache(Stores.open(directory), PROVIDERS.precedence())
    library.views()
    coverage_warm = best_of(args.repeat, lambda: coverage(library))

    (base_times, base_rss), (cold_times, cold_rss), (warm_times, warm_rss) = (
        series(baseline),
        series(cold),
        series(warm),
    )
    base = statistics.median(base_times)
    snapshot_mb = (directory / SNAPSHOT_NAME).stat().st_size / 1e6
    lines = [
        f"`sap preview`, {args.rule_sets} rule sets, {args.tracks:,} tracks enriched by 4+ "
        f"providers, whole processes (the app's bytecode compiled ahead); load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after:",
        "",
        "| run | time | peak RSS | ratio to the baseline (medians) |",
        "|---|---|---|---|",
        f"| baseline: orjson parse of the four stores | {spread(base_times)} | {base_rss} MB "
        "| 1.00 |",
        f"| cold: no snapshot (built, then saved) | {spread(cold_times)} | {cold_rss} MB | "
        f"{statistics.median(cold_times) / base:.2f} |",
        f"| with the snapshot (the next run) | {spread(warm_times)} | {warm_rss} MB | "
        f"{statistics.median(warm_times) / base:.2f} |",
        "",
        f"Snapshot {snapshot_mb:.0f} MB (the typed columns, sort ranks and dedupe markers, "
        "coverage counts and discovered fields).",
        "",
        "`GET /data/enrichments/coverage` over HTTP to `sap serve`, warm: "
        f"{min(coverage_http) * 1000:.1f} / {statistics.median(coverage_http) * 1000:.1f} / "
        f"{max(coverage_http) * 1000:.1f} ms (min / median / max of {len(coverage_http)}). "
        f"In-process (the service call, library loaded): {coverage_warm * 1000:.1f} ms "
        f"(best of {args.repeat}).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        record("library_load", body)


if __name__ == "__main__":
    main()
