"""End-to-end smoke test: the non-regression contract of the running system.

Starts the real server (`python -m app serve`) on a free loopback port with a temporary cache
directory, drives it over HTTP like a client would, and exits non-zero on the first failure.
It runs the server in demo mode (the emulated Spotify account) and covers: health, the web app
and the offline API documentation, jobs, request guards, the demo login round trip,
playlists, the v2 fetch of liked songs and a playlist with job polling, the aggregate, a CSV
upload (and a CSV path the API refuses), and
the v1 `tracks` step synchronously and through run-async, and rule sets (text and JSON,
validation, evaluate, previews in payload and library mode, explain), and enrichment
(ReccoBeats from the demo's emulator, a re-run that costs nothing, coverage, a manual override,
a rule on an enriched field, v1 classify), the library query (a filter giving a rule set's
tracks, provenance, a caret error), a bulk tag of all that match and its undo, the job event
stream (a job pushed to its end), and sync (plan, apply creating a playlist, a no-op re-plan, a
forced apply, backup and restore, v1 diff and apply).

    python scripts/smoke.py            # what `make test` runs
    python scripts/smoke.py --keep     # keep the cache directory for inspection
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


class SmokeFailure(Exception):
    pass


JSON_TYPE = {"content-type": "application/json"}  # what the app's own clients send


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def expect(condition: bool, what: str, got: Any = None) -> None:
    if not condition:
        raise SmokeFailure(f"{what}" + (f" (got {got!r})" if got is not None else ""))


def wait_until_up(client: httpx.Client, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeFailure(f"server exited early with code {server.returncode}")
        try:
            if client.get("/pipeline/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SmokeFailure(f"server did not answer within {timeout:.0f}s")


def poll_job(client: httpx.Client, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/pipeline/jobs/{job_id}")
        expect(response.status_code == 200, f"GET job {job_id} answers 200", response.text)
        job: dict[str, Any] = response.json()
        if job["status"] in {"done", "failed", "cancelled"}:
            return job
        time.sleep(0.05)
    raise SmokeFailure(f"job {job_id} did not finish within {timeout:.0f}s")


def check_health(client: httpx.Client, cache_dir: Path) -> None:
    health = client.get("/pipeline/health").json()
    expect(health["status"] == "ok", "health status is ok", health["status"])
    demo_dir = str((cache_dir / "demo").resolve())
    expect(health["cache_dir"] == demo_dir, "demo data lives in <cache>/demo", health["cache_dir"])
    expect(
        {"jobs", "rules", "tracks", "tokens"} <= {s["name"] for s in health["stores"]},
        "health lists the stores",
    )
    expect(health["quarantined"] == [], "nothing quarantined in a fresh cache dir")


def check_web(client: httpx.Client, _cache_dir: Path) -> None:
    """The web app at / for a browser (or the page saying how to build it), the JSON index for
    API clients, the documentation offline, and the security headers."""
    html = {"accept": "text/html,*/*;q=0.8"}
    page = client.get("/sources", headers=html)
    built = (ROOT / "web" / "dist" / "index.html").exists()
    if built:
        expect(page.status_code == 200, "a browser gets the app on /sources", page.status_code)
        expect('<div id="root">' in page.text, "the app's page is served", page.text[:200])
    else:
        expect(page.status_code == 503 and "make run" in page.text, "unbuilt: how to build it")
    policy = page.headers.get("content-security-policy", "")
    expect("script-src 'self'" in policy, "the app's pages carry the CSP", policy)
    index = client.get("/", headers={"accept": "*/*"})
    expect(index.json().get("docs") == "/docs", "API clients get the JSON index at /", index.text)
    docs = client.get("/docs")
    expect(docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text, "/docs")
    bundle = client.get("/docs-assets/swagger-ui-bundle.js")
    expect(bundle.status_code == 200 and len(bundle.content) > 100_000, "Swagger UI offline")


def check_jobs(client: httpx.Client, _cache_dir: Path) -> None:
    misspelt = client.post("/pipeline/verify/run-async", json={"metadata": {"from": "smoke"}})
    expect(misspelt.status_code == 422, "a key the step does not take is 422", misspelt.status_code)
    expect("from" in misspelt.json()["detail"], "the 422 names the key", misspelt.json())
    started = client.post("/pipeline/verify/run-async", json={"metadata": {}})
    expect(started.status_code == 202, "run-async answers 202", started.status_code)
    job = started.json()
    expect(job["status"] in {"pending", "running"}, "a new job is pending", job["status"])
    done = poll_job(client, job["id"])
    expect(done["status"] == "done", "verify job finishes", done)
    expect(done["payload"]["ok"] is True, "verify finds every store healthy", done["payload"])
    expect(done["metadata"] == {}, "metadata is kept as sent", done["metadata"])

    listing = client.get("/pipeline/jobs", params={"step": "verify"}).json()
    expect(listing["items"][0]["id"] == job["id"], "jobs list shows the newest job first")

    unknown = client.post("/pipeline/no_such_step/run-async")
    expect(unknown.status_code == 404, "unknown step is 404", unknown.status_code)
    expect("verify" in unknown.json()["known_steps"], "404 lists the known steps")

    bad = client.post("/pipeline/verify/run-async", json={"metadata": "nope"})
    expect(bad.status_code == 422, "bad body is 422", bad.status_code)

    finished = client.post(f"/pipeline/jobs/{job['id']}/cancel")
    expect(finished.status_code == 409, "cancelling a finished job is 409", finished.status_code)
    missing = client.get("/pipeline/jobs/0000")
    expect(missing.status_code == 404, "unknown job is 404", missing.status_code)


def check_guards(client: httpx.Client, _cache_dir: Path) -> None:
    foreign = client.get("/pipeline/health", headers={"host": "evil.example"})
    expect(foreign.status_code == 400, "foreign Host header is refused", foreign.status_code)
    form = client.post(
        "/pipeline/verify/run-async",
        content=b"a=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    expect(form.status_code == 415, "non-JSON body is refused", form.status_code)
    cross_site = client.post(
        "/pipeline/diff",
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    )
    expect(cross_site.status_code == 403, "a cross-site write is refused", cross_site.status_code)
    bare = client.post("/pipeline/verify/run-async", headers={"content-type": ""})
    expect(
        bare.status_code == 415, "a body-less write without JSON type is refused", bare.status_code
    )
    docs = client.get("/openapi.json").json()
    expect("/pipeline/{step}/run-async" in docs["paths"], "OpenAPI documents run-async")


def check_demo_login(client: httpx.Client, _cache_dir: Path) -> None:
    before = client.get("/auth/status").json()
    expect(before["demo_mode"] is True, "the server says it runs in demo mode", before)
    expect(before["login_required"] is True, "not connected before login", before)
    expect(bool(before["auth_url"]), "status offers an auth_url", before)
    unauthorised = client.get("/spotify/playlists")
    expect(unauthorised.status_code == 401, "Spotify calls need a login", unauthorised.text)
    expect(unauthorised.json()["error"] == "login_required", "401 says login_required")
    # The real flow: our /auth/login -> emulated consent page -> our /auth/callback.
    page = client.get("/auth/login", follow_redirects=True)
    expect(page.status_code == 200, "login round trip ends on our callback", page.status_code)
    after = client.get("/auth/status").json()
    expect(after["connected"] is True and bool(after["user_name"]), "connected after login", after)
    spec = client.get("/openapi.json").json()
    expect("Demo mode" in spec["info"]["description"], "OpenAPI says demo mode")


def check_sources(client: httpx.Client, _cache_dir: Path) -> None:
    playlists = client.get("/spotify/playlists").json()
    readable = [p for p in playlists if p["readable"]]
    followed = [p for p in playlists if not p["readable"]]
    expect(bool(readable) and bool(followed), "playlists: some readable, some followed")
    expect(all(p["reason"] for p in followed), "unreadable playlists say why")
    chosen = max(readable, key=lambda p: p["track_count"])
    body = {
        "sources": [
            {"source_type": "liked"},
            {"source_type": "playlist", "source_id": chosen["id"], "label": "mine"},
        ]
    }
    started = client.post("/pipeline/tracks/fetch-sources", json=body)
    expect(started.status_code == 202, "fetch-sources answers 202", started.text)
    jobs = started.json()["jobs"]
    expect(len(jobs) == 2, "one job per source", len(jobs))
    done = [poll_job(client, job["id"]) for job in jobs]
    expect(all(job["status"] == "done" for job in done), "both fetch jobs finish", done)
    liked = next(job for job in done if job["metadata"]["source_type"] == "liked")
    view = client.get("/pipeline/tracks/aggregate", params={"limit": 5}).json()
    expect(view["total"] >= liked["payload"]["tracks"], "aggregate holds every liked track")
    keys = {source["key"] for source in view["sources"]}
    expect({"liked", f"playlist:{chosen['id']}"} <= keys, "aggregate lists both sources", keys)
    expect(all(track["sources"] for track in view["tracks"]), "each track names its sources")
    refused = client.post(
        "/pipeline/tracks/fetch-sources",
        json={"sources": [{"source_type": "playlist", "source_id": followed[0]["id"]}]},
    )
    expect(refused.status_code == 403, "a followed playlist is refused", refused.status_code)
    # CSV files come over HTTP as uploads; a path outside the import folder is never read.
    track = view["tracks"][0]
    text = f'"Track URI","Track Name"\n"spotify:track:{track["id"]}","{track["name"]}"\n'
    upload = client.post(
        "/pipeline/tracks/import-csv", json={"filename": "../Smoke.csv", "content": text}
    )
    expect(upload.status_code == 202, "a CSV upload answers 202", upload.text)
    stored = upload.json()["file"]["path"]
    expect(stored.endswith("/imports/Smoke.csv"), "the server names the upload", stored)
    imported = poll_job(client, upload.json()["job"]["id"])
    expect(imported["status"] == "done", "the uploaded CSV is fetched", imported)
    expect(imported["payload"]["entries"] == 1, "the upload's one row is read", imported)
    outside = client.post(
        "/pipeline/tracks/fetch-sources",
        json={"sources": [{"source_type": "csv", "source_id": "/etc/passwd"}]},
    )
    expect(outside.status_code == 403, "a CSV path outside is refused", outside.status_code)
    expect("root:" not in outside.text, "the refusal quotes nothing", outside.text)


def check_v1_tracks(client: httpx.Client, _cache_dir: Path) -> None:
    sync = client.post("/pipeline/tracks")
    expect(sync.status_code == 200, "POST /pipeline/tracks answers 200", sync.text)
    job = sync.json()
    expect(job["status"] == "done", "the synchronous v1 step is done", job["status"])
    expect(
        job["payload"]["mode"] == "unchanged",
        "nothing changed since the v2 fetch",
        job["payload"]["mode"],
    )
    expect(
        job["payload"]["requests"] == 1,
        "an unchanged refresh costs one request",
        job["payload"]["requests"],
    )
    queued = client.post("/pipeline/tracks/run-async")
    expect(queued.status_code == 202, "v1 run-async answers 202", queued.status_code)
    expect(poll_job(client, queued.json()["id"])["status"] == "done", "v1 async job finishes")


def check_rules(client: httpx.Client, _cache_dir: Path) -> None:
    saved = client.post(
        "/data/rules",
        json={
            "id": "smoke-long",
            "name": "Long ones",
            "text": "duration>200\nsort by duration desc",
        },
    )
    expect(saved.status_code == 200, "a rule set in the text syntax is saved", saved.text)
    rule_set = saved.json()
    expect(
        rule_set["text"] == "duration > 200\nsort by duration desc",
        "the saved rule set comes back in canonical text",
        rule_set["text"],
    )
    expect(rule_set["rules"]["conditions"][0]["operator"] == "gt", "text becomes the JSON tree")
    listed = [item["id"] for item in client.get("/data/rules").json()]
    expect("smoke-long" in listed, "the rule set is listed", listed)

    bad = {"id": "smoke-bad", "name": "Bad", "text": "duratoin > 200"}
    report = client.post("/data/rules/validate", json=bad).json()
    expect(report["valid"] is False, "a misspelt field is invalid", report)
    expect(report["errors"][0]["hint"] == "did you mean 'duration'?", "did-you-mean", report)
    refused = client.post("/data/rules", json=bad)
    expect(refused.status_code == 422, "an invalid rule set is refused", refused.status_code)
    expect(refused.json()["error"] == "rules_invalid", "422 says rules_invalid", refused.text)
    expect(client.get("/data/rules/smoke-bad").status_code == 404, "nothing saved on failure")

    group = {"operator": "and", "conditions": [{"field": "bpm", "operator": "gte", "value": 120}]}
    for bpm, wanted in ((128, True), (90, False)):
        evaluated = client.post(
            "/data/rules/evaluate", json={"rules": group, "enrichment": {"bpm": bpm}}
        ).json()
        expect(evaluated == {"matches": wanted}, f"evaluate bpm {bpm}", evaluated)

    payload = {
        "rules": [{"id": "fast", "name": "Fast", "rules": group}],
        "tracks": [{"track_id": f"t{bpm}", "enrichment": {"bpm": bpm}} for bpm in (100, 120, 140)],
    }
    seed = client.post("/pipeline/playlists/preview-from-rules", json=payload).json()
    expect(
        seed
        == {
            "playlists": [
                {
                    "rule_id": "fast",
                    "rule_name": "Fast",
                    "track_ids": ["t120", "t140"],
                    "track_count": 2,
                }
            ]
        },
        "preview in payload mode keeps the seed contract",
        seed,
    )

    library = client.post("/pipeline/playlists/preview-from-rules", json={}).json()
    mine = next(p for p in library["playlists"] if p["rule_id"] == "smoke-long")
    expect(mine["track_count"] > 0, "library preview places tracks", mine["track_count"])
    partition = library["partition"]
    expect(partition["tracks"] > mine["track_count"], "some tracks are shorter", partition)
    expect(
        partition["nowhere"]["count"] == partition["tracks"] - partition["placed"],
        "the partition adds up",
        partition["nowhere"]["count"],
    )
    first = mine["track_ids"][0]
    why = client.post(
        "/pipeline/playlists/explain", json={"track_id": first, "rule_id": "smoke-long"}
    ).json()
    expect(why["outcome"] == "included", "explain says why a track is in", why)


def check_enrichment(client: httpx.Client, _cache_dir: Path) -> None:
    providers = {row["id"]: row for row in client.get("/data/providers").json()}
    expect(providers["reccobeats"]["enabled"], "the demo enables ReccoBeats", providers)
    started = client.post("/pipeline/enrich", json={"providers": ["reccobeats"], "source": "liked"})
    expect(started.status_code == 202, "POST /pipeline/enrich answers 202", started.text)
    job = poll_job(client, started.json()["jobs"][0]["id"], timeout=120.0)
    expect(job["status"] == "done", "the enrich job finishes", job)
    report = job["payload"]
    expect(report["matched"] > 0, "ReccoBeats matched tracks", report)
    expect(report["failed"] == 0, "no track failed", report)
    again = client.post("/pipeline/enrich", json={"providers": ["reccobeats"], "source": "liked"})
    rerun = poll_job(client, again.json()["jobs"][0]["id"])["payload"]
    expect(rerun["requests"] == 0 and rerun["cached"] == report["total"], "a re-run is free", rerun)

    energy = {
        track_id: entries[0]["categories"]["energy"]
        for track_id, entries in client.get("/data/enrichments", params={"provider": "reccobeats"})
        .json()
        .items()
        if not entries[0]["not_found"] and "energy" in entries[0]["categories"]
    }
    coverage = {
        row["field"]: row for row in client.get("/data/enrichments/coverage").json()["fields"]
    }
    expect(
        coverage["energy"]["tracks"] == len(energy), "coverage counts energy", coverage["energy"]
    )
    calm = sorted(energy, key=energy.__getitem__)[0]
    patched = client.patch(f"/data/enrichments/{calm}", json={"set": {"energy": 0.99}})
    expect(patched.status_code == 200, "PATCH sets a manual value", patched.text)
    expect(patched.json()["provenance"]["energy"] == "manual", "the manual value wins")
    saved = client.post(
        "/data/rules",
        json={
            "id": "smoke-energy",
            "name": "Energetic",
            "text": "energy > 0.8\nsort by energy desc",
        },
    )
    expect(saved.status_code == 200, "a rule on an enriched field saves", saved.text)
    preview = client.post(
        "/pipeline/playlists/preview-from-rules", json={"rule_ids": ["smoke-energy"]}
    ).json()
    placed = next(p for p in preview["playlists"] if p["rule_id"] == "smoke-energy")
    energy[calm] = 0.99
    expected = {track_id for track_id, value in energy.items() if value > 0.8}
    expect(set(placed["track_ids"]) == expected, "the rule previews the enriched tracks", placed)
    classified = client.post("/pipeline/classify").json()
    expect(classified["status"] == "done", "v1 classify runs", classified)
    labels = client.get("/data/classifications/mood_v1").json()
    expect(
        labels[calm]["labels"]["mood"] in {"happy", "energetic"}, "a high energy mood", labels[calm]
    )
    expect(calm in placed["track_ids"], "the manual value put the calmest track in")
    ranked = [energy[track_id] for track_id in placed["track_ids"]]
    expect(ranked == sorted(ranked, reverse=True), "sorted by energy, highest first", ranked[:5])


def check_library(client: httpx.Client, _cache_dir: Path) -> None:
    query = {"filter": "energy > 0.8", "sort": [{"field": "energy", "direction": "desc"}]}
    page = client.post(
        "/data/library/query", json={**query, "fields": ["name", "energy"], "limit": 500}
    )
    expect(page.status_code == 200, "POST /data/library/query answers", page.text)
    body = page.json()
    preview = client.post(
        "/pipeline/playlists/preview-from-rules", json={"rule_ids": ["smoke-energy"]}
    ).json()
    placed = next(p for p in preview["playlists"] if p["rule_id"] == "smoke-energy")
    ids = [row["id"] for row in body["rows"]]
    expect(body["total"] == len(placed["track_ids"]), "as many tracks as the rule set", body)
    expect(ids == placed["track_ids"][:500], "the rule set's tracks, in its order", ids[:5])
    first = body["rows"][0]
    expect(first["provenance"]["energy"][0]["provider"] in {"manual", "reccobeats"}, "provenance")
    bad = client.post("/data/library/query", json={"filter": "energy >"})
    expect(bad.status_code == 422 and bad.json()["error"] == "rules_invalid", "a caret error")
    tagged = client.post(
        "/data/enrichments/manual", json={"filter": "energy > 0.8", "add_tags": ["smoke"]}
    ).json()
    expect(tagged["updated"] == body["total"] and tagged["undo"], "tag all that match", tagged)
    undone = client.post("/data/enrichments/manual/undo")
    expect(undone.status_code == 200, "undo the bulk edit", undone.text)
    expect(undone.json()["restored"] == body["total"], "undo puts every track back")
    again = client.post("/data/library/query", json={"filter": 'tags has any ["smoke"]'})
    expect(again.json()["total"] == 0, "no track keeps the undone tag", again.json()["total"])


def check_job_events(client: httpx.Client, _cache_dir: Path) -> None:
    with client.stream("GET", "/pipeline/jobs/events", timeout=30.0) as stream:
        expect(stream.status_code == 200, "GET /pipeline/jobs/events answers")
        lines = stream.iter_lines()
        expect("event: snapshot" in lines, "the stream starts with a snapshot")
        job = client.post("/pipeline/verify/run-async").json()
        event = ""
        for line in lines:
            if line.startswith("event:"):
                event = line
            elif event == "event: job" and line.startswith("data:"):
                pushed = json.loads(line.removeprefix("data:"))
                if pushed["id"] == job["id"] and pushed["status"] == "done":
                    return
        raise SmokeFailure("the stream ended before the job's end was pushed")


def check_sync(client: httpx.Client, _cache_dir: Path) -> None:
    def save(text: str) -> None:
        body = {
            "id": "smoke-sync",
            "name": "Smoke sync",
            "text": text,
            "target_playlist_name": "Smoke sync",
            "sync_mode": "replace",
        }
        saved = client.post("/data/rules", json=body)
        expect(saved.status_code == 200, "a rule set with a target saves", saved.text)

    def plan() -> dict[str, Any]:
        made = client.post("/pipeline/playlists/plan", json={"rule_ids": ["smoke-sync"]})
        expect(made.status_code == 200, "POST /pipeline/playlists/plan answers 200", made.text)
        return dict(made.json()["plans"][0])

    def apply(plan_id: str) -> dict[str, Any]:
        started = client.post("/pipeline/playlists/apply", json={"plan_id": plan_id})
        expect(started.status_code == 202, "apply starts a job", started.text)
        job = poll_job(client, started.json()["id"])
        expect(job["status"] == "done", "the apply job finishes", job)
        return dict(job["payload"]["applied"][0])

    def live(playlist_id: str) -> list[str | None]:
        items = client.get(f"/spotify/playlists/{playlist_id}/items").json()["items"]
        return [item["uri"] for item in items]

    save("duration > 240\nsort by duration desc")
    first = plan()
    expect(first["create"] and first["summary"]["adds"] > 0, "the first plan creates", first)
    created = apply(first["id"])
    playlist_id = created["playlist_id"]
    expect(live(playlist_id) == first["plan"]["result"], "the playlist holds the plan's result")
    expect(plan()["summary"]["writes"] == 0, "an unchanged playlist needs no write")
    save("duration > 300\nsort by duration desc")
    second = plan()
    expect(second["summary"]["removes"] > 0, "a narrower rule removes tracks", second["summary"])
    forced = client.post(
        "/pipeline/playlists/apply",
        json={"plan_id": second["id"], "force": [g["guard"] for g in second["guards"]]},
    )
    expect(forced.status_code == 202, "apply with the tripped guards forced", forced.text)
    expect(poll_job(client, forced.json()["id"])["status"] == "done", "the second apply finishes")
    backups = client.get("/pipeline/playlists/backups").json()
    expect(backups and backups[0]["playlist_id"] == playlist_id, "a backup was taken", backups)
    restored = client.post("/pipeline/playlists/restore", json={"backup_id": backups[0]["id"]})
    expect(poll_job(client, restored.json()["id"])["status"] == "done", "restore finishes")
    expect(live(playlist_id) == first["plan"]["result"], "restore brings the first state back")
    # The seed's v1 chain: tracks -> external -> classify -> build -> diff -> apply.
    external = client.post("/pipeline/external", json={"metadata": {"providers": ["reccobeats"]}})
    expect(external.json().get("status") == "done", "v1 external runs", external.text)
    classify = client.post("/pipeline/classify/run-async", json={"metadata": {}})
    expect(poll_job(client, classify.json()["id"])["status"] == "done", "v1 classify (async)")
    built = client.post("/pipeline/build", json={"metadata": {"source": "rules"}}).json()
    expect(built.get("status") == "done", "v1 build runs", built)
    rule_ids = [t["rule_id"] for t in built["payload"]["targets"]]
    expect("smoke-sync" in rule_ids, "build lists the rule set with a target", rule_ids)
    queued = client.post(
        "/pipeline/diff/run-async", json={"metadata": {"rule_ids": ["smoke-sync"]}}
    )
    diff = poll_job(client, queued.json()["id"])
    expect(diff.get("status") == "done", "v1 diff runs (async)", diff)
    guards = [g["guard"] for g in diff["payload"]["plans"][0]["guards"]]
    applied = client.post("/pipeline/apply", json={"metadata": {"force": guards}}).json()
    expect(applied.get("status") == "done", "v1 apply applies the pending plans", applied)


CHECKS: list[tuple[str, Callable[[httpx.Client, Path], None]]] = [
    ("health", check_health),
    ("web", check_web),
    ("jobs", check_jobs),
    ("request guards", check_guards),
    ("demo login", check_demo_login),
    ("sources (v2)", check_sources),
    ("tracks (v1)", check_v1_tracks),
    ("rules", check_rules),
    ("enrichment", check_enrichment),
    ("library", check_library),
    ("job events", check_job_events),
    ("sync", check_sync),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary cache dir")
    parser.add_argument("--timeout", type=float, default=30.0, help="start-up timeout (s)")
    args = parser.parse_args()

    cache_dir = Path(tempfile.mkdtemp(prefix="sap-smoke-"))
    port = free_port()
    log_path = cache_dir.parent / f"{cache_dir.name}.log"
    command = [
        sys.executable,
        "-m",
        "app",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--cache-dir",
        str(cache_dir),
    ]
    failures = 0
    with log_path.open("wb") as log:
        env = {**os.environ, "SAP_DEMO": "true"}  # demo mode whatever .env says
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", timeout=10.0, headers=JSON_TYPE
            ) as client:
                wait_until_up(client, server, args.timeout)
                for name, check in CHECKS:
                    try:
                        check(client, cache_dir)
                    except (SmokeFailure, httpx.HTTPError, KeyError, ValueError) as exc:
                        failures += 1
                        print(f"FAIL {name}: {exc}")
                    else:
                        print(f"ok   {name}")
        except SmokeFailure as exc:
            failures += 1
            print(f"FAIL start-up: {exc}")
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                failures += 1
                print("FAIL shutdown: server did not stop within 15s of SIGTERM")
    if failures:
        print(f"--- server log ({log_path}) ---")
        print(log_path.read_text(errors="replace")[-4000:])
    summary = {"checks": len(CHECKS), "failures": failures, "cache_dir": str(cache_dir)}
    if not args.keep:
        shutil.rmtree(cache_dir, ignore_errors=True)
        log_path.unlink(missing_ok=True)
    print("smoke:", json.dumps(summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
