"""The user's own values, as the provider registry lists them: set by hand, never fetched.

Writing them is `app.pipeline.enrichment.manual.apply_manual`; they always win over every
provider (`registry.Precedence` ranks them first whatever the configured order).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider, FieldSpec
from app.providers.http import ProviderNet

MANUAL_SOURCE = "manual"
MANUAL_VERSION = "1"


class ManualProvider(FeatureProvider):
    """The registry's row for manual values; they are written by `apply_manual`, not run."""

    id = MANUAL_SOURCE
    type = "manual"
    version = MANUAL_VERSION
    description = (
        "Your own keys and tags (PATCH /data/enrichments/{track_id}, "
        "POST /data/enrichments/manual, `sap tag`); they always win."
    )
    fields = (FieldSpec("tags", "list", "your tags, merged with the providers' tags"),)
    match_methods = ("manual",)
    default = False

    def applicable(self, item: EnrichItem) -> str | None:
        return "manual values are set by you, not fetched"

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        return BatchOutcome()
