"""One module per enrichment provider; `app.pipeline.enrichment.registry` lists them."""
