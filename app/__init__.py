"""spotify-auto-playlists: keep a Spotify library organised by rules, with previews and undo."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata on first use: importing
    `importlib.metadata` costs every `sap` command tens of milliseconds otherwise."""
    if name != "__version__":
        raise AttributeError(f"module 'app' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spotify-auto-playlists")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"
