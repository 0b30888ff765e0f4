"""Navidrome smart playlists (``.nsp`` files): import losslessly, export saying what is lost.

An ``.nsp`` file is JSON: a root ``all`` or ``any`` list of expressions (each a one-key object,
``{"<operator>": {"<field>": value}}``, or a nested ``all``/``any``), plus ``sort``, ``order``,
``limit``, ``limitPercent``, ``offset``, ``name`` and ``comment``. Keys, operators and field names
are case-insensitive in Navidrome; we read them so and write the canonical spelling.

`import_nsp` turns every expression into a condition of ours; `NspImport.notes` lists anything
with no exact equivalent (``offset``, unknown keys, fields we do not have…). `export_nsp` writes
the ``.nsp`` JSON; `NspExport.dropped` has one line per thing Navidrome cannot express (and says
how dropping it changes the playlist), `NspExport.notes` the meaning-preserving rewrites
(``year >= 1990`` → ``year > 1989``, ``in [a, b]`` → any of ``is``…).

Fields (`NSP_TO_FIELD`; any other Navidrome field keeps its Navidrome name, lower-cased)::

    Navidrome     ours            Navidrome     ours
    title         name            loved         liked
    artist        artists         dateadded     added_at  (Navidrome: file added; ours: liked)
    album         album           releasedate   release_date
    year          year            duration      duration  (seconds, both)
    genre         genres          bpm           tempo
    mood          mood            isrc          isrc

Operators (`NSP_TO_OPERATOR`)::

    is eq · isNot ne · gt gt · lt lt · contains contains · notContains not_contains ·
    startsWith starts_with · endsWith ends_with · inTheRange between · before before ·
    after after · inTheLast in_last "<n>d" · notInTheLast not_in_last "<n>d" ·
    inPlaylist in_playlist · notInPlaylist not_in_playlist (both on the field ``track``) ·
    all and · any or · is [list] in · isNot [list] not_in

Dates: Navidrome compares stored timestamps with the date as text, so on a timestamp field
(``dateadded``, ``lastplayed``…) ``after D`` includes day D after midnight and ``inTheRange [a,
b]`` ends at the first instant of b; ours treat a date as its whole day. We do not rewrite dates
for that one-day boundary; both directions say so in their notes.

This module is the facade: the import is `rules_nsp_import`, the export `rules_nsp_export`,
the tables they share `rules_nsp_tables`.
"""

from __future__ import annotations

from app.pipeline.rules_nsp_export import NspExport, export_nsp
from app.pipeline.rules_nsp_import import NspImport, import_nsp, slugify
from app.pipeline.rules_nsp_tables import (
    FIELD_TO_NSP,
    NAVIDROME_FIELDS,
    NSP_TO_FIELD,
    NSP_TO_OPERATOR,
)

__all__ = [
    "FIELD_TO_NSP",
    "NAVIDROME_FIELDS",
    "NSP_TO_FIELD",
    "NSP_TO_OPERATOR",
    "NspExport",
    "NspImport",
    "export_nsp",
    "import_nsp",
    "slugify",
]
