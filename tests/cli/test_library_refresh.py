"""The library's snapshot after a command that changed the library: `sap library refresh`, and
`sap fetch` leaving that build to a process of its own behind it (`SAP_CLI_LIBRARY_REFRESH`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from app.data import Stores
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.library.stamp import SNAPSHOT_NAME, snapshot_is_current
from app.pipeline.rules.library.views import Library
from app.providers.registry import PROVIDERS, Precedence
from tests.helpers.cli import sap

ROOT = Path(__file__).resolve().parents[2]


def _demo_stores(cache_dir: Path) -> Stores:
    return Stores.open(cache_dir / "demo")


def _loaded_without_building(stores: Stores) -> Library:
    def build(stores: Stores, precedence: Precedence) -> Library:
        raise AssertionError("the snapshot was not current: the library was built")

    return LibraryCache(stores, PROVIDERS.precedence(), load=build).views()


def test_refresh_builds_a_missing_snapshot_once(cache_dir: Path) -> None:
    assert sap(cache_dir, "login", "--demo")[0] == 0
    assert sap(cache_dir, "fetch", "--liked", "--demo")[0] == 0
    stores = _demo_stores(cache_dir)
    assert snapshot_is_current(stores, PROVIDERS.precedence())  # `wait`: built before exiting
    tracks = len(_loaded_without_building(stores))
    (stores.directory / SNAPSHOT_NAME).unlink()
    assert not snapshot_is_current(stores, PROVIDERS.precedence())

    code, out, err = sap(cache_dir, "library", "refresh", "--demo")
    assert code == 0, err
    built = re.search(r"library snapshot built: (\d+) tracks", out)
    assert built is not None, out
    assert int(built.group(1)) == tracks > 0
    assert len(_loaded_without_building(stores)) == tracks

    code, out, _ = sap(cache_dir, "library", "refresh", "--demo")
    assert (code, out.strip()) == (0, "library snapshot already up to date")
    assert sap(cache_dir, "library", "refresh", "--demo", "--quiet")[1] == ""


def test_refresh_without_a_library_says_what_to_run(cache_dir: Path) -> None:
    code, out, _ = sap(cache_dir, "library", "refresh", "--demo")
    assert (code, out.strip()) == (0, "no library yet: run `sap fetch` first")


FETCH_HERE = """
import json, sys
from typer.testing import CliRunner
from app.cli import app
runner = CliRunner()
codes = [runner.invoke(app, [*args, "--cache-dir", sys.argv[1], "--demo"]).exit_code
         for args in (["login"], ["fetch", "--liked"])]
print(json.dumps({
    "codes": codes,
    "loaded": sorted(name for name in sys.modules
                     if name == "numpy" or name.startswith(("app.pipeline.rules.engine",
                                                            "app.pipeline.rules.library"))),
}))
"""


def test_fetch_leaves_the_build_to_a_process_behind_it(cache_dir: Path) -> None:
    """`sap fetch` (background, the default) neither builds the library nor loads the code
    that would: a detached `sap library refresh` brings the snapshot up to date after it."""
    env = {**os.environ, "SAP_CLI_LIBRARY_REFRESH": "background"}
    done = subprocess.run(
        [sys.executable, "-c", FETCH_HERE, str(cache_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # Only the snapshot's stamp, to tell whether a build is needed.
    assert report == {
        "codes": [0, 0],
        "loaded": ["app.pipeline.rules.library", "app.pipeline.rules.library.stamp"],
    }
    stores = _demo_stores(cache_dir)
    deadline = time.monotonic() + 120
    while not snapshot_is_current(stores, PROVIDERS.precedence()):
        assert time.monotonic() < deadline, "no snapshot was built behind the fetch"
        time.sleep(0.1)
    library = _loaded_without_building(stores)
    assert len(library) == len(stores.sources.get("liked").entries)  # type: ignore[union-attr]
