"""Sync plans applied by our real client to the in-process Spotify emulator: the playlist read
back is exactly the plan's result, the emulator saw exactly `write_count` writes, and a run
broken half-way (a 403, injected 5xx, a lost answer) is reported and converges once the
playlist is read and planned again."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from app.demo import DemoEnvironment
from app.emulators.library.model import AccountEntry
from app.emulators.spotify.emulator import SpotifyEmulator
from app.pipeline.sync.executor import ApplyReport, SyncApplyError, execute_plan
from app.pipeline.sync.model import LiveItem, SyncMode, SyncPlan
from app.pipeline.sync.planner import plan_sync
from app.pipeline.sync.replay import apply_calls_locally
from app.spotify.client import SpotifyClient
from tests.helpers.spotify_env import Playlists

WRITES = ("POST", "PUT", "DELETE")
FAST_RETRIES = (0.001, 0.01)


def client_of(
    env: DemoEnvironment, transport: httpx.AsyncBaseTransport | None = None
) -> SpotifyClient:
    """Our real client over the demo's emulator, without client-side rate limit or long waits."""
    access = env.services.spotify
    return SpotifyClient(
        env.settings.model_copy(update={"spotify_rate_limit": 0}),
        access.tokens,
        transport=transport or access.api_transport,
        retry_wait=FAST_RETRIES,
    )


async def read(client: SpotifyClient, playlist_id: str) -> tuple[list[LiveItem], str]:
    """The playlist as the planner sees it, and its snapshot id."""
    entries = await client.get_playlist_tracks(playlist_id)
    snapshot = (await client.get_playlist(playlist_id)).snapshot_id
    return [LiveItem.from_entry(entry) for entry in entries], snapshot


def uris(live: list[LiveItem]) -> list[str | None]:
    return [item.uri for item in live]


def writes_to(emulator: SpotifyEmulator, playlist_id: str) -> list[tuple[str, int | None]]:
    return [
        (r.method, r.status)
        for r in emulator.api_requests(f"/playlists/{playlist_id}/items")
        if r.method in WRITES
    ]


def messy_playlist(emulator: SpotifyEmulator) -> str:
    """An owned playlist with local files, episodes, an unavailable item and two duplicated
    tracks (added again at the end, in the Spotify app)."""
    playlist = max(
        Playlists.of(emulator).owned,
        key=lambda p: len({e.kind for e in p.entries}),
    )
    tracks = [e.track_id for e in playlist.entries if e.track_id is not None]
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    playlist.entries.insert(4, AccountEntry("unavailable", moment, emulator.library.user.id))
    again = [f"spotify:track:{tracks[0]}", f"spotify:track:{tracks[3]}"]
    emulator.edit_playlist_as_other_user(playlist.id, add=again)
    kinds = {e.kind for e in playlist.entries}
    assert {"track", "local", "episode", "unavailable"} <= kinds
    return playlist.id


def fresh_tracks(emulator: SpotifyEmulator, playlist_id: str, count: int) -> list[str]:
    present = set(emulator.playlist_uris(playlist_id))
    library = (f"spotify:track:{track_id}" for track_id in emulator.library.tracks)
    return [uri for uri in library if uri not in present][:count]


def desired_for(emulator: SpotifyEmulator, playlist_id: str, seed: int) -> list[str]:
    """Two thirds of the playlist's tracks (duplicated ones included), shuffled, with new
    tracks mixed in."""
    rng = random.Random(seed)
    present = [
        u for u in dict.fromkeys(emulator.playlist_uris(playlist_id)) if u and ":track:" in u
    ]
    kept = rng.sample(present, k=2 * len(present) // 3)
    for uri in fresh_tracks(emulator, playlist_id, 7):
        kept.insert(rng.randrange(len(kept) + 1), uri)
    return kept


def expected_tracks(plan: SyncPlan, desired: list[str]) -> list[str | None]:
    return [uri for uri in plan.result if uri in set(desired)]


# --- a plan, applied --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["append", "merge", "replace"])
def test_an_applied_plan_reads_back_exactly_as_planned(
    demo_env: DemoEnvironment, mode: SyncMode
) -> None:
    emulator = demo_env.emulator
    playlist_id = messy_playlist(emulator)
    desired = desired_for(emulator, playlist_id, seed=3)
    progress: list[tuple[int, int]] = []

    async def scenario() -> tuple[list[LiveItem], SyncPlan, ApplyReport, list[LiveItem]]:
        async with client_of(demo_env) as client:
            live, snapshot = await read(client, playlist_id)
            plan = plan_sync(live, desired, mode)
            emulator.requests.clear()
            report = await execute_plan(
                client, playlist_id, plan, snapshot, on_progress=lambda *p: progress.append(p)
            )
            writes = len(emulator.requests)
            after, _ = await read(client, playlist_id)
            assert writes == plan.write_count  # nothing but the writes was sent
            return live, plan, report, after

    live, plan, report, after = asyncio.run(scenario())

    assert uris(after) == plan.result
    assert len(writes_to(emulator, playlist_id)) == plan.write_count > 0
    assert all(status in (200, 201) for _, status in writes_to(emulator, playlist_id))
    assert report.complete and report.calls_done == plan.write_count
    assert report.snapshot_id == emulator.snapshot_id(playlist_id) == report.snapshots[-1]
    assert progress == [(n, plan.write_count) for n in range(1, plan.write_count + 1)]
    # Nothing Spotify could not put back was touched.
    assert [u for u in uris(after) if not (u and ":track:" in u)] == [
        u for u in uris(live) if not (u and ":track:" in u)
    ]
    if mode == "replace":
        assert [u for u in uris(after) if u and ":track:" in u] == desired
    assert plan_sync(after, desired, mode).calls == []


def test_a_shuffled_playlist_with_nothing_to_keep_is_rewritten(
    demo_env: DemoEnvironment,
) -> None:
    emulator = demo_env.emulator
    tracks = [f"spotify:track:{track_id}" for track_id in emulator.library.tracks][:130]

    async def scenario() -> tuple[str, SyncPlan, SyncPlan, list[LiveItem]]:
        async with client_of(demo_env) as client:
            created = await client.create_playlist("Auto: everything", "rebuilt by sync")
            playlist_id = created.id
            live, snapshot = await read(client, playlist_id)
            filled = plan_sync(live, tracks, "replace")
            await execute_plan(client, playlist_id, filled, snapshot)
            emulator.requests.clear()
            live, snapshot = await read(client, playlist_id)
            reversed_plan = plan_sync(live, tracks[::-1], "replace")
            await execute_plan(client, playlist_id, reversed_plan, snapshot)
            after, _ = await read(client, playlist_id)
            return playlist_id, filled, reversed_plan, after

    playlist_id, filled, reversed_plan, after = asyncio.run(scenario())

    assert [(c.method, len(c.uris)) for c in filled.calls] == [("POST", 100), ("POST", 30)]
    assert reversed_plan.rewrite is True
    assert writes_to(emulator, playlist_id) == [("PUT", 200), ("POST", 201)]
    assert uris(after) == tracks[::-1]


# --- a plan broken half-way -------------------------------------------------------------------


def test_a_followed_playlist_refuses_the_first_write_and_nothing_changes(
    demo_env: DemoEnvironment,
) -> None:
    emulator = demo_env.emulator
    followed = Playlists.of(emulator).followed[0]
    before = emulator.playlist_uris(followed.id)
    plan = plan_sync([], fresh_tracks(emulator, followed.id, 3), "append")

    async def scenario() -> None:
        async with client_of(demo_env) as client:
            await execute_plan(client, followed.id, plan, followed.snapshot_id)

    with pytest.raises(SyncApplyError) as caught:
        asyncio.run(scenario())

    error = caught.value
    assert (error.status_code, error.code) == (403, "spotify_forbidden")
    assert (error.report.calls_done, error.report.calls_total) == (0, 1)
    assert error.report.snapshot_id == followed.snapshot_id == emulator.snapshot_id(followed.id)
    assert error.report.failed_call == plan.calls[0]
    assert error.extra["apply_report"]["calls_done"] == 0
    assert emulator.playlist_uris(followed.id) == before


def test_server_errors_mid_apply_are_reported_and_a_fresh_plan_converges(
    demo_env: DemoEnvironment,
) -> None:
    emulator = demo_env.emulator
    playlist_id = messy_playlist(emulator)
    desired = desired_for(emulator, playlist_id, seed=11)

    def fail_after_two(done: int, _total: int) -> None:
        if done == 2:
            emulator.config.fail_rate = 1.0  # Spotify starts answering 5xx

    first: dict[str, object] = {}

    async def first_run() -> None:
        async with client_of(demo_env) as client:
            live, snapshot = await read(client, playlist_id)
            plan = plan_sync(live, desired, "replace")
            assert plan.write_count > 3
            first.update(live=live, plan=plan)
            await execute_plan(client, playlist_id, plan, snapshot, on_progress=fail_after_two)

    with pytest.raises(SyncApplyError) as caught:
        asyncio.run(first_run())
    report = caught.value.report
    assert (caught.value.status_code, caught.value.code) == (502, "spotify_unavailable")
    assert report.calls_done == 2 and not report.complete
    assert report.snapshot_id == emulator.snapshot_id(playlist_id)

    emulator.config.fail_rate = 0.0

    async def second_run() -> tuple[list[LiveItem], SyncPlan, list[LiveItem]]:
        async with client_of(demo_env) as client:
            live, snapshot = await read(client, playlist_id)
            plan = plan_sync(live, desired, "replace")
            await execute_plan(client, playlist_id, plan, snapshot)
            after, _ = await read(client, playlist_id)
            return live, plan, after

    halfway, again, after = asyncio.run(second_run())
    live, plan = first["live"], first["plan"]
    assert isinstance(plan, SyncPlan) and isinstance(live, list)
    assert uris(halfway) == apply_calls_locally(uris(live), plan.calls[:2])  # as reported
    assert again.write_count < plan.write_count
    assert uris(after) == again.result
    assert [u for u in uris(after) if u and ":track:" in u] == desired
    assert plan_sync(after, desired, "replace").calls == []


def test_a_lost_answer_to_an_add_is_not_replayed_and_replanning_finds_only_the_rest(
    demo_env: DemoEnvironment,
) -> None:
    emulator = demo_env.emulator
    playlist_id = messy_playlist(emulator)
    desired = desired_for(emulator, playlist_id, seed=5)
    lossy = LoseAnswers("POST")

    async def scenario() -> tuple[list[LiveItem], SyncPlan, ApplyReport, list[LiveItem]]:
        async with client_of(demo_env, lossy.wrap(demo_env.services.spotify.api_transport)) as c:
            live, snapshot = await read(c, playlist_id)
            plan = plan_sync(live, desired, "merge")
            try:
                await execute_plan(c, playlist_id, plan, snapshot)
            except SyncApplyError as error:
                report = error.report
            else:
                pytest.fail("the lost answer should stop the run")
            after, _ = await read(c, playlist_id)
            return live, plan, report, after

    live, plan, report, after = asyncio.run(scenario())

    assert [call.kind for call in plan.calls] == ["add", "remove"]  # nothing wanted lost first
    assert report.calls_done == 0 and report.failed_call == plan.calls[0]
    assert uris(after) == apply_calls_locally(uris(live), plan.calls[:1])  # the add landed once
    assert [method for method, _ in writes_to(emulator, playlist_id)] == ["POST"]
    rest = plan_sync(after, desired, "merge")
    assert [call.kind for call in rest.calls] == ["remove"] and rest.result == plan.result


class LoseAnswers:
    """Lets the first request with `method` reach the emulator, then loses its answer."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.lost = 0

    def wrap(self, inner: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
        assert inner is not None
        return _Lossy(inner, self._should_lose)

    def _should_lose(self, request: httpx.Request) -> bool:
        if request.method == self.method and not self.lost:
            self.lost += 1
            return True
        return False


class _Lossy(httpx.AsyncBaseTransport):
    def __init__(
        self, inner: httpx.AsyncBaseTransport, lose: Callable[[httpx.Request], bool]
    ) -> None:
        self.inner = inner
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.lose(request):
            await response.aclose()
            raise httpx.ReadError("connection reset before the answer", request=request)
        return response
