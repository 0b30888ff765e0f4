"""`LlmProvider`: mood, sub-genre, energy level, language, occasion and era of each track, asked
of a language model behind any OpenAI-compatible API (Ollama, llama.cpp server, LM Studio,
vLLM, OpenAI).

    SAP_LLM_MODEL=llama3.1:8b                     # a local Ollama at 127.0.0.1:11434, no key
    SAP_LLM_BASE_URL=https://api.openai.com/v1 SAP_LLM_MODEL=gpt-4o-mini SAP_LLM_API_KEY=sk-…

What leaves the machine, per track: title, artist names, album name and year — keyed "t1",
"t2"… within one request, never by a Spotify id, and nothing about the user. One
`POST /chat/completions` per batch of `SAP_LLM_BATCH_SIZE` tracks, one batch at a time, at
most `SAP_LLM_MAX_TRACKS_PER_RUN` tracks per run (the rest wait for the next run). Entries are
versioned `<PROMPT_VERSION>:<model>`, so a new model or prompt asks again about every track;
the source stays "llm".

The request asks for JSON through `response_format` `json_schema` (strict, `ANSWER_SCHEMA`),
and the answer is validated strictly (`TrackAnswer`), whatever the server did with the schema:

- energy_level: exactly "low", "medium" or "high";
- era: a decade, "1990s";
- language: an ISO 639-1 code ("en"), or "zxx" for no lyrics;
- mood and occasion: the schema offers the vocabularies `MOODS` and `OCCASIONS`, but any one
  or two lowercase words are accepted (case is folded): a server that ignores the schema may
  still say something a rule can use ("nostalgic"), and the rules engine matches text anyway;
- subgenre: any short genre name, folded to lowercase;
- confidence: 0..1 when given, else 0.5.

Retries, on top of `ServiceClient`'s (5xx, 429, dropped connections): an answer that is not a
JSON object with a `tracks` list (once a ```json fence around it is removed), and entries that
break the schema, are asked again — at most `MAX_TRIES` requests per batch, each at a lower
temperature, with a note saying what was wrong, and only about the tracks still unanswered.
Tracks a valid answer left out are asked once more in a smaller request. Whatever is still
unanswered counts as failed: nothing is cached, so the next run asks again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import httpx
import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as SchemaError

from app.core.errors import AppError, UpstreamError
from app.core.models import Track, TrackEnrichment
from app.net.client import ServiceClient
from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider, FieldSpec
from app.providers.http import ProviderNet, parse_json

PROMPT_VERSION = "p1"  # bump when the prompt or the schema changes: every track is redone
MAX_TRIES = 3
TEMPERATURES = (0.2, 0.1, 0.0)  # per try: steadier answers after a broken one
DEFAULT_CONFIDENCE = 0.5
MOODS = (
    "happy", "sad", "calm", "energetic", "dark", "romantic", "melancholic", "angry", "dreamy",
    "uplifting",
)  # fmt: skip
OCCASIONS = ("party", "workout", "commute", "focus", "relax", "sleep", "romance", "reflection")
ENERGY_LEVELS = ("low", "medium", "high")
LANGUAGE_PATTERN = r"^(?:[a-z]{2}|zxx)$"
ERA_PATTERN = r"^[0-9]{3}0s$"
WORDS_PATTERN = r"^[a-z]+(?:[ -][a-z]+)?$"
GENRE_PATTERN = r"^[^\W_][\w &'/.+-]{0,39}$"


def _folded(value: Any) -> Any:
    return " ".join(value.lower().split()) if isinstance(value, str) else value


Words = Annotated[str, BeforeValidator(_folded), StringConstraints(pattern=WORDS_PATTERN)]


class TrackAnswer(BaseModel):
    """One entry of the model's `tracks` list, validated strictly (extra keys are ignored)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    id: str
    mood: Words
    subgenre: Annotated[str, BeforeValidator(_folded), StringConstraints(pattern=GENRE_PATTERN)]
    energy_level: Literal["low", "medium", "high"]
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]
    occasion: Words
    era: Annotated[str, StringConstraints(pattern=ERA_PATTERN)]
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)


def _entry_schema() -> dict[str, Any]:
    text = {"type": "string"}
    properties: dict[str, Any] = {
        "id": text,
        "mood": {**text, "enum": list(MOODS)},
        "subgenre": text,
        "energy_level": {**text, "enum": list(ENERGY_LEVELS)},
        "language": {**text, "pattern": LANGUAGE_PATTERN},
        "occasion": {**text, "enum": list(OCCASIONS)},
        "era": {**text, "pattern": ERA_PATTERN},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"tracks": {"type": "array", "items": _entry_schema()}},
    "required": ["tracks"],
    "additionalProperties": False,
}
SYSTEM_PROMPT = f"""You describe music recordings for a playlist generator. Each track comes \
with its title, artists, album and release year; answer from what you know about it.
Answer with one JSON object and nothing else: {{"tracks": [...]}}, one entry per track, with:
- "id": copied from the track;
- "mood": one of {", ".join(MOODS)};
- "subgenre": its most specific genre, lowercase (e.g. "dream pop", "hard bop");
- "energy_level": low, medium or high;
- "language": ISO 639-1 code of the lyrics, or "zxx" for an instrumental;
- "occasion": one of {", ".join(OCCASIONS)};
- "era": the decade of the original release, e.g. "1990s";
- "confidence": from 0 to 1, how sure you are of this entry."""


def track_prompt_entry(key: str, track: Track) -> dict[str, Any]:
    """All the model learns of a track: title, artist names, album name and year."""
    year = (track.album.release_date or "")[:4]
    return {
        "id": key,
        "title": track.name,
        "artists": [artist.name for artist in track.artists],
        "album": track.album.name,
        "year": int(year) if year.isdigit() else None,
    }


def user_prompt(entries: Sequence[dict[str, Any]], note: str | None) -> str:
    listing = orjson.dumps(list(entries)).decode()
    text = f"Describe these {len(entries)} tracks:\n{listing}"
    if note:
        text += (
            f"\n\nYour previous answer was rejected: {note}. Answer with one JSON object "
            "exactly as described, for these tracks only."
        )
    return text


def strip_fence(content: str) -> str:
    """The JSON inside a ```json … ``` block that is the whole answer; else the text itself."""
    text = content.strip()
    if text.startswith("```") and text.endswith("```") and text.count("```") == 2:
        body = text[3:-3]
        first, newline, rest = body.partition("\n")
        return (rest if newline and first.strip().isalpha() else body).strip()
    return text


@dataclass
class Reading:
    """What one answer gave for the keys asked: valid entries, broken entries, or nothing."""

    answers: dict[str, TrackAnswer] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)  # key -> what was wrong
    broken: str | None = None  # why the whole answer is unusable

    def unanswered(self, keys: Sequence[str]) -> dict[str, str]:
        """Each asked key without a valid entry, with the reason."""
        if self.broken is not None:
            return dict.fromkeys(keys, self.broken)
        left = [key for key in keys if key not in self.answers]
        return {key: self.invalid.get(key, "left out of the answer") for key in left}

    def note(self) -> str | None:
        """What to tell the model on the next try (None: it only left tracks out)."""
        if self.broken is not None:
            return self.broken
        if not self.invalid:
            return None
        shown = "; ".join(f"{key}: {why}" for key, why in list(self.invalid.items())[:3])
        return f"entries that break the schema ({shown})"


def schema_problem(error: SchemaError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "entry"
    return f"{where}: {first['msg']}"


def read_answer(content: Any, keys: Sequence[str]) -> Reading:
    """Validate a model's message content against what was asked (`keys`)."""
    if not isinstance(content, str) or not content.strip():
        return Reading(broken="the answer was empty")
    try:
        data = orjson.loads(strip_fence(content))
    except orjson.JSONDecodeError:
        return Reading(broken="the answer was not valid JSON")
    entries = data.get("tracks") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return Reading(broken='the answer was not a JSON object with a "tracks" list')
    reading, wanted = Reading(), set(keys)
    for entry in entries:
        key = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(key, str) or key not in wanted or key in reading.answers:
            continue  # not attributable, or a duplicate: the first valid entry wins
        try:
            reading.answers[key] = TrackAnswer.model_validate(entry)
        except SchemaError as error:
            reading.invalid.setdefault(key, schema_problem(error))
    for key in reading.answers:
        reading.invalid.pop(key, None)
    return reading


class LlmProvider(FeatureProvider):
    """Descriptions of each track by an LLM (see the module docstring)."""

    id = "llm"
    type = "llm"
    version = PROMPT_VERSION
    description = (
        "Mood, sub-genre, energy level, language, occasion and era from a language model "
        "behind an OpenAI-compatible API; it is sent only title, artists, album and year."
    )
    fields = (
        FieldSpec("mood", "text", "One of " + ", ".join(MOODS) + " (others accepted)."),
        FieldSpec("subgenre", "text", "Most specific genre, lowercase."),
        FieldSpec("energy_level", "text", "low, medium or high."),
        FieldSpec("language", "text", "ISO 639-1 code of the lyrics; zxx: instrumental."),
        FieldSpec("occasion", "text", "One of " + ", ".join(OCCASIONS) + " (others accepted)."),
        FieldSpec("era", "text", 'Decade of the original release, e.g. "1990s".'),
    )
    match_methods = ("title_artists",)
    batch_size = 20
    rate_limit = None
    concurrency = 1  # a local model answers one prompt at a time anyway
    settings_used = (
        "llm_base_url",
        "llm_model",
        "llm_api_key",
        "llm_batch_size",
        "llm_max_tracks_per_run",
        "llm_timeout",
    )

    def current_version(self) -> str:
        return f"{PROMPT_VERSION}:{self.settings.llm_model or 'none'}"

    def disabled_reason(self) -> str | None:
        if self.settings.llm_model:
            return None
        return (
            "no model chosen: set SAP_LLM_MODEL (and SAP_LLM_BASE_URL unless Ollama serves it "
            "at the default http://127.0.0.1:11434/v1); local servers such as Ollama and "
            "llama.cpp need no SAP_LLM_API_KEY"
        )

    def batch_limit(self) -> int:
        return self.settings.llm_batch_size

    def run_cap(self) -> int | None:
        return self.settings.llm_max_tracks_per_run or None

    def applicable(self, item: EnrichItem) -> str | None:
        # The model reads text only, so local files are fine; it needs a title and an artist.
        track = item.track
        if not track.name.strip() or not any(a.name.strip() for a in track.artists):
            return "no title or artist"
        return None

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        key = self.settings.llm_api_key
        http = net.client(
            self.settings.llm_base_url,
            rate=self.rate_limit,
            headers={"Authorization": f"Bearer {key}"} if key else None,
            timeout=self.settings.llm_timeout,
        )
        keyed = {f"t{number}": item for number, item in enumerate(items, 1)}
        outcome = BatchOutcome()
        try:
            await self._ask(http, keyed, outcome)
        except AppError as error:
            # A retry that fails for good must not throw away what earlier answers gave;
            # with nothing to keep, the runner fails (or stops on) the whole batch.
            if not outcome.matched:
                raise
            for item in keyed.values():
                outcome.fail(item, f"llm: {error.detail}")
        return outcome

    async def _ask(
        self, http: ServiceClient, keyed: Mapping[str, EnrichItem], outcome: BatchOutcome
    ) -> None:
        """Ask until every key is answered, `MAX_TRIES` requests are spent, or a second
        answer in a row only left tracks out; fail what is left."""
        pending = list(keyed)
        reasons: dict[str, str] = {}
        note: str | None = None
        left_out_retried = False
        for attempt in range(MAX_TRIES):
            content = await self._complete(http, keyed, pending, attempt, note)
            reading = read_answer(content, pending)
            for key, answer in reading.answers.items():
                outcome.found(keyed[key], self._entry(answer))
            reasons = reading.unanswered(pending)
            pending, note = list(reasons), reading.note()
            if not pending or (note is None and left_out_retried):
                break
            left_out_retried = left_out_retried or note is None
        for key in pending:
            outcome.fail(keyed[key], f"llm: {reasons[key]}")

    async def _complete(
        self,
        http: ServiceClient,
        keyed: Mapping[str, EnrichItem],
        keys: Sequence[str],
        attempt: int,
        note: str | None,
    ) -> Any:
        """One chat completion about `keys`; returns the message content as sent."""
        entries = [track_prompt_entry(key, keyed[key].track) for key in keys]
        body = {
            "model": self.settings.llm_model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_prompt(entries, note)},
            ],
            "temperature": TEMPERATURES[min(attempt, len(TEMPERATURES) - 1)],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "track_descriptions",
                    "strict": True,
                    "schema": ANSWER_SCHEMA,
                },
            },
        }
        response = await http.request("POST", "chat/completions", json=body)
        if response.status_code >= 400:
            raise refused(http, response)
        data = parse_json(http, response, "POST chat/completions")
        try:
            return data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise UpstreamError(
                f"{http.service} did not answer like an OpenAI-compatible chat API "
                "(no choices[0].message.content)",
                code="provider_bad_response",
            ) from None

    def _entry(self, answer: TrackAnswer) -> TrackEnrichment:
        confidence = DEFAULT_CONFIDENCE if answer.confidence is None else answer.confidence
        categories = answer.model_dump(exclude={"id", "confidence"})
        return self.entry(categories, method="title_artists", confidence=confidence)


def refused(http: ServiceClient, response: httpx.Response) -> UpstreamError:
    """The error for a 4xx, with OpenAI's `error.message` and a hint at the setting to fix."""
    try:
        message = str(orjson.loads(response.content)["error"]["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        message = response.text[:200]
    status = response.status_code
    hint = {401: " (check SAP_LLM_API_KEY)", 404: " (check SAP_LLM_MODEL and SAP_LLM_BASE_URL)"}
    return UpstreamError(
        f"{http.service} answered {status}: {message}{hint.get(status, '')}",
        code="provider_error",
    )
