"""Spotify Web API: the client (paging, writes, errors), lenient models, reading sources, auth."""
