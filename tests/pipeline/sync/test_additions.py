"""What a plan may add, decided from the library's views alone: tracks read from Spotify are
known, other tracks are to be looked up, local files and pinned ids the library lacks are left
out with their reason."""

from __future__ import annotations

from app.pipeline.rules.library.views import Library
from app.pipeline.sync.additions import wanted_tracks

LIKED = "4iV5W9uYEdYUVa79Axb7Rh"
IN_PLAYLIST = "1301WleyT98MSxVHPZCA6M"
CSV_ONLY = "0000000000000000000000"
LOCAL = "spotify:local:Artist:Album:Title:200"


def view(track_id: str, uri: str, *sources: str, **extra: object) -> dict[str, object]:
    return {
        "id": track_id,
        "uri": uri,
        "name": f"Song {track_id[:3]}",
        "artists": ["Ann"],
        "sources": list(sources),
        **extra,
    }


LIBRARY = Library.from_views(
    [
        view(LIKED, f"spotify:track:{LIKED}", "liked"),
        view(IN_PLAYLIST, f"spotify:track:{IN_PLAYLIST}", "csv:export", "playlist:abc"),
        view(CSV_ONLY, f"spotify:track:{CSV_ONLY}", "csv:export"),
        view(LOCAL, LOCAL, "csv:old", is_local=True),
    ]
)


def test_known_tracks_are_kept_csv_only_ones_are_to_be_checked_the_rest_left_out() -> None:
    wanted = wanted_tracks(
        [CSV_ONLY, LIKED, "missingpinnedid00000000", LOCAL, IN_PLAYLIST, LIKED], LIBRARY
    )
    assert wanted.uris == [f"spotify:track:{t}" for t in (CSV_ONLY, LIKED, IN_PLAYLIST)]
    assert wanted.unverified == {f"spotify:track:{CSV_ONLY}"}
    assert [(e.track_id, e.reason) for e in wanted.excluded] == [
        ("missingpinnedid00000000", "not_in_library"),
        (LOCAL, "local"),
    ]
    assert wanted.excluded[1].name == "Song spo — Ann"
    assert "cannot add local files" in wanted.excluded[1].message
    assert wanted.names[f"spotify:track:{LIKED}"] == "Song 4iV — Ann"
