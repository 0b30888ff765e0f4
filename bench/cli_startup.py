"""CLI start-up benchmark: `sap --help` and `sap version` as whole processes, as a shell runs
them, next to the floors of any Python and any Typer CLI in the same run (issue 14).

Every case is a fresh process, timed from spawn to exit, over `--runs` rounds (the cases take
turns inside a round, so a burst of load hits them alike); min/median/max per case. Two
bytecode conditions, both with PYTHONDONTWRITEBYTECODE=1 (nothing is written while measuring):

- *as installed*: the .pyc files `make install` wrote (uv `--compile-bytecode` for the
  dependencies, `compileall` for the editable project);
- *no bytecode*: PYTHONPYCACHEPREFIX points at an empty directory, so every module is
  compiled from source on every start (a machine where nothing was ever compiled).

Baselines: `python -c pass`; `import typer, rich`; and a two-command Typer app running one
command: typer 0.29 loads pydantic to coerce options, so that app is the real floor of any
Typer CLI. `--before PATH` adds the same commands run by another `sap` executable (e.g. an
unchanged checkout's `.venv/bin/sap`).

    python bench/cli_startup.py [--runs 9] [--before /path/to/.venv/bin/sap] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import ROOT, record

PYTHON = sys.executable
SAP = str(Path(PYTHON).with_name("sap"))
TYPER_APP = (
    "import typer\n"
    "app = typer.Typer()\n"
    "@app.command()\n"
    "def hello() -> None: print('hello')\n"
    "@app.command()\n"
    "def bye() -> None: print('bye')\n"
    "app(['hello'])\n"
)


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", help="another `sap` executable to time the same way")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    installed = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "100"}
    installed.pop("PYTHONPYCACHEPREFIX", None)
    empty = tempfile.mkdtemp(prefix="sap-no-pyc-")
    uncached = {**installed, "PYTHONPYCACHEPREFIX": empty}

    cases: list[tuple[str, list[str], dict[str, str]]] = [
        ("`python -c pass`", [PYTHON, "-c", "pass"], installed),
        ("`import typer, rich`", [PYTHON, "-c", "import typer, rich"], installed),
        ("Typer app, one command (floor)", [PYTHON, "-c", TYPER_APP], installed),
        ("`sap --help`", [SAP, "--help"], installed),
        ("`sap version`", [SAP, "version"], installed),
        ("Typer app, one command (floor), no bytecode", [PYTHON, "-c", TYPER_APP], uncached),
        ("`sap --help`, no bytecode", [SAP, "--help"], uncached),
        ("`sap version`, no bytecode", [SAP, "version"], uncached),
    ]
    if args.before:
        cases += [
            ("before: `sap --help`", [args.before, "--help"], installed),
            ("before: `sap version`", [args.before, "version"], installed),
            ("before: `sap version`, no bytecode", [args.before, "version"], uncached),
        ]

    for _, argv, env in cases:  # one untimed run each: the files are in the page cache
        _time(argv, env)
    load_before = os.getloadavg()
    timings: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.runs):
        for name, argv, env in cases:
            timings[name].append(_time(argv, env))
    load_after = os.getloadavg()

    floor = statistics.median(timings["Typer app, one command (floor)"])
    floor_uncached = statistics.median(timings["Typer app, one command (floor), no bytecode"])
    rows = [
        "| process | min | median | max | median ÷ Typer floor |",
        "|---|---|---|---|---|",
    ]
    for name, values in timings.items():
        median = statistics.median(values)
        base = floor_uncached if "no bytecode" in name else floor
        rows.append(
            f"| {name} | {min(values):.3f} s | {median:.3f} s | {max(values):.3f} s "
            f"| {median / base:.2f} x |"
        )
    load = (
        f"Load average (1/5/15 min) {load_before[0]:.2f}/{load_before[1]:.2f}/"
        f"{load_before[2]:.2f} before the runs, {load_after[0]:.2f}/{load_after[1]:.2f}/"
        f"{load_after[2]:.2f} after; {args.runs} runs per case, whole processes, "
        "PYTHONDONTWRITEBYTECODE=1. Ratios: against the floor in the same bytecode condition."
    )
    body = "\n".join(rows) + "\n\n" + load
    print(body)
    if not args.no_record:
        record("cli_startup", body)
        print(f"recorded in {(ROOT / 'docs' / 'performance.md').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
