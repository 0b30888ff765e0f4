"""Local emulators of every external service (Spotify, MusicBrainz, …) for tests and demo mode."""
