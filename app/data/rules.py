"""rules.json: the user's playlist rule sets.

Kept as JSON objects here; the rules issue gives them their typed model (`app.core.rules`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.data.store import JsonStore

RuleSetDocument = dict[str, Any]


class RuleStore(JsonStore[list[RuleSetDocument]]):
    filename = "rules.json"
    schema_version = 1
    adapter: ClassVar = TypeAdapter(list[RuleSetDocument])

    def empty(self) -> list[RuleSetDocument]:
        return []

    def load_rules(self) -> list[RuleSetDocument]:
        return self.load()

    def save_rules(self, rules: list[RuleSetDocument]) -> None:
        self.save(rules)
