"""Starter rule sets built from the user's own library: their top genres and decade, fast
tracks, the recently added, liked songs in no playlist, a mood from the enrichments.

    starters = library_starters(services.stores, services.queries)
    starters.starters[0]
    # Starter(key="genre-jazz", title="Your jazz", why="your most common genre: 312 tracks",
    #         text='genres has any ["jazz"]', count=312, minutes=1240.5, needs=[])

Each starter is a rule set's text (its conditions and clauses), counted over the loaded library
as the editor counts it (`count_rule_set`). One whose data is missing (no track has a tempo yet)
is still offered, with `needs` naming the enrichment to run ("run enrichment for tempo
(deezer, reccobeats)"): nothing is invented from values the library does not hold.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.errors import AppError
from app.core.models import utc_now
from app.data import Stores
from app.pipeline.query.distributions import Distribution, library_distributions
from app.pipeline.query.state import LibraryQueries
from app.pipeline.rules.service import count_rule_set
from app.pipeline.rules.validation.coverage import RuleWarning

__all__ = ["Starter", "Starters", "library_starters"]

GENRES = 2
"""How many of the top genres become starters."""
FAST_TEMPO = 140
RECENT_DAYS = 30


class Starter(BaseModel):
    """A rule set to start from: its text, why it is offered, and what it holds today."""

    key: str = Field(description="Stable for one library (`genre-jazz`, `fast`…).")
    title: str = Field(description="A name for the rule set.")
    why: str = Field(description="What in the library suggested it.")
    text: str = Field(description="Its rules and clauses in the text syntax.")
    count: int = Field(description="Tracks its playlist would hold now.")
    minutes: float
    needs: list[str] = Field(
        description="Enrichment to run before it can match (`run enrichment for tempo "
        "(deezer)`); empty when the library has its data."
    )


class Starters(BaseModel):
    tracks: int = Field(description="Tracks in the library.")
    starters: list[Starter]


def _need(warning: RuleWarning) -> str:
    if warning.providers:
        return f"run enrichment for {warning.field} ({', '.join(warning.providers)})"
    return f"no provider gives {warning.field}: set it yourself in the Library"


def _top(distribution: Distribution | None, count: int) -> list[tuple[str, int]]:
    if distribution is None:
        return []
    return [(value.value, value.count) for value in distribution.top[:count]]


def _decade(distribution: Distribution | None) -> tuple[int, int] | None:
    """The decade holding the most tracks, and how many."""
    if distribution is None or not distribution.bins:
        return None
    decades: dict[int, int] = {}
    for item in distribution.bins:
        decade = int(item.low) // 10 * 10
        decades[decade] = decades.get(decade, 0) + item.count
    decade, tracks = max(decades.items(), key=lambda item: item[1])
    return (decade, tracks) if tracks else None


def library_starters(
    stores: Stores, queries: LibraryQueries, *, now: datetime | None = None
) -> Starters:
    """The starters of the loaded library (see the module docstring), each counted."""
    at = now or utc_now()
    views, kept = queries.current()
    wanted = [name for name in ("genres", "year", "mood") if kept.registry.resolve(name)]
    spread = library_distributions(queries, wanted, bins=40, top=GENRES) if wanted else None
    by_field = {item.field: item for item in spread.fields} if spread else {}

    offers: list[tuple[str, str, str, str]] = []  # key, title, why, text
    genres = _top(by_field.get("genres"), GENRES)
    for rank, (genre, tracks) in enumerate(genres):
        why = "your most common genre" if rank == 0 else "your next most common genre"
        offers.append(
            (
                f"genre-{genre}",
                f"Your {genre}",
                f"{why}: {tracks:,} tracks",
                f"genres has any [{json.dumps(genre, ensure_ascii=False)}]\nsort by added_at desc",
            )
        )
    if not genres:
        offers.append(
            (
                "genre",
                "Your top genre",
                "no track has a genre yet",
                'genres has any ["rock"]\nsort by added_at desc',
            )
        )
    decade = _decade(by_field.get("year"))
    if decade is not None:
        start, tracks = decade
        offers.append(
            (
                f"decade-{start}",
                f"The {start}s",
                f"the decade most of your tracks come from: {tracks:,} tracks",
                f"year >= {start} and year < {start + 10}\nsort by year, added_at",
            )
        )
    offers.append(
        (
            "fast",
            "Fast",
            f"tempo over {FAST_TEMPO} BPM, fastest first",
            f"tempo > {FAST_TEMPO}\nsort by tempo desc",
        )
    )
    offers.append(
        (
            "recent",
            f"Added in the last {RECENT_DAYS} days",
            "what you added lately, newest first",
            f"added_at in last {RECENT_DAYS}d\nsort by added_at desc",
        )
    )
    offers.append(
        (
            "liked-nowhere",
            "Liked but in no playlist",
            "liked songs you have not put in any playlist",
            "liked = true and playlists is missing\nsort by added_at desc",
        )
    )
    moods = _top(by_field.get("mood"), 1)
    if moods:
        mood, tracks = moods[0]
        offers.append(
            (
                f"mood-{mood}",
                f"{mood.capitalize()} mood",
                f"the mood the enrichments give most: {tracks:,} tracks",
                f"mood = {json.dumps(mood, ensure_ascii=False)}\nsort by energy desc",
            )
        )
    else:
        offers.append(
            (
                "calm",
                "Calm",
                "low energy, calmest first (no mood enriched yet)",
                "energy < 0.4\nsort by energy",
            )
        )

    playlists = kept.registry.resolve("playlists")
    extra: dict[str, list[str]] = {}
    if playlists is None or not playlists.coverage:
        # With no playlist fetched every liked song is "in no playlist": say what is missing.
        extra["liked-nowhere"] = ["fetch your playlists (Sources) to know which songs are in one"]

    starters: list[Starter] = []
    for key, title, why, text in offers:
        try:
            counted = count_rule_set(
                stores, views, {"id": "starter", "name": title, "text": text}, now=at
            )
        except AppError:  # a value the language cannot hold: not offered
            continue
        starters.append(
            Starter(
                key=key,
                title=title,
                why=why,
                text=text,
                count=counted.track_count,
                minutes=counted.minutes,
                needs=[_need(warning) for warning in counted.warnings] + extra.get(key, []),
            )
        )
    return Starters(tracks=len(views), starters=starters)
