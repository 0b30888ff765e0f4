"""What `serve` says on start-up, without starting a server: `serve_banner` over real settings."""

from __future__ import annotations

from pathlib import Path

from app import __version__
from app.cli.server import serve_banner
from app.core.config import Settings


def test_with_a_client_id_the_banner_is_one_line(cache_dir: Path) -> None:
    settings = Settings(cache_dir=cache_dir, spotify_client_id="my-app-id", port=9123)
    assert serve_banner(settings) == [
        f"spotify-auto-playlists {__version__} on http://127.0.0.1:9123 "
        f"(data in {settings.cache_dir})"
    ]


def test_without_a_client_id_the_banner_says_it_is_the_demo(cache_dir: Path) -> None:
    settings = Settings(cache_dir=cache_dir, host="127.0.0.2", port=9123)
    first, demo = serve_banner(settings)
    assert first.startswith(f"spotify-auto-playlists {__version__} on http://127.0.0.2:9123 ")
    assert demo == (
        "demo mode: no SAP_SPOTIFY_CLIENT_ID set — using a built-in emulated Spotify account "
        f"(data in {settings.cache_dir / 'demo'}); log in at http://127.0.0.2:9123/auth/login"
    )


def test_a_forced_demo_says_why(cache_dir: Path) -> None:
    settings = Settings(cache_dir=cache_dir, spotify_client_id="my-app-id", demo=True)
    assert serve_banner(settings)[1].startswith("demo mode: SAP_DEMO is set — using a built-in")
