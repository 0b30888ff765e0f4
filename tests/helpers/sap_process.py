"""Real `sap` processes for tests that kill them: each runs the console script's `main()` in a
process of its own, forked from a server process that imported the app once (multiprocessing's
``forkserver``), so a process costs milliseconds instead of the seconds of a fresh interpreter.

    context = sap_context()                       # once per test session or module
    process = start_sap(context, ["apply", plan_id, "--demo", "--cache-dir", d], env, cwd, log)
    os.kill(process.pid, signal.SIGKILL)

The forked process starts from a clean interpreter state (the server never ran a test), takes
`env` as its only ``SAP_*`` variables and `cwd` as its directory, and exits with `main()`'s
exit code.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess

PRELOAD = ["app.cli", "app.demo", "app.pipeline.sync.service", "app.api.app"]


def sap_context() -> ForkServerContext:
    """A forkserver context whose server has imported the app (started on first use)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def run_sap(argv: Sequence[str], env: Mapping[str, str], cwd: str, log: str) -> None:
    """The body of a `sap` process (runs in the forked child); its output goes to `log`."""
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    for name in [name for name in os.environ if name.startswith("SAP_")]:
        del os.environ[name]
    os.environ.update(env)
    os.environ.setdefault("SAP_CLI_LIBRARY_REFRESH", "wait")  # nothing left running behind it
    os.chdir(cwd)
    sys.argv = ["sap", *argv]
    from app.cli import main

    try:
        main()
    except SystemExit as exit_:
        code = exit_.code
        sys.exit(code if isinstance(code, int) else 1)


def start_sap(
    context: ForkServerContext,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    log: str = os.devnull,
) -> BaseProcess:
    """Start `sap ARGV` in a process of its own (stdout and stderr appended to `log`)."""
    args = (list(argv), dict(env), cwd, log)
    process = context.Process(target=run_sap, args=args, daemon=True)
    process.start()
    return process
