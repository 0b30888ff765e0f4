"""The seeded demo-library generator: a realistic Spotify account, built from a seed alone.

`generate_library(seed, tracks, playlists)` returns a `GeneratedLibrary` (see `model`) that
the Spotify emulator serves and whose per-track `TrackTruth` the provider emulators serve, so tests
can check that enrichment recovers exactly what was put in. `LibraryIndex` gives the lookups
the provider emulators need (ISRC, recording MBID, artist + title). Choices, and why:

- **Deterministic.** Every draw comes from one `random.Random(seed)`, in a fixed order; nothing
  iterates over a `set` or uses `hash()` of text (salted per process); `now` defaults to
  `DEFAULT_NOW`, so the wall clock never leaks in (only `generated_at`, excluded from `==`).
- **Coherent, not uniform.** Genres (120) come in 13 families (rock, indie, electronic, jazz…).
  Each family carries a profile - era, energy, danceability, acousticness, tempo range,
  loudness, share of instrumentals and explicit tracks, moods, languages, typical duration - and
  a few genres override tempo (drum and bass 170-176 BPM), era (grunge 1986-1998) or language
  (k-pop). Each seed draws its own taste (family weights). An artist gets 1-3 genres (mostly one
  family); its albums inherit them (a quarter add a sibling genre); a track's truth derives from
  its album's first genre plus a mood, which drives valence, mode and an energy shift.
  Classical is quiet and acoustic, metal loud, house 120-126 BPM; playlists are themed (a
  family, a mood, a decade, the year the songs were liked, one artist) and drawn accordingly.
- **Messy where Spotify is messy.** Version suffixes (" - Remastered 2011", " (Live)",
  " (feat. X)", remixes), release dates with year/month/day precision, ISRCs missing on ~5% of
  tracks, the same recording (same ISRC, MBID and truth) on an album and a later compilation,
  collaborative and followed playlists of other users, bursts in the liked-songs history. With
  three playlists or more, readable playlists hold at least one duplicate, local file,
  unavailable item and podcast episode each (wherever a playlist has room for it).
- **Heavy-tailed.** Artist popularity is Pareto-distributed, so a few artists have dozens of
  tracks and most have one or two - like a real library.
- **Sized by the liked songs.** `tracks` liked songs, plus about 5% more and 40% of the playlist
  entries as tracks that only playlists hold; at least 1.2x the largest playlist, so playlists
  never repeat a track by accident.
- **Cheap.** Vocabularies are precomputed at import; generation is one pass of plain Python
  with a few dozen RNG draws per track and the cyclic GC paused (100,000 liked tracks in ~4 s).

Modules, in the order a generation uses them: `vocabulary` (genre families and word lists,
data only), `draws` (the seeded RNG, ids, names, titles, dates), `drafts` (artists and albums
being drawn), `catalogue` (labels, artists, albums, tracks), `truth` (each recording's
`TrackTruth`), `playlists` (themes, contents, special entries), `account` (`generate_library`,
users, liked-songs history, the final `GeneratedLibrary`) and `index` (`fold`, `base_title`,
`LibraryIndex`).
"""

from app.emulators.library.account import DEFAULT_NOW, generate_library
from app.emulators.library.index import LibraryIndex, base_title, fold, library_track_uri
from app.emulators.library.vocabulary import FAMILIES, GENRE_FAMILY

__all__ = [
    "DEFAULT_NOW",
    "FAMILIES",
    "GENRE_FAMILY",
    "LibraryIndex",
    "base_title",
    "fold",
    "generate_library",
    "library_track_uri",
]
