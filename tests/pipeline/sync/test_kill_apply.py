"""An apply killed with SIGKILL at any write ends exactly as planned once the work is picked up
again — in each mode, into a new playlist and into an existing one.

Each trial plans a change, then runs the real `sap apply PLAN --demo` in a process of its own
(tests/helpers/sap_process.py) and SIGKILLs it at a random write: after `k` writes reached the
emulated Spotify — whose account lives in a state file every demo process shares — the test
takes the state file's lock (so the next write waits inside its request) and kills the process
(k = 0: right before the first write, once the plan records its attempt). Then the work is
picked up one of three ways, in turn: `sap apply PLAN` again; a restarted server (which marks
the job interrupted) and `POST /pipeline/jobs/{id}/rerun`; or a new plan — which must not take
the half-written playlist for someone's edit — applied. Afterwards the playlist equals the
killed plan's target entry for entry, exactly one playlist has the target's name, and nothing
is left marked as being written.

`KILL_APPLY_SEED` replays a run; `KILL_APPLY_TRIALS` sets the trials per case (default 3).
The figures are in docs/reliability.md ("Applies under failure").
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Iterator
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest

from app.core.models import JobStatus
from app.demo import demo_state_file
from app.emulators.spotify.persistence import StateFile
from app.pipeline.sync.applying import apply_plan
from app.pipeline.sync.plans import StoredPlan
from app.pipeline.sync.service import get_plan, plan_rule_sets
from tests.helpers.sap_process import sap_context, start_sap
from tests.helpers.spotify_env import DemoServer, demo_settings

SEED = int(os.environ.get("KILL_APPLY_SEED", random.randrange(2**32)))
TRIALS = int(os.environ.get("KILL_APPLY_TRIALS", "3"))
WAIT = 30.0  # seconds for any wait on a child, so a hang fails instead of blocking
DEMO: dict[str, Any] = {"demo_tracks": 400, "demo_playlists": 6}
SAP_ENV = {"SAP_DEMO_TRACKS": "400", "SAP_DEMO_PLAYLISTS": "6"}
RECOVERIES = ("reapply", "rerun", "replan")


@pytest.fixture(scope="module")
def context() -> ForkServerContext:
    return sap_context()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DemoServer]:
    with DemoServer.open(demo_settings(tmp_path / "cache", **DEMO)) as server:
        server.login()
        server.fetch({"source_type": "liked"})
        yield server


class Trial:
    """One plan, its killed apply and its recovery."""

    def __init__(
        self, server: DemoServer, context: ForkServerContext, tmp_path: Path, name: str
    ) -> None:
        self.server = server
        self.services = server.env.services
        self.context = context
        self.root = server.cache_dir.parent  # the CLI's --cache-dir (demo data in ./demo)
        self.cwd = str(tmp_path)
        self.log = str(tmp_path / f"{name}.log")
        self.state = StateFile(demo_state_file(server.env.settings))
        self.plans = server.cache_dir / "plans.json"

    def save_rule(self, rule_id: str, text: str, **target: Any) -> None:
        body = {"id": rule_id, "name": rule_id, "text": text, **target}
        response = self.server.client.post("/data/rules", json=body)
        assert response.status_code == 200, response.text

    def plan(self, rule_id: str) -> StoredPlan:
        [made] = asyncio.run(plan_rule_sets(self.services, [rule_id])).plans
        return made

    def sap(self, *argv: str) -> BaseProcess:
        args = [*argv, "--cache-dir", str(self.root), "--demo"]
        return start_sap(self.context, args, SAP_ENV, self.cwd, self.log)

    def kill_at(self, process: BaseProcess, writes: int) -> bool:
        """SIGKILL `process` once `writes` writes reached Spotify (0: when the apply has
        recorded what it is about to write); False when it ended first."""
        deadline = time.monotonic() + WAIT
        if writes == 0:
            before = self.plans.stat().st_mtime_ns
            while process.is_alive() and self.plans.stat().st_mtime_ns == before:
                assert time.monotonic() < deadline, "the apply never started"
        seen, landed = self.state.signature(), 0
        while landed < writes and process.is_alive():
            now = self.state.signature()
            if now != seen:
                seen, landed = now, landed + 1
            assert time.monotonic() < deadline, f"only {landed} of {writes} writes landed"
        with self.state.locked():  # the next write waits for the lock, inside its request
            alive = process.is_alive()
            if alive:
                os.kill(process.pid or 0, signal.SIGKILL)
            process.join(WAIT)
        assert process.exitcode in (-signal.SIGKILL, 0), self.failure(process)
        return alive and process.exitcode == -signal.SIGKILL

    def failure(self, process: BaseProcess) -> str:
        return f"sap exited {process.exitcode}:\n{Path(self.log).read_text(errors='replace')}"

    def recover(self, made: StoredPlan, how: str) -> StoredPlan:
        """Pick the killed apply up `how`; the plan that finished the work."""
        force = [f"--force={guard.guard}" for guard in made.guards]
        if get_plan(self.services, made.id).status == "applied":
            return made  # killed after its last record: nothing left to do
        if how == "reapply":
            said = Path(self.log).read_text().count("resumed an apply")
            process = self.sap("apply", made.id, *force)
            process.join(WAIT)
            assert process.exitcode == 0, self.failure(process)
            assert Path(self.log).read_text().count("resumed an apply") == said + 1
        elif how == "rerun":
            killed = [
                job
                for job in self.services.stores.jobs.load_jobs()
                if job.step == "apply" and job.metadata.get("plan_id") == made.id
            ][-1]
            with DemoServer.open(self.server.env.settings) as restarted:  # marks it interrupted
                old = restarted.client.get(f"/pipeline/jobs/{killed.id}").json()
                assert (old["status"], old["error"]["code"]) == ("failed", "interrupted")
                response = restarted.client.post(f"/pipeline/jobs/{killed.id}/rerun")
                assert response.status_code == 202, response.text
                job = restarted.poll(response.json()["id"])
                assert job["status"] == JobStatus.DONE, job
                assert job["payload"]["applied"][0]["resumed"] is True
        else:
            again = self.plan(str(made.rule_id))
            assert "drift" not in {g.guard for g in again.guards}, again.guards
            assert again.plan.result == made.plan.result
            asyncio.run(apply_plan(self.services, again.id, [g.guard for g in again.guards]))
            return again
        return made


def named(server: DemoServer, name: str) -> list[str]:
    emulator = server.emulator
    return [pid for pid in emulator.playlist_ids() if emulator.playlist(pid).name == name]


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("target", ["new", "existing"])
@pytest.mark.parametrize("mode", ["append", "merge", "replace"])
def test_an_apply_killed_at_any_write_ends_exactly_as_planned(
    server: DemoServer, context: ForkServerContext, tmp_path: Path, mode: str, target: str
) -> None:
    rng = random.Random(f"{SEED}-{mode}-{target}")
    trial = Trial(server, context, tmp_path, f"{mode}-{target}")
    emulator = server.emulator
    owned = max(server.playlists.owned, key=lambda p: len({e.kind for e in p.entries}))
    assert {"local", "episode"} <= {e.kind for e in owned.entries}
    liked = [f"spotify:track:{saved.track_id}" for saved in emulator.library.liked]
    kills = points = 0
    stops: list[str] = []  # where each kill landed: writes done / writes planned
    for number in range(TRIALS):
        where = f"seed={SEED} {mode}/{target} trial {number}"
        rule_id = f"{mode}-{target}-{number}"
        if target == "new":
            name = f"Killed {mode} {number}"
            trial.save_rule(
                rule_id,
                "duration > 120\nsort by random seed 1",
                target_playlist_name=name,
                sync_mode=mode,
            )
        else:
            name = owned.name
            # The playlist as its owner left it, then a first apply the rule set remembers,
            # so that the drift guard is armed for the apply that will be killed.
            start = rng.sample(liked, 40 if mode == "append" else 160)
            start += rng.sample(start, 3)  # duplicates
            tracks = [u for u in emulator.playlist_uris(owned.id) if u and ":track:" in u]
            user = emulator.library.user.id
            emulator.edit_playlist_as_other_user(owned.id, remove=tracks, add=start, user_id=user)
            trial.save_rule(rule_id, "duration > 300", target_playlist_id=owned.id, sync_mode=mode)
            first = trial.plan(rule_id)
            asyncio.run(apply_plan(trial.services, first.id, [g.guard for g in first.guards]))
            text = f"duration > {rng.randint(90, 200)}\nsort by random seed {rng.randint(1, 9)}"
            trial.save_rule(rule_id, text, target_playlist_id=owned.id, sync_mode=mode)
        made = trial.plan(rule_id)
        assert "drift" not in {g.guard for g in made.guards}, where
        writes = len(made.plan.calls) + made.create
        at = rng.randint(0, writes)
        points += writes
        force = [f"--force={guard.guard}" for guard in made.guards]
        killed = trial.kill_at(trial.sap("apply", made.id, *force), at)
        kills += killed
        stops.append(f"{at}/{writes}" if killed else f"{at}/{writes} (ended first)")

        done = trial.recover(made, RECOVERIES[number % len(RECOVERIES)])
        final = get_plan(trial.services, done.id)
        assert final.status == "applied", f"{where}: {final.status}"
        playlist_id = str(final.playlist_id)
        assert emulator.playlist_uris(playlist_id) == made.plan.result, where
        assert named(server, name) == [playlist_id], where
        managed = trial.services.stores.playlists.load()[rule_id]
        assert managed.writing is None and managed.playlist_id == playlist_id, where
    print(
        f"seed={SEED} {mode}/{target}: {TRIALS} trials, {kills} killed mid-apply, "
        f"{points} writes planned; killed at: {', '.join(stops)}"
    )
