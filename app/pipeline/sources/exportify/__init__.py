"""Exportify CSV exports as a track source: columns by header, one row at a time."""
