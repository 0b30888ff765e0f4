"""v1 classification: the built-in classifier `mood_v1` and label corrections.

    summary = classify_library(stores, services.library)    # every library track, mood_v1
    correct_labels(stores, "mood_v1", track_id, {"mood": "calm"})

`mood_v1` reads a track's merged enrichment view (the same one the rules read) and gives three
labels, with a confidence:

- **mood**, from the first source that has something to say:
  1. a `mood` value (yours, or the LLM's): taken as is — confidence 1.0 if it is yours, else 0.8;
  2. AcousticBrainz mood probabilities: the strongest of `mood_happy` → happy, `mood_sad` →
     sad, `mood_relaxed` → calm, `mood_aggressive` → angry, `mood_party` → energetic, when it
     reaches 0.6 — confidence = that probability;
  3. audio features (`energy` and `valence`, ReccoBeats): energy ≥ 0.7 → happy if valence ≥ 0.5
     else energetic; energy < 0.4 → sad if valence < 0.4 else calm; otherwise happy if valence
     ≥ 0.6, melancholic if valence < 0.35, else neutral — confidence 0.6;
  4. nothing: no mood (the track is left out of mood playlists), confidence 0.
- **genre**: the first of the merged `genres`, if any.
- **year**: `first_release_year` (MusicBrainz) if known, else the album's year.

A label corrected by hand (`correct_labels`, `PATCH /data/classifications/{classifier}/{id}`) is
marked `manual` and kept by every later run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import Classification, TrackEnrichment, utc_now
from app.data import Stores
from app.pipeline.jobs.steps import StepContext
from app.pipeline.rules.library.cache import LibraryCache
from app.pipeline.rules.previews import BrokenRuleSet
from app.pipeline.rules.rule_sets import stored_rule_sets, upsert_rule_set
from app.pipeline.rules.service import preview_library
from app.pipeline.services import Services

MOOD_V1 = "mood_v1"
CLASSIFIERS = (MOOD_V1,)
LABELS = ("mood", "genre", "year")
_AB_MOODS = (
    ("mood_happy", "happy"),
    ("mood_sad", "sad"),
    ("mood_relaxed", "calm"),
    ("mood_aggressive", "angry"),
    ("mood_party", "energetic"),
)


class ClassifySummary(BaseModel):
    """What a classify run did (the ``classify`` job's payload)."""

    classifier: str
    tracks: int = Field(description="Library tracks classified.")
    manual_kept: int = Field(description="Tracks whose hand-corrected labels were kept.")
    moods: dict[str, int] = Field(
        description='Tracks per mood, most first ("None": no mood could be given).'
    )


class BuildTarget(BaseModel):
    """A rule set with a target playlist, and how many tracks it would hold."""

    rule_id: str
    name: str
    tracks: int


class BuildReport(BaseModel):
    """The v1 ``build`` job's payload: the target playlists `diff` plans next."""

    source: str = Field(description="rules or classifications.")
    targets: list[BuildTarget]
    broken: list[BrokenRuleSet] = Field(
        default_factory=list, description="Rule sets that could not be evaluated, and why."
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def mood_of(view: Mapping[str, Any], provenance: Mapping[str, str]) -> tuple[str | None, float]:
    """(mood, confidence) by the rules of the module docstring."""
    given = view.get("mood")
    if isinstance(given, str) and given.strip():
        return given.strip().lower(), 1.0 if provenance.get("mood") == "manual" else 0.8
    scored = [(_number(view.get(key)), mood) for key, mood in _AB_MOODS]
    best = max(((p, mood) for p, mood in scored if p is not None), default=None)
    if best is not None:
        probability, mood = best
        if probability >= 0.6:
            return mood, round(probability, 3)
    energy, valence = _number(view.get("energy")), _number(view.get("valence"))
    if energy is None or valence is None:
        return None, 0.0
    if energy >= 0.7:
        return ("happy" if valence >= 0.5 else "energetic"), 0.6
    if energy < 0.4:
        return ("sad" if valence < 0.4 else "calm"), 0.6
    if valence >= 0.6:
        return "happy", 0.6
    return ("melancholic" if valence < 0.35 else "neutral"), 0.6


def classify_view(view: Mapping[str, Any], provenance: Mapping[str, str]) -> Classification:
    """`mood_v1` labels of one track view."""
    mood, confidence = mood_of(view, provenance)
    genres = view.get("genres")
    genre = genres[0] if isinstance(genres, list) and genres else None
    year = view.get("first_release_year") or view.get("year")
    return Classification(
        track_id=str(view["id"]),
        classifier=MOOD_V1,
        labels={"mood": mood, "genre": genre, "year": year},
        confidence=confidence,
    )


def _check_classifier(classifier: str) -> None:
    if classifier not in CLASSIFIERS:
        raise NotFoundError(
            f"unknown classifier {classifier!r}; known: {', '.join(CLASSIFIERS)}",
            code="classifier_not_found",
        )


def classify_library(
    stores: Stores, library: LibraryCache, classifier: str = MOOD_V1
) -> ClassifySummary:
    """Classify every track of the loaded library (keeping hand-corrected labels); returns a
    summary."""
    _check_classifier(classifier)
    views = library.views()
    kept = 0
    moods: Counter[str] = Counter()
    with stores.classifications.update() as stored:
        labels = stored.setdefault(classifier, {})
        for view, provenance in zip(views.views, views.provenance, strict=True):
            current = labels.get(view["id"])
            if current is not None and current.manual:
                kept += 1
                result = current
            else:
                result = labels[view["id"]] = classify_view(view, provenance)
            moods[str(result.labels.get("mood"))] += 1
    _mirror_labels(stores, classifier)
    return ClassifySummary(
        classifier=classifier,
        tracks=len(views),
        manual_kept=kept,
        moods=dict(moods.most_common()),
    )


def _mirror_labels(stores: Stores, classifier: str) -> None:
    """Copy the labels into the enrichment store (source = the classifier, keys
    ``<classifier>.mood`` …), so rules and the field registry can use them."""
    labels = stores.classifications.load_classifications(classifier)
    stores.enrichments.save_enrichments_cache(
        {
            track_id: [
                TrackEnrichment(
                    source=classifier,
                    categories={
                        f"{classifier}.{key}": value
                        for key, value in item.labels.items()
                        if value is not None
                    },
                    confidence=item.confidence,
                )
            ]
            for track_id, item in labels.items()
        }
    )


def build_targets(
    services: Services, *, source: str = "rules", classifier: str = MOOD_V1
) -> BuildReport:
    """v1 `build`: the target playlists to sync.

    ``rules``: every enabled rule set with a target, with how many tracks it would hold.
    ``classifications``: one rule set per mood of the classifier (``mood-<mood>``, rule
    ``<classifier>.mood = "<mood>"``, target playlist "Mood: <mood>", replace mode), created
    or updated; `diff` then plans them like any rule set.
    """
    stores = services.stores
    if source == "classifications":
        _check_classifier(classifier)
        counts = Counter(
            str(item.labels.get("mood"))
            for item in stores.classifications.load_classifications(classifier).values()
            if item.labels.get("mood")
        )
        if not counts:
            raise UnprocessableError(
                f"no {classifier} moods yet: run classify first", code="nothing_to_build"
            )
        _mirror_labels(stores, classifier)
        for mood in counts:
            slug = "-".join(mood.lower().split())
            upsert_rule_set(
                stores,
                {
                    "id": f"mood-{slug}",
                    "name": f"Mood: {mood}",
                    "text": f'{classifier}.mood = "{mood}"',
                    "target_playlist_name": f"Mood: {mood}",
                    "sync_mode": "replace",
                },
            )
        ids = [f"mood-{'-'.join(mood.lower().split())}" for mood in counts]
    elif source == "rules":
        ids = [
            rs.id
            for rs in stored_rule_sets(stores)
            if rs.enabled and (rs.target_playlist_id or rs.target_playlist_name)
        ]
    else:
        raise UnprocessableError(
            f"unknown build source {source!r}; use rules or classifications", code="bad_source"
        )
    if not ids:
        return BuildReport(source=source, targets=[])
    preview = preview_library(stores, services.library, ids=ids)
    return BuildReport(
        source=source,
        targets=[
            BuildTarget(rule_id=p.rule_id, name=p.rule_name, tracks=p.track_count)
            for p in preview.playlists
        ],
        broken=preview.broken,
    )


def build_step(ctx: StepContext) -> BuildReport:
    """v1: the target playlists (metadata.source: rules or classifications)."""
    return build_targets(
        ctx.services,
        source=str(ctx.metadata.get("source") or "rules"),
        classifier=str(ctx.metadata.get("classifier") or MOOD_V1),
    )


def classifications(stores: Stores, classifier: str) -> dict[str, Classification]:
    _check_classifier(classifier)
    return stores.classifications.load_classifications(classifier)


def correct_labels(
    stores: Stores, classifier: str, track_id: str, labels: Mapping[str, Any]
) -> Classification:
    """Set labels of one track by hand (None removes one); they survive later runs."""
    _check_classifier(classifier)
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise UnprocessableError(
            f"unknown label(s) {', '.join(sorted(unknown))}; labels: {', '.join(LABELS)}",
            code="bad_label",
        )
    if not labels:
        raise UnprocessableError("no labels given", code="bad_label")
    if not stores.tracks.find({track_id}):
        raise NotFoundError(f"no track {track_id!r} in the library", code="track_not_found")
    with stores.classifications.update() as stored:
        by_track = stored.setdefault(classifier, {})
        current = by_track.get(track_id)
        merged = dict(current.labels) if current is not None else dict.fromkeys(LABELS)
        merged.update(labels)
        result = by_track[track_id] = Classification(
            track_id=track_id,
            classifier=classifier,
            labels=merged,
            confidence=1.0,
            manual=True,
            updated_at=utc_now(),
        )
    return result


def classify_step(ctx: StepContext) -> ClassifySummary:
    """v1: label every library track with a classifier (metadata.classifier, default mood_v1)."""
    classifier = str(ctx.metadata.get("classifier") or MOOD_V1)
    ctx.progress(0, None, f"classifying with {classifier}")
    summary = classify_library(ctx.services.stores, ctx.services.library, classifier)
    ctx.progress(summary.tracks, summary.tracks, f"{summary.tracks} tracks classified")
    return summary
