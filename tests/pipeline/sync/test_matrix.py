"""Every mode x every kind of playlist, applied by our client to the emulator: the playlist read
back is the plan's result, the emulator saw exactly the planned writes — the floor for merge
and append, none when nothing changes — and re-planning finds nothing left to do."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from app.demo import DemoEnvironment
from app.emulators.library.model import AccountEntry
from app.emulators.spotify.emulator import SpotifyEmulator
from app.pipeline.sync.executor import execute_plan
from app.pipeline.sync.model import SyncMode
from app.pipeline.sync.planner import plan_sync
from tests.helpers.spotify_env import Playlists
from tests.pipeline.sync.test_apply import client_of, read, uris, writes_to

Setup = Callable[[SpotifyEmulator, str, list[str]], list[str]]  # -> desired


def _set(emulator: SpotifyEmulator, playlist_id: str, content: list[str]) -> None:
    emulator.state.replace_items(emulator.playlist(playlist_id), content[:100])
    rest = content[100:]
    for start in range(0, len(rest), 100):
        emulator.state.add_items(emulator.playlist(playlist_id), rest[start : start + 100], None)


def empty(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, [])
    return pool[:30]


def unchanged(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, pool[:40])
    return pool[:40]


def small_change(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, pool[:40])
    return pool[2:40] + pool[40:43]


def large_change(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, pool[:250])
    return pool[120:250] + pool[250:420]


def duplicates(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, [*pool[:30], pool[4], pool[9], pool[4]])
    return pool[:25] + pool[30:33]


def local_files(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, pool[:30])
    playlist = emulator.playlist(pid)
    local = next(e for p in Playlists.of(emulator).owned for e in p.entries if e.kind == "local")
    playlist.entries.insert(3, local)
    playlist.entries.insert(10, local)
    return pool[5:35]


def unavailable(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, pool[:30])
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    emulator.playlist(pid).entries.insert(
        7, AccountEntry("unavailable", moment, emulator.library.user.id)
    )
    return list(reversed(pool[:20]))


def edited_in_spotify(emulator: SpotifyEmulator, pid: str, pool: list[str]) -> list[str]:
    _set(emulator, pid, pool[:30])
    emulator.edit_playlist_as_other_user(pid, add=pool[60:63], remove=pool[:2])
    return pool[:30]


CASES: dict[str, Setup] = {
    "new (empty) playlist": empty,
    "unchanged": unchanged,
    "small change": small_change,
    "large change": large_change,
    "duplicates": duplicates,
    "local files": local_files,
    "unavailable items": unavailable,
    "edited in Spotify": edited_in_spotify,
}


@pytest.mark.parametrize("mode", ["replace", "merge", "append"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_mode_on_every_kind_of_playlist(
    demo_env: DemoEnvironment, case: str, mode: SyncMode
) -> None:
    emulator = demo_env.emulator
    playlist_id = Playlists.of(emulator).owned[0].id
    pool = [f"spotify:track:{track_id}" for track_id in emulator.library.tracks]
    desired = CASES[case](emulator, playlist_id, pool)

    async def scenario() -> None:
        async with client_of(demo_env) as client:
            live, snapshot = await read(client, playlist_id)
            plan = plan_sync(live, desired, mode)
            before = len(writes_to(emulator, playlist_id))
            await execute_plan(client, playlist_id, plan, snapshot)
            after, _ = await read(client, playlist_id)
            assert len(writes_to(emulator, playlist_id)) - before == plan.write_count
            assert uris(after) == plan.result
            kept = [u for u in uris(live) if not (u and u.startswith("spotify:track:"))]
            assert [u for u in uris(after) if not (u and u.startswith("spotify:track:"))] == kept
            tracks_after = [u for u in uris(after) if u and u.startswith("spotify:track:")]
            if mode == "replace":
                assert tracks_after == desired
            else:
                assert set(desired) <= set(tracks_after)
                adds = len(plan.adds)
                removes = len(plan.removes) if mode == "merge" else 0
                assert plan.write_count == math.ceil(adds / 100) + math.ceil(removes / 100)
            if case == "unchanged":
                assert plan.write_count == 0
            assert plan_sync(after, desired, mode).calls == []

    asyncio.run(scenario())
