"""The real app under uvicorn on a loopback port, in a thread of the test process: for what
only a real HTTP server shows (a response that streams for as long as the server runs).

    with live_server(app) as base_url:
        with httpx.Client(base_url=base_url) as client:
            with client.stream("GET", "/pipeline/jobs/events") as response:
                ...

Stopping it is what `sap serve` does on SIGTERM: the job runner is told first (its event
streams end), then uvicorn stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


@contextmanager
def live_server(app: FastAPI, *, port: int = 0, timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` (its lifespan included) on a free loopback port (or `port`: demo settings
    name theirs in the URLs they redirect a browser to); yields the base URL."""
    # No log configuration and no level: uvicorn would set its loggers' levels for the whole
    # test process (later tests log through `uvicorn.access`).
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, log_level=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.state.jobs.begin_shutdown()
        server.should_exit = True
        thread.join(timeout)
