"""The emulated model's bad answers: broken JSON and schema violations, drawn from a seed.

`AnswerFaults` makes three draws per answer from `random.Random("llm-answers:<seed>")` (which
fault, which variant, which entry), whatever the rates, so a run's faults depend only on the
seed and the number of answers before; `malformed` and `violate` break an answer the ways
models do.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from app.emulators.llm.answers import GUESS_ERA, ChatRecord

MALFORMED = ("truncated", "trailing_comma", "prose")
VIOLATIONS = ("energy_number", "missing_mood", "energy_enum", "era_pattern")


class AnswerFaults:
    """The seeded draws that spoil answers; `seed` is the one the draws now come from."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(f"llm-answers:{seed}")  # noqa: S311 - reproducible

    def reseed(self, seed: int) -> None:
        """Start the draws from `seed` again."""
        self.seed = seed
        self._rng.seed(f"llm-answers:{seed}")

    def render(
        self,
        answer: dict[str, Any],
        record: ChatRecord,
        *,
        seed: int,
        malformed_rate: float,
        violation_rate: float,
        fenced: bool,
    ) -> tuple[str, str]:
        """The message content and finish reason, spoiled by at most one drawn fault (noted in
        `record`); a `seed` other than the last restarts the draws from it; `fenced`: a clean
        answer comes inside a ```json fence."""
        if seed != self.seed:
            self.reseed(seed)
        draw, variant, victim = self._rng.random(), self._rng.random(), self._rng.random()
        entries = answer["tracks"]
        if draw < malformed_rate:
            kind = MALFORMED[int(variant * len(MALFORMED))]
            record.fault, record.spoiled = f"malformed:{kind}", tuple(record.matched)
            return malformed(orjson.dumps(answer).decode(), kind)
        if draw < malformed_rate + violation_rate and entries:
            kind = VIOLATIONS[int(variant * len(VIOLATIONS))]
            entry = entries[int(victim * len(entries))]
            violate(entry, kind)
            record.fault, record.spoiled = f"schema:{kind}", (str(entry["id"]),)
        text = orjson.dumps(answer).decode()
        return (f"```json\n{text}\n```" if fenced else text), "stop"


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
