"""Rules validation as the editor meets it, then validation and discovery in process.

The user's path first: a real `sap serve` over the benchmark library of `bench/_library.py`
(100,000 tracks enriched by four providers, 50 rule sets), warm; from an httpx client in this
process, `POST /data/rules/validate` and `POST /data/rules` (save) of one of its rule sets as
text (what the editor sends as you type), min/median/max of `--repeat` x 4 each. Target
(issue 14): ≤ 50 ms each; field discovery comes from the loaded library, never a re-read.
Baseline, same run: `GET /pipeline/health` on the same server (the transport); and, in
process, one pass of field discovery over the stores (what validating cost per call before
discovery was kept with the library).

Then in process, labelled so: `registry_from_library` over 100,000 enriched tracks (about
1 s); `validate_rule_set` on a 200-condition rule set (every operator family, regexes, lists,
dates, spans, nested groups) in at most 50 ms. Enrichments are the demo library's truth values
(`app.emulators.library.generate_library`) as the providers would report them, replicated with
new track ids up to the requested size.

    python bench/rules_validation.py [--tracks 100000] [--repeat 5] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.models import AlbumRef, ArtistRef, Track, TrackEnrichment
from app.core.rules import MAX_CONDITIONS, PlaylistRuleSet
from app.data import Stores
from app.emulators.library.account import generate_library
from app.emulators.library.model import TrackTruth
from app.pipeline.rules.fields.discovery import registry_from_library
from app.pipeline.rules.fields.registry import FieldRegistry
from app.pipeline.rules.rule_sets import field_registry
from app.pipeline.rules.text.printer import format_rules
from app.pipeline.rules.validation.validator import validate_rule_set
from bench._library import bench_data_dir
from bench._memory import library_copy, savable, spread, timed
from bench._report import best_of, record
from bench._server import sap_server

REGISTRY_TARGET_S = 1.0
VALIDATE_TARGET_S = 0.050


def truth_enrichments(truth: TrackTruth) -> list[TrackEnrichment]:
    """What the providers would store for one track (only those that cover it)."""
    entries = []
    if truth.in_reccobeats:
        features = {
            "energy": truth.energy,
            "danceability": truth.danceability,
            "valence": truth.valence,
            "acousticness": truth.acousticness,
            "instrumentalness": truth.instrumentalness,
            "speechiness": truth.speechiness,
            "liveness": truth.liveness,
            "loudness": truth.loudness,
            "tempo": truth.tempo,
            "key": truth.key,
            "mode": truth.mode,
        }
        entries.append(TrackEnrichment(source="reccobeats", categories=features))
    if truth.in_deezer:
        deezer = {"bpm": truth.tempo or 0, "gain": truth.gain, "rank": truth.rank}
        entries.append(TrackEnrichment(source="deezer", categories=deezer))
    if truth.in_lastfm:
        entries.append(TrackEnrichment(source="lastfm", categories={"tags": list(truth.tags)}))
    musicbrainz: dict[str, Any] = {"genres": list(truth.genres), "language": truth.language}
    if truth.recording_mbid is not None:
        musicbrainz["recording_mbid"] = truth.recording_mbid
        musicbrainz["first_release"] = str(truth.first_release_year)
    entries.append(TrackEnrichment(source="musicbrainz", categories=musicbrainz))
    entries.append(TrackEnrichment(source="classifier", categories={"mood": truth.mood}))
    return entries


def library(count: int) -> tuple[dict[str, Track], dict[str, list[TrackEnrichment]]]:
    demo = generate_library(seed=3, tracks=min(count, 5000), playlists=0)
    base = [truth_enrichments(track.truth) for track in demo.tracks.values()]
    tracks: dict[str, Track] = {}
    enrichments: dict[str, list[TrackEnrichment]] = {}
    for index in range(count):
        track_id = f"{index:022d}"
        tracks[track_id] = Track(
            id=track_id,
            uri=f"spotify:track:{track_id}",
            name=f"Song {index}",
            artists=[ArtistRef(name=f"Artist {index % 900}")],
            album=AlbumRef(name=f"Album {index // 10}", release_date=str(1960 + index % 60)),
            duration_ms=180_000,
        )
        enrichments[track_id] = base[index % len(base)]
    return tracks, enrichments


def maximal_rule_set() -> dict[str, Any]:
    """200 conditions over every operator family, in nested groups (depth 4)."""
    templates: list[dict[str, Any]] = [
        {"field": "energy", "operator": "between", "value": [0.2, 0.8]},
        {"field": "tempo", "operator": "gte", "value": 120},
        {"field": "tags", "operator": "has_any", "value": ["rock", "indie", "pop", "jazz"]},
        {"field": "genres", "operator": "contains", "value": "rock"},
        {"field": "name", "operator": "regex", "value": r"\b(live|remaster(ed)?)\b"},
        {"field": "added_at", "operator": "in_last", "value": "90d"},
        {"field": "release_date", "operator": "between", "value": ["1990", "1999-12-31"]},
        {"field": "artists", "operator": "not_in", "value": [f"Artist {i}" for i in range(50)]},
        {"field": "explicit", "operator": "eq", "value": False},
        {"field": "mood", "operator": "in", "value": ["happy", "calm"]},
    ]
    conditions = [dict(templates[i % len(templates)]) for i in range(MAX_CONDITIONS)]
    inner = {"operator": "or", "conditions": conditions[150:]}
    middle = {"operator": "and", "negate": True, "conditions": [*conditions[100:150], inner]}
    outer = {"operator": "or", "conditions": [*conditions[50:100], middle]}
    return {
        "id": "maximal",
        "name": "Maximal",
        "rules": {"operator": "and", "conditions": [*conditions[:50], outer]},
        "sort": [{"field": "energy", "order": "desc"}],
        "limit": {"value": 90, "unit": "minutes", "selected_by": [{"field": "added_at"}]},
    }


def http_paths(repeat: int) -> str:
    """Validate and save over HTTP against a warm `sap serve` (see the module docstring)."""
    directory = library_copy(bench_data_dir(100_000, 50), "validation")
    stored = json.loads((directory / "rules.json").read_text())["data"]
    rule_set = PlaylistRuleSet.model_validate(savable(stored[0]))
    text_body = {"id": "editing", "name": "Editing", "text": format_rules(rule_set)}
    load_before = os.getloadavg()
    with sap_server(directory) as (_, client):
        client.post("/data/rules/validate", json=text_body).raise_for_status()  # warm-up
        validate = timed(repeat, lambda: client.post("/data/rules/validate", json=text_body))
        save = timed(repeat, lambda: client.post("/data/rules", json=text_body))
        health = timed(repeat, lambda: client.get("/pipeline/health"))
    load_after = os.getloadavg()
    stores = Stores.open(directory)
    start = time.perf_counter()
    field_registry(stores)  # one pass over the stores: what each call did before
    reread = time.perf_counter() - start
    floor = statistics.median(health)
    return "\n".join(
        [
            f"Over HTTP to `sap serve` (100,000 tracks, 4 providers, 50 rule sets; warm), a "
            f"rule set as text, {repeat} calls each; load average {load_before[0]:.2f} before, "
            f"{load_after[0]:.2f} after (2 cores):",
            "",
            "| request | min / median / max | ÷ `GET /pipeline/health` | target |",
            "|---|---|---|---|",
            f"| `POST /data/rules/validate` | {spread(validate, 'ms')} | "
            f"{statistics.median(validate) / floor:.1f}x | ≤ 50 ms |",
            f"| `POST /data/rules` (save) | {spread(save, 'ms')} | "
            f"{statistics.median(save) / floor:.1f}x | ≤ 50 ms |",
            f"| baseline: `GET /pipeline/health` | {spread(health, 'ms')} | 1.0x | |",
            "",
            f"Baseline in process: field discovery by a pass over the stores (what every "
            f"validation or save cost before it came from the loaded library): "
            f"{reread * 1000:.0f} ms.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-record", action="store_true", help="do not update performance.md")
    args = parser.parse_args()

    http = http_paths(args.repeat * 4)
    print(http)
    tracks, enrichments = library(args.tracks)
    registry: FieldRegistry = registry_from_library(tracks, enrichments)
    discover = best_of(args.repeat, lambda: registry_from_library(tracks, enrichments))

    document = maximal_rule_set()
    assert validate_rule_set(document, registry) == [], validate_rule_set(document, registry)
    model = PlaylistRuleSet.model_validate(document)
    as_json = best_of(args.repeat * 4, lambda: validate_rule_set(document, registry))
    as_model = best_of(args.repeat * 4, lambda: validate_rule_set(model, registry))

    def verdict(seconds: float, target: float) -> str:
        return "meets" if seconds <= target else "MISSES"

    enrichment_count = sum(len(entries) for entries in enrichments.values())
    lines = [
        http,
        "",
        f"In process: best of {args.repeat} (validation: {args.repeat * 4}).",
        "",
        "| operation | time | target | |",
        "|---|---|---|---|",
        f"| `registry_from_library`, {args.tracks:,} tracks, {enrichment_count:,} enrichment "
        f"entries, {len(registry.fields)} fields | {discover * 1000:.0f} ms | "
        f"≤ {REGISTRY_TARGET_S * 1000:.0f} ms | {verdict(discover, REGISTRY_TARGET_S)} |",
        f"| `validate_rule_set`, {MAX_CONDITIONS} conditions, JSON input | {as_json * 1000:.1f} ms"
        f" | ≤ {VALIDATE_TARGET_S * 1000:.0f} ms | {verdict(as_json, VALIDATE_TARGET_S)} |",
        f"| `validate_rule_set`, {MAX_CONDITIONS} conditions, `PlaylistRuleSet` input | "
        f"{as_model * 1000:.1f} ms | ≤ {VALIDATE_TARGET_S * 1000:.0f} ms | "
        f"{verdict(as_model, VALIDATE_TARGET_S)} |",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        record("rules_validation", body)


if __name__ == "__main__":
    main()
