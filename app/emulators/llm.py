"""`LlmEmulator`: an OpenAI-compatible chat API whose "model" knows a `Library`, served under
`/llm/v1` (like Ollama's `http://127.0.0.1:11434/v1` or `https://api.openai.com/v1`).

    llm = LlmEmulator(generate_library(seed=1))
    client = httpx.AsyncClient(transport=emulator_transport(llm.app, root_path="/llm/v1"),
                               base_url="http://emulators.test/llm/v1")
    await client.post("/chat/completions", json={"model": "m", "messages": [...]})

Routes:

- `GET /models` → `{"object": "list", "data": [{"id", "object": "model", "created",
  "owned_by"}]}`: `config.models`, or `DEFAULT_MODEL` when any model is accepted.
- `POST /chat/completions`: `model`, `messages` (`[{role, content}]`, content a string or a
  list of text parts), optional `temperature` (0-2) and `response_format` (`text`,
  `json_object` — which, as on OpenAI, needs the word "json" in the messages — or
  `json_schema` with `json_schema.name` and `.schema`). The answer is a `chat.completion`
  (`id`, `created`, `model`, `choices[0].message.content`, `finish_reason`, `usage` counted
  as characters / 4).

What the model says: it reads the first JSON array of objects in the last user message —
`[{"id", "title", "artists", "album", "year"}, …]`, whatever prose surrounds it — identifies
each track by folded artist + title (never by the id, which a real model could not look up;
the album breaks ties), and answers `{"tracks": [{"id" (echoed), "mood", "subgenre",
"energy_level", "language", "occasion", "era", "confidence"}]}` derived from the truth
(`describe`):

- mood and language: the truth's; subgenre: the last (most specific) of its genres;
- energy_level: "low" below `LOW_ENERGY_BELOW` (0.4), "high" from `HIGH_ENERGY_FROM` (0.7),
  otherwise — and when the energy is unknown — "medium";
- occasion: `OCCASIONS[mood]` at that energy level (low, medium, high):
  happy/uplifting → relax, commute, party; energetic → commute, workout, workout;
  angry → reflection, workout, workout; dark → reflection, focus, workout;
  calm → sleep, relax, relax; dreamy → sleep, focus, focus; romantic → romance;
  sad/melancholic → reflection; any other mood → relax;
- era: the decade of `first_release_year`, else of the album's year ("1990s");
- confidence `KNOWN_CONFIDENCE` (0.9). A track it cannot identify still gets an answer, as
  from a real model: `GUESS`, with the decade of the year given, at `GUESS_CONFIDENCE` (0.2).

Errors have OpenAI's body `{"error": {"message", "type", "param", "code"}}`: 400
`invalid_request_error` (body not JSON, a missing or invalid field — `param` names it), 401
`invalid_api_key` (only when `config.api_keys` is set; the key comes as `Authorization: Bearer
…`), 404 `model_not_found` (only when `config.models` is set), 404 for unknown paths, and 429
`rate_limit_exceeded` with `Retry-After` (whole seconds) over `config.rate_limit` requests per
`config.rate_window` s per key (no limit by default, like a local server).

Faults, drawn from a seeded RNG (`config.fault_seed`, three draws per completion): a
`malformed_rate` share of answers is broken JSON (truncated with `finish_reason: "length"`,
a trailing comma, or a fenced block inside chatty prose); a `schema_violation_rate` share is
valid JSON in which one track's entry breaks the schema (energy level as a number, no mood,
an energy level outside the enum, era "90s"). `config.fenced` wraps every clean answer in a
```json fence and `config.max_answers` stops every answer after that many tracks, as small
local models do. `ProviderGate` adds latency, bare 5xx and dropped
connections; `requests` logs every request and `chats` every completion's body, the tracks
it found, who it took them for and the fault it injected.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulators.clock import Clock
from app.emulators.library.index import LibraryIndex, fold
from app.emulators.library_model import Library, Track
from app.emulators.provider_gate import ProviderConfig, ProviderGate, SlidingWindow, mark_fault
from app.emulators.spotify.gateway import RequestRecord
from app.emulators.transport import ASGIApp
from app.emulators.transport import json_response as shared_json_response

# This service answers a bare ``application/json``.
json_response = partial(shared_json_response, charset=False)

DEFAULT_MODEL = "emulated-llm"
KNOWN_CONFIDENCE = 0.9
GUESS_CONFIDENCE = 0.2
LOW_ENERGY_BELOW = 0.4
HIGH_ENERGY_FROM = 0.7
GUESS = {"mood": "calm", "subgenre": "pop", "energy_level": "medium", "language": "en"}
GUESS_ERA = "2000s"
_BRIGHT = ("relax", "commute", "party")
OCCASIONS: dict[str, tuple[str, str, str]] = {  # mood -> occasion at low, medium, high energy
    "happy": _BRIGHT,
    "uplifting": _BRIGHT,
    "energetic": ("commute", "workout", "workout"),
    "angry": ("reflection", "workout", "workout"),
    "dark": ("reflection", "focus", "workout"),
    "calm": ("sleep", "relax", "relax"),
    "dreamy": ("sleep", "focus", "focus"),
    "romantic": ("romance", "romance", "romance"),
    "sad": ("reflection", "reflection", "reflection"),
    "melancholic": ("reflection", "reflection", "reflection"),
}
OTHER_OCCASION = "relax"
ENERGY_LEVELS = ("low", "medium", "high")
MALFORMED = ("truncated", "trailing_comma", "prose")
VIOLATIONS = ("energy_number", "missing_mood", "energy_enum", "era_pattern")
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
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


@dataclass
class ChatRecord:
    """One completion served: the request body, the track list found in the prompt, the
    library track each answered key was taken for (`None`: guessed), the injected fault."""

    body: dict[str, Any]
    tracks: list[dict[str, Any]]
    matched: dict[str, str | None]
    fault: str | None = None  # "malformed:truncated", "schema:missing_mood", …
    spoiled: tuple[str, ...] = ()  # keys whose entry the fault broke (every key if malformed)


class OpenAiError(Exception):
    """An error answer in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
        self.headers = headers

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def energy_level(energy: float | None) -> str:
    """ "low" below 0.4, "high" from 0.7, otherwise (or unknown) "medium"."""
    if energy is None:
        return "medium"
    return (
        "low" if energy < LOW_ENERGY_BELOW else "high" if energy >= HIGH_ENERGY_FROM else "medium"
    )


def occasion(mood: str, level: str) -> str:
    """The occasion of the module docstring's table."""
    row = OCCASIONS.get(mood)
    return OTHER_OCCASION if row is None else row[ENERGY_LEVELS.index(level)]


def era(year: int | None) -> str:
    """1994 -> "1990s"; unknown -> `GUESS_ERA`."""
    return GUESS_ERA if year is None else f"{year // 10 * 10}s"


def year_of(value: Any) -> int | None:
    """The year of "1999-05-17", "1999" or 1999; None for anything else."""
    text = str(value)[:4] if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if len(text) == 4 and text.isdigit() else None


def find_track_list(text: str) -> list[dict[str, Any]]:
    """The first JSON array of objects in `text`, whatever prose or fences surround it."""
    decoder = json.JSONDecoder()
    start = text.find("[")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return value
        start = text.find("[", start + 1)
    return []


def message_text(message: Any) -> tuple[str, str]:
    """(role, text) of a chat message; raises a 400 for anything else."""
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        raise OpenAiError(400, "Each message needs a valid 'role'.", param="messages")
    content = message.get("content")
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if len(parts) == len(content) and all(isinstance(p, str) for p in parts):
            return message["role"], "\n".join(str(p) for p in parts)
    if not isinstance(content, str):
        raise OpenAiError(400, "Each message needs a string 'content'.", param="messages")
    return message["role"], content


def check_options(body: dict[str, Any], texts: list[str]) -> None:
    """`temperature`, `stream` and `response_format`, as OpenAI checks them."""
    temperature = body.get("temperature")
    number = isinstance(temperature, int | float) and not isinstance(temperature, bool)
    if temperature is not None and not (number and 0 <= temperature <= 2):
        raise OpenAiError(400, "'temperature' must be a number from 0 to 2.", param="temperature")
    if body.get("stream"):
        raise OpenAiError(400, "The emulator does not stream; omit 'stream'.", param="stream")
    if body.get("response_format") is not None:
        check_response_format(body["response_format"], texts)


def check_response_format(answer_format: Any, texts: list[str]) -> None:
    kind = answer_format.get("type") if isinstance(answer_format, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise OpenAiError(
            400,
            "'response_format.type' must be text, json_object or json_schema.",
            param="response_format.type",
        )
    if kind == "json_object" and not any("json" in text.lower() for text in texts):
        raise OpenAiError(
            400,
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'.",
            param="messages",
        )
    spec = answer_format.get("json_schema")
    named = isinstance(spec, dict) and isinstance(spec.get("name"), str)
    if kind == "json_schema" and not (named and isinstance(spec.get("schema"), dict)):
        raise OpenAiError(
            400, "'json_schema' needs a 'name' and a 'schema' object.", param="response_format"
        )


class LlmEmulator:
    """An in-memory OpenAI-compatible LLM over `library`; `app` is the ASGI app, `requests`
    the request log and `chats` the completions served."""

    def __init__(
        self, library: Library, config: LlmConfig | None = None, clock: Clock | None = None
    ) -> None:
        self.library = library
        self.config = config or LlmConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.chats: list[ChatRecord] = []
        self.index = LibraryIndex.of(library)
        self.limiter = SlidingWindow(self.clock)
        self._seed = self.config.fault_seed
        self._rng = random.Random(f"llm-answers:{self._seed}")  # noqa: S311 - reproducible
        self._served = 0
        routes = [
            Route("/models", self._models, methods=["GET"]),
            Route("/chat/completions", self._chat, methods=["POST"]),
            Route("/{rest:path}", self._unknown, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
        self._gate = ProviderGate(
            Starlette(routes=routes),
            service="llm",
            config=self.config,
            clock=self.clock,
            log=self.requests,
        )
        self.app: ASGIApp = self._gate

    def reset_faults(self) -> None:
        """Replay random and answer faults from `config.fault_seed`; empty the rate windows."""
        self._gate.reset()
        self.limiter.reset()
        self._reseed()

    def _reseed(self) -> None:
        self._seed = self.config.fault_seed
        self._rng.seed(f"llm-answers:{self._seed}")

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
        if not isinstance(body, dict):
            raise OpenAiError(400, "The request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model.strip():
            raise OpenAiError(400, "You must provide a model parameter.", param="model")
        if self.config.models is not None and model not in self.config.models:
            raise OpenAiError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise OpenAiError(400, "'messages' must be a non-empty list.", param="messages")
        said = [message_text(message) for message in messages]
        check_options(body, [text for _, text in said])
        prompt = next((text for role, text in reversed(said) if role == "user"), "")
        record = ChatRecord(body, find_track_list(prompt), {})
        told = record.tracks[: self.config.max_answers]
        answer = {"tracks": [self._answer(item, record) for item in told]}
        content, finish = self._render(answer, record)
        self._remember(record)
        self._served += 1
        prompt_tokens = math.ceil(sum(len(text) for _, text in said) / 4)
        completion_tokens = math.ceil(len(content) / 4)
        return {
            "id": f"chatcmpl-emu{self._served:08d}",
            "object": "chat.completion",
            "created": int(self.clock.timestamp()),
            "model": model,
            "system_fingerprint": "fp_emulator",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _answer(self, item: dict[str, Any], record: ChatRecord) -> dict[str, Any]:
        track = self.identify(item)
        record.matched[str(item.get("id"))] = None if track is None else track.id
        if track is not None:
            return {"id": item.get("id"), **self.describe(track)}
        return {
            "id": item.get("id"),
            **GUESS,
            "occasion": occasion(GUESS["mood"], GUESS["energy_level"]),
            "era": era(year_of(item.get("year"))),
            "confidence": GUESS_CONFIDENCE,
        }

    def identify(self, item: dict[str, Any]) -> Track | None:
        """The library track a prompt entry names (folded artist + title; album breaks ties)."""
        title, artists, album = item.get("title"), item.get("artists"), item.get("album")
        names = [artists] if isinstance(artists, str) else artists
        if not isinstance(title, str) or not isinstance(names, list):
            return None
        found = [tid for n in names if isinstance(n, str) for tid in self.index.find(n, title)]
        tracks = [self.library.tracks[track_id] for track_id in dict.fromkeys(found)]
        wanted = fold(album) if isinstance(album, str) else None
        for track in tracks:
            if fold(self.library.albums[track.album_id].name) == wanted:
                return track
        return tracks[0] if tracks else None

    def describe(self, track: Track) -> dict[str, Any]:
        """What the model says about a track it knows (see the module docstring)."""
        truth = track.truth
        level = energy_level(truth.energy)
        year = truth.first_release_year or year_of(self.library.albums[track.album_id].release_date)
        return {
            "mood": truth.mood,
            "subgenre": truth.genres[-1] if truth.genres else GUESS["subgenre"],
            "energy_level": level,
            "language": truth.language,
            "occasion": occasion(truth.mood, level),
            "era": era(year),
            "confidence": KNOWN_CONFIDENCE,
        }

    # -- faults ------------------------------------------------------------------------------

    def _render(self, answer: dict[str, Any], record: ChatRecord) -> tuple[str, str]:
        """The message content and finish reason, spoiled by at most one drawn fault."""
        if self.config.fault_seed != self._seed:
            self._reseed()
        draw, variant, victim = self._rng.random(), self._rng.random(), self._rng.random()
        config, entries = self.config, answer["tracks"]
        if draw < config.malformed_rate:
            kind = MALFORMED[int(variant * len(MALFORMED))]
            record.fault, record.spoiled = f"malformed:{kind}", tuple(record.matched)
            return malformed(orjson.dumps(answer).decode(), kind)
        if draw < config.malformed_rate + config.schema_violation_rate and entries:
            kind = VIOLATIONS[int(variant * len(VIOLATIONS))]
            entry = entries[int(victim * len(entries))]
            violate(entry, kind)
            record.fault, record.spoiled = f"schema:{kind}", (str(entry["id"]),)
        text = orjson.dumps(answer).decode()
        return (f"```json\n{text}\n```" if config.fenced else text), "stop"

    def _remember(self, record: ChatRecord) -> None:
        keep = self.config.request_log_size
        if len(self.chats) >= 2 * keep:
            del self.chats[: len(self.chats) - keep]
        self.chats.append(record)


def malformed(text: str, kind: str) -> tuple[str, str]:
    """Broken JSON the way models break it; returns (content, finish_reason)."""
    if kind == "truncated":  # any proper prefix of a JSON object is invalid
        return text[: max(1, len(text) * 2 // 3)], "length"
    if kind == "trailing_comma":
        return text[:-2] + ",]}", "stop"
    fenced = f"```json\n{text}\n```"
    return f"Sure! Here are the tracks you asked about:\n\n{fenced}\n\nEnjoy the music!", "stop"


def violate(entry: dict[str, Any], kind: str) -> None:
    """Break one answer entry's schema in place (valid JSON still)."""
    if kind == "energy_number":
        entry["energy_level"] = 0.5
    elif kind == "missing_mood":
        entry.pop("mood", None)
    elif kind == "energy_enum":
        entry["energy_level"] = "extreme"
    else:
        entry["era"] = str(entry.get("era", GUESS_ERA))[2:]  # "1990s" -> "90s"
