"""Faults on the way to Spotify's playlist writes, for tests of applies that fail or die half-way.

    services = services_over(server.env.services, StopAtWrite(3, refuse=BAD_ID))  # the 3rd write
    await apply_plan(services, plan_id)        # Spotify refuses the 3rd write: a real 400

    services = services_over(server.env.services, StopAtWrite(3, kill=True, land=True))
    await apply_plan(services, plan_id)        # raises `Killed` once the 3rd write landed

A transport wraps the emulator's: nothing of our code is replaced. `Killed` is a BaseException,
like the end of the process it stands for: no `except Exception` (nor `AppError`) catches it,
so what the code left on disk is what a SIGKILL there would leave (`finally` blocks aside).
"""

from __future__ import annotations

import dataclasses

import httpx
import orjson

from app.pipeline.services import Services

WRITES = frozenset({"POST", "PUT", "DELETE"})
BAD_ID = (400, "Payload contains a non-existing ID")


class Killed(BaseException):
    """The process died here."""


class StopAtWrite(httpx.AsyncBaseTransport):
    """Lets writes through until the `at`-th (1-based), then: refuses it with `refuse`
    (status, Spotify's message), or (`kill`) raises `Killed` before it is sent or, with
    `land`, once Spotify applied it (its answer lost with the process)."""

    def __init__(
        self,
        at: int,
        *,
        refuse: tuple[int, str] | None = None,
        kill: bool = False,
        land: bool = False,
    ) -> None:
        assert (refuse is None) == kill, "either refuse the write or die at it"
        self.at = at
        self.refuse = refuse
        self.kill = kill
        self.land = land
        self.writes = 0
        self.inner: httpx.AsyncBaseTransport | None = None

    def wrap(self, inner: httpx.AsyncBaseTransport | None) -> StopAtWrite:
        assert inner is not None
        self.inner = inner
        return self

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.inner is not None
        if request.method not in WRITES:
            return await self.inner.handle_async_request(request)
        self.writes += 1
        if self.writes != self.at:
            return await self.inner.handle_async_request(request)
        if self.refuse is not None:
            status, message = self.refuse
            body = orjson.dumps({"error": {"status": status, "message": message}})
            return httpx.Response(
                status, content=body, headers={"content-type": "application/json"}
            )
        if self.land:
            response = await self.inner.handle_async_request(request)
            await response.aclose()
        raise Killed(f"killed at write {self.at}")


def services_over(base: Services, fault: StopAtWrite) -> Services:
    """`base` with its Spotify API requests going through `fault` (same stores, settings)."""
    access = dataclasses.replace(base.spotify, api_transport=fault.wrap(base.spotify.api_transport))
    return Services(
        settings=base.settings,
        stores=base.stores,
        spotify=access,
        provider_transport=base.provider_transport,
    )
