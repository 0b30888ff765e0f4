"""The `spotify-auto-playlists` (short: `sap`) command line: a thin layer over the pipeline.

Every command builds `Settings` (env `SAP_*`, `.env`, and its own options), calls the same
functions the HTTP API calls, and prints either a table or, with `--json`, machine output.
Errors print one line (`error: …`) and exit 1.

The commands live in `server.py`, `status.py`, `spotify.py` and `jobs.py`, what they share in
`common.py`; this module puts them together, in the order `--help` lists them.
"""

from __future__ import annotations

from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from app.cli import enrich, jobs, rules, server, spotify, status, sync
from app.cli.common import _fail
from app.core.errors import AppError


class _Group(TyperGroup):
    """Turns every expected error into one line on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # Any: typer's vendored click Context type is private
        try:
            return super().invoke(ctx)
        except AppError as exc:
            _fail(exc.detail)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "_".join(str(part) for part in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            if exc.title == "Settings":
                _fail(f"invalid setting SAP_{where.upper()}: {message}")
            _fail(f"{where or exc.title}: {message}")
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))


app = typer.Typer(
    cls=_Group,
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
app.command()(sync.plan)
app.command()(sync.apply)
app.command()(sync.backups)
app.command()(sync.restore)
app.command()(sync.sync)
app.command()(sync.build)
app.command()(enrich.classify)
app.command()(enrich.relabel)
app.command()(server.emulate)
app.command()(rules.preview)
app.command()(rules.explain)
app.add_typer(rules.rules_app, name="rules")
app.add_typer(jobs.jobs_app, name="jobs")


def main() -> None:
    """Console-script entry point."""
    app()
