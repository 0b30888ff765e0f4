"""Names say what a thing is: one class per name across `app/`, emulators included.

Two classes of one name (a `Track` of the product and a `Track` of the emulated account, a
`Columns` of the rules library and a `Columns` of an Exportify file) make every import a
question and every search a list to sort; tests had to rename them on import. A type alias
may not take a class's name either. Names do not say which change brought them.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"


def _type_names(path: Path) -> tuple[list[str], list[str]]:
    """The classes `path` defines (anywhere in it) and its module-level type aliases."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    aliases = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and isinstance(value, ast.Subscript | ast.BinOp):
                aliases.append(target.id)
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and "TypeAlias" in ast.unparse(node.annotation)
        ):
            aliases.append(node.target.id)
    return classes, [name for name in aliases if re.fullmatch(r"_?[A-Z][a-z]\w*", name)]


def _where(root: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    classes: dict[str, list[str]] = defaultdict(list)
    aliases: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        found_classes, found_aliases = _type_names(path)
        for name in found_classes:
            classes[name].append(str(path.relative_to(root.parent)))
        for name in found_aliases:
            aliases[name].append(str(path.relative_to(root.parent)))
    return classes, aliases


def test_no_two_classes_share_a_name() -> None:
    classes, _ = _where(APP)
    assert {name: paths for name, paths in classes.items() if len(paths) > 1} == {}
    assert len(classes) > 500  # the walk sees the real tree


def test_no_type_alias_takes_a_class_name() -> None:
    classes, aliases = _where(APP)
    assert {name: aliases[name] + classes[name] for name in aliases if name in classes} == {}


def test_the_check_sees_a_shared_name(tmp_path: Path) -> None:
    package = tmp_path / "app"
    (package / "a").mkdir(parents=True)
    (package / "a" / "one.py").write_text("class Track:\n    pass\n\nNode = int | str\n")
    (package / "two.py").write_text("class Track:\n    class Node:\n        pass\n")
    classes, aliases = _where(package)
    assert classes["Track"] == ["app/a/one.py", "app/two.py"]
    assert aliases == {"Node": ["app/a/one.py"]} and classes["Node"] == ["app/two.py"]


def test_names_do_not_say_which_change_brought_them() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(APP.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"rules_seed|\bthe \w+ issue\b|\bissue #?\d+", line, re.IGNORECASE)
    ]
    assert found == []
