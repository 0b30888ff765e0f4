"""MusicBrainz (with ListenBrainz for genres): matching each track's recording, then its labels."""
