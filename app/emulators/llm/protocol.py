"""OpenAI's chat-completions wire format: error bodies, request checks, the completion body.

Every check raises `OpenAiError`, whose `response()` is OpenAI's error answer
`{"error": {"message", "type", "param", "code"}}`; `parse_chat` checks a request body in the
order OpenAI does, and `completion` is the `chat.completion` body sent back.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from starlette.responses import Response

from app.emulators.common.transport import json_response as shared_json_response

# This service answers a bare ``application/json``.
json_response = partial(shared_json_response, charset=False)

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


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


def parse_chat(body: Any, models: tuple[str, ...] | None) -> tuple[str, list[tuple[str, str]]]:
    """The model asked for and the (role, text) of every message of a request body; `models`
    are those accepted (`None`: any)."""
    if not isinstance(body, dict):
        raise OpenAiError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise OpenAiError(400, "You must provide a model parameter.", param="model")
    if models is not None and model not in models:
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
    return model, said


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


def completion(
    completion_id: str,
    created: int,
    model: str,
    said: list[tuple[str, str]],
    content: str,
    finish: str,
) -> dict[str, Any]:
    """The `chat.completion` saying `content` in answer to the messages `said`; `usage`
    counts characters / 4."""
    prompt_tokens = math.ceil(sum(len(text) for _, text in said) / 4)
    completion_tokens = math.ceil(len(content) / 4)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
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
