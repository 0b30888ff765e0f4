"""Spotify ids: the shape every id has before it goes into a request URL.

A Spotify id (of a track, playlist, album, artist…) is 22 base62 characters, letters and digits
(developer.spotify.com, "Spotify URIs and IDs"). Ids are spliced into request paths
(`playlists/{id}/items`), so one of any other shape — `..`, `abc?x=1`, a `/` — would reach
another endpoint or add a query. The client checks each id with `checked_id` before it builds a
path; the API checks ids it is given (`SPOTIFY_ID_PATTERN`) and answers 422 naming the
parameter.

    >>> is_spotify_id("37i9dQZF1DXcBWIGoYBM5M"), is_spotify_id("../me")
    (True, False)
"""

from __future__ import annotations

import re

from app.core.errors import UnprocessableError

SPOTIFY_ID_PATTERN = r"^[0-9A-Za-z]{22}$"
"""What the API's parameters that hold a Spotify id must match."""

_SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}", re.ASCII)


class InvalidSpotifyIdError(UnprocessableError):
    code = "invalid_spotify_id"


def is_spotify_id(value: str) -> bool:
    """Whether `value` is 22 letters and digits (ASCII), and nothing else."""
    return _SPOTIFY_ID.fullmatch(value) is not None


def checked_id(value: str, what: str = "id") -> str:
    """`value` if it is a Spotify id; `InvalidSpotifyIdError` (422) naming `what` if not."""
    if not is_spotify_id(value):
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise InvalidSpotifyIdError(f"{shown!r} is not a Spotify {what} (22 letters and digits)")
    return value
