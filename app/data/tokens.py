"""tokens.json: OAuth tokens. Always written with mode 0600 (owner read/write only)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.data.store import JsonStore

TokenDocument = dict[str, Any]


class TokenStore(JsonStore[TokenDocument | None]):
    filename = "tokens.json"
    schema_version = 1
    file_mode = 0o600
    adapter: ClassVar = TypeAdapter(TokenDocument | None)

    def empty(self) -> TokenDocument | None:
        return None

    def load_token(self) -> TokenDocument | None:
        return self.load()

    def save_token(self, token: TokenDocument | None) -> None:
        self.save(token)
