"""The emulators stand alone: they never import the application they are used to test."""

from __future__ import annotations

import ast
from pathlib import Path

EMULATORS = Path(__file__).resolve().parents[2] / "app" / "emulators"
FORBIDDEN = ("app.api", "app.pipeline", "app.spotify", "app.data", "app.cli")


def test_emulators_import_only_core_and_themselves() -> None:
    offenders = []
    for path in sorted(EMULATORS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []
    assert (EMULATORS / "spotify" / "api.py").is_file()  # the walk saw the package
