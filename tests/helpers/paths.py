"""Where the repository and the shared specs, samples and datasets are.

Tests that read `../shared` (the Spotify OpenAPI spec, MusicBrainz samples, Exportify datasets)
find it next to the repository, or at ``$SAP_SHARED_DIR``; CI has it. Without it they skip and
say what is missing (see the README).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SAP_SHARED_DIR", REPO.parent / "shared"))
