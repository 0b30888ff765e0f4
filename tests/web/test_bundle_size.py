"""The first screen's JavaScript stays small: what a browser downloads to show `/` (the entry
chunk, what it imports, and the Account screen's chunk), gzipped, is at most 300 KB
(issue 15; the figure is in docs/performance.md). Read from the build's manifest: a size,
not a timing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from tests.helpers.paths import REPO

DIST = REPO / "web" / "dist"
BUDGET = 300 * 1024
FIRST_SCREEN = "src/features/account/AccountPage.tsx"


def first_screen_chunks(manifest: dict[str, Any]) -> list[str]:
    """The JavaScript files loaded for the first screen: the entry, its static imports, and the
    Account screen with its own static imports."""
    files: list[str] = []

    def take(key: str) -> None:
        chunk = manifest[key]
        if chunk["file"] in files:
            return
        files.append(chunk["file"])
        for imported in chunk.get("imports", []):
            take(imported)

    entry = next(key for key, chunk in manifest.items() if chunk.get("isEntry"))
    take(entry)
    take(FIRST_SCREEN)
    return files


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def test_the_first_screen_is_at_most_300_kb_of_javascript_gzipped(web: None) -> None:
    manifest = json.loads((DIST / ".vite" / "manifest.json").read_text(encoding="utf-8"))
    files = first_screen_chunks(manifest)
    assert files[0].startswith("assets/index-") and len(files) >= 2
    total = sum(gzipped(DIST / name) for name in files)
    assert total <= BUDGET, f"{total / 1024:.1f} KB gzipped in {files}"


def test_screens_are_loaded_apart_from_the_first(web: None) -> None:
    manifest = json.loads((DIST / ".vite" / "manifest.json").read_text(encoding="utf-8"))
    entry = next(chunk for chunk in manifest.values() if chunk.get("isEntry"))
    lazy = set(entry.get("dynamicImports", []))
    assert {FIRST_SCREEN, "src/features/sources/SourcesPage.tsx"} <= lazy
