"""Store speed: saving and loading a large library, our store vs a straightforward baseline.

Both sides do the same work in the same run: the atomic write protocol (temp file, fsync,
rename, directory fsync), the envelope, and pydantic validation of every track on load. The
baseline is the obvious implementation (the seed's): the standard `json` module, indented
output, the garbage collector left running. Ours: orjson, compact output for this
machine-written file, and the collector paused during bulk decode/encode (`paused_gc`).

Then the user's path the store decides (issue 14), on the 100,000-track / 50-rule-set data
directory of `bench/_library.py` (a private copy): `sap status` and `sap verify` as whole
processes (verify parses and validates every store file), and `sap serve` from spawn until
`GET /pipeline/health` first answers, min/median/max over `--runs` rounds (the cases taking
turns). Baselines in the same rounds: a plain Python process that parses the same store files
with orjson (the floor of any reader of them), and `sap version` (the start-up share). The
in-process store comparison above stays as a labelled second table.

    python bench/store.py [--tracks 100000] [--repeat 3] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.fs import fsync_directory
from app.core.models import AlbumRef, ArtistRef, Track
from app.data.tracks import TrackStore
from bench._library import BENCH_DATA, bench_data_dir
from bench._report import ROOT, best_of, record, shared_data_dir
from bench._server import SAP, free_port

FLOOR = (
    "import orjson, sys, pathlib\n"
    "for name in sys.argv[1:]:\n"
    "    orjson.loads(pathlib.Path(name).read_bytes())\n"
)


def tracks_from_dataset(count: int) -> list[Track]:
    """Real track metadata (TidyTuesday export), replicated with new ids up to `count`."""
    path = shared_data_dir() / "tidytuesday_spotify_songs.csv"
    rows: dict[str, dict[str, str]] = {}
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.setdefault(row["track_id"], row)
    else:  # no shared data (a user's clone): synthetic rows of similar shape
        rng = random.Random(7)
        for index in range(5000):
            rows[f"synthetic{index}"] = {
                "track_name": f"Song {index}",
                "track_artist": f"Artist {rng.randrange(900)}",
                "track_album_id": f"album{index // 10}",
                "track_album_name": f"Album {index // 10}",
                "track_album_release_date": f"{rng.randrange(1960, 2026)}-01-01",
                "duration_ms": str(rng.randrange(90_000, 420_000)),
            }
    base = list(rows.values())
    tracks = []
    for index in range(count):
        row = base[index % len(base)]
        track_id = f"{index:022d}"
        release = row["track_album_release_date"]
        precision = {4: "year", 7: "month"}.get(len(release), "day")
        tracks.append(
            Track(
                id=track_id,
                uri=f"spotify:track:{track_id}",
                name=row["track_name"],
                artists=[
                    ArtistRef(
                        id=f"artist{hash(row['track_artist']) & 0xFFFFFF:x}",
                        name=row["track_artist"],
                    )
                ],
                album=AlbumRef(
                    id=row["track_album_id"],
                    name=row["track_album_name"],
                    release_date=release,
                    release_date_precision=precision,
                ),
                duration_ms=int(float(row["duration_ms"] or 0)),
                isrc=f"USRC1{index:07d}",
            )
        )
    return tracks


def stdlib_write(path: Path, data: Any) -> None:
    """The same atomic write protocol as app.core.fs.write_json, with the json module."""
    payload = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temp).unlink()
        raise
    fsync_directory(path.parent)


# --- the user's path: `sap` processes and the server over the 100,000-track directory -----------


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f} s"


def private_copy(source: Path) -> Path:
    """A copy of the benchmark directory's store files (verify and the server write in it)."""
    target = BENCH_DATA / f"{source.name}-store"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(mode=0o700, parents=True)
    for path in source.glob("*.json"):
        shutil.copy2(path, target / path.name)
    return target


def environment(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAP_")}
    return env | {
        "SAP_SPOTIFY_CLIENT_ID": "bench",
        "SAP_CACHE_DIR": str(data_dir),
        "SAP_LOG_LEVEL": "WARNING",
        "COLUMNS": "120",
    }


def process_time(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to exit of a process that must succeed."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[1:]} exited {done.returncode}: {done.stderr[-2000:]!r}")
    return elapsed


def first_answer(env: dict[str, str]) -> float:
    """Seconds from spawning `sap serve` until `GET /pipeline/health` answers 200."""
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [SAP, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while True:
                try:
                    if client.get("/pipeline/health").status_code == 200:
                        return time.perf_counter() - start
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.perf_counter() - start > 120:
                    raise SystemExit("the server did not start")
                time.sleep(0.01)  # polling granularity of the measurement, 10 ms
    finally:
        process.terminate()
        process.wait(30)


def user_path(runs: int) -> list[str]:
    source = bench_data_dir(100_000, 50)
    data_dir = private_copy(source)
    env = environment(data_dir)
    files = sorted(data_dir.glob("*.json"))
    size_mb = sum(path.stat().st_size for path in files) / 1e6
    cases: dict[str, list[str] | None] = {
        "floor": [sys.executable, "-c", FLOOR, *map(str, files)],
        "status": [SAP, "status"],
        "verify": [SAP, "verify"],
        "serve": None,
        "version": [SAP, "version"],
    }
    for argv in cases.values():  # untimed: a first process may still write bytecode
        if argv is not None:
            process_time(argv, env)
    first_answer(env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    load_before = os.getloadavg()
    for run in range(runs):
        order = list(cases.items())
        if run % 2:
            order.reverse()
        for name, argv in order:
            times[name].append(first_answer(env) if argv is None else process_time(argv, env))
    load_after = os.getloadavg()
    floor = statistics.median(times["floor"])
    labels = {
        "floor": "baseline: a Python process parsing the same files with orjson (the floor)",
        "status": "`sap status`",
        "verify": "`sap verify` (parses and validates every store)",
        "serve": "`sap serve` until `GET /pipeline/health` answers",
        "version": "start-up: `sap version`",
    }
    rows = [
        "| process | min / median / max | median ÷ floor |",
        "|---|---|---|",
        *(
            f"| {labels[name]} | {spread(values)} | {statistics.median(values) / floor:.2f}x |"
            for name, values in times.items()
        ),
    ]
    return [
        f"The user's path: whole processes over the {source.name} directory (100,000 tracks, "
        f"50 rule sets; {len(files)} store files, {size_mb:.1f} MB: "
        f"{', '.join(path.name for path in files)}), {runs} rounds, the cases taking turns, "
        f"after one untimed round. Load average (1/5/15 min) "
        f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f} before, "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} after (2 CPU, other work "
        "ran alongside).",
        "",
        *rows,
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5, help="rounds of the user's path")
    parser.add_argument("--no-record", action="store_true", help="do not update performance.md")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3 (min / median / max)")
    process_lines = user_path(args.runs)

    tracks = tracks_from_dataset(args.tracks)
    library = {track.id: track for track in tracks}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        store = TrackStore(directory)
        baseline_path = directory / "baseline.json"
        adapter = TrackStore.adapter

        def ours_save() -> None:
            store.save(library)

        def ours_load() -> None:
            assert len(store.load()) == len(library)

        def base_save() -> None:
            data = adapter.dump_python(library, mode="json")
            stdlib_write(baseline_path, {"schema_version": 1, "data": data})

        def base_load() -> None:
            raw = json.loads(baseline_path.read_bytes())
            assert len(adapter.validate_python(raw["data"])) == len(library)

        ours_save()
        base_save()
        size_mb = store.path.stat().st_size / 1e6
        results = {
            "save": (best_of(args.repeat, ours_save), best_of(args.repeat, base_save)),
            "load": (best_of(args.repeat, ours_load), best_of(args.repeat, base_load)),
        }

    lines = [
        *process_lines,
        "",
        "In process (second table: the store alone, no process start): a "
        f"tracks store with {args.tracks:,} tracks ({size_mb:.1f} MB on disk), best of "
        f"{args.repeat}; baseline = same protocol and validation with stdlib `json`, indented, "
        "GC running.",
        "",
        "| operation | ours | baseline | speed-up |",
        "|---|---|---|---|",
    ]
    for name, (ours, base) in results.items():
        lines.append(
            f"| {name} | {ours * 1000:.0f} ms | {base * 1000:.0f} ms | {base / ours:.2f}x |"
        )
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record("store", report)


if __name__ == "__main__":
    main()
