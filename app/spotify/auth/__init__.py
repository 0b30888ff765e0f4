"""Logging in to Spotify: PKCE, the token life cycle, the CLI's login and its callback listener."""
