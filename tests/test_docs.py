"""Documentation stays true: every setting and every CLI command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from app.cli import app
from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def _commands(typer_app: typer.Typer, prefix: str = "") -> list[str]:
    names = [
        f"{prefix}{command.name or command.callback.__name__}"  # type: ignore[union-attr]
        for command in typer_app.registered_commands
    ]
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        names += _commands(group.typer_instance, f"{prefix}{group.name} ")
    return names


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_operations_guide(field: str) -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"`SAP_{field.upper()}`" in operations


def test_cli_command_list_is_not_empty() -> None:
    assert {"serve", "status", "jobs list", "jobs cancel"} <= set(_commands(app))


@pytest.mark.parametrize("command", _commands(app))
def test_every_cli_command_is_in_the_readme(command: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`sap {command}" in readme


def test_readme_opens_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:400]
    assert "make run" in head and "make test" in head


def test_ci_runs_make_test() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _tree() -> str:
    """The map of app/ in architecture.md, "Where things are"."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return text.split("## Where things are", 1)[1].split("```", 2)[1]


@pytest.mark.parametrize(
    "module",
    sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if path.stem not in {"__init__", "__main__"} and "emulators" not in path.parts
    ),
)
def test_every_module_is_on_the_map(module: str) -> None:
    # Each module's name is in architecture.md's tree (the emulators are named by service).
    assert re.search(rf"\b{Path(module).stem}\b", _tree()), module
