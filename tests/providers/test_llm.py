"""The LLM provider against the emulated OpenAI-compatible API: every track described as the
library truth says, only title/artists/album/year sent, broken answers retried and counted,
the per-run cap, the cache by model and prompt version, and the API key."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import UpstreamError
from app.core.models import AlbumRef, ArtistRef, Track, TrackEnrichment
from app.emulators.llm.answers import ChatRecord
from app.emulators.llm.emulator import LlmEmulator
from app.providers.base import EnrichItem
from app.providers.llm import PROMPT_VERSION, LlmProvider
from tests.helpers.provider_env import ProviderEnv

PROMPT_KEYS = {"id", "title", "artists", "album", "year"}


def llm_of(env: ProviderEnv) -> LlmEmulator:
    return env.emulators.providers.llm


def stored(env: ProviderEnv) -> dict[str, TrackEnrichment]:
    """The LLM's entry of each track that has one."""
    cache = env.stores.enrichments.load_enrichments_cache()
    return {
        track_id: entry
        for track_id, entries in cache.items()
        for entry in entries
        if entry.source == "llm"
    }


def expected(env: ProviderEnv, track_id: str) -> dict[str, Any]:
    """What the emulated model says of a library track, minus its confidence."""
    description = llm_of(env).describe(env.library.tracks[track_id])
    del description["confidence"]
    return description


def prompt_tracks(record: ChatRecord) -> list[dict[str, Any]]:
    """The track list of the request's user message, parsed as the provider wrote it."""
    [user] = [m["content"] for m in record.body["messages"] if m["role"] == "user"]
    listing = user.split("\n", 1)[1].split("\n\n", 1)[0]
    tracks = json.loads(listing)
    assert isinstance(tracks, list)
    return tracks


def cleanly_answered(env: ProviderEnv) -> set[str]:
    """Library tracks the emulator described at least once without spoiling the entry."""
    return {
        track_id
        for record in llm_of(env).chats
        for key, track_id in record.matched.items()
        if track_id is not None and key not in record.spoiled
    }


def test_every_track_gets_the_description_its_truth_implies(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    report = env.run(LlmProvider(env.settings))
    ids = [saved.track_id for saved in env.library.liked]
    assert (report.matched, report.failed, report.not_found, report.total) == (60, 0, 0, 60)
    assert report.requests == math.ceil(60 / 20) == len(llm_of(env).chats)
    entries = stored(env)
    assert set(entries) == set(ids)
    for track_id in ids:
        entry, truth = entries[track_id], env.truth(track_id)
        assert entry.categories == expected(env, track_id)
        assert entry.categories["mood"] == truth.mood
        assert entry.categories["language"] == truth.language
        assert entry.categories["subgenre"] == truth.genres[-1]
        assert truth.first_release_year is not None
        assert entry.categories["era"] == f"{truth.first_release_year // 10 * 10}s"
        assert (entry.version, entry.confidence) == (f"{PROMPT_VERSION}:emulated-llm", 0.9)
        assert entry.match_method == "title_artists"


def test_the_batch_size_setting_sets_the_number_of_requests(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60, llm_batch_size=7)
    report = env.run(LlmProvider(env.settings))
    assert (report.matched, report.requests) == (60, math.ceil(60 / 7))
    assert [len(record.tracks) for record in llm_of(env).chats] == [7] * 8 + [4]


def test_only_title_artists_album_and_year_leave_the_machine(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    env.run(LlmProvider(env.settings))
    records = llm_of(env).chats
    sent = {}
    for record in records:
        body = record.body
        assert set(body) == {"model", "messages", "temperature", "response_format"}
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["strict"] is True
        tracks = prompt_tracks(record)
        assert tracks == record.tracks
        assert [t["id"] for t in tracks] == [f"t{n}" for n in range(1, len(tracks) + 1)]
        assert all(set(t) == PROMPT_KEYS for t in tracks)
        sent.update({record.matched[t["id"]]: t for t in tracks})
    for saved in env.library.liked:
        track = env.library.tracks[saved.track_id]
        album = env.library.albums[track.album_id]
        assert {k: v for k, v in sent[track.id].items() if k != "id"} == {
            "title": track.name,
            "artists": [env.library.artists[a].name for a in track.artist_ids],
            "album": album.name,
            "year": int(album.release_date[:4]),
        }
    everything = json.dumps([record.body for record in records])
    secrets = {env.library.user.id}
    for track in env.library.tracks.values():
        secrets |= {track.id, track.album_id, *track.artist_ids}
        secrets |= {track.isrc} if track.isrc else set()
    assert [secret for secret in secrets if secret in everything] == []
    assert "spotify:" not in everything


@pytest.mark.parametrize(("rate", "some_fail"), [(0.3, False), (0.6, True)])
def test_malformed_answers_are_retried_and_the_rest_counted_failed(
    tmp_path: Path, rate: float, some_fail: bool
) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60, llm_batch_size=5)
    llm = llm_of(env)
    llm.config.malformed_rate = rate
    report = env.run(LlmProvider(env.settings))
    assert report.requests == len(llm.chats) > 12  # some batches needed another try
    entries = stored(env)
    assert set(entries) == cleanly_answered(env)
    assert (report.matched, report.failed) == (len(entries), 60 - len(entries))
    assert (report.failed > 0) is some_fail  # with the default fault seed
    assert all(entries[tid].categories == expected(env, tid) for tid in entries)
    # A retry asks about the same tracks, cooler, saying what went wrong.
    retries = [
        (before, after)
        for before, after in zip(llm.chats, llm.chats[1:], strict=False)
        if before.fault and after.body["temperature"] < before.body["temperature"]
    ]
    assert retries
    for before, after in retries:
        assert after.tracks == before.tracks
        assert "not valid JSON" in after.body["messages"][1]["content"]
    # The failed tracks were not cached: the next run asks about exactly those.
    llm.config.malformed_rate = 0.0
    again = env.run(LlmProvider(env.settings))
    assert (again.cached, again.total, again.matched) == (
        len(entries),
        report.failed,
        report.failed,
    )


def test_always_malformed_answers_fail_every_track_and_cache_nothing(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    llm_of(env).config.malformed_rate = 1.0
    report = env.run(LlmProvider(env.settings))
    assert (report.matched, report.failed, report.requests) == (0, 60, 3 * 3)
    assert [b["temperature"] for b in (r.body for r in llm_of(env).chats[:3])] == [0.2, 0.1, 0.0]
    assert report.errors == ["llm: the answer was not valid JSON"]
    assert stored(env) == {}


def test_an_entry_that_breaks_the_schema_is_asked_again_then_failed(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    llm = llm_of(env)
    llm.config.schema_violation_rate = 1.0  # one entry of every answer is broken
    report = env.run(LlmProvider(env.settings))
    # Per batch: 19 accepted, the broken one asked alone twice more, broken again each time.
    assert (report.matched, report.failed, report.requests) == (57, 3, 9)
    assert [len(record.tracks) for record in llm.chats] == [20, 1, 1] * 3
    never_clean = {record.matched[k] for record in llm.chats[::3] for k in record.spoiled}
    assert set(stored(env)) == {s.track_id for s in env.library.liked} - never_clean
    assert "entries that break the schema (t" in llm.chats[1].body["messages"][1]["content"]
    assert all(reason.startswith("llm: ") for reason in report.errors)


def test_fenced_answers_are_accepted(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    llm_of(env).config.fenced = True
    report = env.run(LlmProvider(env.settings))
    assert (report.matched, report.requests) == (60, 3)


def test_tracks_left_out_of_an_answer_are_asked_once_more(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    llm = llm_of(env)
    llm.config.max_answers = 15
    report = env.run(LlmProvider(env.settings))
    assert (report.matched, report.requests) == (60, 6)
    assert [len(record.tracks) for record in llm.chats] == [20, 5] * 3
    # An answer that stops after 3 tracks: 3 + 3 per batch, then the rest fail.
    llm.config.max_answers = 3
    short = env.run(LlmProvider(env.settings), refresh=True)
    assert (short.matched, short.failed, short.requests) == (18, 42, 6)
    assert "llm: left out of the answer" in short.errors


def test_the_run_cap_leaves_the_rest_for_the_next_runs(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60, llm_max_tracks_per_run=25)
    provider = LlmProvider(env.settings)
    runs = [env.run(provider) for _ in range(4)]
    assert [(r.total, r.cached, r.capped, r.matched) for r in runs] == [
        (25, 0, 35, 25),
        (25, 25, 10, 25),
        (10, 50, 0, 10),
        (0, 60, 0, 0),
    ]
    assert [r.requests for r in runs] == [2, 2, 1, 0]
    assert len(stored(env)) == 60


def test_a_second_run_is_served_from_the_cache(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    env.run(LlmProvider(env.settings))
    again = env.run(LlmProvider(env.settings))
    assert (again.cached, again.total, again.requests) == (60, 0, 0)
    assert len(llm_of(env).chats) == 3


def test_another_model_describes_every_track_again(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60)
    env.run(LlmProvider(env.settings))
    bigger = LlmProvider(env.settings.model_copy(update={"llm_model": "bigger-llm"}))
    assert bigger.current_version() == f"{PROMPT_VERSION}:bigger-llm"
    report = env.run(bigger)
    assert (report.cached, report.matched, report.requests) == (0, 60, 3)
    assert [r.body["model"] for r in llm_of(env).chats] == ["emulated-llm"] * 3 + ["bigger-llm"] * 3
    entries = stored(env)
    assert {entry.version for entry in entries.values()} == {f"{PROMPT_VERSION}:bigger-llm"}
    cache = env.stores.enrichments.load_enrichments_cache()
    assert all(sum(e.source == "llm" for e in cache[tid]) == 1 for tid in entries)


def test_disabled_without_a_model(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=5, llm_model=" ")
    provider = LlmProvider(env.settings)
    reason = provider.disabled_reason()
    assert reason is not None
    assert "SAP_LLM_MODEL" in reason and "Ollama" in reason and "llama.cpp" in reason
    row = provider.describe()
    assert (row["enabled"], row["reason_if_disabled"], row["type"]) == (False, reason, "llm")
    assert "SAP_LLM_API_KEY" in row["settings"]
    assert LlmProvider(env.settings.model_copy(update={"llm_model": "m"})).disabled_reason() is None


def test_the_api_key_is_sent_as_a_bearer_token_only_when_set(tmp_path: Path) -> None:
    keyed = ProviderEnv.create(tmp_path / "keyed", tracks=20, llm_api_key="sk-test")
    llm_of(keyed).config.api_keys = ("sk-test",)
    assert keyed.run(LlmProvider(keyed.settings)).matched == 20
    assert llm_of(keyed).requests[0].headers["authorization"] == "Bearer sk-test"

    keyless = ProviderEnv.create(tmp_path / "keyless", tracks=20)
    assert keyless.run(LlmProvider(keyless.settings)).matched == 20
    assert "authorization" not in llm_of(keyless).requests[0].headers


def test_a_refused_key_fails_the_run_with_a_hint(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=60, llm_api_key="sk-wrong")
    llm_of(env).config.api_keys = ("sk-right",)
    with pytest.raises(UpstreamError, match=r"answered 401: Incorrect API key.*SAP_LLM_API_KEY"):
        env.run(LlmProvider(env.settings))
    assert [r.status for r in llm_of(env).requests] == [401] * 3  # three batches, then stop
    assert stored(env) == {}


def test_tracks_the_model_does_not_know_still_get_its_guess(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=5)
    local = Track(
        id="spotify:local:Garage+Band:Basement+Tapes:My+Demo:183",
        uri="spotify:local:Garage+Band:Basement+Tapes:My+Demo:183",
        name="My Demo",
        artists=[ArtistRef(name="Garage Band")],
        album=AlbumRef(name="Basement Tapes", release_date="1997"),
        is_local=True,
    )
    anonymous = Track(id="x" * 22, uri=f"spotify:track:{'x' * 22}", name="Untitled", artists=[])
    env.stores.tracks.upsert([local, anonymous])
    provider = LlmProvider(env.settings)
    assert provider.applicable(EnrichItem(anonymous)) == "no title or artist"
    report = env.run(provider, track_ids=[local.id, anonymous.id])
    assert (report.matched, report.not_applicable) == (1, 1)
    entry = stored(env)[local.id]
    assert entry.confidence == 0.2
    assert entry.categories == {
        "mood": "calm",
        "subgenre": "pop",
        "energy_level": "medium",
        "language": "en",
        "occasion": "relax",
        "era": "1990s",
    }
    assert llm_of(env).chats[0].tracks == [
        {"id": "t1", "title": "My Demo", "artists": ["Garage Band"], "album": "Basement Tapes",
         "year": 1997}
    ]  # fmt: skip
