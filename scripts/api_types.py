"""The web app's API types, generated from the server's OpenAPI document.

Builds the app with `create_app` (no server, no network, a throw-away data directory), takes
its `/openapi.json`, and turns it into TypeScript with openapi-typescript (from
web/node_modules, installed by `make web-deps`) into `web/src/api/schema.d.ts`, which is
committed. `--check` writes nothing and exits 1 when the committed file is not what the
server publishes now (tests/web/test_api_types.py runs it in `make test`).

    python scripts/api_types.py            # regenerate web/src/api/schema.d.ts
    python scripts/api_types.py --check    # exit 1 if it is stale
    python scripts/api_types.py --spec FILE  # also write the OpenAPI document to FILE
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
TYPES = WEB / "src" / "api" / "schema.d.ts"
GENERATOR = WEB / "node_modules" / "openapi-typescript" / "bin" / "cli.js"


def export_openapi() -> dict[str, Any]:
    """The OpenAPI document of a normal (non-demo) server, built in process."""
    sys.path.insert(0, str(ROOT))
    from app.api.app import create_app
    from app.core.config import Settings

    with tempfile.TemporaryDirectory() as cache_dir:
        # A client id keeps demo mode (and its note in the description) out of the document.
        settings = Settings(cache_dir=Path(cache_dir), spotify_client_id="openapi-export")
        spec: dict[str, Any] = create_app(settings).openapi()
    return spec


def render_types(spec: dict[str, Any]) -> str:
    """The TypeScript openapi-typescript makes of `spec`."""
    if not GENERATOR.is_file():
        raise SystemExit(
            f"error: {GENERATOR.relative_to(ROOT)} is missing; run `make web-deps` "
            "(npm ci in web/) first"
        )
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "openapi.json"
        target = Path(work) / "schema.d.ts"
        source.write_text(json.dumps(spec, indent=2, sort_keys=True), encoding="utf-8")
        subprocess.run(
            ["node", str(GENERATOR), str(source), "-o", str(target)],
            check=True,
            cwd=WEB,
            capture_output=True,
        )
        return target.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--spec", type=Path, help="also write the OpenAPI document here")
    args = parser.parse_args(argv)
    spec = export_openapi()
    if args.spec is not None:
        args.spec.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    types = render_types(spec)
    current = TYPES.read_text(encoding="utf-8") if TYPES.exists() else None
    if args.check:
        if current != types:
            print(
                f"{TYPES.relative_to(ROOT)} is stale: the server's OpenAPI document changed. "
                "Run `make api-types` and commit the result.",
                file=sys.stderr,
            )
            return 1
        print(f"{TYPES.relative_to(ROOT)} is up to date")
        return 0
    if current != types:
        TYPES.parent.mkdir(parents=True, exist_ok=True)
        TYPES.write_text(types, encoding="utf-8")
        print(f"wrote {TYPES.relative_to(ROOT)}")
    else:
        print(f"{TYPES.relative_to(ROOT)} was already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
