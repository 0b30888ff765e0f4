"""The `spotify-auto-playlists` (short: `sap`) command line: a thin layer over the pipeline.

Every command builds `Settings` (env `SAP_*`, `.env`, and its own options), calls the same
functions the HTTP API calls, and prints either a table or, with `--json`, machine output.
Errors print one line (`error: …`) and exit 1.

The commands live in `server.py`, `status.py`, `spotify.py` and `jobs.py`, what they share in
`common.py`; this module puts them together, in the order `--help` lists them.

Start-up is part of the interface: `sap --help` and `sap version` load typer (and rich for
help) but not the settings, pydantic models, the pipeline, the API or the emulators. The
command modules import what a command needs inside the command; tests/cli/test_startup.py
holds that line.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from app.cli import enrich, jobs, library, rules, server, spotify, status, sync
from app.cli.common import _fail


class _OneLineErrors(TyperGroup):
    """Turns every expected error into one line on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # Any: typer's vendored click Context type is private
        try:
            return super().invoke(ctx)
        except Exception as exc:
            self._report(exc)
            raise

    @staticmethod
    def _report(exc: Exception) -> None:
        """Print `exc` as one line and exit 1 if it is an expected error; return otherwise.

        The error types are not imported at start-up: an `AppError` or a pydantic
        `ValidationError` can only have been raised by a command that loaded their modules,
        so they are looked at only then (typer's own `Exit` passes here on every run)."""
        if isinstance(exc, OSError):
            _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        if "app.core.errors" not in sys.modules and "pydantic_core" not in sys.modules:
            return
        from pydantic import ValidationError

        from app.core.errors import AppError

        if isinstance(exc, AppError):
            _fail(exc.detail)
        elif isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = "_".join(str(part) for part in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            if exc.title == "Settings":
                _fail(f"invalid setting SAP_{where.upper()}: {message}")
            _fail(f"{where or exc.title}: {message}")


app = typer.Typer(
    cls=_OneLineErrors,
    name="spotify-auto-playlists",
    help="Keep your Spotify playlists organised by rules: fetch, enrich, preview, sync.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(server.serve)
app.command()(status.status)
app.command()(status.verify)
app.command()(status.version)
app.command()(spotify.setup)
app.command()(spotify.login)
app.command()(spotify.logout)
app.command()(spotify.playlists)
app.command()(spotify.fetch)
app.command()(spotify.tracks)
app.command()(enrich.providers)
app.command()(enrich.enrich)
app.command()(enrich.enrichment)
app.command()(enrich.coverage)
app.command()(enrich.tag)
app.command()(enrich.untag)
app.command("tag-undo")(enrich.tag_undo)
app.command()(sync.plan)
app.command()(sync.apply)
app.command()(sync.backups)
app.command("backup-diff")(sync.backup_diff)
app.command()(sync.restore)
app.command()(sync.sync)
app.command()(sync.build)
app.command()(enrich.classify)
app.command()(enrich.relabel)
app.command()(server.emulate)
app.command()(rules.preview)
app.command()(rules.explain)
app.command()(rules.overlaps)
app.add_typer(rules.rules_app, name="rules")
app.add_typer(jobs.jobs_app, name="jobs")
app.add_typer(library.library_app, name="library")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        # The process ends with the command, and everything it built goes with it (every
        # module it imported, a loaded library): frozen, none of it is scanned once more by
        # the cyclic collector on the way out (0.1-0.3 s after a command that loaded the
        # pipeline; docs/performance.md, "Fetching a library from Spotify").
        gc.freeze()
