"""Navidrome smart playlists (`.nsp`): import every condition, export saying what is lost."""
