"""Rules over a 100,000-track library as a user meets them, then the engine in process.

First the user's path (`http_paths`): a real `sap serve` over the benchmark library of
`bench/_library.py` (100,000 tracks enriched by four providers, 50 rule sets), an httpx client
in this process. Three ways the library and the rule sets arrive, each a fresh server:

- built: no snapshot, the server builds the library itself (its warm-up), then previews;
- snapshot: the next start, the snapshot present;
- saved one by one: no rules.json, the 50 rule sets saved over HTTP (`POST /data/rules`), as
  a user does, then previews.

For each: the warm library-mode preview of the 50 rule sets (min/median/max of `--repeat`,
after the first), the server's peak RSS (VmHWM, after the previews) and, for the last, each
save. Baselines in the same run: an idle `sap serve` over an empty data directory (its
imports: the floor of the server's memory) and `GET /pipeline/health` on the same server (the
transport: the floor of any request).

Then, in process and labelled so:

The library is the emulator's (`generate_library`): its per-track truths (genres, tags, tempo,
energy, mood…) become enrichment entries of the providers that would give them (MusicBrainz
genres, Last.fm tags, ReccoBeats audio features, Deezer tempo/gain/rank, an LLM's mood and
language), liked songs and playlists become sources, and the views are built once.

Both sides evaluate the same 50 rule sets (text, numeric, list, regex, date and nested
conditions, `in_rule` references, sorts, limits, artist caps, dedupe) and must return the same
playlists. The baseline is the straightforward interpreter the seed was: walk the rule tree for
every track, casefolding, parsing dates and looking regexes up on every check. It shares our
post-rule stages (exclude, dedupe, limit, sort…), which are not what is measured here.

    python bench/rules.py [--tracks 100000] [--rule-sets 50] [--repeat 3] [--http-only]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.rules import PlaylistRuleSet, RuleOperator
from app.data import Stores
from app.pipeline.rules.engine.compile import registry_types
from app.pipeline.rules.engine.evaluate import dependency_order, evaluate_rule_sets
from app.pipeline.rules.engine.stages import run_pipeline
from app.pipeline.rules.library.views import Library, build_library
from app.pipeline.rules.operators import NEGATION, NEGATIVE
from app.pipeline.rules.service import preview_library
from app.providers.registry import PROVIDERS
from bench._library import NOW, bench_data_dir, emulated_library, rule_sets
from bench._memory import library_copy, peak_mb, savable, spread, timed
from bench._report import ROOT, best_of, record
from bench._server import sap_server, settled

Op = RuleOperator


# --- the baseline: a straightforward per-track interpreter ---------------------------------------


def _date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    parts = text.split("-")
    try:
        if len(text) <= 10 and all(p.isdigit() for p in parts):
            year, month, day = (int(parts[i]) if len(parts) > i else 1 for i in range(3))
            return datetime(year, month, day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _period(value: Any) -> tuple[datetime, datetime]:
    start = _date(value)
    assert start is not None
    text = str(value)
    if len(text) == 4:
        return start, start.replace(year=start.year + 1)
    if len(text) == 7:
        return start, (start + timedelta(days=32)).replace(day=1)
    return start, start + timedelta(days=1)


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_DATE_FIELDS = {"added_at", "release_date"}


def naive_condition(cond: dict[str, Any], view: dict[str, Any], members: dict[str, set]) -> bool:
    op = Op(cond["operator"])
    if op in NEGATIVE:
        return not naive_condition({**cond, "operator": NEGATION[op].value}, view, members)
    if op is Op.IN_RULE:
        return view["id"] in members[cond["value"]]
    value, literal = view.get(cond["field"]), cond["value"]
    items = value if isinstance(value, list) else [value]
    items = [item for item in items if item is not None and item != ""]
    if op is Op.EXISTS:
        return bool(items)
    if not items:
        return False
    if op is Op.HAS_ALL:
        folded = {str(item).casefold() for item in items}
        return all(str(x).casefold() in folded for x in literal)
    for item in items:
        if cond["field"] in _DATE_FIELDS:
            moment = _date(item)
            if moment is None:
                continue
            if op is Op.IN_LAST:
                days = {"90d": 90, "6mo": 180, "1y": 365, "2y": 730}[literal]
                hit = NOW - timedelta(days=days) <= moment <= NOW
            elif op is Op.AFTER:
                hit = moment >= _period(literal)[1]
            elif op is Op.BEFORE:
                hit = moment < _period(literal)[0]
            else:
                raise AssertionError(op)
        elif op in (Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN) or (
            op in (Op.EQ,) and _num(literal) is not None and not isinstance(literal, bool)
        ):
            number = _num(item)
            if number is None:
                continue
            if op is Op.BETWEEN:
                hit = literal[0] <= number <= literal[1]
            else:
                hit = {
                    Op.GT: number > literal if op is Op.GT else False,
                    Op.GTE: number >= literal if op is Op.GTE else False,
                    Op.LT: number < literal if op is Op.LT else False,
                    Op.LTE: number <= literal if op is Op.LTE else False,
                    Op.EQ: number == literal if op is Op.EQ else False,
                }[op]
        elif isinstance(literal, bool):
            hit = item is literal
        else:
            text = str(item).casefold()
            if op is Op.EQ:
                hit = text == str(literal).casefold()
            elif op in (Op.IN, Op.HAS_ANY):
                hit = text in [str(x).casefold() for x in literal]
            elif op is Op.CONTAINS:
                hit = str(literal).casefold() in text
            elif op is Op.STARTS_WITH:
                hit = text.startswith(str(literal).casefold())
            elif op is Op.REGEX:
                hit = re.search(literal, str(item), re.IGNORECASE) is not None
            else:
                raise AssertionError(op)
        if hit:
            return True
    return False


def naive_group(group: dict[str, Any], view: dict[str, Any], members: dict[str, set]) -> bool:
    results = (
        naive_group(node, view, members)
        if "conditions" in node
        else naive_condition(node, view, members)
        for node in group["conditions"]
    )
    outcome = all(results) if group.get("operator", "and") == "and" else any(results)
    return not outcome if group.get("negate") else outcome


def naive_evaluate(sets: list[dict[str, Any]], library: Library) -> dict[str, list[str]]:
    models = dependency_order([PlaylistRuleSet.model_validate(s) for s in sets])
    raw = {s["id"]: s for s in sets}
    type_of = registry_types(None, library)
    members: dict[str, set[str]] = {}
    out: dict[str, list[str]] = {}
    for model in models:
        spec = raw[model.id]
        wanted = spec.get("sources")
        positions = [
            p
            for p, view in enumerate(library.views)
            if (wanted is None or any(k in wanted for k in view["sources"]))
            and naive_group(spec["rules"], view, members)
        ]
        result = run_pipeline(model, positions, 0, library, type_of)
        members[model.id] = set(result.track_ids)
        out[model.id] = result.track_ids
    return out


# --- the user's path: HTTP against `sap serve` ---------------------------------------------

PREVIEW = "/pipeline/playlists/preview-from-rules"
ENGINE_PART = "In process (the engine alone"


def _recorded_engine_part() -> str:
    """The in-process part of the last full run, as recorded: kept by an `--http-only` run."""
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    block = text.split("<!-- bench:rules -->", 1)[-1].split("<!-- /bench:rules -->", 1)[0]
    start = block.find(ENGINE_PART)
    return block[start:].strip() if start >= 0 else ""


def http_paths(tracks: int, sets: int, repeat: int) -> str:
    """The HTTP section (see the module docstring), as markdown."""
    directory = library_copy(bench_data_dir(tracks, sets), "rules")
    stored = json.loads((directory / "rules.json").read_text())["data"]
    snapshot = directory / "library.snapshot"
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as empty, sap_server(Path(empty)) as (process, client):
        client.get("/pipeline/health").raise_for_status()
        idle = peak_mb(process.pid)
    rows = []
    saves: list[float] = []
    health: list[float] = []
    for scenario in ("built", "snapshot", "saved one by one"):
        if scenario == "built":
            snapshot.unlink(missing_ok=True)
        if scenario == "saved one by one":
            (directory / "rules.json").unlink()
        with sap_server(directory) as (process, client):
            if scenario == "saved one by one":
                for rule_set in stored:
                    start = time.perf_counter()
                    client.post("/data/rules", json=savable(rule_set)).raise_for_status()
                    saves.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.post(PREVIEW, json={}).raise_for_status()  # waits for the build if any
            first = time.perf_counter() - start
            settled(process)  # the server's own warm-up, not beside the warm previews
            previews = timed(repeat, lambda: client.post(PREVIEW, json={}))
            health = timed(repeat, lambda: client.get("/pipeline/health"))
            rows.append((scenario, first, previews, peak_mb(process.pid)))
    load_after = os.getloadavg()
    floor = sorted(health)[len(health) // 2]
    lines = [
        f"`sap serve` over {tracks:,} tracks (4 providers) and {sets} rule sets, an httpx "
        f"client in another process; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after (2 cores).",
        "",
        "| how the library and rule sets arrive | first preview | warm preview, 50 rule sets "
        f"(min / median / max of {repeat}) | ÷ `GET /pipeline/health` | server peak RSS | "
        "÷ idle server |",
        "|---|---|---|---|---|---|",
    ]
    for scenario, first, previews, peak in rows:
        median = sorted(previews)[len(previews) // 2]
        lines.append(
            f"| {scenario} | {first:.2f} s | {spread(previews)} | {median / floor:.0f}x | "
            f"{peak} MB | {peak / idle:.1f}x |"
        )
    lines += [
        "",
        f"Baselines, same run: an idle `sap serve` (empty data directory) peaks at {idle} MB; "
        f"`GET /pipeline/health` takes {spread(health, 'ms')}. Saving the {len(saves)} rule "
        f"sets one by one (`POST /data/rules`, each validated against the library's fields): "
        f"{spread(saves, 'ms')} (the first waits for the server's warm-up to load the "
        "library). Target (issue 14): peak ≤ 400 MB whichever way the rule sets arrive.",
    ]
    return "\n".join(lines)


# --- running -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--rule-sets", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not update the docs")
    parser.add_argument("--http-only", action="store_true", help="skip the in-process part")
    args = parser.parse_args()

    http = http_paths(args.tracks, args.rule_sets, max(args.repeat, 3))
    print(http)
    if args.http_only:
        if not args.no_record:
            record("rules", "\n\n".join(part for part in (http, _recorded_engine_part()) if part))
        return

    start = time.perf_counter()
    tracks, enrichments, sources = emulated_library(args.tracks)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    library = build_library(tracks, enrichments, sources, precedence=PROVIDERS.precedence())
    view_time = time.perf_counter() - start
    sets = rule_sets(library, args.rule_sets)
    conditions = sum(PlaylistRuleSet.model_validate(s).rules.condition_count() for s in sets)

    def fresh() -> Library:
        return Library(library.views, library.provenance, library.index)  # nothing derived

    cold_times = []
    for _ in range(args.repeat):
        cold_library = fresh()
        begin = time.perf_counter()
        ours = evaluate_rule_sets(sets, cold_library, now=NOW, strategy="columns")
        cold_times.append(time.perf_counter() - begin)
    cold = min(cold_times)

    def new_conditions() -> Library:
        """The loaded library with its field indexes but none of the condition masks kept
        from earlier runs: as for rule sets the user has just written."""
        cold_library.columns.pop("masks", None)
        return cold_library

    fresh_masks = best_of(args.repeat, lambda: evaluate_rule_sets(sets, new_conditions(), now=NOW))
    warm = best_of(args.repeat, lambda: evaluate_rule_sets(sets, cold_library, now=NOW))
    with tempfile.TemporaryDirectory() as tmp:  # what the endpoint runs: plus the partition
        stores = Stores.open(Path(tmp))
        preview = best_of(
            args.repeat,
            lambda: preview_library(stores, rules=sets, library=new_conditions(), now=NOW),
        )
        preview_again = best_of(
            args.repeat,
            lambda: preview_library(stores, rules=sets, library=cold_library, now=NOW),
        )
    views_time = best_of(1, lambda: evaluate_rule_sets(sets, fresh(), now=NOW, strategy="views"))
    per_view = evaluate_rule_sets(sets, fresh(), now=NOW, strategy="views")
    begin = time.perf_counter()
    naive = naive_evaluate(sets, fresh())
    baseline = time.perf_counter() - begin

    mismatched = [
        rule_id
        for rule_id in naive
        if naive[rule_id] != ours[rule_id].track_ids
        or per_view[rule_id].track_ids != ours[rule_id].track_ids
    ]
    if mismatched:
        raise SystemExit(f"results differ for {mismatched}")
    selected = sum(len(result.track_ids) for result in ours.values())
    matched = sum(result.matched for result in ours.values())
    body = "\n".join(
        [
            http,
            "",
            "In process (the engine alone, this process; `build_library` from models):",
            "",
            f"{len(library):,} tracks (emulated library, {generated:.1f} s to generate), "
            f"{len(sets)} rule sets with {conditions} conditions; {matched:,} rule matches, "
            f"{selected:,} tracks in the playlists. All three strategies return the same "
            "playlists.",
            "",
            "| step | time | vs baseline |",
            "|---|---|---|",
            f"| build the views once (merge enrichments, sources) | {view_time:.2f} s | |",
            f"| baseline: per-track interpreter (seed style) | {baseline:.2f} s | 1x |",
            f"| ours, per-view compiled closures | {views_time:.2f} s | "
            f"{baseline / views_time:.1f}x |",
            f"| ours, set-wise, first run (builds the field indexes) | {cold:.3f} s | "
            f"{baseline / cold:.0f}x |",
            f"| ours, set-wise, indexes reused, every condition new | {fresh_masks:.3f} s | "
            f"{baseline / fresh_masks:.0f}x |",
            f"| ours, set-wise, indexes and condition masks reused | {warm:.3f} s | "
            f"{baseline / warm:.0f}x |",
            f"| **library-mode preview** (`preview_library`: the rule sets plus the partition "
            f"view), indexes reused, every condition new | {preview:.3f} s | "
            f"{baseline / preview:.0f}x |",
            f"| library-mode preview again (masks reused) | {preview_again:.3f} s | "
            f"{baseline / preview_again:.0f}x |",
        ]
    )
    print(body)
    if not args.no_record:
        record("rules", body)


if __name__ == "__main__":
    main()
