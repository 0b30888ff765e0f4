"""The v1 classifier `mood_v1`: moods from LLM/manual values, AcousticBrainz, audio features;
corrections that survive re-runs; the step, endpoints and CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.api.app import create_app
from app.core.errors import NotFoundError, UnprocessableError
from app.core.models import TrackEnrichment
from app.pipeline.classify import classify_library, correct_labels, mood_of
from app.providers.reccobeats import ReccoBeatsProvider
from tests.helpers.api import api_client
from tests.helpers.provider_env import ProviderEnv


@pytest.mark.parametrize(
    ("view", "provenance", "expected"),
    [
        ({"mood": "Dreamy"}, {"mood": "llm"}, ("dreamy", 0.8)),
        ({"mood": "calm", "energy": 0.9, "valence": 0.9}, {"mood": "manual"}, ("calm", 1.0)),
        ({"mood_sad": 0.7, "mood_happy": 0.2, "energy": 0.9}, {}, ("sad", 0.7)),
        ({"mood_party": 0.55, "energy": 0.2, "valence": 0.2}, {}, ("sad", 0.6)),
        ({"energy": 0.8, "valence": 0.7}, {}, ("happy", 0.6)),
        ({"energy": 0.8, "valence": 0.2}, {}, ("energetic", 0.6)),
        ({"energy": 0.3, "valence": 0.5}, {}, ("calm", 0.6)),
        ({"energy": 0.5, "valence": 0.2}, {}, ("melancholic", 0.6)),
        ({"energy": 0.5, "valence": 0.5}, {}, ("neutral", 0.6)),
        ({"energy": 0.5}, {}, (None, 0.0)),
    ],
)
def test_mood_rules(view: dict[str, object], provenance: dict[str, str], expected: object) -> None:
    assert mood_of(view, provenance) == expected


def test_classify_the_library_and_keep_corrections(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=40)
    env.unpaced(env.settings.reccobeats_url)
    env.run(ReccoBeatsProvider(env.settings))
    ids = [s.track_id for s in env.library.liked]
    env.stores.enrichments.save_enrichments_cache(
        {ids[0]: [TrackEnrichment(source="llm", categories={"mood": "romantic"})]}
    )
    summary = classify_library(env.stores, env.services.library)
    assert summary.tracks == len(ids)
    labels = env.stores.classifications.load_classifications("mood_v1")
    assert labels[ids[0]].labels["mood"] == "romantic"
    for track_id in ids[1:]:
        truth = env.truth(track_id)
        view = {"energy": truth.energy, "valence": truth.valence}
        if not truth.in_reccobeats:
            view = {}
        assert labels[track_id].labels["mood"] == mood_of(view, {})[0], track_id
        year = labels[track_id].labels["year"]
        assert year == int(
            env.library.albums[env.library.tracks[track_id].album_id].release_date[:4]
        )
    assert sum(summary.moods.values()) == len(ids)

    corrected = correct_labels(env.stores, "mood_v1", ids[1], {"mood": "focus"})
    assert corrected.manual and corrected.labels["mood"] == "focus"
    again = classify_library(env.stores, env.services.library)
    assert again.manual_kept == 1
    assert (
        env.stores.classifications.load_classifications("mood_v1")[ids[1]].labels["mood"] == "focus"
    )
    with pytest.raises(UnprocessableError, match="unknown label"):
        correct_labels(env.stores, "mood_v1", ids[1], {"colour": "red"})
    with pytest.raises(NotFoundError, match="unknown classifier"):
        classify_library(env.stores, env.services.library, "genre_v9")
    with pytest.raises(NotFoundError, match="no track"):
        correct_labels(env.stores, "mood_v1", "0" * 22, {"mood": "x"})


def test_classify_over_http_sync_async_and_corrections(tmp_path: Path) -> None:
    env = ProviderEnv.create(tmp_path, tracks=20)
    with api_client(create_app(env.settings, services=env.services), "http://127.0.0.1") as client:
        job = client.post("/pipeline/classify").json()
        assert job["status"] == "done" and job["payload"]["tracks"] == 20
        queued = client.post("/pipeline/classify/run-async", json={"metadata": {}})
        assert queued.status_code == 202
        labels = client.get("/data/classifications/mood_v1").json()
        assert len(labels) == 20
        track_id = next(iter(labels))
        patched = client.patch(
            f"/data/classifications/mood_v1/{track_id}", json={"labels": {"mood": "calm"}}
        )
        assert patched.status_code == 200 and patched.json()["manual"] is True
        assert (
            client.patch(
                f"/data/classifications/mood_v1/{track_id}", json={"labels": {"shape": "x"}}
            ).status_code
            == 422
        )
        assert client.get("/data/classifications/nope").status_code == 404
