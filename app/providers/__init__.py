"""Enrichment providers: one module (or folder) per service, behind `base.FeatureProvider`."""
