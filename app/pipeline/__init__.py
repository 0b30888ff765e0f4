"""Business logic: track sources, enrichment, rules, playlists, and the background job runner."""
