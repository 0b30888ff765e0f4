"""The web app's API types are what the server publishes: `web/src/api/schema.d.ts`,
regenerated from the OpenAPI document, must equal the committed file (run `make api-types`
after changing a route or a response model)."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.paths import REPO


def test_the_committed_api_types_match_the_servers_openapi_document(web: None) -> None:
    result = subprocess.run(
        [sys.executable, "scripts/api_types.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout
