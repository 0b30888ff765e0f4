"""`python -m app` runs the CLI (same as the `spotify-auto-playlists` console script)."""

from app.cli import main

main()
