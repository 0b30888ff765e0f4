"""The house's rules, read from the code's own imports.

Data flows one way: api/cli -> pipeline -> (spotify | providers | data) -> net -> core. Nothing
below `api/` imports FastAPI, nothing below `cli/` imports Typer, no module imports back up or in
a circle, and emulator code is reached only by demo mode and `emulate`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in APP.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (functions and TYPE_CHECKING blocks too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from app.pipeline import rules` imports a module, not a name
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in MODULES
            )
    return names


def _modules(package: str) -> list[Path]:
    folder = APP / package
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]


ENTRY = ("app.api", "app.cli", "fastapi", "starlette", "typer", "uvicorn")
FORBIDDEN = {
    # package: prefixes it must not import
    "core": (*ENTRY, "app.net", "app.data", "app.spotify", "app.providers", "app.pipeline",
             "app.emulators", "app.demo", "httpx"),
    "net": (*ENTRY, "app.data", "app.spotify", "app.providers", "app.pipeline", "app.emulators",
            "app.demo"),
    "data": (*ENTRY, "app.net", "app.spotify", "app.providers", "app.pipeline", "app.emulators",
             "app.demo", "httpx"),
    "spotify": (*ENTRY, "app.providers", "app.pipeline", "app.emulators", "app.demo"),
    # providers never reach into Spotify: what they share with it lives in app.net
    "providers": (*ENTRY, "app.spotify", "app.pipeline", "app.emulators", "app.demo"),
    "pipeline": (*ENTRY, "app.emulators", "app.demo"),
    "api": ("app.cli", "typer", "app.emulators"),
    # what every emulator shares stands below each of them
    "emulators/common": tuple(
        f"app.emulators.{p.stem}" for p in (APP / "emulators").iterdir()
        if p.stem not in {"common", "__init__", "__pycache__"}
    ),
}  # fmt: skip


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_downwards(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        for name in sorted(_imports(path))
        if name.startswith(FORBIDDEN[package])
    ]
    assert offenders == []


HTTP_CLIENTS = {"AsyncClient", "Client"}
# Where httpx clients may be built: the one outbound HTTP policy, and the emulators' plumbing.
BUILDS_HTTP_CLIENTS = ("app/net/", "app/emulators/")


def _builds_http_client(path: Path) -> bool:
    """Whether `path` constructs an httpx client (`httpx.AsyncClient(…)`, or imports one)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "httpx":
            if any(alias.name in HTTP_CLIENTS for alias in node.names):
                return True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr in HTTP_CLIENTS and ast.unparse(owner) == "httpx":
                return True
    return False


def test_only_net_builds_http_clients() -> None:
    # Spotify and the providers send through `app.net.client.ServiceClient`: one policy.
    builders = sorted(
        str(path.relative_to(ROOT)) for path in APP.rglob("*.py") if _builds_http_client(path)
    )
    assert [path for path in builders if not path.startswith(BUILDS_HTTP_CLIENTS)] == []
    assert "app/net/client.py" in builders  # the check sees a real construction


def _top_level_imports(path: Path) -> set[str]:
    """What importing `path` imports at once (not what its functions import when called)."""
    names: set[str] = set()
    blocks = [ast.parse(path.read_text(encoding="utf-8")).body]
    while blocks:
        for node in blocks.pop():
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                continue  # read by type checkers only
            elif isinstance(node, ast.If | ast.Try):
                blocks += [node.body, node.orelse, *(h.body for h in getattr(node, "handlers", []))]
    return names


EMULATED = ("app.emulators", "app.demo")
# Where demo mode and `emulate` start, each importing emulator code only when asked to.
STARTS_DEMO = {"app/api/app.py", "app/cli/common.py", "app/cli/server.py"}


def test_emulator_code_is_imported_only_when_demo_mode_or_emulate_asks() -> None:
    product = [
        path
        for path in APP.rglob("*.py")
        if not path.is_relative_to(APP / "emulators") and path != APP / "demo.py"
    ]
    importers = {
        str(path.relative_to(ROOT))
        for path in product
        if any(name.startswith(EMULATED) for name in _imports(path))
    }
    eager = [
        str(path.relative_to(ROOT))
        for path in product
        if any(name.startswith(EMULATED) for name in _top_level_imports(path))
    ]
    assert importers <= STARTS_DEMO
    assert eager == []


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_another_in_a_circle() -> None:
    # Every import counts, in functions and TYPE_CHECKING blocks too: a lazy import that dodges
    # a cycle is still a cycle.
    graph = {
        module: sorted({name for name in _imports(path) if name in MODULES and name != module})
        for module, path in MODULES.items()
    }
    assert _cycles(graph) == []


def _rules_part(module: str) -> str:
    """The concept a module belongs to: app/pipeline's folders, and rules/'s parts."""
    parts = module.split(".")
    depth = 4 if parts[:3] == ["app", "pipeline", "rules"] else 3
    return ".".join(parts[:depth])


def _folder(module: str) -> str:
    """The folder (or top-level module) of app/pipeline a module belongs to."""
    return ".".join(module.split(".")[:3])


@pytest.mark.parametrize("concept", [_folder, _rules_part], ids=["folders", "rules-parts"])
def test_no_concept_of_the_pipeline_imports_another_in_a_circle(
    concept: Callable[[str], str],
) -> None:
    # What `farm-studio look app/pipeline` draws, one room per folder: a folder that imports a
    # folder that imports it back is an arrow running back up, even when no two modules form a
    # circle (query/ stands on rules/, so nothing in rules/ may use query/). Inside rules/, the
    # same holds between its parts (text/, engine/, library/…).
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        if not module.startswith("app.pipeline.") or path.name == "__init__.py":
            continue
        targets = {
            concept(name)
            for name in _imports(path)
            if name.startswith("app.pipeline.") and name in MODULES
        }
        graph.setdefault(concept(module), set()).update(targets - {concept(module)})
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, set())
    assert _cycles({node: sorted(edges) for node, edges in graph.items()}) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["e"]}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_a_real_server_start_loads_no_emulator_code(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import app.cli, app.cli.server  # what `sap serve` loads before it builds the app\n"
        "from app.api.app import create_app\n"
        "from app.core.config import Settings\n"
        f"create_app(Settings(cache_dir={str(tmp_path)!r}, spotify_client_id='abc'))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('app.emulators', 'app.demo'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_layering_test_sees_real_imports() -> None:
    # Guard against the tests passing vacuously (a wrong path, a parser change).
    assert "app.core.errors" in _imports(APP / "data" / "store.py")
    assert "fastapi" in _imports(APP / "api" / "app.py")
    assert "app.pipeline.rules.engine.compile" in MODULES
    assert "app.emulators" not in _top_level_imports(APP / "api" / "app.py")
