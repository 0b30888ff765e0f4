"""Fixtures of the pipeline tests that need Spotify: services over the real in-process emulator
(a `DemoEnvironment`), logged in through the real headless PKCE flow."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.demo import DemoEnvironment
from app.spotify.auth.login import headless_login
from tests.helpers.spotify_env import demo_settings


@pytest.fixture
def demo_env(tmp_path: Path) -> DemoEnvironment:
    """A logged-in demo account; at most two attempts per request, so faults fail fast.

    Its services are the server's kind: CSV files only among uploads and in the import folder.
    """
    env = DemoEnvironment.create(demo_settings(tmp_path / "cache", spotify_max_attempts=2))
    asyncio.run(headless_login(env.services.spotify))
    return env


@pytest.fixture
def cli_env(tmp_path: Path) -> DemoEnvironment:
    """`demo_env` as the CLI has it: a CSV source may name any file (`Services.local_paths`),
    and nothing is warmed up behind a command (`Services.warm_up`)."""
    settings = demo_settings(tmp_path / "cache", spotify_max_attempts=2)
    env = DemoEnvironment.create(settings, local_paths=True, warm_up=False)
    asyncio.run(headless_login(env.services.spotify))
    return env
