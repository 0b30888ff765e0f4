"""Manual values: edits, tag removal across providers, refusals, and winning over providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import TrackEnrichment
from app.pipeline.enrichment.manual import ManualEdit, apply_manual, edited_categories
from app.pipeline.enrichment.service import enrichment_detail
from tests.helpers.provider_env import ProviderEnv


def test_edits_compose_set_unset_and_tags() -> None:
    first = edited_categories(
        {}, ManualEdit(set={"mood": "happy", "bpm": 120}, add_tags=["Summer"])
    )
    assert first == {"mood": "happy", "bpm": 120, "tags": ["Summer"]}
    second = edited_categories(first, ManualEdit(unset=["bpm"], add_tags=["summer", "road"]))
    assert second == {"mood": "happy", "tags": ["Summer", "road"]}  # case-insensitive dedupe
    third = edited_categories(second, ManualEdit(remove_tags=["SUMMER", "live"]))
    assert third == {"mood": "happy", "tags": ["road"], "tags_removed": ["SUMMER", "live"]}
    fourth = edited_categories(third, ManualEdit(add_tags=["live"]))
    assert fourth == {"mood": "happy", "tags": ["road", "live"], "tags_removed": ["SUMMER"]}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"set": {"name": "x"}}, "built-in track field"),
        ({"set": {"year": 1999}}, "built-in track field"),
        ({"set": {"tags": ["x"]}}, "add_tags / remove_tags"),
        ({"set": {"bad key": 1}}, "is not a field name"),
        ({"set": {"mood": {"nested": 1}}}, "set.mood"),
        ({}, "nothing to change"),
        ({"set": {"mood": "x"}, "unset": ["mood"]}, "both set and unset"),
        ({"add_tags": ["   "]}, "must be 1.."),
    ],
)
def test_bad_edits_are_refused_with_the_reason(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        ManualEdit.model_validate(payload)
    assert message in str(info.value)


def test_manual_values_win_and_removed_tags_hide_provider_tags(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=5)
    track_id = env.library.liked[0].track_id
    env.stores.enrichments.save_enrichments_cache(
        {
            track_id: [
                TrackEnrichment(source="reccobeats", categories={"energy": 0.3, "tempo": 100.0}),
                TrackEnrichment(source="lastfm", categories={"tags": ["seen live", "indie"]}),
                TrackEnrichment(source="llm", categories={"mood": "sad", "energy": 0.4}),
            ]
        }
    )
    apply_manual(
        env.stores,
        [track_id],
        ManualEdit(set={"energy": 0.9}, add_tags=["mine"], remove_tags=["Seen Live"]),
    )
    detail = enrichment_detail(env.stores, track_id, env.services.library.precedence)
    assert detail.view["energy"] == 0.9 and detail.provenance["energy"] == "manual"
    assert detail.view["mood"] == "sad" and detail.provenance["mood"] == "llm"
    assert detail.view["tempo"] == 100.0
    assert detail.view["tags"] == ["mine", "indie"]
    assert "tags_removed" not in detail.view
    # Unsetting gives the providers' value back; removing the last manual value drops the entry.
    apply_manual(env.stores, [track_id], ManualEdit(unset=["energy"], add_tags=["seen live"]))
    apply_manual(env.stores, [track_id], ManualEdit(remove_tags=["mine"]))
    detail = enrichment_detail(env.stores, track_id, env.services.library.precedence)
    assert detail.view["energy"] == 0.4 and detail.provenance["energy"] == "llm"
    manual = next(e for e in detail.entries if e.source == "manual")
    assert manual.categories == {"tags": ["seen live"], "tags_removed": ["mine"]}
    apply_manual(env.stores, [track_id], ManualEdit(remove_tags=["seen live"], add_tags=["mine"]))
    apply_manual(env.stores, [track_id], ManualEdit(remove_tags=["mine"]))
    sources = [e.source for e in env.stores.enrichments.load()[track_id]]
    assert "manual" in sources  # still hides "seen live" and "mine"
    assert enrichment_detail(env.stores, track_id, env.services.library.precedence).view[
        "tags"
    ] == ["indie"]


def test_manual_wins_whatever_precedence_is_configured(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=3, enrichment_precedence=["deezer", "llm", "manual"])
    track_id = env.library.liked[0].track_id
    env.stores.enrichments.save_enrichments_cache(
        {
            track_id: [
                TrackEnrichment(source="llm", categories={"tempo": 90.0}),
                TrackEnrichment(source="deezer", categories={"tempo": 120.0}),
            ]
        }
    )
    assert (
        enrichment_detail(env.stores, track_id, env.services.library.precedence).provenance["tempo"]
        == "deezer"
    )
    apply_manual(env.stores, [track_id], ManualEdit(set={"tempo": 60}))
    assert (
        enrichment_detail(env.stores, track_id, env.services.library.precedence).view["tempo"] == 60
    )


def test_unknown_tracks_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=3)
    known = env.library.liked[0].track_id
    with pytest.raises(NotFoundError, match="1 track id"):
        apply_manual(env.stores, [known, "0" * 22], ManualEdit(set={"mood": "x"}))
    assert env.stores.enrichments.load() == {}


# --- values checked against the field's type; removing nothing says so ----------------------

# (field, its type as the library or a provider declares it, a value it takes, one it refuses)
TYPED: list[tuple[str, Any, Any, str]] = [
    ("energy", 0.8, "abc", "'energy' takes a number (got 'abc')"),
    ("energy", 1, True, "'energy' takes a number (got true)"),
    ("energy", 0.5, "0.5", "'energy' takes a number (got '0.5')"),
    ("energy", 0.5, [0.5], "'energy' takes a number, not a list (got [0.5])"),
    ("tonal", True, "yes", "'tonal' takes true/false (got 'yes')"),
    ("mood", "calm", 1990, "'mood' takes text (got 1990)"),
    ("genres", ["rock", "pop"], [1], "'genres' takes text or a list of text (got [1])"),
    ("genres", "rock", 2, "'genres' takes text or a list of text (got 2)"),
    ("seen", "2024-05-17", "soon", "'seen' takes a date (got 'soon')"),
]


@pytest.fixture
def typed_env(tmp_path: Path) -> ProviderEnv:
    """Energy from ReccoBeats on one track; `seen`, a date key of the user's, on another;
    `tonal`, `mood` and `genres` only declared (by AcousticBrainz, the LLM, Deezer…)."""
    env = ProviderEnv.create(tmp_path, tracks=4)
    first, second = (s.track_id for s in env.library.liked[:2])
    env.stores.enrichments.save_enrichments_cache(
        {
            first: [TrackEnrichment(source="reccobeats", categories={"energy": 0.3})],
            second: [TrackEnrichment(source="manual", categories={"seen": "2023-01-01"})],
        }
    )
    return env


@pytest.mark.parametrize(("field", "good", "bad", "message"), TYPED)
def test_a_value_is_checked_against_its_fields_type(
    typed_env: ProviderEnv, field: str, good: Any, bad: Any, message: str
) -> None:
    env = typed_env
    track_id = env.library.liked[2].track_id
    before = env.stores.enrichments.load()
    with pytest.raises(UnprocessableError) as refused:
        apply_manual(env.stores, [track_id], ManualEdit(set={field: bad, "fine": 1}))
    assert refused.value.detail == message
    assert refused.value.code == "manual_value_invalid"
    assert env.stores.enrichments.load() == before  # nothing written
    [entry] = apply_manual(env.stores, [track_id], ManualEdit(set={field: good})).values()
    assert entry is not None and entry.categories == {field: good}


def test_every_wrong_value_is_named_at_once_and_a_new_key_is_free(typed_env: ProviderEnv) -> None:
    env = typed_env
    track_id = env.library.liked[2].track_id
    with pytest.raises(UnprocessableError) as refused:
        apply_manual(env.stores, [track_id], ManualEdit(set={"energy": "x", "tonal": 1}))
    assert refused.value.detail == (
        "'energy' takes a number (got 'x'); 'tonal' takes true/false (got 1)"
    )
    free = ManualEdit(set={"my_rating": "great", "bpm_guess": 97, "party": True})
    [entry] = apply_manual(env.stores, [track_id], free).values()
    assert entry is not None and entry.categories == free.set


def test_removing_nothing_is_refused_and_names_what_was_not_there(typed_env: ProviderEnv) -> None:
    env = typed_env
    first, second = (s.track_id for s in env.library.liked[:2])
    before = env.stores.enrichments.load()
    with pytest.raises(NotFoundError) as refused:
        apply_manual(env.stores, [first, second], ManualEdit(unset=["nosuchkey", "seen"]))
    assert refused.value.code == "manual_value_not_found"
    assert refused.value.detail == (
        "nothing to remove: no track given has your value 'nosuchkey' (only your own values "
        "can be removed; providers' values stay)"
    )
    with pytest.raises(NotFoundError) as refused:
        apply_manual(env.stores, [first], ManualEdit(unset=["energy"]))  # ReccoBeats' value
    assert "your value 'energy'" in refused.value.detail
    with pytest.raises(NotFoundError) as refused:
        apply_manual(env.stores, [first], ManualEdit(remove_tags=["jazz"], set={"x": 1}))
    assert refused.value.detail == "nothing to remove: no track given has the tag 'jazz'"
    assert env.stores.enrichments.load() == before  # nothing written, the set included

    # Removed from one of the tracks given: that is a removal.
    results = apply_manual(env.stores, [first, second], ManualEdit(unset=["seen"]))
    assert results == {first: None, second: None}


def test_a_providers_tag_can_be_taken_off_once(typed_env: ProviderEnv) -> None:
    env = typed_env
    track_id = env.library.liked[0].track_id
    env.stores.enrichments.save_enrichments_cache(
        {track_id: [TrackEnrichment(source="lastfm", categories={"tags": ["Jazz", "live"]})]}
    )
    [entry] = apply_manual(env.stores, [track_id], ManualEdit(remove_tags=["jazz"])).values()
    assert entry is not None and entry.categories == {"tags_removed": ["jazz"]}
    with pytest.raises(NotFoundError, match="the tag 'JAZZ'"):
        apply_manual(env.stores, [track_id], ManualEdit(remove_tags=["JAZZ"]))
