"""Previews over HTTP, as the web UI and scripts meet them: a real `sap serve` process and an
httpx client in this one.

1. Library mode, warm: every enabled rule set (50) over the 100,000-track library of
   `bench/_library.py`. Baseline, same run: the same request with `detail` on (the answer the
   endpoint gave before issue 14: per-track `dropped` maps and `partition.track_rules`).
2. One rule set's count (`POST /pipeline/playlists/count`, what the rules editor asks while
   typing), warm. Baseline, same run: the preview of that one stored rule set (`rule_ids`),
   with `detail`, the way to get its count before.
3. The rules list's counts (`POST /pipeline/playlists/counts`, every stored rule set's
   count, minutes and broken ones, no track ids), warm. Baseline, same run: what the list
   asked before, the library-mode preview of all those rule sets (`rule_ids`, no `detail`).
4. Payload mode (the seed's: the caller sends tracks with their enrichment): the TidyTuesday
   export's ~28,000 distinct real tracks x 20 rule sets. Baseline, same run: decoding the same
   body with orjson in this process (the floor of any JSON API taking it), and a POST of the
   same body to `/data/rules/evaluate`, which reads it and refuses it at once (the transport).

Each path runs `--repeat` times after one warm-up request (the first also waits for the
server to be idle: its own warm-up after start would otherwise run beside the measured
requests); min/median/max and the answer size are printed and recorded in
docs/performance.md with the machine's load.

    python bench/previews_http.py [--repeat 5] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._library import bench_data_dir
from bench._report import record, shared_data_dir
from bench._server import sap_server, settled

ROOT = Path(__file__).resolve().parents[1]
JSON = {"content-type": "application/json"}


def _timed(
    repeat: int, call: Callable[[], httpx.Response], settle: Callable[[], object] = lambda: None
) -> tuple[list[float], int]:
    response = call()  # warm-up: the library loaded, the field indexes built
    assert response.status_code == 200, response.text[:500]
    settle()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = call()
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:500]
    return timings, len(response.content)


def _stats(timings: list[float]) -> tuple[float, float, float]:
    return min(timings), statistics.median(timings), max(timings)


def _ms(timings: list[float]) -> str:
    low, mid, high = _stats(timings)
    return f"{low * 1000:.0f} / {mid * 1000:.0f} / {high * 1000:.0f}"


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def _kb(size: int) -> str:
    return f"{size / 1e3:.1f} kB"


# --- payload mode: real tracks ---------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def real_tracks() -> list[dict[str, Any]]:
    """The TidyTuesday Spotify export's distinct tracks as `[{track_id, enrichment}]`."""
    path = shared_data_dir() / "tidytuesday_spotify_songs.csv"
    if not path.exists():
        raise SystemExit(f"{path} is absent: the payload benchmark needs the real tracks")
    tracks: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["track_id"] in tracks:
                continue
            enrichment: dict[str, Any] = {
                "name": row["track_name"],
                "artist": row["track_artist"],
                "album": row["track_album_name"],
                "genre": row["playlist_genre"],
                "subgenre": row["playlist_subgenre"],
                "year": int(row["track_album_release_date"][:4] or 0),
            }
            for key in (
                "track_popularity",
                "danceability",
                "energy",
                "loudness",
                "speechiness",
                "acousticness",
                "instrumentalness",
                "liveness",
                "valence",
                "tempo",
                "duration_ms",
            ):
                enrichment[key.removeprefix("track_")] = _number(row[key])
            tracks[row["track_id"]] = {"track_id": row["track_id"], "enrichment": enrichment}
    return list(tracks.values())


def _condition(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def payload_rule_sets() -> list[dict[str, Any]]:
    """20 rule sets over the export's fields: numbers, text, lists of choices, nested groups,
    sorts and limits."""
    genres = ["pop", "rap", "rock", "latin", "r&b", "edm"]
    rule_sets: list[dict[str, Any]] = []
    for index in range(20):
        genre = genres[index % len(genres)]
        conditions: list[dict[str, Any]] = [_condition("genre", "eq", genre)]
        if index % 4 == 0:
            conditions.append(_condition("energy", "gte", 0.5 + (index % 5) / 20))
        if index % 4 == 1:
            conditions.append(_condition("tempo", "between", [90 + index, 130 + index]))
        if index % 4 == 2:
            conditions.append(
                {
                    "operator": "or",
                    "conditions": [
                        _condition("danceability", "gt", 0.7),
                        _condition("valence", "lt", 0.3),
                    ],
                }
            )
        if index % 4 == 3:
            conditions.append(_condition("name", "contains", "love"))
        if index % 3 == 0:
            conditions.append(_condition("year", "gte", 2000 + index))
        rule_set: dict[str, Any] = {
            "id": f"p{index}",
            "name": f"Payload {index}",
            "rules": {"operator": "and", "conditions": conditions},
        }
        if index % 2:
            rule_set["sort"] = [{"field": "popularity", "order": "desc"}]
            rule_set["limit"] = {"value": 100, "unit": "tracks"}
        rule_sets.append(rule_set)
    return rule_sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or bench_data_dir(100_000, 50)
    load_before = os.getloadavg()

    tracks = real_tracks()
    payload = orjson.dumps({"rules": payload_rule_sets(), "tracks": tracks})
    with sap_server(data_dir) as (server, client):

        def preview(body: dict[str, Any]) -> Callable[[], httpx.Response]:
            content = orjson.dumps(body)
            return lambda: client.post(
                "/pipeline/playlists/preview-from-rules", content=content, headers=JSON
            )

        # The first: the server's own warm-up (rule sets run once, the library table's reads
        # ahead) is waited for, so that it takes no CPU from the warm requests measured.
        lean, lean_size = _timed(args.repeat, preview({}), lambda: settled(server))
        detailed, detailed_size = _timed(args.repeat, preview({"detail": True}))
        stored = client.get("/data/rules").json()
        one = {k: v for k, v in stored[0].items() if k != "text"}
        counted, count_size = _timed(
            args.repeat,
            lambda: client.post(
                "/pipeline/playlists/count", content=orjson.dumps(one), headers=JSON
            ),
        )
        one_preview, _ = _timed(args.repeat, preview({"rule_ids": [one["id"]], "detail": True}))
        every_id = {"rule_ids": [rule_set["id"] for rule_set in stored]}
        listed, listed_size = _timed(
            args.repeat,
            lambda: client.post(
                "/pipeline/playlists/counts", content=orjson.dumps(every_id), headers=JSON
            ),
        )
        listed_preview, listed_preview_size = _timed(args.repeat, preview(every_id))

        payload_timings, payload_size = _timed(
            args.repeat,
            lambda: client.post(
                "/pipeline/playlists/preview-from-rules", content=payload, headers=JSON
            ),
        )
        decode = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            orjson.loads(payload)
            decode.append(time.perf_counter() - start)
        transport = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            refused = client.post("/data/rules/evaluate", content=payload, headers=JSON)
            transport.append(time.perf_counter() - start)
            assert refused.status_code == 422, refused.text[:300]
    load_after = os.getloadavg()

    def ratio(ours: list[float], base: list[float]) -> str:
        return f"{statistics.median(base) / statistics.median(ours):.1f}x"

    lines = [
        f"Library: {data_dir.name} (100,000 tracks, 50 rule sets); payload: {len(tracks):,} "
        f"real tracks (TidyTuesday Spotify export) x 20 rule sets, a "
        f"{_mb(len(payload))} body. {args.repeat} runs each after one warm-up request, "
        f"through a real `sap serve` and an httpx client in another process. Load average "
        f"(1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
        f"{load_after[2]:.2f} (2 cores; other work ran alongside).",
        "",
        "| path | ms min / median / max | answer | baseline (same run) | baseline ms "
        "min / median / max | baseline answer | baseline / ours |",
        "|---|---|---|---|---|---|---|",
        f"| warm preview, 50 rule sets, library mode | {_ms(lean)} | {_mb(lean_size)} | "
        f"same with `detail` (the old answer) | {_ms(detailed)} | {_mb(detailed_size)} | "
        f"{ratio(lean, detailed)} |",
        f"| one rule set's count (`/pipeline/playlists/count`) | {_ms(counted)} | "
        f"{count_size} B | its preview with `detail` (`rule_ids`) | {_ms(one_preview)} | - | "
        f"{ratio(counted, one_preview)} |",
        f"| the rules list's counts, {len(stored)} rule sets (`/pipeline/playlists/counts`) | "
        f"{_ms(listed)} | {_kb(listed_size)} | the preview of the same ids (`rule_ids`, what "
        f"the list asked before) | {_ms(listed_preview)} | {_mb(listed_preview_size)} | "
        f"{ratio(listed, listed_preview)} |",
        f"| payload preview, {len(tracks):,} tracks x 20 | {_ms(payload_timings)} | "
        f"{_mb(payload_size)} | orjson decode of the body, in process | {_ms(decode)} | - | "
        f"{ratio(payload_timings, decode)} |",
        f"| | | | POST of the body to `/data/rules/evaluate` (refused: the transport) | "
        f"{_ms(transport)} | - | {ratio(payload_timings, transport)} |",
        "",
        "Targets (issue 14): the preview ≤ 400 ms with an answer ≤ 3 MB; the count ≤ 20 ms; "
        "the payload preview ≤ 600 ms.",
    ]
    body = "\n".join(lines)
    print(body)
    record("previews-http", body)


if __name__ == "__main__":
    main()
