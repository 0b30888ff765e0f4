"""The one-item-per-line stores (tracks, enrichments): layout, streaming, edits, old layouts,
corruption."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from app.core.errors import StoreError
from app.core.fs import list_quarantined, write_json
from app.core.models import Track, TrackEnrichment
from app.data import Stores


def track(track_id: str, name: str = "Song") -> Track:
    return Track(id=track_id, uri=f"spotify:track:{track_id}", name=name)


def test_one_item_per_line_and_still_one_json_document(tmp_path: Path) -> None:
    stores = Stores.open(tmp_path)
    stores.tracks.upsert([track("a"), track("b", "Two\nlines")])
    lines = stores.tracks.path.read_bytes().splitlines()
    assert lines[0] == b'{"schema_version":1,"data":{'
    assert [orjson.loads(b"{" + line.rstrip(b",") + b"}") for line in lines[1:-1]] == [
        {"a": track("a").model_dump(mode="json")},
        {"b": track("b", "Two\nlines").model_dump(mode="json")},
    ]
    assert lines[-1] == b"}}"
    whole = orjson.loads(stores.tracks.path.read_bytes())
    assert set(whole["data"]) == {"a", "b"}
    assert stores.tracks.load_tracks()["b"].name == "Two\nlines"
    assert [key for key, _ in stores.tracks.iter_raw()] == ["a", "b"]


def test_edits_stream_and_keep_order(tmp_path: Path) -> None:
    stores = Stores.open(tmp_path)
    stores.tracks.upsert([track("a"), track("b"), track("c")])
    stores.tracks.upsert([track("b", "B2"), track("d")])
    assert [(k, v["name"]) for k, v in stores.tracks.iter_raw()] == [
        ("a", "Song"),
        ("b", "B2"),
        ("c", "Song"),
        ("d", "Song"),
    ]
    stores.enrichments.save_enrichments_cache(
        {"a": [TrackEnrichment(source="deezer", categories={"tempo": 90.0})]}
    )
    stores.enrichments.save_enrichments_cache(
        {
            "a": [TrackEnrichment(source="lastfm", categories={"tags": ["x"]})],
            "b": [TrackEnrichment(source="deezer", not_found=True)],
        }
    )
    stored = stores.enrichments.load()
    assert [e.source for e in stored["a"]] == ["deezer", "lastfm"]
    assert stored["b"][0].not_found and stored["b"][0].version == "1"
    # Defaults are not written: no confidence, not_found false, version "1"…
    raw = dict(stores.enrichments.iter_raw())
    assert set(raw["a"][0]) == {"source", "timestamp", "categories"}
    only = stores.enrichments.entries_for({"a"}, sources={"lastfm"})
    assert list(only) == ["a"] and [e.source for e in only["a"]] == ["lastfm"]


def test_a_file_in_the_old_layout_is_read_whole(tmp_path: Path) -> None:
    stores = Stores.open(tmp_path)
    write_json(
        stores.enrichments.path,
        {"schema_version": 1, "data": {"t": [{"source": "deezer", "categories": {"bpm": 1}}]}},
    )
    assert list(stores.enrichments.iter_raw()) == [
        ("t", [{"source": "deezer", "categories": {"bpm": 1}}])
    ]
    stores.enrichments.save_enrichments_cache({"u": [TrackEnrichment(source="llm")]})
    assert stores.enrichments.path.read_bytes().startswith(b'{"schema_version":1,"data":{\n')
    assert set(stores.enrichments.load()) == {"t", "u"}


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.replace(b'"categories"', b'"categories', 1),  # a broken line
        lambda data: data[: len(data) // 2],  # truncated
    ],
)
def test_a_damaged_file_is_moved_aside_never_overwritten(tmp_path: Path, damage: object) -> None:
    stores = Stores.open(tmp_path)
    stores.enrichments.save_enrichments_cache(
        {f"t{i}": [TrackEnrichment(source="deezer", categories={"tempo": i})] for i in range(20)}
    )
    path = stores.enrichments.path
    broken = damage(path.read_bytes())  # type: ignore[operator]
    path.write_bytes(broken)
    with pytest.raises(StoreError, match="moved aside"):
        list(stores.enrichments.iter_raw())
    assert not path.exists()
    quarantined = list_quarantined(tmp_path)
    assert len(quarantined) == 1
    assert Path(quarantined[0].path).read_bytes() == broken


def test_keys_are_read_without_the_values(tmp_path: Path) -> None:
    stores = Stores.open(tmp_path)
    assert stores.tracks.keys() == set()  # no file yet
    odd = 'quote " and back\\slash'
    stores.tracks.upsert([track("a"), track(odd), track("é"), track("b", 'with "quotes"')])
    assert stores.tracks.keys() == {"a", odd, "é", "b"}
    # Another layout is read whole.
    write_json(stores.tracks.path, {"schema_version": 1, "data": {"x": track("x")}})
    assert stores.tracks.keys() == {"x"}


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.replace(b'\n"b":', b'\n"b:', 1),  # a broken key
        lambda data: data[: len(data) // 2],  # truncated
    ],
)
def test_keys_of_a_damaged_file_are_none_and_it_is_moved_aside(
    tmp_path: Path, damage: object
) -> None:
    stores = Stores.open(tmp_path)
    stores.tracks.upsert([track(f"t{i}") for i in range(20)] + [track("b")])
    path = stores.tracks.path
    broken = damage(path.read_bytes())  # type: ignore[operator]
    path.write_bytes(broken)
    assert stores.tracks.keys() == set()
    assert not path.exists()
    [quarantined] = list_quarantined(tmp_path)
    assert Path(quarantined.path).read_bytes() == broken
