"""rules.json: the user's playlist rule sets.

Kept as JSON objects here (`RuleSetJson`); the pipeline reads them into their typed model,
`app.core.rules.PlaylistRuleSet` (`app.pipeline.rules.rule_sets`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.data.store import JsonStore

RuleSetJson = dict[str, Any]


class RuleStore(JsonStore[list[RuleSetJson]]):
    filename = "rules.json"
    schema_version = 1
    adapter: ClassVar = TypeAdapter(list[RuleSetJson])

    def empty(self) -> list[RuleSetJson]:
        return []

    def load_rules(self) -> list[RuleSetJson]:
        return self.load()

    def save_rules(self, rules: list[RuleSetJson]) -> None:
        self.save(rules)
