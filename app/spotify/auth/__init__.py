"""Logging in to Spotify: PKCE, the token life cycle, the token on each request (`bearer`),
the CLI's login and its callback listener."""
