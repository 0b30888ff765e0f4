"""Replay Spotify write calls on a list of URIs, the way Spotify applies them. Pure: no I/O.

    apply_calls_locally(live_uris, plan.calls) == plan.result  # what tests and previews check

`reordered` is Spotify's reorder on any list; the planner uses it to follow its own moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from app.pipeline.sync.model import ADDABLE, MAX_URIS, REMOVABLE, ApiCall


def reordered(items: list[Any], start: int, before: int, length: int) -> list[Any]:
    """`items` after Spotify's reorder: [start, start + length) moved to just before the entry
    that was at `before` (a `before` inside the range moves nothing)."""
    block = items[start : start + length]
    rest = items[:start] + items[start + length :]
    if before <= start:
        at = before
    elif before >= start + length:
        at = before - length
    else:
        at = start
    return rest[:at] + block + rest[at:]


def apply_calls_locally(
    live_uris: Sequence[str | None], calls: Iterable[ApiCall]
) -> list[str | None]:
    """Replay `calls` on a playlist's URIs (None: unavailable) the way Spotify applies them;
    `ValueError` for a call Spotify would refuse."""
    items = list(live_uris)
    for call in calls:
        items = _apply(items, call)
    return items


def _apply(items: list[str | None], call: ApiCall) -> list[str | None]:
    body = call.body
    if call.method == "DELETE":
        gone = set(_checked(call.uris, REMOVABLE, allow_empty=False))
        return [uri for uri in items if uri is None or uri not in gone]
    if call.method == "POST":
        uris: list[str | None] = list(_checked(call.uris, ADDABLE, allow_empty=False))
        at = body.get("position", len(items))
        if not 0 <= at <= len(items):
            raise ValueError(f"position {at} is outside a playlist of {len(items)}")
        return items[:at] + uris + items[at:]
    if "uris" in body:
        if {"range_start", "insert_before", "range_length"} & body.keys():
            raise ValueError("a PUT either replaces or reorders, never both")
        return list(_checked(call.uris, ADDABLE, allow_empty=True))
    start, before = body["range_start"], body["insert_before"]
    length = body.get("range_length", 1)
    if start < 0 or length < 1 or start + length > len(items) or not 0 <= before <= len(items):
        raise ValueError(f"reorder {start}+{length} before {before} is outside {len(items)}")
    return reordered(items, start, before, length)


def _checked(uris: list[str], prefixes: tuple[str, ...], allow_empty: bool) -> list[str]:
    if len(uris) > MAX_URIS or (not uris and not allow_empty):
        raise ValueError(f"a call carries 1 to {MAX_URIS} URIs, not {len(uris)}")
    for uri in uris:
        if not uri.startswith(prefixes):
            raise ValueError(f"Spotify cannot take {uri!r} here")
    return uris
