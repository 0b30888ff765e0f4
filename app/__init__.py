"""spotify-auto-playlists: keep a Spotify library organised by rules, with previews and undo."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spotify-auto-playlists")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
