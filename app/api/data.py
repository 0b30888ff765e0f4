"""/data: the stored library."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import ServicesDep
from app.api.schemas import ERROR_RESPONSES
from app.pipeline.sources_manager import aggregate

router = APIRouter(prefix="/data", tags=["data"], responses=ERROR_RESPONSES)


@router.get("/tracks", summary="Fetched tracks, paginated, with text search")
def tracks(
    services: ServicesDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in title/artist/album.")
    ] = None,
    source: Annotated[str | None, Query(description="Only tracks of this source key.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    view = aggregate(services.stores, limit=limit, offset=offset, source=source, q=q)
    return {key: view[key] for key in ("total", "limit", "offset", "tracks")}
