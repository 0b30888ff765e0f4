"""Enrichment: what MusicBrainz, Deezer, ReccoBeats, Last.fm, AcousticBrainz, an LLM and the
user say about each track, stored as `TrackEnrichment` entries for the rules engine."""
