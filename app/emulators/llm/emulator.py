"""`LlmEmulator`: the routes, who may call them (API keys, rate limits) and the completions.

A completion is checked (`protocol`), answered from the truth (`answers`), possibly spoiled
(`faults`) and recorded in `chats`; `ProviderFaults.gateway` wraps the app with latency, bare 5xx,
dropped connections and the request log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.common.clock import Clock
from app.emulators.common.gate import ProviderConfig, ProviderFaults, SlidingWindow
from app.emulators.common.gateway import RequestRecord, mark_fault, remember
from app.emulators.common.transport import ASGIApp
from app.emulators.library.index import LibraryIndex
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack
from app.emulators.llm.answers import Answerer, ChatRecord, find_track_list
from app.emulators.llm.faults import AnswerFaults
from app.emulators.llm.protocol import OpenAiError, completion, json_response, parse_chat

DEFAULT_MODEL = "emulated-llm"
CREATED = 1_700_000_000  # the listed models' creation time


@dataclass
class LlmConfig(ProviderConfig):
    """`models`/`api_keys`: what is accepted (`None`: anything, no key needed); answer faults
    `malformed_rate` + `schema_violation_rate` ≤ 1; `fenced`: clean answers inside a fence;
    `max_answers`: most tracks one answer describes (`None`: all)."""

    models: tuple[str, ...] | None = None
    api_keys: tuple[str, ...] | None = None
    malformed_rate: float = 0.0
    schema_violation_rate: float = 0.0
    fenced: bool = False
    max_answers: int | None = None

    def validate(self) -> None:
        super().validate()
        for name in ("malformed_rate", "schema_violation_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.malformed_rate + self.schema_violation_rate > 1.0:
            raise ValueError("malformed_rate + schema_violation_rate must not exceed 1")
        if self.max_answers is not None and self.max_answers < 0:
            raise ValueError("max_answers must be at least 0 (or None for all)")


class LlmEmulator:
    """An in-memory OpenAI-compatible LLM over `library`; `app` is the ASGI app, `requests`
    the request log and `chats` the completions served."""

    def __init__(
        self, library: GeneratedLibrary, config: LlmConfig | None = None, clock: Clock | None = None
    ) -> None:
        self.library = library
        self.config = config or LlmConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.chats: list[ChatRecord] = []
        self.index = LibraryIndex.of(library)
        self.limiter = SlidingWindow(self.clock)
        self._answerer = Answerer(library, self.index)
        self._faults = AnswerFaults(self.config.fault_seed)
        self._served = 0
        routes = [
            Route("/models", self._models, methods=["GET"]),
            Route("/chat/completions", self._chat, methods=["POST"]),
            Route("/{rest:path}", self._unknown, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
        self._front = ProviderFaults(self.config)
        self.app: ASGIApp = self._front.gateway(
            Starlette(routes=routes), service="llm", clock=self.clock, log=self.requests
        )

    def reset_faults(self) -> None:
        """Replay random and answer faults from `config.fault_seed`; empty the rate windows."""
        self._front.reset()
        self.limiter.reset()
        self._faults.reseed(self.config.fault_seed)

    # -- routes ------------------------------------------------------------------------------

    async def _models(self, request: Request) -> Response:
        try:
            self._admit(request)
        except OpenAiError as error:
            return error.response()
        data = [
            {"id": model, "object": "model", "created": CREATED, "owned_by": "emulator"}
            for model in self.config.models or (DEFAULT_MODEL,)
        ]
        return json_response({"object": "list", "data": data})

    async def _chat(self, request: Request) -> Response:
        try:
            self._admit(request)
            try:
                body = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                raise OpenAiError(
                    400, "We could not parse the JSON body of your request."
                ) from None
            return json_response(self.complete(body))
        except OpenAiError as error:
            return error.response()

    async def _unknown(self, request: Request) -> Response:
        message = f"Invalid URL ({request.method} {request.url.path})"
        return OpenAiError(404, message).response()

    def _admit(self, request: Request) -> None:
        """Check the Bearer key (when keys are configured) and the key's rate limit."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip() if scheme.lower() == "bearer" else ""
        allowed = self.config.api_keys
        if allowed is not None and key not in allowed:
            shown = f"{key[:3]}…{key[-4:]}" if key else "none"
            raise OpenAiError(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")
        wait = self.limiter.hit(key or "anonymous", self.config.rate_limit, self.config.rate_window)
        if wait is not None:
            mark_fault(request, "rate_limit")
            raise OpenAiError(
                429,
                f"Rate limit reached for requests. Please try again in {wait}s.",
                kind="requests",
                code="rate_limit_exceeded",
                headers={"Retry-After": str(wait)},
            )

    # -- completions -------------------------------------------------------------------------

    def complete(self, body: Any) -> dict[str, Any]:
        """The `chat.completion` answering a request body (raises `OpenAiError`)."""
        config = self.config
        model, said = parse_chat(body, config.models)
        prompt = next((text for role, text in reversed(said) if role == "user"), "")
        record = ChatRecord(body, find_track_list(prompt), {})
        told = record.tracks[: config.max_answers]
        answer = {"tracks": [self._answerer.answer(item, record) for item in told]}
        content, finish = self._faults.render(
            answer,
            record,
            seed=config.fault_seed,
            malformed_rate=config.malformed_rate,
            violation_rate=config.schema_violation_rate,
            fenced=config.fenced,
        )
        remember(self.chats, record, self.config.request_log_size)
        self._served += 1
        created = int(self.clock.timestamp())
        return completion(f"chatcmpl-emu{self._served:08d}", created, model, said, content, finish)

    def identify(self, item: dict[str, Any]) -> GeneratedTrack | None:
        """The library track a prompt entry names (folded artist + title; album breaks ties)."""
        return self._answerer.identify(item)

    def describe(self, track: GeneratedTrack) -> dict[str, Any]:
        """What the model says about a track it knows (see the package docstring)."""
        return self._answerer.describe(track)
