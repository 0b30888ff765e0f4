"""The library table's query over HTTP, as the web app meets it: a real `sap serve` process on the
100,000-track / 50-rule-set directory of `bench/_library.py`, and an httpx client in this one.

Paths, each `--repeat` times after one warm-up request (the library loaded, the sort built):

1. a sorted and filtered first page (`POST /data/library/query`, 100 rows, the default
   columns with provenance): what the table asks when it opens or the sort changes;
2. the same query's deep page (offset in the middle of the matches): scrolling;
3. the whole library sorted by two columns, first page;
4. a filter typed anew each time (its number changes, so no condition mask is reused):
   what the search box costs per keystroke;
5. every matching id (`POST /data/library/ids`): "select all that match".

Baselines, same run and same server: `GET /data/tracks` (the fetched tracks, a page of 100,
unsorted, no filter: the listing the library screen had before) and the rules editor's count of
the same filter as a rule set (`POST /pipeline/playlists/count`: the engine's evaluation of the
filter, without rows). Min/median/max and the machine's load are recorded in
docs/performance.md ("Library query").

    python bench/library_query.py [--repeat 10] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
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
from bench._report import record
from bench._server import sap_server

JSON = {"content-type": "application/json"}
FILTER = 'genres has any ["rock", "jazz", "pop", "indie rock"] and tempo > 100'
SORT = [{"field": "energy", "direction": "desc"}, {"field": "name"}]


def _timed(
    repeat: int, call: Callable[[int], httpx.Response], *, warm: bool = True
) -> tuple[list[float], int]:
    if warm:
        response = call(-1)  # warm-up: the library loaded, the sort order built
        assert response.status_code == 200, response.text[:500]
    timings = []
    size = 0
    for index in range(repeat):
        start = time.perf_counter()
        response = call(index)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:500]
        size = len(response.content)
    return timings, size


def _ms(timings: list[float]) -> str:
    return " / ".join(
        f"{value * 1000:.1f}" for value in (min(timings), statistics.median(timings), max(timings))
    )


def _kb(size: int) -> str:
    return f"{size / 1000:.0f} kB" if size < 1_000_000 else f"{size / 1e6:.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or bench_data_dir(100_000, 50)
    load_before = os.getloadavg()

    with sap_server(data_dir) as (_, client):

        def post(path: str, body: dict[str, Any]) -> httpx.Response:
            return client.post(path, content=orjson.dumps(body), headers=JSON)

        query = {"filter": FILTER, "sort": SORT, "limit": 100}
        first, first_size = _timed(args.repeat, lambda _i: post("/data/library/query", query))
        total = post("/data/library/query", query).json()["total"]
        deep_query = {**query, "offset": total // 2}
        deep, _ = _timed(args.repeat, lambda _i: post("/data/library/query", deep_query))
        whole = {"sort": [{"field": "tempo", "direction": "desc"}, {"field": "artists"}]}
        whole_page, _ = _timed(
            args.repeat, lambda _i: post("/data/library/query", {**whole, "limit": 100})
        )
        typed, _ = _timed(
            args.repeat,
            lambda i: post(
                "/data/library/query",
                {"filter": f"tempo > {90 + (i + 1) * 0.37:.2f} and energy < 0.8", "sort": SORT},
            ),
            warm=False,
        )
        ids, ids_size = _timed(
            args.repeat, lambda _i: post("/data/library/ids", {"filter": FILTER, "sort": SORT})
        )
        listing, listing_size = _timed(
            args.repeat, lambda _i: client.get("/data/tracks", params={"limit": 100})
        )
        as_rule = {"id": "bench-filter", "name": "Bench filter", "text": FILTER}
        counted, _ = _timed(args.repeat, lambda _i: post("/pipeline/playlists/count", as_rule))
    load_after = os.getloadavg()

    def ratio(ours: list[float], base: list[float]) -> str:
        """The baseline's median over ours: above 1, ours is faster."""
        return f"{statistics.median(base) / statistics.median(ours):.2f}x"

    lines = [
        f"Library: {data_dir.name} (100,000 tracks); the filter `{FILTER}` matches "
        f"{total:,} tracks; sort energy desc, name. {args.repeat} runs each after one warm-up "
        "request (none for the typed filter: each is new), through a real `sap serve` and an "
        "httpx client in another process. Load average (1, 5, 15 min) before "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 cores; other work ran "
        "alongside).",
        "",
        "| path | ms min / median / max | answer | baseline / ours (medians) |",
        "|---|---|---|---|",
        f"| **sorted, filtered page** (100 rows, default columns with provenance) | "
        f"{_ms(first)} | {_kb(first_size)} | listing {ratio(first, listing)}; "
        f"count {ratio(first, counted)} |",
        f"| its deep page (offset {total // 2:,}) | {_ms(deep)} | | "
        f"listing {ratio(deep, listing)}; count {ratio(deep, counted)} |",
        f"| whole library sorted by tempo desc, artists (first page) | {_ms(whole_page)} | | "
        f"listing {ratio(whole_page, listing)} |",
        f"| a new filter each time (no mask reused) | {_ms(typed)} | | "
        f"count {ratio(typed, counted)} |",
        f"| every matching id (`/data/library/ids`) | {_ms(ids)} | {_kb(ids_size)} | |",
        f"| baseline: `GET /data/tracks?limit=100` (unsorted, unfiltered) | {_ms(listing)} | "
        f"{_kb(listing_size)} | |",
        f"| baseline: the filter's count as a rule set (`/pipeline/playlists/count`) | "
        f"{_ms(counted)} | | |",
        "",
        "Target (issue 15): a page at 100,000 tracks answers in ≤ 50 ms warm.",
    ]
    body = "\n".join(lines)
    print(body)
    record("library-query", body)


if __name__ == "__main__":
    main()
