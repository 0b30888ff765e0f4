"""classifications.json: per classifier, the labels given to each track."""

from __future__ import annotations

from typing import ClassVar

from pydantic import TypeAdapter

from app.core.models import Classification
from app.data.store import JsonStore

ClassificationMap = dict[str, dict[str, Classification]]  # classifier -> track id -> labels


class ClassificationStore(JsonStore[ClassificationMap]):
    filename = "classifications.json"
    schema_version = 1
    indent = False
    adapter: ClassVar = TypeAdapter(ClassificationMap)

    def empty(self) -> ClassificationMap:
        return {}

    def load_classifications(self, classifier: str) -> dict[str, Classification]:
        return self.load().get(classifier, {})
