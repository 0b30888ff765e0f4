"""Enrichment over HTTP: providers, v2 enrich jobs, v1 external, reads, manual edits, errors.

The real app over the real stores, its providers talking to the in-process emulators
(`tests/helpers/provider_env.py`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from tests.helpers.api import api_client
from tests.helpers.provider_env import ProviderEnv

FINISHED = {"done", "partial", "failed", "cancelled"}


@pytest.fixture
def env(tmp_path: Path) -> ProviderEnv:
    environment = ProviderEnv.create(tmp_path, tracks=80)
    # Pacing and rate limits have their own tests; here they would only cost time.
    providers = environment.emulators.providers
    providers.musicbrainz.config.enforce_rate_limit = False
    providers.lastfm.config.rate_limit = None
    providers.deezer.config.rate_limit = None
    settings = environment.settings
    environment.unpaced(
        settings.musicbrainz_url,
        settings.listenbrainz_url,
        settings.deezer_url,
        settings.reccobeats_url,
        settings.lastfm_url,
    )
    return environment


@pytest.fixture
def client(env: ProviderEnv) -> Iterator[TestClient]:
    app = create_app(env.settings, services=env.services)
    with api_client(app) as test_client:
        yield test_client


def poll(client: TestClient, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/pipeline/jobs/{job_id}").json()
        if job["status"] in FINISHED:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def test_providers_list_every_provider_with_its_status(client: TestClient) -> None:
    rows = {row["id"]: row for row in client.get("/data/providers").json()}
    assert list(rows) == [
        "musicbrainz",
        "deezer",
        "reccobeats",
        "lastfm",
        "acousticbrainz",
        "llm",
        "manual",
    ]
    assert rows["deezer"]["enabled"] and rows["deezer"]["reason_if_disabled"] is None
    assert {"tempo", "gain", "rank", "genres"} <= {f["name"] for f in rows["deezer"]["fields"]}
    # Neither a dump directory nor a mirror is configured in these settings.
    assert not rows["acousticbrainz"]["enabled"]
    assert "SAP_ACOUSTICBRAINZ_DUMP_DIR" in rows["acousticbrainz"]["reason_if_disabled"]
    # Each enabled provider's service was checked: every emulator answers.
    assert rows["deezer"]["service"]["state"] == "up"
    assert rows["acousticbrainz"]["service"] is None and rows["manual"]["service"] is None


def test_providers_say_a_service_is_down_when_it_answers_503(
    client: TestClient, env: ProviderEnv
) -> None:
    env.emulators.providers.deezer.config.fail_rate = 1.0
    rows = {row["id"]: row for row in client.get("/data/providers?refresh=true").json()}
    deezer = rows["deezer"]["service"]
    assert deezer["state"] == "down" and deezer["detail"].startswith("Deezer answered 50")
    assert rows["deezer"]["enabled"]  # the settings are fine: it is the service that is not
    assert rows["lastfm"]["service"]["state"] == "up"


def test_enrich_runs_its_providers_in_one_job_and_feeds_rules(
    client: TestClient, env: ProviderEnv
) -> None:
    started = client.post("/pipeline/enrich", json={"providers": ["reccobeats", "deezer"]})
    assert started.status_code == 202, started.text
    [job] = started.json()["jobs"]
    assert job["metadata"]["providers"] == ["deezer", "reccobeats"]  # in run order
    finished = poll(client, job["id"])
    assert finished["status"] == "done" and finished["message"] == "done"
    parts = {part["id"]: part for part in finished["progress"]["parts"]}
    assert list(parts) == ["deezer", "reccobeats"]
    reports = {report["provider"]: report for report in finished["payload"]["providers"]}
    recco = reports["reccobeats"]
    covered = [s.track_id for s in env.library.liked if env.truth(s.track_id).in_reccobeats]
    assert recco["matched"] == len(covered)
    assert recco["not_found"] == len(env.library.liked) - len(covered)
    assert parts["reccobeats"]["state"] == "done"
    assert parts["reccobeats"]["done"] == parts["reccobeats"]["total"] == recco["total"]
    assert parts["reccobeats"]["message"] == (
        f"{len(covered)} matched, {recco['not_found']} not found, 0 failed"
    )
    assert finished["progress"]["done"] == recco["total"] + reports["deezer"]["total"]

    # The flattened view: tempo from Deezer wins over ReccoBeats' by the default precedence.
    track_id = next(t for t in covered if env.truth(t).tempo is not None and env.truth(t).in_deezer)
    detail = client.get(f"/data/enrichments/{track_id}").json()
    assert detail["provenance"]["tempo"] == "deezer"
    assert detail["view"]["energy"] == env.truth(track_id).energy
    assert {e["source"] for e in detail["entries"]} == {"deezer", "reccobeats"}

    # New keys are rule fields with types, and a rule on them previews the truth's tracks.
    fields = {row["name"]: row for row in client.get("/data/rules/fields").json()}
    assert fields["energy"]["type"] == "number"
    saved = client.post(
        "/data/rules", json={"id": "hi", "name": "High energy", "text": "energy > 0.7"}
    )
    assert saved.status_code == 200, saved.text
    preview = client.post("/pipeline/playlists/preview-from-rules", json={"rule_ids": ["hi"]})
    placed = next(p for p in preview.json()["playlists"] if p["rule_id"] == "hi")
    expected = {t for t in covered if (env.truth(t).energy or 0) > 0.7}
    assert set(placed["track_ids"]) == expected

    # A re-run asks nothing.
    again = client.post("/pipeline/enrich", json={"providers": ["reccobeats"]}).json()["jobs"]
    payload = poll(client, again[0]["id"])["payload"]
    # Not-found answers are cached too: every liked track is skipped.
    assert (payload["requests"], payload["cached"], payload["total"]) == (
        0,
        len(env.library.liked),
        0,
    )


def test_coverage_features_and_seed_mapping(client: TestClient, env: ProviderEnv) -> None:
    job = client.post("/pipeline/enrich", json={"providers": ["reccobeats"]}).json()["jobs"][0]
    poll(client, job["id"])
    covered = {s.track_id for s in env.library.liked if env.truth(s.track_id).in_reccobeats}
    coverage = client.get("/data/enrichments/coverage").json()
    assert coverage["tracks"] == len(env.library.liked)
    energy = next(row for row in coverage["fields"] if row["field"] == "energy")
    with_energy = {t for t in covered if env.truth(t).energy is not None}
    assert energy["tracks"] == len(with_energy)
    assert energy["providers"] == {"reccobeats": len(with_energy)}
    assert coverage["providers"]["reccobeats"] == {
        "matched": len(covered),
        "not_found": len(env.library.liked) - len(covered),
    }
    features = client.get("/data/features/reccobeats").json()
    assert set(features) == covered
    mapping = client.get("/data/enrichments").json()
    assert set(mapping) == {s.track_id for s in env.library.liked}  # not-found is cached too
    assert client.get("/data/features/nope").status_code == 404


def test_manual_edits_single_and_bulk(client: TestClient, env: ProviderEnv) -> None:
    ids = [s.track_id for s in env.library.liked[:3]]
    patched = client.patch(
        f"/data/enrichments/{ids[0]}", json={"set": {"mood": "summer"}, "add_tags": ["road"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["view"] == {"mood": "summer", "tags": ["road"]}
    assert patched.json()["provenance"] == {"mood": "manual", "tags": "manual"}
    bulk = client.post("/data/enrichments/manual", json={"track_ids": ids, "add_tags": ["party"]})
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["updated"] == 3
    assert bulk.json()["manual"][ids[0]] == {"mood": "summer", "tags": ["road", "party"]}
    assert bulk.json()["manual"][ids[2]] == {"tags": ["party"]}
    saved = client.post(
        "/data/rules", json={"id": "p", "name": "Party", "text": 'tags has any ["party"]'}
    )
    assert saved.status_code == 200
    preview = client.post("/pipeline/playlists/preview-from-rules", json={"rule_ids": ["p"]})
    placed = next(p for p in preview.json()["playlists"] if p["rule_id"] == "p")
    assert sorted(placed["track_ids"]) == sorted(ids)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("post", "/pipeline/enrich", {"providers": ["nope"]}, 404, "unknown provider 'nope'"),
        ("post", "/pipeline/enrich", {"providers": ["acousticbrainz"]}, 422, "is disabled"),
        ("post", "/pipeline/enrich", {"providers": ["manual"]}, 422, "manual values"),
        ("post", "/pipeline/enrich", {"track_ids": ["0" * 22]}, 404, "not in the fetched"),
        ("post", "/pipeline/enrich", {"source": "playlist:x"}, 404, "no fetched source"),
        (
            "post",
            "/pipeline/enrich",
            {"track_ids": ["a"], "source": "liked"},
            422,
            "not both",
        ),
        ("post", "/pipeline/enrich", {"provider": ["deezer"]}, 422, "provider"),
        ("patch", "/data/enrichments/{track}", {"set": {"year": 1}}, 422, "built-in"),
        ("patch", "/data/enrichments/{track}", {}, 422, "nothing to change"),
        ("patch", "/data/enrichments/" + "0" * 22, {"set": {"a": 1}}, 404, "not in the"),
        ("post", "/data/enrichments/manual", {"track_ids": [], "set": {"a": 1}}, 422, "track"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    client: TestClient,
    env: ProviderEnv,
    method: str,
    path: str,
    body: dict[str, Any],
    status: int,
    needle: str,
) -> None:
    url = path.replace("{track}", env.library.liked[0].track_id)
    response = client.request(method.upper(), url, json=body)
    assert response.status_code == status, response.text
    assert needle in response.text


def test_manual_values_are_checked_against_their_fields_type(
    client: TestClient, env: ProviderEnv
) -> None:
    ids = [s.track_id for s in env.library.liked[:2]]
    before = env.stores.enrichments.load()
    # `energy` is a number (ReccoBeats declares it, even before any run), `tonal` true/false.
    patched = client.patch(f"/data/enrichments/{ids[0]}", json={"set": {"energy": "abc"}})
    assert patched.status_code == 422, patched.text
    assert patched.json() == {
        "error": "manual_value_invalid",
        "detail": "'energy' takes a number (got 'abc')",
    }
    bulk = client.post(
        "/data/enrichments/manual",
        json={"track_ids": ids, "set": {"energy": 0.5, "tonal": "yes", "mine": "free"}},
    )
    assert bulk.status_code == 422, bulk.text
    assert bulk.json()["detail"] == "'tonal' takes true/false (got 'yes')"
    assert env.stores.enrichments.load() == before
    ok = client.patch(f"/data/enrichments/{ids[0]}", json={"set": {"energy": 0.5, "mine": 3}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["view"] == {"energy": 0.5, "mine": 3}


def test_removing_nothing_is_a_404_naming_it(client: TestClient, env: ProviderEnv) -> None:
    ids = [s.track_id for s in env.library.liked[:2]]
    client.patch(f"/data/enrichments/{ids[0]}", json={"set": {"mood": "calm"}})
    missing = client.patch(f"/data/enrichments/{ids[1]}", json={"unset": ["mood"]})
    assert missing.status_code == 404, missing.text
    assert missing.json() == {
        "error": "manual_value_not_found",
        "detail": "nothing to remove: no track given has your value 'mood' (only your own "
        "values can be removed; providers' values stay)",
    }
    untagged = client.post(
        "/data/enrichments/manual", json={"track_ids": ids, "remove_tags": ["jazz"]}
    )
    assert untagged.status_code == 404, untagged.text
    assert untagged.json()["detail"] == "nothing to remove: no track given has the tag 'jazz'"
    # Removed from one of the tracks given: done, and the report says what is left.
    removed = client.post("/data/enrichments/manual", json={"track_ids": ids, "unset": ["mood"]})
    assert removed.status_code == 200, removed.text
    report = removed.json()
    assert (report["updated"], report["unchanged"]) == (1, 1)  # only the first one had it
    assert report["manual"] == {ids[0]: None, ids[1]: None}
    assert report["undo"]["summary"] == "removed your 'mood' on 1 track"


def test_v1_external_step_runs_the_enabled_providers(client: TestClient, env: ProviderEnv) -> None:
    response = client.post(
        "/pipeline/external", json={"metadata": {"providers": ["reccobeats", "deezer"]}}
    )
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "done"
    reports = {report["provider"]: report for report in job["payload"]["providers"]}
    assert set(reports) == {"deezer", "reccobeats"}
    assert reports["deezer"]["matched"] == sum(
        1
        for s in env.library.liked
        if env.truth(s.track_id).in_deezer and env.library.tracks[s.track_id].isrc
    )
    queued = client.post("/pipeline/external/run-async", json={"metadata": {}})
    assert queued.status_code == 202
    rerun = poll(client, queued.json()["id"], timeout=120)
    assert rerun["status"] == "done", rerun
    # Every enabled default provider ran; what was already enriched cost nothing.
    by_id = {r["provider"]: r for r in rerun["payload"]["providers"]}
    assert by_id["deezer"]["requests"] == 0 and by_id["reccobeats"]["requests"] == 0
    assert {"musicbrainz", "lastfm"} <= set(by_id)
    # The enrich step run the generic way, naming nothing: every enabled provider, one job.
    generic = client.post("/pipeline/enrich/run-async", json={"metadata": {}})
    assert generic.status_code == 202, generic.text
    job = poll(client, generic.json()["id"], timeout=120)
    assert job["status"] == "done", job
    assert [part["id"] for part in job["progress"]["parts"]] == list(by_id)
    assert job["payload"]["requests"] == 0  # all of it done by the run before


def test_a_run_that_could_not_reach_a_service_marks_it_down_at_once(
    client: TestClient, env: ProviderEnv
) -> None:
    first = {row["id"]: row for row in client.get("/data/providers").json()}
    assert first["deezer"]["service"]["state"] == "up"
    env.emulators.providers.deezer.config.fail_rate = 1.0
    [job] = client.post("/pipeline/enrich", json={"providers": ["deezer"]}).json()["jobs"]
    assert poll(client, job["id"])["status"] == "failed"
    rows = {row["id"]: row for row in client.get("/data/providers").json()}  # no refresh
    deezer = rows["deezer"]["service"]
    assert deezer["state"] == "down"
    assert deezer["detail"].startswith("the last run failed: "), deezer["detail"]
