"""A track's truth: the properties the provider emulators serve and enrichment must recover.

`draw_truth` derives them from the album's first genre, its family's profile and a mood drawn
from the family: the mood sets valence, mode and an energy shift; the genre may override the
tempo range (drum and bass 170-176 BPM). Values are rounded like Spotify's and shared between
tracks (a third less memory at 100k tracks). The `in_*` flags say which provider knows the
track: `gain`/`rank` are Deezer-only and `None` when `in_deezer` is false; `tempo` is `None`
for ~5% (unknown everywhere, Deezer's bpm 0).
"""

from __future__ import annotations

from app.emulators.library.drafts import AlbumDraft, ArtistDraft
from app.emulators.library.draws import Draws, cumulative
from app.emulators.library.model import TrackTruth
from app.emulators.library.vocabulary import (
    COUNTRY_TAGS,
    DECADE_TAGS,
    FAMILIES,
    GENRE_TEMPO,
    MOOD_TAGS,
    MOODS,
    Family,
)

# Shared float and tag objects: values rounded like Spotify's, and a third less memory at 100k.
_MILLIS = tuple(step / 1000 for step in range(1001))
_TENTHS_OF_MILLIS = tuple(step / 10_000 for step in range(10_001))
_VOCAL_TAGS = {"female": "female vocalists", "male": "male vocalists"}
_FAMILY_MOODS = {name: cumulative(family.moods) for name, family in FAMILIES.items()}


def draw_truth(
    draws: Draws,
    family: Family,
    album: AlbumDraft,
    artist: ArtistDraft,
    language: str,
    first_year: int,
    isrc: str | None,
    live: bool,
    acoustic_version: bool,
) -> TrackTruth:
    """The truth of a new recording by `artist` on `album` (copies reuse their source's)."""
    # The hot path of the generator: plain arithmetic, no helper calls where avoidable.
    random_, gauss = draws.rng.random, draws.rng.gauss
    genres = album.genres
    mood = draws.pick(_FAMILY_MOODS[family.name])
    valence_low, valence_high, energy_shift, dance_shift, minor = MOODS[mood]
    energy = gauss(family.energy + energy_shift, 0.1) * (0.7 if acoustic_version else 1.0)
    energy = 0.0 if energy < 0.0 else 1.0 if energy > 1.0 else energy
    dance = gauss(family.dance + dance_shift, 0.1)
    dance = 0.0 if dance < 0.0 else 1.0 if dance > 1.0 else dance
    valence = valence_low + (valence_high - valence_low) * random_() + (dance - 0.5) * 0.1
    valence = 0.0 if valence < 0.0 else 1.0 if valence > 1.0 else valence
    acoustic = gauss(family.acoustic + (family.energy - energy) * 0.6, 0.1)
    acoustic = 0.0 if acoustic < 0.0 else 1.0 if acoustic > 1.0 else acoustic
    if acoustic_version and acoustic < 0.7:
        acoustic = 0.7
    instrumental = language == "zxx"
    if instrumental:
        instrumentalness = 0.6 + 0.37 * random_()
        speech = 0.02 + 0.04 * random_()
    else:
        instrumentalness = random_() ** 5 * 0.2
        speech = family.speech * (0.6 + 0.8 * random_())
    liveness = 0.65 + 0.33 * random_() if live else 0.05 + random_() ** 2 * 0.3
    loudness = family.loudness + (energy - family.energy) * 8 + gauss(0.0, 1.5)
    loudness = -35.0 if loudness < -35.0 else -1.0 if loudness > -1.0 else loudness
    low, high = GENRE_TEMPO.get(genres[0], family.tempo)
    tempo = None if random_() < 0.05 else round(low + (high - low) * random_(), 3)
    in_deezer = isrc is not None and random_() < 0.94
    tags = [genres[0]]
    if len(genres) > 1 and random_() < 0.6:
        tags.append(genres[1])
    tags.append(MOOD_TAGS[mood])
    tags.append(DECADE_TAGS[first_year // 10])
    size = len(family.tags)
    first = int(random_() * size)
    tags.append(family.tags[first])
    tags.append(family.tags[(first + 1 + int(random_() * (size - 1))) % size])
    if instrumental:
        tags.append("instrumental")
    elif artist.vocal != "mixed" and random_() < 0.5:
        tags.append(_VOCAL_TAGS[artist.vocal])
    if random_() < 0.3 and artist.country in COUNTRY_TAGS:
        tags.append(COUNTRY_TAGS[artist.country])
    if dance > 0.65 and (mood == "happy" or mood == "uplifting") and random_() < 0.5:
        tags.append("summer")
    if energy > 0.85:
        tags.append("workout")
    if random_() < 0.05:
        tags.append("seen live")
    return TrackTruth(
        genres=genres,
        tags=tuple(dict.fromkeys(tags)),
        mood=mood,
        language=language,
        tempo=tempo,
        energy=_MILLIS[int(energy * 1000 + 0.5)],
        danceability=_MILLIS[int(dance * 1000 + 0.5)],
        valence=_MILLIS[int(valence * 1000 + 0.5)],
        acousticness=_MILLIS[int(acoustic * 1000 + 0.5)],
        instrumentalness=_TENTHS_OF_MILLIS[int(instrumentalness * 10_000 + 0.5)],
        speechiness=_TENTHS_OF_MILLIS[int(speech * 10_000 + 0.5)],
        liveness=_MILLIS[int(liveness * 1000 + 0.5)],
        loudness=round(loudness, 3),
        key=-1 if random_() < 0.01 else int(random_() * 12),
        mode=0 if random_() < minor else 1,
        gain=round(loudness + gauss(0.0, 1.0), 1) if in_deezer else None,
        rank=min(max(artist.rank + int(random_() * 200_000) - 100_000, 1_000), 999_999)
        if in_deezer
        else None,
        recording_mbid=None if random_() < 0.1 else draws.mbid(),
        first_release_year=first_year,
        in_reccobeats=random_() < 0.8,
        in_deezer=in_deezer,
        in_lastfm=random_() < 0.85,
    )
