"""`sap` starts at once: `--help` and `version` load typer (and rich for help), not the server,
the pipeline or the models (issue 14; docs/performance.md, "CLI start-up").

No timings here: what a command imports is what makes it slow, and that is exact. Each check
runs `sap` in a fresh interpreter, as a shell does, and lists the modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import typer
from typer.core import TyperGroup
from typer.main import get_command

from app.cli import app
from app.core.models import JobStatus

# What `sap --help` and `sap version` must not load: each costs tens to hundreds of ms.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "lark",
    "pydantic_settings",
    "app.api",
    "app.pipeline",
    "app.providers",
    "app.emulators",
    "app.spotify",
    "app.data",
    "app.net",
    "app.core.config",
    "app.core.models",
)

# Runs `sap` with each argument list in one interpreter, then prints what each printed, its
# exit code and every module loaded by then.
_RUN = """
import contextlib, io, json, sys
from app.cli import app
from typer.main import get_command
command = get_command(app)
results = []
for args in json.loads(sys.argv[1]):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            command.main(args=args, prog_name="sap")
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
    results.append({"args": args, "code": code, "output": buffer.getvalue()})
print(json.dumps({"results": results, "modules": sorted(sys.modules)}))
"""


def _run(*arg_lists: list[str]) -> tuple[list[dict[str, object]], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(arg_lists)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "COLUMNS": "200", "TERM": "dumb"},
    )
    answer = json.loads(done.stdout.splitlines()[-1])
    return answer["results"], set(answer["modules"])


def _heavy(modules: set[str]) -> list[str]:
    return sorted(
        name for name in modules if any(name == h or name.startswith(h + ".") for h in HEAVY)
    )


def _command_paths(group: typer.Typer) -> list[list[str]]:
    """Every command and group of the app, as the arguments that name it."""
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(get_command(group), [])
    return paths


def test_version_loads_neither_rich_nor_anything_heavy() -> None:
    from app import __version__

    [result], modules = _run(["version"])
    assert result["code"] == 0
    assert result["output"] == f"{__version__}\n"
    assert _heavy(modules) == []
    assert not any(name == "rich" or name.startswith("rich.") for name in modules)


def test_help_loads_nothing_heavy() -> None:
    [result], modules = _run(["--help"])
    assert result["code"] == 0
    output = str(result["output"])
    assert "Usage: sap" in output
    assert "version" in output and "preview" in output
    assert _heavy(modules) == []


def test_every_command_help_works_and_stays_light() -> None:
    """`--help` of every command and group, generated from the app: all of them print their
    usage, and even all of them together load nothing heavy (the options' types are light)."""
    paths = _command_paths(app)
    assert ["rules", "list"] in paths and ["jobs", "rerun"] in paths and ["serve"] in paths
    results, modules = _run(*([*path, "--help"] for path in paths))
    for path, result in zip(paths, results, strict=True):
        assert result["code"] == 0, (path, result)
        assert f"Usage: sap {' '.join(path)}".rstrip() in str(result["output"]), path
    assert _heavy(modules) == []
    # `jobs list --status` is typed with the light `JobStatus`: its choices are still all there.
    jobs_list = str(results[paths.index(["jobs", "list"])]["output"])
    assert all(status.value in jobs_list for status in JobStatus)
