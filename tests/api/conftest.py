"""Fixtures of the API tests that need Spotify: the real app in demo mode, with a handle on its
in-process emulator (see tests/helpers/spotify_env.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.spotify_env import DemoServer, demo_settings


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    """The demo server, not logged in yet."""
    with DemoServer.open(demo_settings(tmp_path / "cache")) as server:
        yield server


@pytest.fixture
def connected(demo: DemoServer) -> DemoServer:
    """The demo server after the real login flow."""
    demo.login()
    return demo
