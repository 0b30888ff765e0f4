"""Every `sap` invocation of these tests runs over the same small seeded demo account."""

from __future__ import annotations

import pytest

from app.emulators.library.account import generate_library
from app.emulators.library.model import GeneratedLibrary
from tests.helpers.spotify_env import SMALL_DEMO


@pytest.fixture(autouse=True)
def small_demo_account(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SMALL_DEMO.items():
        monkeypatch.setenv(f"SAP_{name.upper()}", str(value))


@pytest.fixture
def library() -> GeneratedLibrary:
    """The account every invocation's emulator serves (same seed and sizes)."""
    return generate_library(seed=0, tracks=SMALL_DEMO["demo_tracks"], playlists=6)
