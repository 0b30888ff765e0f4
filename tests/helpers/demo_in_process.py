"""A demo server in the test process (uvicorn in a thread, `live_server`), for browser tests
that must reach into the emulators while the page runs: make a service answer 503, or ask us
to slow down. A `sap serve` process (`browser.serve_demo`) is the rule; this is for faults.

    with demo_in_process(tmp_path) as demo:
        demo.providers.deezer.config.fail_rate = 1.0   # Deezer is down
        page.goto(demo.base + "/enrichment")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.api.app import create_app
from app.demo import DemoEnvironment
from app.emulators.server import ProviderEmulators
from tests.helpers.browser import DEMO_ENV, free_port
from tests.helpers.live_server import live_server
from tests.helpers.spotify_env import demo_settings


@dataclass(frozen=True)
class InProcessDemo:
    base: str
    env: DemoEnvironment

    @property
    def providers(self) -> ProviderEmulators:
        return self.env.emulators.providers


@contextmanager
def demo_in_process(folder: Path, **overrides: Any) -> Iterator[InProcessDemo]:
    """The demo app (the built web app included) on a free loopback port, the same small
    account as `serve_demo`'s."""
    port = free_port()
    settings = demo_settings(
        folder / "data",
        port=port,
        demo_tracks=int(DEMO_ENV["SAP_DEMO_TRACKS"]),
        demo_playlists=int(DEMO_ENV["SAP_DEMO_PLAYLISTS"]),
        **overrides,
    )
    env = DemoEnvironment.create(settings)
    app = create_app(env.settings, demo=env)
    with live_server(app, port=port) as base:
        yield InProcessDemo(base, env)
