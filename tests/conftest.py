"""Shared fixtures: real settings, stores and job runner in a temporary cache directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.config import Settings
from app.pipeline.services import Services


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's SAP_* variables and .env out of every test. A `sap` command builds
    the library's snapshot before it exits (not in a process behind it, which would go on
    writing in a test's directory after the test): tests of that process ask for it."""
    for name in list(os.environ):
        if name.startswith("SAP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SAP_CLI_LIBRARY_REFRESH", "wait")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def settings(cache_dir: Path) -> Settings:
    """Non-demo settings (a client id is set); tests of demo mode build their own."""
    return Settings(cache_dir=cache_dir, spotify_client_id="test-client-id")


@pytest.fixture
def services(settings: Settings) -> Services:
    return Services.from_settings(settings)
