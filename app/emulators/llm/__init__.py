"""`LlmEmulator`: an OpenAI-compatible chat API whose "model" knows a `GeneratedLibrary`, served
under `/llm/v1` (like Ollama's `http://127.0.0.1:11434/v1` or `https://api.openai.com/v1`).

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
local models do. `ProviderFaults.gateway` adds latency, bare 5xx and dropped
connections; `requests` logs every request and `chats` every completion's body, the tracks
it found, who it took them for and the fault it injected.

Modules: `emulator` (`LlmEmulator`, `LlmConfig`: routes, API keys, rate limits, completions),
`protocol` (OpenAI's error body, request checks, the `chat.completion` body), `answers` (the
track list in the prompt, `Answerer`: identification and what the model says, `ChatRecord`)
and `faults` (seeded malformed answers and schema violations).
"""

from app.emulators.llm.answers import (
    ENERGY_LEVELS,
    GUESS,
    GUESS_CONFIDENCE,
    GUESS_ERA,
    HIGH_ENERGY_FROM,
    KNOWN_CONFIDENCE,
    LOW_ENERGY_BELOW,
    OCCASIONS,
    OTHER_OCCASION,
    Answerer,
    ChatRecord,
    energy_level,
    era,
    find_track_list,
    occasion,
    year_of,
)
from app.emulators.llm.emulator import CREATED, DEFAULT_MODEL, LlmConfig, LlmEmulator
from app.emulators.llm.faults import MALFORMED, VIOLATIONS, AnswerFaults, malformed, violate
from app.emulators.llm.protocol import (
    ROLES,
    OpenAiError,
    check_options,
    check_response_format,
    completion,
    json_response,
    message_text,
    parse_chat,
)

__all__ = [
    "CREATED",
    "DEFAULT_MODEL",
    "ENERGY_LEVELS",
    "GUESS",
    "GUESS_CONFIDENCE",
    "GUESS_ERA",
    "HIGH_ENERGY_FROM",
    "KNOWN_CONFIDENCE",
    "LOW_ENERGY_BELOW",
    "MALFORMED",
    "OCCASIONS",
    "OTHER_OCCASION",
    "ROLES",
    "VIOLATIONS",
    "AnswerFaults",
    "Answerer",
    "ChatRecord",
    "LlmConfig",
    "LlmEmulator",
    "OpenAiError",
    "check_options",
    "check_response_format",
    "completion",
    "energy_level",
    "era",
    "find_track_list",
    "json_response",
    "malformed",
    "message_text",
    "occasion",
    "parse_chat",
    "violate",
    "year_of",
]
