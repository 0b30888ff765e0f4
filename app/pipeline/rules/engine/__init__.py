"""The rules engine: compiled conditions, per-field columns, the fixed stages, explain."""
