"""Exportify CSV import: both export generations, messy input, and the real shared exports."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.core.errors import AppError, NotFoundError, UnprocessableError
from app.core.models import Track
from app.pipeline.sources.exportify.columns import CsvColumnsMissingError, CsvImportError
from app.pipeline.sources.exportify.reader import (
    CsvImportResult,
    CsvRowError,
    parse_exportify_csv,
    read_exportify_csv,
)
from tests.helpers.paths import SHARED


def _datasets_dir() -> Path:
    # Read at import time: the autouse fixture in conftest.py hides SAP_* variables from tests.
    if "SAP_SHARED_DATA" in os.environ:  # the name bench/ uses, pointing at datasets/ itself
        return Path(os.environ["SAP_SHARED_DATA"])
    return SHARED / "datasets"


DATASETS = _datasets_dir()

# --- inline files -------------------------------------------------------------------------

CURRENT_HEADER = (
    '"Track URI","Track Name","Artist URI(s)","Artist Name(s)","Album URI","Album Name",'
    '"Album Artist URI(s)","Album Artist Name(s)","Album Release Date","Album Image URL",'
    '"Disc Number","Track Number","Track Duration (ms)","Track Preview URL","Explicit",'
    '"Popularity","ISRC","Added By","Added At"'
)
# The older export really has four tab characters inside the header cell before Danceability.
OLDER_HEADER = (
    "Track ID,Track Name,Album Name,Artist Name(s),Release Date,Duration (ms),Popularity,"
    "Added By,Added At,Genres,Record Label,\t\t\t\tDanceability,Energy"
)

ID_A = "43U4jRnomBZz8QfnrHh5NS"
ID_B = "6K1kucHD9Qp6ZgxFdHY2wV"
ID_C = "0puf9yIluy9W0vpMEUoAnN"
ARTIST_1 = "2gsggkzM5R49q6jpPvazou"
ARTIST_2 = "66CXWjxzNUsdJxJ2JdwvnR"
ARTIST_3 = "0hCNtLu0JehylgoiP8L4Gh"
ALBUM = "2rDIivxBafNKpgRqlzIRSb"


def current_row(
    track: str = f"spotify:track:{ID_C}",
    name: str = "Bang Bang",
    artist_uris: str = f"spotify:artist:{ARTIST_1}",
    artist_names: str = "Jessie J",
    release_date: str = "2014-10-10",
    duration: str = "199386",
    explicit: str = "false",
    isrc: str = "USUM71409737",
    added_at: str = "2026-03-29T16:49:29Z",
) -> str:
    cells = [
        track,
        name,
        artist_uris,
        artist_names,
        f"spotify:album:{ALBUM}",
        "Sweet Talker (Deluxe Version)",
        f"spotify:artist:{ARTIST_1}",
        "Jessie J",
        release_date,
        "https://i.scdn.co/image/ab67616d0000b273930f686fe89425c7b6bf9a7d",
        "1",
        "4",
        duration,
        "",
        explicit,
        "82",
        isrc,
        "",
        added_at,
    ]
    return ",".join('"' + cell.replace('"', '""') + '"' for cell in cells)


def older_row(
    track_id: str = "7e176FKv7cq6SG9EXYMLoQ",
    name: str = '"What Cha\' Gonna Do for Me"',
    artists: str = '"Chaka Khan"',
    release_date: str = "1981",
    added_at: str = "2024-11-30T02:39:04Z",
) -> str:
    return (
        f'{track_id},{name},"What Cha\' Gonna Do for Me",{artists},{release_date},234266,47,,'
        f'{added_at},"disco,funk,neo soul,quiet storm,soul","Rhino/Warner Records",0.684,0.64'
    )


def current_csv(*rows: str) -> str:
    return "\n".join([CURRENT_HEADER, *rows]) + "\n"


def older_csv(*rows: str) -> str:
    return "\n".join([OLDER_HEADER, *rows]) + "\n"


def only_track(result: CsvImportResult) -> tuple[Track, datetime | None]:
    assert result.errors == []
    assert len(result.tracks) == 1
    return result.tracks[0]


# --- whole rows ---------------------------------------------------------------------------


def test_current_format_row_becomes_a_full_track() -> None:
    result = parse_exportify_csv(
        current_csv(
            current_row(
                artist_uris=", ".join(
                    f"spotify:artist:{a}" for a in (ARTIST_1, ARTIST_2, ARTIST_3)
                ),
                artist_names="Jessie J, Ariana Grande, Nicki Minaj",
                explicit="true",
            )
        )
    )
    [(track, added_at)] = result.tracks
    assert track.id == ID_C
    assert track.uri == f"spotify:track:{ID_C}"
    assert track.name == "Bang Bang"
    assert [(a.id, a.name) for a in track.artists] == [
        (ARTIST_1, "Jessie J"),
        (ARTIST_2, "Ariana Grande"),
        (ARTIST_3, "Nicki Minaj"),
    ]
    assert track.album.id == ALBUM
    assert track.album.name == "Sweet Talker (Deluxe Version)"
    assert (track.album.release_date, track.album.release_date_precision) == ("2014-10-10", "day")
    assert track.duration_ms == 199386
    assert track.explicit is True
    assert track.isrc == "USUM71409737"
    assert track.is_local is False
    assert added_at == track.added_at == datetime(2026, 3, 29, 16, 49, 29, tzinfo=UTC)
    assert (result.total_rows, result.errors, result.duplicates, result.skipped_local) == (
        1,
        [],
        0,
        0,
    )


def test_older_format_row_with_tabbed_header_becomes_a_track() -> None:
    result = parse_exportify_csv(older_csv(older_row()), source_name="liked_songs.csv")
    [(track, added_at)] = result.tracks
    assert track.id == "7e176FKv7cq6SG9EXYMLoQ"
    assert track.uri == "spotify:track:7e176FKv7cq6SG9EXYMLoQ"
    assert track.name == "What Cha' Gonna Do for Me"
    assert [(a.id, a.name) for a in track.artists] == [(None, "Chaka Khan")]
    assert track.album.id is None
    assert (track.album.release_date, track.album.release_date_precision) == ("1981", "year")
    assert track.duration_ms == 234266
    assert (track.explicit, track.isrc) == (False, None)  # the older format has neither column
    assert added_at == datetime(2024, 11, 30, 2, 39, 4, tzinfo=UTC)


def test_columns_report_which_header_each_field_came_from() -> None:
    assert parse_exportify_csv(older_csv(older_row())).columns == {
        "id": "Track ID",
        "name": "Track Name",
        "artist_names": "Artist Name(s)",
        "album_name": "Album Name",
        "release_date": "Release Date",
        "duration_ms": "Duration (ms)",
        "added_at": "Added At",
    }
    assert parse_exportify_csv(current_csv(current_row())).columns == {
        "id": "Track URI",
        "name": "Track Name",
        "artist_ids": "Artist URI(s)",
        "artist_names": "Artist Name(s)",
        "album_id": "Album URI",
        "album_name": "Album Name",
        "release_date": "Album Release Date",
        "duration_ms": "Track Duration (ms)",
        "explicit": "Explicit",
        "isrc": "ISRC",
        "added_at": "Added At",
    }


def test_columns_are_found_by_name_in_any_order_and_case() -> None:
    text = (
        "added at , ISRC,  track   NAME ,explicit?,SPOTIFY URI\n"
        f"2020-01-02T03:04:05Z,usum71409737,Ünïcødé – 曲,TRUE,spotify:track:{ID_A}\n"
    )
    track, added_at = only_track(parse_exportify_csv(text))
    assert (track.id, track.name, track.isrc, track.explicit) == (
        ID_A,
        "Ünïcødé – 曲",
        "USUM71409737",
        True,
    )
    assert added_at == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


# --- encodings, line endings, quoting -----------------------------------------------------

_PLAIN = current_csv(
    current_row(name="Tình ca tây bắc"), current_row(track=ID_A, name="グリズリー")
)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_PLAIN, id="str"),
        pytest.param(_PLAIN.encode(), id="utf8-bytes"),
        pytest.param(b"\xef\xbb\xbf" + _PLAIN.encode(), id="utf8-bom-bytes"),
        pytest.param("\ufeff" + _PLAIN, id="str-with-bom"),
        pytest.param(_PLAIN.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(_PLAIN.replace("\n", "\r").encode(), id="cr-only"),
        pytest.param(_PLAIN.rstrip("\n"), id="no-final-newline"),
        pytest.param(_PLAIN.replace(",", ";"), id="semicolon-resave"),
    ],
)
def test_encodings_and_line_endings_give_the_same_tracks(data: str | bytes) -> None:
    result = parse_exportify_csv(data)
    assert result.errors == []
    assert [(t.id, t.name) for t, _ in result.tracks] == [
        (ID_C, "Tình ca tây bắc"),
        (ID_A, "グリズリー"),
    ]
    assert result.columns["id"] == "Track URI"


def test_quoted_commas_and_newlines_stay_in_their_cell_and_lines_are_counted() -> None:
    text = current_csv(
        current_row(name="Hey, Soul Sister"),  # line 2
        current_row(track=ID_A, name="First line\nsecond line\r\nthird"),  # lines 3-5
        current_row(track="spotify:track:short", name="bad id,\ntwo lines"),  # lines 6-7
        current_row(track=ID_B, name='Say "hi"'),  # line 8
        current_row(track="also bad"),  # line 9
    )
    result = parse_exportify_csv(text)
    assert [t.name for t, _ in result.tracks] == [
        "Hey, Soul Sister",
        "First line\nsecond line\r\nthird",
        'Say "hi"',
    ]
    assert [e.line for e in result.errors] == [6, 9]  # a row's first physical line


def test_bare_quotes_inside_quoted_cells_of_the_older_export_are_read() -> None:
    # The older exporter quoted cells without doubling inner quotes (real rows look like this).
    text = older_csv(
        older_row(artists='"Evelyn "Champagne" King"'),
        older_row(
            track_id="5PMKzsUsTpZZGsCcJBuhP2", artists='"Donell Jones,Lisa "Left Eye" Lopes"'
        ),
    )
    result = parse_exportify_csv(text)
    assert result.errors == []
    assert [[a.name for a in t.artists] for t, _ in result.tracks] == [
        ['Evelyn "Champagne" King'],
        ["Donell Jones", 'Lisa "Left Eye" Lopes'],
    ]


def test_an_unclosed_quote_is_reported_at_the_line_where_its_row_starts() -> None:
    text = current_csv(current_row(), '"spotify:track:' + ID_A + '","never closed', "more text")
    result = parse_exportify_csv(text)
    assert [t.id for t, _ in result.tracks] == [ID_C]
    assert len(result.errors) == 1
    assert result.errors[0].line == 3
    assert "never closed" in result.errors[0].message


def test_blank_lines_are_ignored_but_still_counted_for_line_numbers() -> None:
    text = current_csv("", current_row(), "", ",,,", current_row(track="nope"))
    result = parse_exportify_csv(text)
    assert result.total_rows == 2
    assert [t.id for t, _ in result.tracks] == [ID_C]
    assert [e.line for e in result.errors] == [6]


# --- artists ------------------------------------------------------------------------------

_U1, _U2, _U3 = (f"spotify:artist:{a}" for a in (ARTIST_1, ARTIST_2, ARTIST_3))


@pytest.mark.parametrize(
    ("uris", "names", "expected"),
    [
        pytest.param(_U1, "Jessie J", [(ARTIST_1, "Jessie J")], id="one"),
        pytest.param(
            f"{_U1}, {_U2}",
            "Anh Thơ, Việt Hoàn",
            [(ARTIST_1, "Anh Thơ"), (ARTIST_2, "Việt Hoàn")],
            id="two-spaced",
        ),
        pytest.param(
            f"{_U1}, {_U2}, {_U3}",
            "Johann Strauss II, Radio Symphony Orchestra\\, Berlin, Ferenc Fricsay",
            [
                (ARTIST_1, "Johann Strauss II"),
                (ARTIST_2, "Radio Symphony Orchestra, Berlin"),
                (ARTIST_3, "Ferenc Fricsay"),
            ],
            id="escaped-comma-in-a-name",
        ),
        pytest.param(
            _U1,
            "Tyler, The Creator",
            [(ARTIST_1, "Tyler, The Creator")],
            id="one-uri-keeps-the-whole-cell",
        ),
        pytest.param(
            f"{_U1},{_U2}",
            "Tyler, The Creator,Kali Uchis",
            [(ARTIST_1, "Tyler, The Creator"), (ARTIST_2, "Kali Uchis")],
            id="compact-join-matches-the-count",
        ),
        pytest.param(
            f"{_U1}, {_U2}",
            "Tyler, The Creator, Kali Uchis",
            [(None, "Tyler, The Creator, Kali Uchis")],
            id="ambiguous-count-keeps-one-artist-without-guessing-ids",
        ),
        pytest.param(
            f"{_U1}, not-an-id",
            "Jessie J, Someone",
            [(ARTIST_1, "Jessie J"), (None, "Someone")],
            id="bad-uri-loses-only-its-id",
        ),
        pytest.param(
            "",
            "Jessie J, Ariana Grande",
            [(None, "Jessie J"), (None, "Ariana Grande")],
            id="names-without-uris",
        ),
        pytest.param("", "", [], id="none"),
    ],
)
def test_current_format_pairs_artist_uris_with_names(
    uris: str, names: str, expected: list[tuple[str | None, str]]
) -> None:
    result = parse_exportify_csv(current_csv(current_row(artist_uris=uris, artist_names=names)))
    [(track, _)] = result.tracks
    assert [(a.id, a.name) for a in track.artists] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('"Chaka Khan"', ["Chaka Khan"]),
        ('"Dolly Parton,Kenny Rogers"', ["Dolly Parton", "Kenny Rogers"]),
        ('"Hank Williams, Jr."', ["Hank Williams, Jr."]),
        ('"Post Malone,Hank Williams, Jr."', ["Post Malone", "Hank Williams, Jr."]),
        ('"Earth, Wind & Fire,Ramsey Lewis"', ["Earth, Wind & Fire", "Ramsey Lewis"]),
    ],
)
def test_older_format_splits_names_on_commas_without_a_following_space(
    cell: str, expected: list[str]
) -> None:
    [(track, _)] = parse_exportify_csv(older_csv(older_row(artists=cell))).tracks
    assert [(a.id, a.name) for a in track.artists] == [(None, name) for name in expected]


# --- single fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected_id"),
    [
        (f"spotify:track:{ID_A}", ID_A),
        (ID_A, ID_A),
        (f"  {ID_A}\t", ID_A),
        (f"https://open.spotify.com/track/{ID_A}?si=abc123", ID_A),
        (f"https://open.spotify.com/intl-de/track/{ID_A}", ID_A),
    ],
)
def test_track_id_is_read_from_uri_bare_id_or_link(value: str, expected_id: str) -> None:
    [(track, _)] = parse_exportify_csv(current_csv(current_row(track=value))).tracks
    assert (track.id, track.uri) == (expected_id, f"spotify:track:{expected_id}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1999", ("1999", "year")),
        ("1957-09", ("1957-09", "month")),
        ("2014-10-10", ("2014-10-10", "day")),
        ("", (None, None)),
        ("0000", (None, None)),  # what Spotify gives for tracks it no longer has
    ],
)
def test_release_date_precision_follows_the_date_length(
    value: str, expected: tuple[str | None, str | None]
) -> None:
    [(track, _)] = parse_exportify_csv(current_csv(current_row(release_date=value))).tracks
    assert (track.album.release_date, track.album.release_date_precision) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-30T02:39:04Z", datetime(2024, 11, 30, 2, 39, 4, tzinfo=UTC)),
        ("2024-11-30T04:39:04+02:00", datetime(2024, 11, 30, 2, 39, 4, tzinfo=UTC)),
        ("2024-11-30T02:39:04", datetime(2024, 11, 30, 2, 39, 4, tzinfo=UTC)),
        ("2024-11-30", datetime(2024, 11, 30, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", None),  # Exportify's placeholder ("Your Top Songs" playlists)
        ("", None),
    ],
)
def test_added_at_is_utc_and_the_epoch_placeholder_means_unknown(
    value: str, expected: datetime | None
) -> None:
    [(track, added_at)] = parse_exportify_csv(current_csv(current_row(added_at=value))).tracks
    assert added_at == track.added_at == expected
    if added_at is not None:
        assert added_at.utcoffset() == timedelta(0)


def test_added_at_with_an_offset_is_converted_not_relabelled() -> None:
    [(_, added_at)] = parse_exportify_csv(
        current_csv(current_row(added_at="2024-01-01T00:30:00-05:30"))
    ).tracks
    assert added_at == datetime(
        2024, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))
    )
    assert added_at is not None and added_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("USUM71409737", "USUM71409737"),
        ("ushm81779109", "USHM81779109"),  # a real lower-case ISRC from playlist_2.csv
        ("US-UM7-14-09737", "USUM71409737"),
        ("", None),
        ("USUM7140973", None),
        ("not an isrc", None),
    ],
)
def test_isrc_is_upper_cased_and_dropped_when_malformed(value: str, expected: str | None) -> None:
    [(track, _)] = parse_exportify_csv(current_csv(current_row(isrc=value))).tracks
    assert track.isrc == expected


@pytest.mark.parametrize(
    ("duration", "explicit", "expected"),
    [
        ("199386", "false", (199386, False)),
        ("199386.0", "TRUE", (199386, True)),  # a spreadsheet round trip
        ("", "", (0, False)),
        ("0", "1", (0, True)),
    ],
)
def test_duration_and_explicit_values(
    duration: str, explicit: str, expected: tuple[int, bool]
) -> None:
    [(track, _)] = parse_exportify_csv(
        current_csv(current_row(duration=duration, explicit=explicit))
    ).tracks
    assert (track.duration_ms, track.explicit) == expected


# --- bad rows -----------------------------------------------------------------------------

BAD_ROWS = [
    # (row, the whole message: what is wrong, in which column — never the cell's text)
    (current_row(track=""), "missing track id in column 'Track URI'"),
    (
        current_row(track="spotify:track:abc"),
        "malformed track id in column 'Track URI' (a Spotify id is 22 letters and digits)",
    ),
    (
        current_row(track="7e176FKv7cq6SG9EXYMLo!"),
        "malformed track id in column 'Track URI' (a Spotify id is 22 letters and digits)",
    ),
    (
        current_row(track=f"spotify:episode:{ID_A}"),
        "not a track in column 'Track URI' (a spotify:episode URI)",
    ),
    (
        current_row(track="spotify:secret-stuff:x"),
        "not a track in column 'Track URI' (another kind of URI)",
    ),
    (
        current_row(name=""),
        "empty track name in column 'Track Name' (Spotify lists tracks it no longer has this way)",
    ),
    (
        current_row(duration="3:41"),
        "unreadable duration in column 'Track Duration (ms)' (expected whole milliseconds)",
    ),
    (
        current_row(duration="-5"),
        "unreadable duration in column 'Track Duration (ms)' (expected whole milliseconds)",
    ),
    (
        current_row(release_date="10/10/2014"),
        "unreadable release date in column 'Album Release Date' (expected YYYY[-MM[-DD]])",
    ),
    (
        current_row(release_date="2014-02-30"),
        "impossible release date in column 'Album Release Date' (no such day)",
    ),
    (
        current_row(added_at="yesterday"),
        "unreadable added-at time in column 'Added At' (expected ISO 8601, e.g. "
        "2024-11-30T02:39:04Z)",
    ),
    (
        current_row(explicit="maybe"),
        "unreadable explicit flag in column 'Explicit' (expected true or false)",
    ),
    (current_row() + ',"extra"', "expected 19 cells as in the header, found 20"),
    ('"spotify:track:' + ID_A + '","Too short"', "expected 19 cells as in the header, found 2"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS, ids=[m for _, m in BAD_ROWS])
def test_a_bad_row_is_reported_with_its_line_and_the_import_goes_on(row: str, message: str) -> None:
    text = current_csv(
        current_row(track=ID_A, name="multi\nline"),  # lines 2-3
        row,  # line 4
        current_row(track=ID_B),  # line 5
    )
    result = parse_exportify_csv(text)
    assert [t.id for t, _ in result.tracks] == [ID_A, ID_B]
    assert len(result.errors) == 1
    assert result.errors[0].line == 4
    assert result.errors[0].message == message
    assert result.total_rows == 3


def test_every_row_is_accounted_for() -> None:
    text = current_csv(
        current_row(),  # 2: imported
        current_row(track="spotify:local:Artist:Album:Title:215"),  # 3: local file
        current_row(name="Again, renamed"),  # 4: duplicate of line 2, first wins
        current_row(track="bad"),  # 5: error
        current_row(track=ID_A, name="Second"),  # 6: imported
        current_row(track="spotify:local:::Voice memo:12"),  # 7: local file
        current_row(track=ID_A, duration="nonsense"),  # 8: duplicate, not re-validated
    )
    result = parse_exportify_csv(text)
    assert [(t.id, t.name) for t, _ in result.tracks] == [(ID_C, "Bang Bang"), (ID_A, "Second")]
    assert result.skipped_local == 2
    assert result.duplicates == 2
    assert result.errors == [
        CsvRowError(
            5, "malformed track id in column 'Track URI' (a Spotify id is 22 letters and digits)"
        )
    ]
    assert (
        result.total_rows
        == 7
        == (len(result.tracks) + len(result.errors) + result.skipped_local + result.duplicates)
    )


def test_header_only_file_has_no_rows() -> None:
    result = parse_exportify_csv(CURRENT_HEADER + "\n")
    assert (result.tracks, result.errors, result.total_rows) == ([], [], 0)


# --- files that cannot be imported at all -------------------------------------------------


@pytest.mark.parametrize(
    ("header", "missing", "named", "recognised"),
    [
        (
            "Track Name,Artist Name(s)",
            ["id"],
            "track id or URI ('Track URI' or",
            ["Track Name", "Artist Name(s)"],
        ),
        (
            "track uri, ARTIST NAME(S),Album Name",
            ["name"],
            "track name ('Track Name')",
            ["Track URI", "Artist Name(s)", "Album Name"],
        ),
        (
            "title,artist,track_id,added_at",
            ["id", "name"],
            "missing required column(s) track id or URI",
            [],
        ),
    ],
)
def test_missing_required_columns_are_named_but_the_headers_found_never_quoted(
    header: str, missing: list[str], named: str, recognised: list[str]
) -> None:
    with pytest.raises(CsvColumnsMissingError) as caught:
        parse_exportify_csv(header + "\nx,y,z,w\n", source_name="mine.csv")
    error = caught.value
    assert isinstance(error, UnprocessableError)
    assert error.code == "csv_columns_missing"
    assert error.status_code == 422
    assert error.extra == {"missing": missing, "recognised": recognised}
    assert error.detail.startswith("mine.csv is not an Exportify export")
    assert named in error.detail
    # Only columns we know are named, as Exportify spells them; the file's own text never.
    assert error.detail.endswith(
        f"Its first line has {len(header.split(','))} cell(s); Exportify columns among them: "
        + (", ".join(map(repr, recognised)) or "none")
    )
    assert "title" not in error.detail and "track_id" not in error.detail


def test_a_file_that_is_not_csv_at_all_is_never_quoted() -> None:
    passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n"  # noqa: S105
    environ = "SAP_LASTFM_API_KEY=abc123secret\0SAP_LLM_API_KEY=sk-xyz\0"
    for text in (passwd, environ):
        with pytest.raises(CsvColumnsMissingError) as caught:
            parse_exportify_csv(text, source_name="f")
        detail = caught.value.detail + repr(caught.value.extra)
        for secret in ("root", "/bin/bash", "daemon", "abc123secret", "sk-xyz", "SAP_"):
            assert secret not in detail
        assert caught.value.extra == {"missing": ["id", "name"], "recognised": []}


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", "", "\n\r\n  \n", "\ufeff"], ids=repr)
def test_an_empty_file_is_a_clear_error(data: str | bytes) -> None:
    with pytest.raises(CsvImportError, match=r"^empty\.csv is empty$") as caught:
        parse_exportify_csv(data, source_name="empty.csv")
    assert caught.value.code == "csv_empty"


def test_a_file_that_is_not_utf8_is_a_clear_error() -> None:
    latin1 = current_csv(current_row(name="Café")).encode("latin-1")
    with pytest.raises(CsvImportError, match="not UTF-8") as caught:
        parse_exportify_csv(latin1)
    assert caught.value.code == "csv_encoding"


def test_reading_a_missing_or_unreadable_path_raises_domain_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as missing:
        read_exportify_csv(tmp_path / "nope.csv")
    assert missing.value.code == "csv_not_found"
    with pytest.raises(AppError) as directory:
        read_exportify_csv(tmp_path)
    assert directory.value.code == "csv_unreadable"


def test_reading_a_path_reads_bytes_and_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "road trip.csv"
    path.write_bytes(b"\xef\xbb\xbf" + current_csv(current_row()).replace("\n", "\r\n").encode())
    assert [t.id for t, _ in read_exportify_csv(path).tracks] == [ID_C]
    path.write_text("title,artist\n", encoding="utf-8")
    with pytest.raises(CsvColumnsMissingError, match=r"^road trip\.csv is not an Exportify"):
        read_exportify_csv(path)


def test_ten_thousand_distinct_rows_are_all_imported() -> None:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    ids = [
        "".join(alphabet[(n // 62**k) % 62] for k in range(3)).rjust(22, "x") for n in range(10_000)
    ]
    result = parse_exportify_csv(current_csv(*(current_row(track=i) for i in ids)))
    assert result.errors == []
    assert [t.id for t, _ in result.tracks] == ids


# --- the real shared exports --------------------------------------------------------------


def shared(relative: str) -> Path:
    path = DATASETS / relative
    if not path.is_file():
        pytest.skip(
            f"shared dataset {path} is absent (set SAP_SHARED_DIR to the folder holding datasets/)"
        )
    return path


def test_real_current_export_liked_csv() -> None:
    result = read_exportify_csv(shared("exportify_brianhuster/liked.csv"))
    assert result.total_rows == 746
    assert len(result.tracks) == 746
    assert (result.errors, result.duplicates, result.skipped_local) == ([], 0, 0)
    assert sum(track.isrc is not None for track, _ in result.tracks) == 746
    assert sum(track.explicit for track, _ in result.tracks) == 2
    assert sum(len(track.artists) > 1 for track, _ in result.tracks) == 197
    assert all(a.id is not None for t, _ in result.tracks for a in t.artists)

    first, added_at = result.tracks[0]
    assert first.id == "43U4jRnomBZz8QfnrHh5NS"
    assert first.name == "グリズリーに襲われたら♡ - Live in Okinawa"
    assert [(a.id, a.name) for a in first.artists] == [("2AWzGewZVrlcuI3DwbB84b", "kamiyado")]
    assert first.album.model_dump() == {
        "id": "38VwCI3fl4tbERUXLw9LJ5",
        "name": "Over the Rainbow - Live -",
        "release_date": "2022-12-21",
        "release_date_precision": "day",
    }
    assert (first.duration_ms, first.explicit, first.isrc) == (251874, False, "QMFME2241679")
    assert added_at == datetime(2026, 3, 29, 17, 3, 53, tzinfo=UTC)

    bang_bang = next(track for track, _ in result.tracks if track.id == "0puf9yIluy9W0vpMEUoAnN")
    assert [(a.id, a.name) for a in bang_bang.artists] == [
        ("2gsggkzM5R49q6jpPvazou", "Jessie J"),
        ("66CXWjxzNUsdJxJ2JdwvnR", "Ariana Grande"),
        ("0hCNtLu0JehylgoiP8L4Gh", "Nicki Minaj"),
    ]


def test_real_current_export_playlist_with_duplicates_and_unavailable_tracks() -> None:
    result = read_exportify_csv(shared("exportify_brianhuster/playlist_2.csv"))
    assert result.total_rows == 290
    assert len(result.tracks) == 254
    assert result.duplicates == 34
    assert [(e.line, e.message.split(" (")[0]) for e in result.errors] == [
        (34, "empty track name in column 'Track Name'"),
        (36, "empty track name in column 'Track Name'"),
    ]
    by_id = {track.id: track for track, _ in result.tracks}
    radetzky = by_id["3nEhq5R8zywUip2AYRLpJF"]
    assert [a.name for a in radetzky.artists] == [
        "Johann Strauss II",
        "Johann Strauss I",
        "Radio Symphony Orchestra, Berlin",
        "Ferenc Fricsay",
    ]
    assert all(a.id is not None for a in radetzky.artists)
    assert "USHM81779109" in {track.isrc for track in by_id.values()}


def test_real_older_export_liked_songs() -> None:
    result = read_exportify_csv(shared("exportify_seankmchenry/liked_songs.csv"))
    assert result.total_rows == 6576
    assert len(result.tracks) == 6575
    assert (result.duplicates, result.skipped_local) == (0, 0)
    assert [(e.line, e.message.split(" (")[0]) for e in result.errors] == [
        (4823, "empty track name in column 'Track Name'")
    ]
    assert all(added_at is not None for _, added_at in result.tracks)
    assert result.columns["id"] == "Track ID"

    first, added_at = result.tracks[0]
    assert first.id == "7e176FKv7cq6SG9EXYMLoQ"
    assert first.name == "What Cha' Gonna Do for Me"
    assert [(a.id, a.name) for a in first.artists] == [(None, "Chaka Khan")]
    assert (first.album.release_date, first.album.release_date_precision) == ("1981", "year")
    assert first.duration_ms == 234266
    assert added_at == datetime(2024, 11, 30, 2, 39, 4, tzinfo=UTC)

    by_id = {track.id: track for track, _ in result.tracks}
    assert [a.name for a in by_id["4Kd9tBUgpXv26OfR6ugBv1"].artists] == [
        "Post Malone",
        "Hank Williams, Jr.",
    ]
    # line 161: `"Evelyn "Champagne" King"`, bare quotes inside a quoted cell
    assert [a.name for a in by_id["17EVu5b0l5uo2gErSfqEt1"].artists] == ['Evelyn "Champagne" King']


def test_real_older_export_top_songs_has_only_placeholder_added_at() -> None:
    result = read_exportify_csv(shared("exportify_seankmchenry/your_top_songs_2023.csv"))
    assert (result.total_rows, len(result.tracks), result.errors) == (100, 100, [])
    assert {added_at for _, added_at in result.tracks} == {None}
    assert {track.added_at for track, _ in result.tracks} == {None}


def test_every_real_older_export_imports() -> None:
    folder = DATASETS / "exportify_seankmchenry"
    if not folder.is_dir():
        pytest.skip(f"shared dataset {folder} is absent")
    results = [read_exportify_csv(path) for path in sorted(folder.glob("*.csv"))]
    assert len(results) == 100
    assert sum(r.total_rows for r in results) == 18_563
    assert sum(len(r.tracks) for r in results) == 18_554
    assert sum(len(r.errors) for r in results) == 8  # tracks Spotify no longer has (no name)
    assert sum(r.duplicates for r in results) == 1
    assert len({t.id for r in results for t, _ in r.tracks}) == 13_553


def test_real_vance5427_file_is_not_an_exportify_export() -> None:
    path = shared("vance5427_liked_songs_bpm_camelot_genre.csv")
    with pytest.raises(CsvColumnsMissingError) as caught:
        read_exportify_csv(path)
    error = caught.value
    assert error.extra["missing"] == ["id", "name"]
    assert error.detail.startswith(
        "vance5427_liked_songs_bpm_camelot_genre.csv is not an Exportify export"
    )
    assert "'track_id'" not in error.detail  # its own headers are not quoted back
