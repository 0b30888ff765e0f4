"""Sort keys against a plain reference: the engine sorts by library-wide ranks cached on the
library, which must give exactly the order of comparing the values themselves (stable, ties
kept in library order, missing values last in either direction), run after run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.pipeline.rules.engine.evaluate import evaluate_rule_sets
from app.pipeline.rules.library.views import Library

NOW = datetime(2025, 6, 1, tzinfo=UTC)
FIELDS = ("energy", "year", "mood", "added_at")

energy = st.one_of(st.none(), st.sampled_from([0.1, 0.5, 0.5, 0.9, 1]))
year = st.one_of(st.none(), st.integers(1990, 1994))
mood = st.one_of(st.none(), st.sampled_from(["sad", "Sad", "happy", "Calm", "calm "]))
added = st.one_of(st.none(), st.integers(1, 4).map(lambda d: datetime(2025, 1, d, tzinfo=UTC)))
rows = st.lists(st.tuples(energy, year, mood, added), min_size=1, max_size=30)
keys = st.lists(
    st.tuples(st.sampled_from(FIELDS), st.sampled_from(["asc", "desc"])), min_size=1, max_size=3
)


def reference(views: list[dict[str, Any]], sort: list[tuple[str, str]]) -> list[str]:
    """Successive stable sorts, last key first; present values compared as themselves (text
    casefolded), missing ones after them in library order."""
    order = list(views)
    for name, direction in reversed(sort):

        def value(view: dict[str, Any], name: str = name) -> Any:
            found = view.get(name)
            return found.casefold() if isinstance(found, str) else found

        present = [view for view in order if value(view) is not None]
        missing = [view for view in order if value(view) is None]
        order = sorted(present, key=value, reverse=direction == "desc") + missing
    return [view["id"] for view in order]


@settings(max_examples=150, deadline=None)
@given(rows, st.lists(keys, min_size=1, max_size=4))
def test_sorting_matches_comparing_the_values(
    table: list[tuple[Any, ...]], sorts: list[list[tuple[str, str]]]
) -> None:
    views = [
        {"id": f"t{i}", "sources": ["liked"]}
        | {name: value for name, value in zip(FIELDS, row, strict=True) if value is not None}
        for i, row in enumerate(table)
    ]
    library = Library.from_views(views)  # shared by every sort below: the ranks are cached
    # Every track, and the tracks a rule keeps (a subset, in library order).
    recent = {"conditions": [{"field": "year", "operator": "gte", "value": 1992}]}
    chosen = [view for view in views if view.get("year", 0) >= 1992]
    for sort in sorts:
        rule_set = {
            "id": "r",
            "name": "R",
            "sort": [{"field": name, "order": direction} for name, direction in sort],
        }
        for strategy in ("views", "columns"):
            result = evaluate_rule_sets([rule_set], library, now=NOW, strategy=strategy)["r"]
            assert result.track_ids == reference(views, sort)
            subset = evaluate_rule_sets(
                [rule_set | {"rules": recent}], library, now=NOW, strategy=strategy
            )["r"]
            assert subset.track_ids == reference(chosen, sort)


# --- the stages after the rules, against a plain walk -------------------------------------------

artist = st.one_of(st.none(), st.sampled_from(["Low", "low", "Can", "Nico"]))
isrc = st.one_of(st.none(), st.sampled_from(["AA1", "aa1", "BB2", "CC3"]))
minutes = st.integers(0, 5)
stage_rows = st.lists(st.tuples(energy, artist, isrc, minutes), min_size=1, max_size=30)


def reference_stages(views: list[dict[str, Any]], settings: dict[str, Any]) -> dict[str, Any]:
    """Exclude, dedupe by ISRC (casefolded, the first met kept), a limit chosen by energy
    descending (tracks or minutes), at most `cap` per first artist (casefolded) in that
    order, then library order: a plain walk, one track at a time."""
    excluded = set(settings["exclude"])
    kept = [view for view in views if view["id"] not in excluded]
    seen: set[str] = set()
    deduped = []
    for view in kept:
        marker = view.get("isrc", "").casefold() or None
        if marker is not None and marker in seen:
            continue
        if marker is not None:
            seen.add(marker)
        deduped.append(view)
    chosen = reference(deduped, [("energy", "desc")])
    by_id = {view["id"]: view for view in deduped}
    limit = settings["limit"]
    if limit["unit"] == "tracks":
        chosen = chosen[: limit["value"]]
    else:
        total, within = 0.0, []
        for track_id in chosen:
            length = by_id[track_id].get("duration_ms", 0) / 1000
            if total + length > limit["value"] * 60:
                break
            total += length
            within.append(track_id)
        chosen = within
    per_artist: dict[str, int] = {}
    capped = []
    for track_id in chosen:
        name = (by_id[track_id].get("artists") or [None])[0]
        if name is not None:
            per_artist[name.casefold()] = per_artist.get(name.casefold(), 0) + 1
            if per_artist[name.casefold()] > settings["max_per_artist"]:
                continue
        capped.append(track_id)
    order = [view["id"] for view in views]
    track_ids = sorted(capped, key=order.index)
    seconds = sum(by_id[t].get("duration_ms", 0) / 1000 for t in track_ids)
    return {"track_ids": track_ids, "duration_ms": int(seconds * 1000)}


@settings(max_examples=150, deadline=None)
@given(
    stage_rows,
    st.sets(st.integers(0, 29), max_size=4),
    st.sampled_from(["tracks", "minutes"]),
    st.integers(1, 12),
    st.integers(1, 3),
)
def test_the_stages_after_the_rules_match_a_plain_walk(
    table: list[tuple[Any, ...]], banned: set[int], unit: str, value: int, cap: int
) -> None:
    views = []
    for i, (level, name, code, length) in enumerate(table):
        view: dict[str, Any] = {"id": f"t{i}", "duration_ms": 60_000 * length}
        if level is not None:
            view["energy"] = level
        if name is not None:
            view["artists"] = [name]
        if code is not None:
            view["isrc"] = code
        views.append(view)
    settings = {
        "exclude": [f"t{i}" for i in sorted(banned)],
        "dedupe": "isrc",
        "limit": {
            "value": value,
            "unit": unit,
            "selected_by": [{"field": "energy", "order": "desc"}],
        },
        "max_per_artist": cap,
    }
    library = Library.from_views(views)
    expected = reference_stages(views, settings)
    for strategy in ("views", "columns"):
        result = evaluate_rule_sets(
            [{"id": "r", "name": "R", **settings}], library, now=NOW, strategy=strategy
        )["r"]
        assert result.track_ids == expected["track_ids"], strategy
        assert result.duration_ms == expected["duration_ms"], strategy
        assert set(result.dropped) == {v["id"] for v in views} - set(result.track_ids)
