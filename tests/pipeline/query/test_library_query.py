"""The library query over real stores: filter (rules language), multi-column sort over the whole
library, pages, columns with provenance, and errors naming the problem.

The library has 1,500 tracks (so the engine decides conditions set-wise, as at 100,000), liked
songs and one playlist, and enrichment entries written here from three providers at known
times, some values missing; every expected answer is computed in plain Python from them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import RulesInvalidError, UnprocessableError
from app.core.models import AlbumRef, ArtistRef, Track, TrackEnrichment, TrackSourceType
from app.data import Stores
from app.data.sources import SourceEntry, SourceRecord
from app.pipeline.query.model import LibraryFilter, LibraryIdsRequest, LibraryQuery, SortSpec
from app.pipeline.query.service import library_ids, matching_ids, query_library
from app.pipeline.query.state import LibraryQueries
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.service import preview_library
from app.pipeline.rules.text.parser import parse_rules
from app.providers.registry import PROVIDERS

COUNT = 1500
DEEZER_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
RECCO_AT = datetime(2026, 10, 1, 12, 30, tzinfo=UTC)
LASTFM_AT = datetime(2026, 9, 2, tzinfo=UTC)
MB_AT = datetime(2026, 9, 3, tzinfo=UTC)
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def _tempo(i: int) -> float | None:
    return None if i % 9 == 4 else float(60 + (i * 37) % 120)  # repeats: ties to break


def _energy(i: int) -> float | None:
    return None if i % 5 == 3 else round((i * 13 % 10) / 10, 1)


def _genres(i: int) -> list[str]:
    return [["rock"], ["jazz", "soul"], ["pop"], []][i % 4]


class Lib:
    """The stored library and, per track id, what was written."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.ids = [f"t{i:04d}" for i in range(COUNT)]
        self.names = {tid: f"Song {(i * 7) % 100:02d}" for i, tid in enumerate(self.ids)}
        self.artists = {tid: f"Artist {i % 40}" for i, tid in enumerate(self.ids)}
        self.tempo = {tid: _tempo(i) for i, tid in enumerate(self.ids)}
        self.energy = {tid: _energy(i) for i, tid in enumerate(self.ids)}
        self.genres = {tid: _genres(i) for i, tid in enumerate(self.ids)}
        tracks = [
            Track(
                id=tid,
                uri=f"spotify:track:{tid}",
                name=self.names[tid],
                artists=[ArtistRef(id=f"a{i % 40}", name=self.artists[tid])],
                album=AlbumRef(id=f"al{i % 90}", name=f"Album {i % 90}", release_date="2001"),
                duration_ms=150_000 + i * 100,
                added_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
            for i, tid in enumerate(self.ids)
        ]
        stores.tracks.upsert(tracks)
        stores.sources.put(
            SourceRecord(
                key="liked",
                source_type=TrackSourceType.LIKED,
                total=COUNT - 100,
                entries=[SourceEntry(track_id=tid) for tid in self.ids[:-100]],
            )
        )
        stores.sources.put(
            SourceRecord(
                key="playlist:p1",
                source_type=TrackSourceType.PLAYLIST,
                source_id="p1",
                name="Mix",
                total=300,
                entries=[SourceEntry(track_id=tid) for tid in self.ids[-300:]],
            )
        )
        entries: dict[str, list[TrackEnrichment]] = {}
        for tid in self.ids:
            items = [
                TrackEnrichment(
                    source="lastfm", timestamp=LASTFM_AT, categories={"genres": self.genres[tid]}
                )
            ]
            if self.tempo[tid] is not None:
                items.append(
                    TrackEnrichment(
                        source="deezer", timestamp=DEEZER_AT, categories={"tempo": self.tempo[tid]}
                    )
                )
            if self.energy[tid] is not None:
                items.append(
                    TrackEnrichment(
                        source="reccobeats",
                        timestamp=RECCO_AT,
                        categories={"energy": self.energy[tid]},
                    )
                )
            entries[tid] = items
        entries[self.ids[1]].append(
            TrackEnrichment(source="musicbrainz", timestamp=MB_AT, categories={"genres": ["funk"]})
        )
        self.genres[self.ids[1]] = ["funk", "jazz", "soul"]
        stores.enrichments.save_enrichments_cache(entries)
        self.queries = LibraryQueries(stores, LibraryCache(stores, PROVIDERS.precedence()))

    def page(self, **query: Any) -> Any:
        return query_library(self.queries, LibraryQuery.model_validate(query), now=NOW)

    def every_row(self, **query: Any) -> list[str]:
        """Every matching id, read page by page."""
        ids: list[str] = []
        while True:
            page = self.page(**query, offset=len(ids), limit=97)
            ids += [row.id for row in page.rows]
            if not page.rows:
                assert len(ids) == page.total
                return ids

    def preview_ids(self, text: str) -> list[str]:
        rule = parse_rules(text).apply_to({"id": "as-rule", "name": "As a rule"})
        preview = preview_library(
            self.stores, self.queries.library, rules=[rule], ids=["as-rule"], now=NOW
        )
        [playlist] = preview.playlists
        return list(playlist.track_ids)


@pytest.fixture
def lib(tmp_path: Path) -> Lib:
    return Lib(Stores.open(tmp_path / "cache"))


def _sorted(ids: list[str], *keys: tuple[dict[str, Any], bool]) -> list[str]:
    """`ids` sorted by each (values, descending) key, the first key first, missing values
    last in either direction, ties in the given order (stable)."""
    result = list(ids)
    for values, descending in reversed(keys):
        present = [tid for tid in result if values[tid] is not None]
        missing = [tid for tid in result if values[tid] is None]
        present.sort(key=values.__getitem__, reverse=descending)  # sort(reverse) is stable
        result = present + missing
    return result


def test_a_multi_column_sort_orders_the_whole_library_missing_values_last(lib: Lib) -> None:
    got = lib.every_row(sort=[{"field": "energy", "direction": "desc"}, {"field": "tempo"}])
    assert got == _sorted(lib.ids, (lib.energy, True), (lib.tempo, False))
    assert lib.every_row(sort=[{"field": "tempo", "direction": "desc"}]) == _sorted(
        lib.ids, (lib.tempo, True)
    )
    names = {tid: name.casefold() for tid, name in lib.names.items()}
    assert lib.every_row(sort=[{"field": "title"}, {"field": "energy"}]) == _sorted(
        lib.ids, (names, False), (lib.energy, False)
    )


def test_a_filter_selects_exactly_what_the_same_rule_set_previews(lib: Lib) -> None:
    filters = [
        "tempo > 100",
        'genres has any ["jazz", "funk"] and energy >= 0.5',
        "not (tempo between 80..120) or energy is missing",
        'name contains "song 1" from playlist "p1"',
        "liked = false",
    ]
    for text in filters:
        expected = lib.preview_ids(text)
        assert expected, text
        assert lib.every_row(filter=text) == expected, text  # library order, as the preview
        ids = library_ids(lib.queries, LibraryFilter(filter=text), now=NOW)
        assert ids.ids == expected and ids.total == len(expected), text
        sorted_ids = lib.every_row(filter=text, sort=[{"field": "energy"}])
        assert sorted_ids == _sorted(expected, (lib.energy, False)), text


def test_a_filter_may_refer_to_a_stored_rule_set(lib: Lib) -> None:
    lib.stores.rules.save([{"id": "fast", "name": "Fast", "rules": _group("tempo", "gt", 150)}])
    assert lib.every_row(filter='in rule "fast"') == [
        tid for tid in lib.ids if (lib.tempo[tid] or 0) > 150
    ]
    # What the filter matched is kept for the next pages, but not past a change of the rule
    # set it reads.
    lib.stores.rules.save([{"id": "fast", "name": "Fast", "rules": _group("tempo", "gt", 170)}])
    assert lib.every_row(filter='in rule "fast"') == [
        tid for tid in lib.ids if (lib.tempo[tid] or 0) > 170
    ]


def test_a_relative_date_is_measured_from_the_time_of_the_query(lib: Lib) -> None:
    text = "added_at in last 400d"  # every track was added on 2025-01-01
    early = LibraryQuery(filter=text, limit=1)
    assert query_library(lib.queries, early, now=datetime(2026, 1, 15, tzinfo=UTC)).total == COUNT
    assert query_library(lib.queries, early, now=datetime(2026, 3, 1, tzinfo=UTC)).total == 0


def _group(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"conditions": [{"field": field, "operator": operator, "value": value}]}


def test_a_page_has_the_columns_values_and_who_said_each_and_when(lib: Lib) -> None:
    page = lib.page(filter=f'id = "{lib.ids[1]}"', fields=["name", "artist", "tempo", "genres"])
    assert page.total == 1 and page.library_tracks == COUNT
    assert [(c.name, c.type, c.list, c.origin) for c in page.columns] == [
        ("name", "text", False, "track"),
        ("artists", "text", True, "track"),
        ("tempo", "number", False, "enrichment"),
        ("genres", "text", True, "enrichment"),
    ]
    [row] = page.rows
    tid = lib.ids[1]
    assert row.id == tid
    assert row.values == {
        "name": lib.names[tid],
        "artists": [lib.artists[tid]],
        "tempo": lib.tempo[tid],
        "genres": ["funk", "jazz", "soul"],  # MusicBrainz ranks before Last.fm
    }
    assert {
        name: [(s.provider, s.at) for s in sources] for name, sources in row.provenance.items()
    } == {
        "tempo": [("deezer", DEEZER_AT)],
        "genres": [("musicbrainz", MB_AT), ("lastfm", LASTFM_AT)],
    }


def test_missing_values_are_null_and_have_no_provenance(lib: Lib) -> None:
    tid = lib.ids[31]  # no tempo, no genres
    [row] = lib.page(filter=f'id = "{tid}"', fields=["tempo", "genres", "energy"]).rows
    assert row.values == {"tempo": None, "genres": None, "energy": lib.energy[tid]}
    assert set(row.provenance) == {"energy"}


def test_the_default_columns_are_the_track_and_the_enrichment_fields_the_library_has(
    lib: Lib,
) -> None:
    page = lib.page(limit=1)
    assert [c.name for c in page.columns] == [
        "name",
        "artists",
        "album",
        "duration",
        "added_at",
        "genres",
        "tempo",
        "energy",
    ]
    assert page.rows[0].values["added_at"] == "2025-01-01T00:00:00+00:00"


def test_offset_past_the_end_is_an_empty_page_with_the_total(lib: Lib) -> None:
    page = lib.page(filter="tempo > 100", offset=100_000)
    assert page.rows == [] and page.total == sum(1 for t in lib.tempo.values() if (t or 0) > 100)


def test_the_query_sees_the_library_change(lib: Lib) -> None:
    assert lib.page(sort=[{"field": "energy", "direction": "desc"}], limit=1).rows[0].id != "t0003"
    lib.stores.enrichments.save_enrichments_cache(
        {"t0003": [TrackEnrichment(source="manual", categories={"energy": 2.0})]}
    )
    [row] = lib.page(sort=[{"field": "energy", "direction": "desc"}], limit=1).rows
    assert row.id == "t0003" and row.values["energy"] == 2.0
    assert [s.provider for s in row.provenance["energy"]] == ["manual"]


def test_a_problem_in_the_filter_names_its_line_and_column(lib: Lib) -> None:
    with pytest.raises(RulesInvalidError) as raised:
        lib.page(filter="tempo > 100 and\ntempoo < 3")
    [problem] = raised.value.extra["problems"]
    assert (problem["line"], problem["column"]) == (2, 1)
    assert "did you mean 'tempo'" in problem["rendered"]
    assert problem["rendered"].endswith("tempoo < 3\n^^^^^^")
    with pytest.raises(RulesInvalidError) as raised:
        lib.page(filter="tempo >")
    assert raised.value.extra["problems"][0]["line"] == 1


def test_playlist_clauses_are_refused_in_a_filter_naming_the_line(lib: Lib) -> None:
    with pytest.raises(RulesInvalidError) as raised:
        lib.page(filter="tempo > 100\nsort by energy\nlimit 10")
    problems = raised.value.extra["problems"]
    assert [(p["line"], p["column"], p["length"]) for p in problems] == [(2, 1, 4), (3, 1, 5)]
    assert "query's `sort`" in problems[0]["hint"]


def test_a_rule_sets_settings_are_refused_in_a_filter_naming_each(lib: Lib) -> None:
    # `pin` would add tracks the filter never chose; the others mean nothing to a filter.
    with pytest.raises(RulesInvalidError) as raised:
        lib.page(filter='tempo > 100\n  pin "t1"\nmode merge')
    problems = raised.value.extra["problems"]
    assert [(p["line"], p["column"], p["length"]) for p in problems] == [(2, 3, 3), (3, 1, 4)]
    assert problems[0]["message"] == (
        "a filter takes conditions (and `from …`), not a rule set's settings"
    )
    # A field named like a clause is a field.
    assert lib.page(filter="mode is missing").total == lib.page().total


def test_an_unknown_field_is_refused_with_the_closest_name(lib: Lib) -> None:
    for query, where in (
        ({"sort": [{"field": "tempoo"}]}, "sort"),
        ({"fields": ["name", "enrgy"]}, "fields"),
    ):
        with pytest.raises(UnprocessableError) as raised:
            lib.page(**query)
        assert raised.value.code == "unknown_field"
        assert raised.value.detail.startswith(f"{where}: no field")
        assert "did you mean" in raised.value.detail


def test_bulk_selection_takes_every_match_in_the_sort_order(lib: Lib) -> None:
    request = LibraryFilter(filter="energy >= 0.8", sort=[SortSpec(field="tempo")])
    expected = _sorted(
        [tid for tid in lib.ids if (lib.energy[tid] or 0) >= 0.8], (lib.tempo, False)
    )
    assert matching_ids(lib.queries, request, now=NOW) == expected


def test_warming_reads_ahead_what_the_first_page_needs(lib: Lib) -> None:
    """The server warms its library queries at start: the first page after it reads no file
    (the cold Library screen paid ~1 s for the provider times and links)."""
    assert lib.queries.warm() is True
    _views, kept = lib.queries.current()
    assert kept.ready()
    [row] = lib.page(sort=[{"field": "energy", "direction": "desc"}], limit=1).rows
    assert row.provenance["energy"][0].provider in {"deezer", "reccobeats", "manual"}
    assert lib.queries.current()[1] is kept  # the page used what was read ahead


def test_warming_without_a_library_does_nothing(tmp_path: Path) -> None:
    stores = Stores.open(tmp_path / "empty")
    queries = LibraryQueries(stores, LibraryCache(stores, PROVIDERS.precedence()))
    assert queries.warm() is False
    assert not stores.tracks.path.exists()


def test_ids_of_a_range_of_rows_are_those_the_pages_show(lib: Lib) -> None:
    """A shift-click range over rows the browser has not loaded asks the server for the ids of
    rows `offset`…`offset + limit`, in the table's order; `total` still counts every match."""
    sort = [SortSpec(field="tempo", direction="desc"), SortSpec(field="name")]
    text = "energy >= 0.3"
    every = lib.every_row(filter=text, sort=[s.model_dump() for s in sort])
    ranged = library_ids(
        lib.queries, LibraryIdsRequest(filter=text, sort=sort, offset=250, limit=300), now=NOW
    )
    assert ranged.ids == every[250:550]
    assert ranged.total == len(every)
    tail = library_ids(lib.queries, LibraryIdsRequest(offset=1490, limit=50), now=NOW)
    assert tail.ids == lib.ids[1490:] and tail.total == COUNT
