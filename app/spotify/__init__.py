"""Spotify Web API integration (auth, client, tracks, playlists); filled by the Spotify issue."""
