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
