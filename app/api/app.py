"""The application factory. Collaborators are injected; tests pass their own."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Union

from fastapi import FastAPI, Response
from pydantic import BaseModel, TypeAdapter

from app import __version__
from app.api.bodies import StorableJsonBodies
from app.api.errors import install_error_handlers
from app.api.methods import PathMethods
from app.api.middleware import STATE_CHANGING, LocalRequestGuard
from app.api.routes import auth, data, pipeline, rules, spotify, sync
from app.api.schemas import (
    ERROR_RESPONSES,
    SERVER_ERROR_RESPONSES,
    STATE_CHANGE_ERROR_RESPONSES,
    ErrorBody,
    ServiceIndex,
)
from app.api.web import SecurityHeaders, WebApp, default_web_dist, docs_routes
from app.core.config import DEMO_EMULATORS_PREFIX, Settings
from app.pipeline.enrichment.service import RESUMABLE_STEPS
from app.pipeline.jobs.runner import JobManager
from app.pipeline.jobs.steps import StepRegistry
from app.pipeline.registry import default_registry
from app.pipeline.rules.service import warm_library_in_background
from app.pipeline.services import Services
from app.pipeline.sync.unattended import PeriodicSync
from app.spotify.auth.pkce import LoginSessions

if TYPE_CHECKING:  # demo mode's emulators load only when demo mode starts
    from app.demo import DemoEnvironment

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    registry: StepRegistry | None = None,
    demo: DemoEnvironment | None = None,
) -> FastAPI:
    """Build the API for `settings`; the job runner starts and stops with the app.

    Without a Spotify client id (or with `Settings.demo`), the app runs in demo mode: it mounts an
    emulated Spotify account and enrichment providers under `/emulator` and uses the demo's own
    data directory.
    Pass a `demo` environment built beforehand to keep a handle on its emulator (tests do).
    """
    given = settings  # the setup guide speaks of these, not of demo mode's twin
    settings = settings.effective()
    if demo is not None:
        if services is not None:
            raise ValueError("pass either services or demo, not both")
        settings, services = demo.settings, demo.services
    elif services is None:
        if settings.demo_mode:
            # Imported here: only demo mode loads emulator code (tests/test_layers.py).
            from app.demo import DemoEnvironment

            demo = DemoEnvironment.create(settings)
            services = demo.services
        else:
            services = Services.from_settings(settings)
    jobs = JobManager(services, registry or default_registry())
    demo_note = (
        "\n\n**Demo mode**: no Spotify client id is configured, so this server uses a built-in "
        "emulated Spotify account (`/emulator/spotify`) and emulated enrichment providers "
        "(`/emulator/musicbrainz/ws/2`, `/emulator/deezer`…; index at `/emulator/`); nothing "
        "reaches Spotify or any provider."
        if services.spotify.demo
        else ""
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        interrupted = jobs.start(resume=RESUMABLE_STEPS)
        # The first preview takes the fast path.
        warm_library_in_background(services.stores, services.library, then=services.queries.warm)
        log.info(
            "serving with cache dir %s (%d interrupted job(s) found)",
            settings.cache_dir,
            len(interrupted),
        )
        if services.spotify.demo:
            log.warning(
                "DEMO MODE: no SAP_SPOTIFY_CLIENT_ID set; using an emulated Spotify "
                "account (data in %s)",
                settings.cache_dir,
            )
        periodic = PeriodicSync(jobs, settings.sync_every) if settings.sync_every else None
        _app.state.periodic = periodic  # the Sync screen shows its next run
        if periodic is not None:
            periodic.start()
        try:
            yield
        finally:
            if periodic is not None:
                periodic.stop()
            jobs.shutdown()

    app = FastAPI(
        title="spotify-auto-playlists",
        version=__version__,
        summary="Fetch, enrich, group by rules, preview and sync Spotify playlists, locally.",
        description="Local API of spotify-auto-playlists." + demo_note,
        lifespan=lifespan,
        docs_url=None,  # served offline by app.api.web, under the CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.given_settings = given
    app.state.services = services
    app.state.jobs = jobs
    app.state.periodic = None  # the lifespan starts it (`serve --sync-every`)
    app.state.login_sessions = LoginSessions()
    install_error_handlers(app)
    # Innermost: the built web app, for the GETs no API route answers (app/api/web.py).
    app.add_middleware(
        WebApp, dist=settings.web_dist or default_web_dist(), routes=app.router.routes
    )
    # Added early, so it runs inside the guard: bodies are bounded and said to be JSON by then.
    app.add_middleware(StorableJsonBodies, exempt_prefixes=(DEMO_EMULATORS_PREFIX + "/",))
    app.add_middleware(
        LocalRequestGuard,
        allowed_hosts=settings.accepted_hosts(),
        allowed_origins=frozenset(settings.allowed_origins),
        max_body_bytes=settings.max_request_bytes,
        foreign_formats=(DEMO_EMULATORS_PREFIX + "/",),
    )
    # Outermost: a method the path lacks is a 405 naming the ones it has, whatever else.
    app.add_middleware(PathMethods, routes=app.router.routes)
    # Around everything: every answer, refusals included, carries the CSP and its friends.
    app.add_middleware(SecurityHeaders)
    app.include_router(pipeline.router)
    app.include_router(auth.router)
    app.include_router(spotify.router)
    app.include_router(data.router)
    app.include_router(rules.router)
    app.include_router(sync.router)
    app.router.routes.extend(docs_routes)
    if demo is not None:
        app.mount(DEMO_EMULATORS_PREFIX, demo.asgi)

    @app.get(
        "/",
        tags=["meta"],
        summary="Where to start (browsers, which accept text/html, get the web app instead)",
        responses={**ERROR_RESPONSES, **SERVER_ERROR_RESPONSES},
    )
    def root(response: Response) -> ServiceIndex:
        response.headers["vary"] = "Accept"  # the same URL is the web app for browsers
        return ServiceIndex(
            name="spotify-auto-playlists",
            version=__version__,
            docs="/docs",
            health="/pipeline/health",
        )

    _complete_openapi(app, jobs.registry)
    return app


def _complete_openapi(app: FastAPI, registry: StepRegistry) -> None:
    """/openapi.json as FastAPI builds it, completed once with what no route declares: the
    guards' answers (`_document_guard_answers`) and a job's payload (`_document_job_payloads`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        _document_guard_answers(spec)
        _document_job_payloads(spec, registry)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _document_guard_answers(spec: dict[str, Any]) -> None:
    """Every state-changing operation documents what the middleware may answer instead of
    the route (403 cross-origin, 413 too large, 415 not JSON, 422 unstorable JSON): they apply
    to all, so they are added here rather than remembered per route."""
    ref = {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if method.upper() not in STATE_CHANGING:
                continue
            responses = operation.setdefault("responses", {})
            for status, answer in STATE_CHANGE_ERROR_RESPONSES.items():
                responses[str(status)] = {
                    "description": answer["description"],
                    "content": {"application/json": {"schema": ref}},
                }


def _document_job_payloads(spec: dict[str, Any], registry: StepRegistry) -> None:
    """`PipelineJob.payload`, stored as plain JSON (`Any` in the model: the job store stands
    below the steps), documented as the union of what the registered steps return, each model
    a component (one already there is kept: the same model, as FastAPI wrote it)."""
    by_model: dict[type[BaseModel], list[str]] = {}
    for step in registry.specs():
        model = step.result_model
        if model is not None:
            by_model.setdefault(model, []).append(step.name)
    if not by_model:
        return
    payload: Any = Union[tuple(by_model)] | None  # noqa: UP007 - a union built at run time
    union: TypeAdapter[Any] = TypeAdapter(payload)
    schema = union.json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    steps = "; ".join(
        f"{', '.join(f'`{name}`' for name in names)}: `{model.__name__}`"
        for model, names in by_model.items()
    )
    job = components.get("PipelineJob", {}).get("properties", {})
    if "payload" in job:
        job["payload"] = {
            **schema,
            "title": "Payload",
            "description": f"What the step returned, once it ended (by step: {steps}).",
        }
