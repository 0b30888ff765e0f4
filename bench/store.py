"""Store speed: saving and loading a large library, our store vs a straightforward baseline.

Both sides do the same work in the same run: the atomic write protocol (temp file, fsync,
rename, directory fsync), the envelope, and pydantic validation of every track on load. The
baseline is the obvious implementation (the seed's): the standard `json` module, indented
output, the garbage collector left running. Ours: orjson, compact output for this
machine-written file, and the collector paused during bulk decode/encode (`paused_gc`).

    python bench/store.py [--tracks 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.fs import fsync_directory
from app.core.models import AlbumRef, ArtistRef, Track
from app.data.tracks import TrackStore
from bench._report import best_of, record, shared_data_dir


def tracks_from_dataset(count: int) -> list[Track]:
    """Real track metadata (TidyTuesday export), replicated with new ids up to `count`."""
    path = shared_data_dir() / "tidytuesday_spotify_songs.csv"
    rows: dict[str, dict[str, str]] = {}
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.setdefault(row["track_id"], row)
    else:  # no shared data (a user's clone): synthetic rows of similar shape
        rng = random.Random(7)
        for index in range(5000):
            rows[f"synthetic{index}"] = {
                "track_name": f"Song {index}",
                "track_artist": f"Artist {rng.randrange(900)}",
                "track_album_id": f"album{index // 10}",
                "track_album_name": f"Album {index // 10}",
                "track_album_release_date": f"{rng.randrange(1960, 2026)}-01-01",
                "duration_ms": str(rng.randrange(90_000, 420_000)),
            }
    base = list(rows.values())
    tracks = []
    for index in range(count):
        row = base[index % len(base)]
        track_id = f"{index:022d}"
        release = row["track_album_release_date"]
        precision = {4: "year", 7: "month"}.get(len(release), "day")
        tracks.append(
            Track(
                id=track_id,
                uri=f"spotify:track:{track_id}",
                name=row["track_name"],
                artists=[
                    ArtistRef(
                        id=f"artist{hash(row['track_artist']) & 0xFFFFFF:x}",
                        name=row["track_artist"],
                    )
                ],
                album=AlbumRef(
                    id=row["track_album_id"],
                    name=row["track_album_name"],
                    release_date=release,
                    release_date_precision=precision,
                ),
                duration_ms=int(float(row["duration_ms"] or 0)),
                isrc=f"USRC1{index:07d}",
            )
        )
    return tracks


def stdlib_write(path: Path, data: Any) -> None:
    """The same atomic write protocol as app.core.fs.write_json, with the json module."""
    payload = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temp).unlink()
        raise
    fsync_directory(path.parent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not update performance.md")
    args = parser.parse_args()

    tracks = tracks_from_dataset(args.tracks)
    library = {track.id: track for track in tracks}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        store = TrackStore(directory)
        baseline_path = directory / "baseline.json"
        adapter = TrackStore.adapter

        def ours_save() -> None:
            store.save(library)

        def ours_load() -> None:
            assert len(store.load()) == len(library)

        def base_save() -> None:
            data = adapter.dump_python(library, mode="json")
            stdlib_write(baseline_path, {"schema_version": 1, "data": data})

        def base_load() -> None:
            raw = json.loads(baseline_path.read_bytes())
            assert len(adapter.validate_python(raw["data"])) == len(library)

        ours_save()
        base_save()
        size_mb = store.path.stat().st_size / 1e6
        results = {
            "save": (best_of(args.repeat, ours_save), best_of(args.repeat, base_save)),
            "load": (best_of(args.repeat, ours_load), best_of(args.repeat, base_load)),
        }

    lines = [
        f"Tracks store with {args.tracks:,} tracks ({size_mb:.1f} MB on disk), best of "
        f"{args.repeat}; baseline = same protocol and validation with stdlib `json`, indented, "
        "GC running.",
        "",
        "| operation | ours | baseline | speed-up |",
        "|---|---|---|---|",
    ]
    for name, (ours, base) in results.items():
        lines.append(
            f"| {name} | {ours * 1000:.0f} ms | {base * 1000:.0f} ms | {base / ours:.2f}x |"
        )
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record("store", report)


if __name__ == "__main__":
    main()
