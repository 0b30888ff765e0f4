"""Running `sap` in tests: the real Typer app in process, over a small demo account.

    from tests.helpers.cli import library, sap, sap_json, small_demo_account  # noqa: F401

Importing `small_demo_account` into a test module applies it to every test there (autouse):
each invocation then builds its emulators over the same small seeded account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.emulators.library import generate_library
from app.emulators.library_model import Library
from tests.helpers.spotify_env import SMALL_DEMO

runner = CliRunner()


@pytest.fixture(autouse=True)
def small_demo_account(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SMALL_DEMO.items():
        monkeypatch.setenv(f"SAP_{name.upper()}", str(value))


@pytest.fixture
def library() -> Library:
    """The account every invocation's emulator serves (same seed and sizes)."""
    return generate_library(seed=0, tracks=SMALL_DEMO["demo_tracks"], playlists=6)


def sap(
    cache_dir: Path, *args: str, demo: bool = False, input: str | None = None
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `sap ARGS --cache-dir DIR [--demo]`."""
    extra = ["--cache-dir", str(cache_dir), *(["--demo"] if demo else [])]
    result = runner.invoke(app, [*args, *extra], input=input)
    return result.exit_code, result.stdout, result.stderr


def sap_json(cache_dir: Path, *args: str, demo: bool = False) -> Any:
    """The parsed `--json` output of a command that must succeed."""
    code, out, err = sap(cache_dir, *args, "--json", demo=demo)
    assert code == 0, err
    return json.loads(out)
