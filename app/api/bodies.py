"""JSON bodies hold only what the stores can keep: checked once, before any route runs.

Python's JSON reader accepts more than the stores' writer (orjson) can write back, so such a
value used to travel through validation and crash the save with a 500. Refused here with
``422 unsupported_json`` and the place of the problem (``body.metadata.x: …``):

- integers outside 64 bits (``32589158477190044731``),
- numbers too large for a double (``1e400``), and ``NaN`` / ``Infinity`` (not JSON at all),
- text holding a lone surrogate (``"\\ud800"``: not a character, not writable as UTF-8),
- nesting deeper than `MAX_JSON_DEPTH` levels (the writer stops at 254; a stored value sits
  a few levels down in its file, and no request of this API needs more than ~30).

Bodies that are not JSON at all go on to the route, which says where the syntax broke.
The demo's emulated services (under `/emulator`) speak their own formats and are left alone.

A body is decoded once: orjson (with the garbage collector paused: a payload preview's
28,000 tracks are most of a million objects) reads it, a walk over its containers checks the
depth, and the value is kept in the request's scope for the route (`DecodedJsonRoute`), which
would otherwise decode it again. Only a body orjson refuses, or one that may hold an integer
beyond 64 bits (orjson would read it as a float), takes the slower reader above, which names
the problem and its place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.api.middleware import STATE_CHANGING
from app.core.fs import INT64_MAX, INT64_MIN, paused_gc

MAX_JSON_DEPTH = 64


class UnsupportedJson(ValueError):
    """A JSON value the stores could not keep; the message names its place."""


def _refuse_constant(name: str) -> Any:
    raise UnsupportedJson(f"{name} is not a JSON value; send a number or null")


class _TooLarge(str):
    """The text of a number too large for a double, kept to be named with its place."""

    __slots__ = ()


def _parse_float(text: str) -> float | _TooLarge:
    value = float(text)
    return value if math.isfinite(value) else _TooLarge(text)


def _where(path: list[str | int]) -> str:
    text = "body"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _surrogate(text: str) -> str | None:
    """The first lone surrogate of `text`, escaped (`\\ud800`), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(text[exc.start]):04x}"
    return None


def _shown(key: str) -> str:
    return key if key.isidentifier() and len(key) <= 40 else repr(key[:40])


def check_storable(value: Any) -> None:
    """Raise `UnsupportedJson` naming the first value of `value` the stores cannot keep."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            raise UnsupportedJson(
                f"{_where(path[:3])}…: nested more than {MAX_JSON_DEPTH} levels deep"
            )
        if isinstance(item, dict):
            for key, child in item.items():
                if (bad := _surrogate(key)) is not None:
                    raise UnsupportedJson(f"{_where(path)}: a key holds a lone surrogate ({bad})")
                stack.append((child, [*path, _shown(key)]))
        elif isinstance(item, list):
            stack.extend((child, [*path, index]) for index, child in enumerate(item))
        elif isinstance(item, _TooLarge):
            raise UnsupportedJson(f"{_where(path)}: number {item[:40]} is too large for a double")
        elif isinstance(item, str):
            if (bad := _surrogate(item)) is not None:
                raise UnsupportedJson(
                    f"{_where(path)}: text holds a lone surrogate ({bad}), which is not a "
                    "character; send the whole pair or the character itself"
                )
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int) and not INT64_MIN <= item <= INT64_MAX:
            digits = str(item)
            shown = digits if len(digits) <= 40 else f"{digits[:40]}…"
            raise UnsupportedJson(
                f"{_where(path)}: integer {shown} does not fit in 64 bits "
                f"({INT64_MIN} … {INT64_MAX})"
            )


def decode_storable(body: bytes) -> Any:
    """`body` as JSON, or `UnsupportedJson`; plain syntax errors raise `json.JSONDecodeError`."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_parse_float)
    except RecursionError:
        raise UnsupportedJson(f"body: nested more than {MAX_JSON_DEPTH} levels deep") from None
    check_storable(value)
    return value


# A run of 19 digits or more (anywhere, strings included: a false alarm only costs the slower
# reader) may be an integer beyond 64 bits, which orjson would turn into a float. Found by
# mapping every digit to "0" and the rest to " " (in C: ~20 ms for 10 MB, a regex takes 100+).
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= code <= 0x39 else 0x20 for code in range(256))
_LONG_DIGITS = b"0" * 19
_DECODED = "sap.decoded_json"
_MISSING = object()


def _shallow_enough(value: Any) -> bool:
    """Whether `value` nests at most `MAX_JSON_DEPTH` levels (a walk over containers only)."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(MAX_JSON_DEPTH):
        if not level:
            return True
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below += [child for child in children if type(child) is dict or type(child) is list]
        level = below
    return not any(level)  # a container this deep may hold nothing more


def decode_fast(body: bytes) -> Any:
    """`body` decoded by orjson when it certainly holds only storable values; `_MISSING` when
    the slower `decode_storable` must look (and name the problem, if any)."""
    if _LONG_DIGITS in body.translate(_DIGITS_AS_ZEROS):
        return _MISSING
    try:
        with paused_gc():
            value = orjson.loads(body)
    except orjson.JSONDecodeError:  # not JSON, NaN, 1e400, a lone surrogate, too deep…
        return _MISSING
    return value if _shallow_enough(value) else _MISSING


class DecodedJsonRoute(APIRoute):
    """Routes whose JSON body the middleware already decoded take that value as it is."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(_DecodedRequest(request.scope, request.receive))

        return route_handler


class _DecodedRequest(Request):
    async def json(self) -> Any:
        decoded = self.scope.get(_DECODED, _MISSING)
        if decoded is _MISSING:
            return await super().json()
        return decoded


class StorableJsonBodies:
    """Refuses, before routing, a JSON body whose values the stores cannot keep."""

    def __init__(self, app: ASGIApp, *, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Inside the request guard: a state-changing request that got here says it is JSON.
        if (
            scope["type"] != "http"
            or scope["method"] not in STATE_CHANGING
            or scope["path"].startswith(self.exempt_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if complete and body:
            decoded = decode_fast(body)
            if decoded is not _MISSING:
                scope[_DECODED] = decoded
                await self.app(scope, _replay(body, complete, receive), send)
                return
            try:
                decode_storable(body)
            except UnsupportedJson as exc:
                await error_response(422, "unsupported_json", str(exc))(scope, receive, send)
                return
            except (ValueError, UnicodeDecodeError):
                pass  # not JSON at all: the route says where the syntax broke
        await self.app(scope, _replay(body, complete, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it arrived whole (False: the client went away)."""
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A `receive` that hands the route the body already read, then the server's messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if complete:
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}
        return await receive()

    return replay
