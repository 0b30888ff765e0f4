"""Running `sap` in tests: the real Typer app in process (`tests/cli/conftest.py` makes every
invocation there build its emulators over the same small seeded account)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


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
