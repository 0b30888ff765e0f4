"""Import directions: api/cli -> pipeline -> (spotify | data | providers) -> core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((APP / package).rglob("*.py"))


FORBIDDEN = {
    # package: prefixes it must not import
    "core": (
        "app.data",
        "app.pipeline",
        "app.spotify",
        "app.api",
        "app.cli",
        "app.emulators",
        "fastapi",
        "starlette",
        "typer",
        "httpx",
        "uvicorn",
    ),
    "data": (
        "app.pipeline",
        "app.spotify",
        "app.api",
        "app.cli",
        "app.emulators",
        "fastapi",
        "starlette",
        "typer",
        "httpx",
        "uvicorn",
    ),
    "pipeline": ("app.api", "app.cli", "app.emulators", "fastapi", "starlette", "typer", "uvicorn"),
    "spotify": ("app.api", "app.cli", "app.pipeline", "fastapi", "typer", "uvicorn"),
    "api": ("app.cli", "typer"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_point_downwards(package: str) -> None:
    offenders = [
        f"{path.relative_to(APP.parent)} imports {name}"
        for path in _modules(package)
        for name in sorted(_imports(path))
        if name.startswith(FORBIDDEN[package])
    ]
    assert offenders == []


def test_only_the_http_layers_import_httpx() -> None:
    allowed = ("spotify", "emulators", "pipeline/enrichment")
    offenders = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if "httpx" in {name.split(".")[0] for name in _imports(path)}
        and not str(path.relative_to(APP)).startswith(allowed)
    ]
    assert offenders == []


def test_the_layering_test_sees_real_imports() -> None:
    # Guard against the test passing vacuously (e.g. wrong path, parser change).
    assert "app.core.errors" in _imports(APP / "data" / "store.py")
    assert "fastapi" in _imports(APP / "api" / "app.py")
