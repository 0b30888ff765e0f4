"""What Navidrome ``.nsp`` import and export share: the field and operator tables, value tests.

`NSP_TO_FIELD` / `FIELD_TO_NSP` map field names, `NSP_TO_OPERATOR` / `OPERATOR_TO_NSP`
operators (each operator's Navidrome form is declared in the operator registry,
`rules.operators`); `NAVIDROME_FIELDS` is what a stock Navidrome knows. The whole mapping is
described in docs/rules.md; the two directions are `importer` and `exporter`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.core.rules import SPAN_SECONDS, RuleOperator, parse_span
from app.pipeline.rules.operators import NSP_FORMS

__all__ = [
    "DATE_FIELDS",
    "DATE_NOTE",
    "FIELD_TO_NSP",
    "INTEGRAL_FIELDS",
    "NAVIDROME_FIELDS",
    "NSP_TO_FIELD",
    "NSP_TO_OPERATOR",
    "OPERATOR_TO_NSP",
    "OURS_ONLY",
    "is_number",
    "is_scalar",
    "ms_to_seconds",
    "navidrome_field",
    "whole_days",
]

DAY = SPAN_SECONDS["d"]

NSP_TO_FIELD: dict[str, str] = {
    "title": "name",
    "artist": "artists",
    "album": "album",
    "year": "year",
    "genre": "genres",
    "mood": "mood",
    "dateadded": "added_at",
    "releasedate": "release_date",
    "duration": "duration",
    "bpm": "tempo",
    "loved": "liked",
    "isrc": "isrc",
}
"""Navidrome field → ours. Every other Navidrome field is kept under its own (lower-case) name."""

FIELD_TO_NSP: dict[str, str] = {
    **{ours: nsp for nsp, ours in NSP_TO_FIELD.items()},
    "title": "title",  # our aliases of name / artists
    "artist": "artist",
}
"""Our field (case-folded) → Navidrome field."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


OURS_ONLY: frozenset[str] = frozenset(
    {"duration_ms", "explicit", "is_local", "id", "track_id", "uri", "sources", "playlists"}
)
"""Built-in fields of ours with no Navidrome field (`duration_ms` is rewritten as `duration`)."""

NAVIDROME_FIELDS: frozenset[str] = _words(
    # fields (model/criteria/fields.go)
    "title album hascoverart tracknumber discnumber year date recordingdate originalyear "
    "originaldate releaseyear releasedate size compilation dateadded datemodified "
    "discsubtitle comment lyrics sorttitle sortalbum sortartist sortalbumartist albumcomment "
    "catalognumber filepath filetype duration bitrate bitdepth samplerate bpm channels loved "
    "dateloved lastplayed daterated playcount rating albumrating artistrating library_id "
    "albumtype mbz_album_id mbz_album_artist_id mbz_artist_id mbz_recording_id "
    "mbz_release_track_id mbz_release_group_id "
    # artist roles
    "artist albumartist composer conductor lyricist arranger producer director engineer "
    "mixer remixer djmixer performer maincredit "
    # tags of Navidrome's default mappings.yaml
    "genre mood grouping isrc key language recordlabel releasecountry releasestatus "
    "releasetype media barcode asin copyright script website work movement movementname "
    "movementtotal albumversion subtitle encodedby encodersettings gapless license "
    "replaygain_album_gain replaygain_album_peak replaygain_track_gain replaygain_track_peak"
)
"""Field names a stock Navidrome knows (plus ``mbz_*`` and ``musicbrainz_*`` tags); tags
configured in a Navidrome install can be passed to `export_nsp` as `navidrome_fields`."""

INTEGRAL_FIELDS: frozenset[str] = _words(
    "year originalyear releaseyear tracknumber discnumber size playcount rating albumrating "
    "artistrating bitrate bitdepth samplerate channels library_id bpm movement "
    "movementtotal"
)
"""Navidrome fields holding whole numbers: ``x >= n`` is exactly ``x > n - 1`` there."""

DATE_FIELDS: frozenset[str] = _words(
    "date recordingdate originaldate releasedate dateadded datemodified dateloved lastplayed "
    "daterated"
)

OPERATOR_TO_NSP: dict[RuleOperator, str] = dict(NSP_FORMS)
"""Our operator → Navidrome's, for those the registry gives a Navidrome form (`nsp`)."""
NSP_TO_OPERATOR: dict[str, RuleOperator] = {nsp: op for op, nsp in NSP_FORMS.items()}
"""Navidrome operator (canonical spelling; read case-insensitively) → ours."""
DATE_NOTE = (
    "dates: Navidrome compares timestamps with the date as text, so on a timestamp field "
    "`after D` includes day D and `inTheRange [a, b]` stops at the start of day b, while we "
    "treat a date as its whole day (not rewritten)"
)


def is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def navidrome_field(folded: str, extra: Iterable[str] = ()) -> bool:
    return (
        folded in NAVIDROME_FIELDS
        or folded.startswith(("mbz_", "musicbrainz_"))
        or folded in {e.lower() for e in extra}
    )


def ms_to_seconds(value: Any) -> Any:
    """Milliseconds (a number or a list of numbers) as seconds; None if not numbers."""

    def convert(item: Any) -> Any:
        if not is_number(item):
            return None
        seconds = item / 1000
        return int(seconds) if float(seconds).is_integer() else seconds

    if isinstance(value, list):
        converted = [convert(v) for v in value]
        return None if any(c is None for c in converted) else converted
    return convert(value)


def whole_days(value: Any) -> int | None:
    """A span (``"30d"`` or seconds) as a whole number of days; None if it is not one."""
    if is_number(value):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(parse_span(value))
        except ValueError:
            return None
    else:
        return None
    if seconds < 0 or seconds % DAY:
        return None
    return int(seconds // DAY)
