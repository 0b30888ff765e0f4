"""AcousticBrainzProvider after a real MusicBrainz run: values from a dump (the real nested
layout, a flat one) or a mirror of the old API equal what the emulator derives from the truth;
tracks without a recording id are not applicable; unusable dump files fail their track only;
the dump is indexed afresh each run; the mirror is asked only for what the dump lacks."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.core.config import Settings
from app.core.models import TrackEnrichment
from app.emulators.acousticbrainz import (
    AcousticBrainzEmulator,
    classifier_probabilities,
    dump_path,
    recordings,
    vocal_gender,
    write_dump,
)
from app.emulators.common.transport import emulator_transport
from app.emulators.library.account import generate_library
from app.emulators.library.model import TrackTruth
from app.pipeline.enrichment.runner import EnrichReport, enrich_tracks
from app.providers.acousticbrainz import AcousticBrainzProvider, DumpIndex
from app.providers.base import EnrichItem
from app.providers.http import ProviderNet
from app.providers.musicbrainz.provider import MusicBrainzProvider
from tests.helpers.provider_env import ProviderEnv, provider_settings

MIRROR = "http://acousticbrainz.test"
POSITIVE = {  # category -> emulator classifier
    "danceable": "danceability",
    "mood_happy": "mood_happy",
    "mood_sad": "mood_sad",
    "mood_relaxed": "mood_relaxed",
    "mood_aggressive": "mood_aggressive",
    "mood_party": "mood_party",
    "mood_electronic": "mood_electronic",
    "mood_acoustic": "mood_acoustic",
}


def expected(truth: TrackTruth) -> dict[str, Any]:
    """The categories the emulator's derivation of `truth` should give."""
    shares = classifier_probabilities(truth)
    values: dict[str, Any] = {name: round(shares[c], 3) for name, c in POSITIVE.items()}
    values["voice_instrumental"] = "instrumental" if truth.language == "zxx" else "voice"
    values["tonal"] = truth.key != -1
    gender = vocal_gender(truth)
    if gender is not None:
        values["gender"] = gender
    return values


def musicbrainz_env(tmp_path: Path, **settings: Any) -> ProviderEnv:
    """A library whose liked songs went through MusicBrainz (emulator limits and pace off)."""
    env = ProviderEnv.create(tmp_path, tracks=60, **settings)
    env.emulators.providers.musicbrainz.config.enforce_rate_limit = False
    env.unpaced(env.settings.musicbrainz_url, env.settings.listenbrainz_url)
    report = env.run(MusicBrainzProvider(env.settings))
    assert report.matched > 40 and report.not_found > 0
    return env


def with_mbid(env: ProviderEnv) -> list[str]:
    """Liked tracks MusicBrainz matched to a recording."""
    stored = entries(env, "musicbrainz")
    return [s.track_id for s in env.library.liked if not stored[s.track_id].not_found]


def entries(env: ProviderEnv, source: str = "acousticbrainz") -> dict[str, TrackEnrichment]:
    cache = env.stores.enrichments.load_enrichments_cache()
    return {t: e for t, stored in cache.items() for e in stored if e.source == source}


def settings_for(env: ProviderEnv, **overrides: Any) -> Settings:
    return env.settings.model_copy(update=overrides)


def run_with_mirror(
    env: ProviderEnv,
    provider: AcousticBrainzProvider,
    mirror: AcousticBrainzEmulator,
    *,
    refresh: bool = False,
) -> EnrichReport:
    """A run whose HTTP goes to the in-process mirror at `MIRROR`, unpaced."""

    async def go() -> EnrichReport:
        transport = emulator_transport(mirror.app)
        async with ProviderNet(
            provider.settings, transport=transport, retry_wait=(0.01, 0.05), rates={MIRROR: None}
        ) as net:
            return await enrich_tracks(provider, env.stores, net, refresh=refresh)

    return asyncio.run(go())


def assert_values_equal_the_truth(env: ProviderEnv, track_ids: list[str]) -> None:
    stored, musicbrainz = entries(env), entries(env, "musicbrainz")
    for track_id in track_ids:
        entry = stored[track_id]
        assert entry.categories == expected(env.truth(track_id)), track_id
        assert entry.match_method == "mbid"
        assert entry.confidence == musicbrainz[track_id].confidence


# -- the dump ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["nested", "flat"])
def test_values_from_a_dump_equal_the_truth(tmp_path: Path, layout: Any) -> None:
    dump = tmp_path / "dump"
    write_dump(musicbrainz_env(tmp_path / "mb").library, dump, layout=layout)
    env = musicbrainz_env(tmp_path, acousticbrainz_dump_dir=dump)

    report = env.run(AcousticBrainzProvider(env.settings))

    found = with_mbid(env)
    assert (report.matched, report.not_found, report.failed) == (len(found), 0, 0)
    assert report.not_applicable == len(env.library.liked) - len(found)
    assert report.requests == 0
    assert_values_equal_the_truth(env, found)
    kinds = {entries(env)[t].categories["voice_instrumental"] for t in found}
    assert kinds == {"voice", "instrumental"}


def test_tracks_without_a_recording_id_need_musicbrainz_first(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    env = ProviderEnv.create(tmp_path, tracks=60, acousticbrainz_dump_dir=dump)
    write_dump(env.library, dump)
    provider = AcousticBrainzProvider(env.settings)

    before = env.run(provider)
    assert (before.not_applicable, before.total) == (len(env.library.liked), 0)

    env.emulators.providers.musicbrainz.config.enforce_rate_limit = False
    env.unpaced(env.settings.musicbrainz_url, env.settings.listenbrainz_url)
    env.run(MusicBrainzProvider(env.settings))
    after = env.run(provider)

    found = with_mbid(env)
    assert after.matched == len(found)
    assert after.not_applicable == len(env.library.liked) - len(found) > 0
    unknown = next(s.track_id for s in env.library.liked if s.track_id not in found)
    cache = env.stores.enrichments.load_enrichments_cache()
    track = env.stores.tracks.load_tracks()[unknown]
    item = EnrichItem(track, {entry.source: entry for entry in cache[unknown]})
    assert provider.applicable(item) == "needs MusicBrainz first (no recording id)"


def test_recordings_missing_from_the_dump_are_not_found(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    env = musicbrainz_env(tmp_path, acousticbrainz_dump_dir=dump)
    write_dump(env.library, dump)
    found = with_mbid(env)
    removed = {mbid(env, t) for t in found[:3]}
    for recording in removed:
        dump_path(dump, recording).unlink()

    report = env.run(AcousticBrainzProvider(env.settings))

    lost = [t for t in found if mbid(env, t) in removed]
    assert (report.matched, report.not_found) == (len(found) - len(lost), len(lost))
    assert all(entries(env)[t].not_found for t in lost)


def test_an_unusable_dump_file_fails_its_track_only(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    env = musicbrainz_env(tmp_path, acousticbrainz_dump_dir=dump)
    write_dump(env.library, dump)
    found = with_mbid(env)
    one_per_recording = list({mbid(env, t): t for t in reversed(found)}.values())[::-1]
    broken, shapeless, rescued, resubmitted = one_per_recording[:4]
    dump_path(dump, mbid(env, broken)).write_text("{not json", encoding="utf-8")
    dump_path(dump, mbid(env, shapeless)).write_text('{"lowlevel": {}}', encoding="utf-8")
    # A broken first submission, but a good second one: the second is used.
    good = dump_path(dump, mbid(env, rescued))
    good.rename(good.with_name(f"{mbid(env, rescued)}-1.json"))
    good.write_text("[]", encoding="utf-8")
    # Two good submissions: the first is used.
    first = dump_path(dump, mbid(env, resubmitted))
    later = orjson.loads(first.read_bytes())
    later["highlevel"]["danceability"]["all"] = {"danceable": 0.5, "not_danceable": 0.5}
    first.with_name(f"{mbid(env, resubmitted)}-1.json").write_bytes(orjson.dumps(later))

    report = env.run(AcousticBrainzProvider(env.settings))

    failing = [t for t in found if mbid(env, t) in {mbid(env, broken), mbid(env, shapeless)}]
    assert (report.matched, report.failed) == (len(found) - len(failing), len(failing))
    assert f"{mbid(env, broken)}-0.json: not JSON" in report.errors[0]
    stored = entries(env)
    assert not any(t in stored for t in failing)  # failures are not cached
    assert stored[rescued].categories == expected(env.truth(rescued))
    assert stored[resubmitted].categories == expected(env.truth(resubmitted))

    again = env.run(AcousticBrainzProvider(env.settings))
    assert (again.total, again.failed) == (len(failing), len(failing))  # asked again
    alone = env.run(AcousticBrainzProvider(env.settings), track_ids=[shapeless])
    assert alone.errors == [
        f"AcousticBrainz dump file unusable: {mbid(env, shapeless)}-0.json: no `highlevel` object"
    ]


def mbid(env: ProviderEnv, track_id: str) -> str:
    return env.truth(track_id).recording_mbid or ""


def test_the_dump_is_indexed_afresh_each_run(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    env = musicbrainz_env(tmp_path, acousticbrainz_dump_dir=dump)
    write_dump(env.library, dump)
    found = with_mbid(env)
    late = dump_path(dump, mbid(env, found[0]))
    content = late.read_bytes()
    late.unlink()
    provider = AcousticBrainzProvider(env.settings)
    assert env.run(provider).not_found == 1

    late.write_bytes(content)  # the dump grew between two runs of the same provider
    report = env.run(provider, refresh=True)

    assert (report.matched, report.not_found) == (len(found), 0)


def test_the_dump_index_finds_files_through_a_symlink_loop(tmp_path: Path) -> None:
    library = generate_library(seed=3, tracks=10, playlists=0)
    write_dump(library, tmp_path)
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    mbid_ = next(iter(recordings(library)))

    assert DumpIndex(tmp_path).files(mbid_) == [dump_path(tmp_path, mbid_)]
    assert DumpIndex(tmp_path).files("00000000-0000-4000-8000-000000000000") == []


# -- the mirror -------------------------------------------------------------------------------


def test_values_from_a_mirror_equal_the_truth_in_batches_of_25(tmp_path: Path) -> None:
    env = musicbrainz_env(tmp_path)
    mirror = AcousticBrainzEmulator(env.library)
    provider = AcousticBrainzProvider(settings_for(env, acousticbrainz_url=MIRROR))

    report = run_with_mirror(env, provider, mirror)

    found = with_mbid(env)
    assert (report.matched, report.not_found, report.failed) == (len(found), 0, 0)
    assert_values_equal_the_truth(env, found)
    batches = [found[i : i + 25] for i in range(0, len(found), 25)]
    asked = [r.query["recording_ids"].split(";") for r in mirror.requests]
    assert report.requests == len(mirror.requests) == len(batches)
    assert sorted(map(sorted, asked)) == sorted(
        sorted({mbid(env, t) for t in batch}) for batch in batches
    )
    assert all(r.path == "/api/v1/high-level" for r in mirror.requests)

    cached = run_with_mirror(env, provider, mirror)
    assert (cached.requests, cached.cached) == (0, len(found))


def test_mirror_faults_are_retried(tmp_path: Path) -> None:
    env = musicbrainz_env(tmp_path, provider_max_attempts=10)
    mirror = AcousticBrainzEmulator(env.library)
    mirror.config.fail_rate = 0.3
    mirror.config.drop_rate = 0.1
    mirror.config.fault_seed = 5
    provider = AcousticBrainzProvider(settings_for(env, acousticbrainz_url=MIRROR))

    report = run_with_mirror(env, provider, mirror)

    found = with_mbid(env)
    assert (report.matched, report.failed) == (len(found), 0)
    assert any(r.fault is not None for r in mirror.requests)
    assert report.requests == len(mirror.requests) > math.ceil(len(found) / 25)


def test_with_dump_and_mirror_the_mirror_fills_the_gaps(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    env = musicbrainz_env(tmp_path)
    write_dump(env.library, dump)
    found = with_mbid(env)
    gaps = found[:4]
    for track_id in gaps:
        dump_path(dump, mbid(env, track_id)).unlink()
    mirror = AcousticBrainzEmulator(env.library)
    settings = settings_for(env, acousticbrainz_url=MIRROR, acousticbrainz_dump_dir=dump)

    report = run_with_mirror(env, AcousticBrainzProvider(settings), mirror)

    assert (report.matched, report.failed) == (len(found), 0)
    asked = {m for r in mirror.requests for m in r.query["recording_ids"].split(";")}
    assert asked == {mbid(env, t) for t in gaps}
    assert_values_equal_the_truth(env, found)


# -- settings ---------------------------------------------------------------------------------


def test_disabled_without_a_dump_or_a_mirror(tmp_path: Path) -> None:
    neither = AcousticBrainzProvider(provider_settings(tmp_path))
    reason = neither.disabled_reason()
    assert reason is not None and "SAP_ACOUSTICBRAINZ_DUMP_DIR" in reason
    assert "SAP_ACOUSTICBRAINZ_URL" in reason
    assert neither.describe()["enabled"] is False

    missing = AcousticBrainzProvider(
        provider_settings(tmp_path, acousticbrainz_dump_dir=tmp_path / "nowhere")
    )
    assert "is not a directory" in (missing.disabled_reason() or "")
    assert (
        AcousticBrainzProvider(
            provider_settings(tmp_path, acousticbrainz_url=MIRROR)
        ).disabled_reason()
        is None
    )
    assert (
        AcousticBrainzProvider(
            provider_settings(tmp_path, acousticbrainz_dump_dir=tmp_path)
        ).disabled_reason()
        is None
    )
    assert neither.describe()["type"] == "dump"
