"""The long-running commands: `serve` (the HTTP API) and `emulate` (the emulated services)."""

from __future__ import annotations

import copy
import faulthandler
import logging
import os
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.common import CacheDir, build_settings, err

if TYPE_CHECKING:  # uvicorn, the settings and the job runner load when a command runs
    import socket

    import uvicorn

    from app.core.config import Settings
    from app.pipeline.jobs.runner import JobManager


def serve_banner(settings: Settings) -> list[str]:
    """What `serve` says on start-up (plain text): where it listens, and whether it is the demo."""
    from app import __version__
    from app.core.errors import LOGIN_PATH

    url = f"http://{settings.host}:{settings.port}"
    lines = [f"spotify-auto-playlists {__version__} on {url} (data in {settings.cache_dir})"]
    if settings.demo_mode:
        reason = "SAP_DEMO is set" if settings.spotify_client_id else "no SAP_SPOTIFY_CLIENT_ID set"
        lines.append(
            f"demo mode: {reason} — using a built-in emulated Spotify account "
            f"(data in {settings.effective().cache_dir}); log in at {url}{LOGIN_PATH}"
        )
    return lines


REQUEST_GRACE_SECONDS = 5
LAST_RESORT = 0.5
"""Seconds before the promised bound at which a server still stopping writes every thread's
stack to its log (stderr), so that what held it is on record, and exits with status 1."""


def _stopping_server(config: uvicorn.Config, jobs: JobManager) -> uvicorn.Server:
    """uvicorn's server, which on SIGTERM / Ctrl-C first asks the running jobs to stop: a
    request waiting on a job (v1 `POST /pipeline/{step}`) then answers at once, instead of
    holding the shutdown until its step is done."""
    import asyncio
    from functools import partial

    import uvicorn

    from app.pipeline.jobs.runner import JOB_STOP_BUDGET, SHUTDOWN_TIMEOUT

    class StoppingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Python runs this between two bytecodes of the main thread — the event loop's,
            # maybe inside a `with lock:` of the job runner or of an event stream. Taking that
            # lock here would wait forever on ourselves, so the jobs are told from the loop,
            # at its next turn (the handler returns to it at once).
            if not self.should_exit:  # the first signal (a second Ctrl-C forces the exit)
                # Whatever holds the process past the bound (a step, a thread joined at exit),
                # it ends then, its threads' stacks in the log.
                faulthandler.dump_traceback_later(SHUTDOWN_TIMEOUT - LAST_RESORT, exit=True)
            # (uvicorn installs this handler inside `serve`: the loop is running.)
            stop = partial(jobs.begin_shutdown, timeout=JOB_STOP_BUDGET)
            asyncio.get_running_loop().call_soon_threadsafe(stop)
            super().handle_exit(sig, frame)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets)  # requests, then the lifespan: the jobs' budget
            left = jobs.still_running()
            if left:
                # A step that ignores cancellation must not hold the process (a Ctrl-C would
                # wait for its thread at exit): its job is marked interrupted at the next
                # start, like after a crash; where it was stuck goes to the log.
                logging.getLogger(__name__).warning(
                    "exiting with %d job(s) that did not stop in time: %s",
                    len(left),
                    ", ".join(left),
                )
                faulthandler.dump_traceback(all_threads=True)
                logging.shutdown()
                os._exit(0)

    return StoppingServer(config)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default 127.0.0.1, or SAP_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8888, or SAP_PORT).")] = None,
    cache_dir: CacheDir = None,
    sync_every: Annotated[
        str | None,
        typer.Option(help="Run the unattended sync (with apply) this often, e.g. 6h."),
    ] = None,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from app.api.app import create_app
    from app.core.config import is_loopback_host
    from app.core.logging import configure_logging

    settings = build_settings(host=host, port=port, cache_dir=cache_dir, sync_every=sync_every)
    secrets = settings.effective().secret_values()
    configure_logging(settings.log_level, secrets)
    if not is_loopback_host(settings.host):
        err.print(
            f"[yellow]warning:[/] binding {settings.host}: the API has no authentication; "
            "anyone who can reach this address can use it"
        )
    for line in serve_banner(settings):
        err.print(line, markup=False, soft_wrap=True)
    app = create_app(settings)
    jobs: JobManager = app.state.jobs
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=uvicorn_log_config(secrets),
        server_header=False,
        # Requests still open this long after the signal are cut, so the job runner's own
        # stop (the rest of JOB_STOP_BUDGET) starts in time.
        timeout_graceful_shutdown=REQUEST_GRACE_SECONDS,
    )
    _stopping_server(config, jobs).run()


def uvicorn_log_config(secrets: list[str]) -> dict[str, Any]:
    """uvicorn's own logging set-up, its handlers masking secrets as ours do: the access log
    shows each request's path with its query (the OAuth callback's `code` and `state`)."""
    from uvicorn.config import LOGGING_CONFIG

    from app.core.logging import RedactingFilter

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": RedactingFilter, "secrets": secrets}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    return config


def emulate(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8899,
    seed: Annotated[int, typer.Option(help="Seed of the generated library.")] = 0,
    tracks_: Annotated[int, typer.Option("--tracks", help="Liked songs.")] = 2000,
    playlists_: Annotated[int, typer.Option("--playlists", help="Playlists.")] = 20,
    playlist_size: Annotated[
        int | None, typer.Option(help="Entries in every playlist (default: varied sizes).")
    ] = None,
    latency_ms: Annotated[float, typer.Option(help="Delay added to every request.")] = 0,
    fail_rate: Annotated[float, typer.Option(help="Share of requests failing 5xx.")] = 0.0,
    rate_limit: Annotated[
        int | None, typer.Option(help="Max requests per rolling 30 s (429 beyond).")
    ] = None,
) -> None:
    """Serve every emulated service (Spotify and the enrichment providers) on one local port."""
    import uvicorn

    from app.emulators.server import create_emulator_server
    from app.emulators.spotify.config import SpotifyEmulatorConfig

    config = SpotifyEmulatorConfig(
        latency_ms=latency_ms, fail_rate=fail_rate, rate_limit=rate_limit
    )
    from app.emulators.library.account import generate_library

    library = generate_library(
        seed=seed, tracks=tracks_, playlists=playlists_, playlist_size=playlist_size
    )
    server = create_emulator_server(library=library, config=config)
    base = f"http://{host}:{port}"
    err.print(
        f"emulating on {base}: SAP_SPOTIFY_API_URL={base}/spotify/v1 "
        f"SAP_SPOTIFY_ACCOUNTS_URL={base}/spotify/accounts",
        soft_wrap=True,
    )
    uvicorn.run(server, host=host, port=port, log_level="warning", server_header=False)
