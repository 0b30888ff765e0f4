"""The seeded demo-library generator: a realistic Spotify account, built from a seed alone.

`generate_library(seed, tracks, playlists)` returns a `Library` (see `library_model`) that the
Spotify emulator serves and whose per-track `TrackTruth` the provider emulators serve, so tests
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

Truth values are the track's real properties; the `in_*` flags say which provider knows it and
the emulators serve values only for covered tracks. `gain`/`rank` are Deezer-only and are `None`
when `in_deezer` is false; `tempo` is `None` for ~5% (unknown everywhere, Deezer's bpm 0).
The word lists below are hand-written (inspired by, never copied from, the shared datasets).
"""

from __future__ import annotations

import gc
import math
import random
import re
import string
import unicodedata
from bisect import bisect
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import NamedTuple, TypeVar

from app.emulators.library_model import (
    Album,
    Artist,
    DatePrecision,
    EntryKind,
    Episode,
    Library,
    LocalFile,
    Playlist,
    PlaylistEntry,
    SavedTrack,
    Track,
    TrackTruth,
    User,
)

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

DEFAULT_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BASE62_BYTES = bytes(ord(_BASE62[byte % 62]) for byte in range(256))  # bytes.translate table
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # what uuid.UUID(version=4) does to the bits
_UUID_SET = (0x8000 << 48) | (4 << 76)
_T = TypeVar("_T")
_MIN_YEAR = 1960


def _items(text: str) -> tuple[str, ...]:
    """A comma-separated word list (entries may contain spaces)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _words(text: str) -> tuple[str, ...]:
    """A space-separated word list."""
    return tuple(text.split())


# --- genre families --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Family:
    name: str
    weight: float  # share of artists in an average library
    genres: tuple[str, ...]
    era: tuple[int, int]  # debut years of its artists
    energy: float
    dance: float
    acoustic: float
    tempo: tuple[int, int]
    loudness: float
    speech: float
    instrumental: float  # share of instrumental tracks
    explicit: float
    duration: tuple[float, float]  # median seconds, log-normal sigma
    moods: Mapping[str, float]
    languages: Mapping[str, float]
    kinds: Mapping[str, float]  # artist name styles
    tags: tuple[str, ...]  # Last.fm-style descriptors
    playlists: tuple[str, ...]  # playlist names
    neighbours: tuple[str, ...]


_F = _Family
_FAMILY_LIST = (
    _F("rock", 13, _items("rock, classic rock, hard rock, alternative rock, punk, post-punk, "
       "grunge, garage rock, psychedelic rock, progressive rock, soft rock, britpop"),
       (1962, 2024), 0.72, 0.50, 0.12, (95, 165), -7.5, 0.05, 0.04, 0.08, (235, 0.25),
       {"energetic": 3, "happy": 2, "angry": 1.5, "melancholic": 1, "dark": 1, "romantic": 0.5},
       {"en": 0.9, "de": 0.03, "sv": 0.03, "fr": 0.02, "es": 0.02}, {"band": 0.7, "person": 0.3},
       _items("guitar, classic, seen live, driving, rock and roll"),
       _items("Rock Classics, Guitar Anthems, Rock Drive, Loud & Proud"),
       ("indie", "metal", "roots")),
    _F("indie", 12, _items("indie rock, indie pop, indie folk, dream pop, shoegaze, lo-fi, "
       "bedroom pop, chamber pop"),
       (1985, 2025), 0.55, 0.52, 0.30, (80, 150), -8.5, 0.04, 0.08, 0.06, (225, 0.25),
       {"dreamy": 2, "melancholic": 2, "calm": 1, "happy": 1.5, "sad": 1, "uplifting": 1},
       {"en": 0.88, "sv": 0.04, "fr": 0.04, "de": 0.02, "ja": 0.02},
       {"band": 0.55, "person": 0.45},
       _items("indie, mellow, beautiful, atmospheric, alternative"),
       _items("Indie Gems, Bedroom Indie, Indie Mix, Hazy Afternoons"),
       ("rock", "pop", "folk", "electronic")),
    _F("pop", 14, _items("pop, dance pop, synthpop, electropop, art pop, teen pop, k-pop, "
       "j-pop, schlager"),
       (1975, 2025), 0.68, 0.68, 0.15, (90, 135), -6.0, 0.06, 0.01, 0.12, (205, 0.2),
       {"happy": 3, "romantic": 2, "energetic": 2, "uplifting": 2, "sad": 1},
       {"en": 0.84, "sv": 0.04, "es": 0.03, "fr": 0.03, "de": 0.02, "ja": 0.02, "ko": 0.02},
       {"person": 0.75, "band": 0.15, "dj": 0.1},
       _items("pop, catchy, dance, love, singalong"),
       _items("Pop Hits, Sing-Along, Pop Rising, Feel-Good Pop"),
       ("indie", "electronic", "soul", "latin")),
    _F("electronic", 11, _items("house, deep house, techno, trance, drum and bass, dubstep, "
       "electro house, edm, big room, progressive house, uk garage, electronica, synthwave"),
       (1988, 2025), 0.80, 0.70, 0.05, (118, 132), -5.5, 0.06, 0.40, 0.05, (250, 0.28),
       {"energetic": 4, "uplifting": 2, "dark": 1.5, "happy": 1, "dreamy": 1},
       {"en": 0.9, "de": 0.04, "fr": 0.03, "sv": 0.03}, {"dj": 0.6, "person": 0.25, "band": 0.15},
       _items("electronic, dance, club, party, workout"),
       _items("Deep House Sessions, Techno Bunker, Dancefloor Fillers, Electronic Mix"),
       ("pop", "ambient", "hiphop")),
    _F("ambient", 4, _items("ambient, downtempo, chillout, lo-fi beats, new age, drone, "
       "trip hop"),
       (1975, 2025), 0.32, 0.35, 0.70, (60, 100), -16.0, 0.04, 0.70, 0.0, (290, 0.35),
       {"calm": 4, "dreamy": 3, "melancholic": 1.5, "dark": 0.5},
       {"en": 0.85, "ja": 0.05, "de": 0.05, "fr": 0.05}, {"dj": 0.4, "person": 0.4, "band": 0.2},
       _items("chill, ambient, relaxing, sleep, atmospheric, study"),
       _items("Deep Focus, Ambient Sleep, Brain Food, Slow Mornings"),
       ("electronic", "classical", "jazz")),
    _F("hiphop", 12, _items("hip hop, rap, trap, boom bap, conscious hip hop, gangster rap, "
       "southern hip hop, uk drill, grime, alternative hip hop"),
       (1985, 2025), 0.65, 0.75, 0.15, (80, 100), -6.5, 0.22, 0.02, 0.55, (200, 0.22),
       {"energetic": 3, "dark": 2, "angry": 1, "happy": 1, "melancholic": 0.7},
       {"en": 0.86, "fr": 0.05, "de": 0.04, "sv": 0.02, "ko": 0.03},
       {"rapper": 0.75, "person": 0.2, "band": 0.05},
       _items("hip-hop, rap, party, workout, underground"),
       _items("Hip Hop Heads, Rap Workout, Boom Bap Classics, Trap Lords"),
       ("soul", "electronic", "latin")),
    _F("soul", 8, _items("r&b, soul, neo soul, funk, motown, disco, new jack swing, "
       "quiet storm"),
       (1960, 2025), 0.60, 0.68, 0.25, (85, 120), -7.5, 0.08, 0.02, 0.10, (230, 0.22),
       {"romantic": 3, "happy": 2, "calm": 1, "energetic": 1.5, "sad": 1},
       {"en": 0.95, "fr": 0.03, "pt": 0.02}, {"person": 0.7, "band": 0.3},
       _items("soul, rnb, funk, smooth, groovy"),
       _items("Soul Sundays, Funk & Soul Classics, Slow Jams, Velvet R&B"),
       ("hiphop", "jazz", "pop")),
    _F("jazz", 5, _items("jazz, bebop, cool jazz, hard bop, jazz fusion, smooth jazz, "
       "vocal jazz, bossa nova, swing"),
       (1960, 2025), 0.42, 0.50, 0.65, (70, 180), -12.0, 0.05, 0.55, 0.0, (310, 0.35),
       {"calm": 3, "romantic": 2, "happy": 1.5, "melancholic": 1.5, "dreamy": 1},
       {"en": 0.9, "pt": 0.05, "fr": 0.05}, {"jazz": 1.0},
       _items("jazz, smooth, piano, saxophone, late night, relaxing"),
       _items("Late Night Jazz, Jazz Classics, Sunday Morning Jazz, Coffee Table Jazz"),
       ("soul", "roots", "classical")),
    _F("classical", 3, _items("classical, baroque, romantic era, opera, contemporary classical, "
       "minimalism, chamber music, film score, choral"),
       (1960, 2025), 0.24, 0.25, 0.92, (55, 140), -20.0, 0.04, 0.85, 0.0, (330, 0.55),
       {"calm": 4, "melancholic": 2, "dreamy": 1.5, "uplifting": 1, "dark": 0.5},
       {"en": 0.4, "de": 0.3, "fr": 0.15, "it": 0.15}, {"ensemble": 0.5, "person": 0.5},
       _items("classical, piano, orchestral, beautiful, relaxing, study"),
       _items("Classical Focus, Piano & Strings, Baroque Mornings, Classical Essentials"),
       ("ambient", "jazz")),
    _F("folk", 6, _items("folk, singer-songwriter, americana, country, bluegrass, alt-country, "
       "celtic, chanson"),
       (1962, 2025), 0.42, 0.52, 0.70, (75, 140), -10.0, 0.04, 0.05, 0.02, (220, 0.22),
       {"calm": 2, "melancholic": 2, "happy": 2, "romantic": 1.5, "sad": 1, "uplifting": 1},
       {"en": 0.85, "fr": 0.06, "sv": 0.04, "de": 0.03, "es": 0.02},
       {"person": 0.6, "band": 0.4},
       _items("folk, acoustic, singer-songwriter, mellow, americana"),
       _items("Acoustic Evenings, Folk & Americana, Campfire Songs, Country Roads"),
       ("indie", "rock", "roots")),
    _F("latin", 6, _items("reggaeton, latin pop, salsa, bachata, cumbia, latin hip hop, tango, "
       "mpb, samba"),
       (1965, 2025), 0.72, 0.75, 0.20, (88, 130), -6.0, 0.09, 0.03, 0.20, (210, 0.2),
       {"happy": 3, "romantic": 2.5, "energetic": 2.5, "sad": 0.7},
       {"es": 0.8, "pt": 0.2}, {"person": 0.7, "band": 0.2, "rapper": 0.1},
       _items("latin, summer, party, dance, tropical"),
       _items("Latin Party, Reggaeton Hits, Baila Baila, Verano Latino"),
       ("pop", "hiphop", "roots")),
    _F("metal", 4, _items("metal, heavy metal, thrash metal, death metal, black metal, "
       "metalcore, doom metal, power metal, nu metal"),
       (1970, 2025), 0.90, 0.42, 0.02, (90, 190), -4.5, 0.08, 0.08, 0.12, (280, 0.25),
       {"angry": 3, "dark": 3, "energetic": 3, "melancholic": 0.5},
       {"en": 0.85, "sv": 0.07, "de": 0.08}, {"band": 0.95, "person": 0.05},
       _items("metal, heavy, headbanging, seen live, aggressive"),
       _items("Heavy Riffs, Metal Mayhem, Headbanger's Ball, Mosh Pit"),
       ("rock",)),
    _F("roots", 4, _items("blues, delta blues, chicago blues, reggae, roots reggae, dub, ska, "
       "afrobeat, afrobeats"),
       (1960, 2025), 0.58, 0.70, 0.30, (70, 150), -8.0, 0.07, 0.10, 0.06, (240, 0.25),
       {"happy": 2, "calm": 2, "energetic": 1.5, "melancholic": 1.5, "romantic": 1},
       {"en": 0.92, "fr": 0.04, "pt": 0.04}, {"person": 0.55, "band": 0.45},
       _items("blues, reggae, roots, groovy, summer"),
       _items("Blues Night, Reggae Vibes, Afrobeats Heat, Island Time"),
       ("rock", "soul", "latin")),
)  # fmt: skip
del _F

FAMILIES: Mapping[str, _Family] = {family.name: family for family in _FAMILY_LIST}
GENRE_FAMILY: Mapping[str, str] = {
    genre: family.name for family in _FAMILY_LIST for genre in family.genres
}
_GENRE_TEMPO = {
    "house": (120, 126), "deep house": (118, 124), "techno": (125, 138), "trance": (134, 140),
    "drum and bass": (170, 176), "dubstep": (138, 142), "electro house": (126, 130),
    "edm": (124, 130), "big room": (126, 130), "progressive house": (124, 128),
    "uk garage": (128, 134), "synthwave": (85, 118), "lo-fi beats": (70, 90),
    "trip hop": (80, 100), "trap": (130, 150), "uk drill": (138, 145), "grime": (138, 142),
    "disco": (115, 128), "reggaeton": (88, 100), "salsa": (150, 200), "bachata": (120, 140),
    "cumbia": (90, 110), "samba": (90, 105), "doom metal": (60, 90), "thrash metal": (150, 200),
    "reggae": (70, 95), "roots reggae": (70, 95), "dub": (65, 90), "afrobeats": (100, 115),
    "swing": (140, 200), "punk": (150, 200), "drone": (50, 80),
}  # fmt: skip
_GENRE_ERA = {
    "classic rock": (1962, 1985), "grunge": (1986, 1998), "britpop": (1990, 2000),
    "psychedelic rock": (1962, 1975), "progressive rock": (1967, 1985), "punk": (1974, 1995),
    "post-punk": (1977, 1990), "motown": (1960, 1975), "disco": (1970, 1982),
    "new jack swing": (1986, 1996), "heavy metal": (1970, 1990), "thrash metal": (1982, 1995),
    "nu metal": (1995, 2006), "trap": (2008, 2025), "uk drill": (2014, 2025),
    "bedroom pop": (2012, 2025), "k-pop": (2005, 2025), "afrobeats": (2008, 2025),
    "bebop": (1960, 1970), "hard bop": (1960, 1975), "cool jazz": (1960, 1972),
    "ska": (1962, 2000), "delta blues": (1960, 1975), "reggaeton": (1998, 2025),
    "lo-fi beats": (2014, 2025), "synthwave": (2008, 2025),
}  # fmt: skip
_GENRE_LANGUAGE = {
    "k-pop": "ko", "j-pop": "ja", "schlager": "de", "chanson": "fr", "mpb": "pt", "samba": "pt",
    "bossa nova": "pt", "britpop": "en", "opera": "it",
}  # fmt: skip
_VOCAL_GENRES = frozenset({"opera", "choral", "vocal jazz", "chanson"})

# mood -> (valence low, valence high, energy shift, danceability shift, chance of minor mode)
_MOODS: Mapping[str, tuple[float, float, float, float, float]] = {
    "happy": (0.65, 0.95, 0.05, 0.06, 0.2),
    "sad": (0.05, 0.3, -0.15, -0.1, 0.75),
    "calm": (0.3, 0.6, -0.2, -0.08, 0.4),
    "energetic": (0.45, 0.85, 0.15, 0.05, 0.35),
    "dark": (0.03, 0.3, 0.02, -0.03, 0.8),
    "romantic": (0.4, 0.75, -0.1, 0.0, 0.35),
    "melancholic": (0.1, 0.4, -0.1, -0.08, 0.7),
    "angry": (0.05, 0.35, 0.18, -0.05, 0.75),
    "dreamy": (0.25, 0.6, -0.12, -0.06, 0.45),
    "uplifting": (0.6, 0.9, 0.1, 0.04, 0.2),
}
_MOOD_TAGS = {
    "happy": "happy", "sad": "sad", "calm": "chill", "energetic": "energetic", "dark": "dark",
    "romantic": "love", "melancholic": "melancholy", "angry": "aggressive", "dreamy": "dreamy",
    "uplifting": "uplifting",
}  # fmt: skip
_COUNTRIES = {
    "en": (("US", 0.6), ("GB", 0.3), ("CA", 0.05), ("AU", 0.05)),
    "es": (("ES", 0.3), ("MX", 0.3), ("CO", 0.15), ("AR", 0.15), ("PR", 0.1)),
    "pt": (("BR", 0.8), ("PT", 0.2)), "fr": (("FR", 0.8), ("CA", 0.1), ("BE", 0.1)),
    "de": (("DE", 0.8), ("AT", 0.2)), "sv": (("SE", 1.0),), "ja": (("JP", 1.0),),
    "ko": (("KR", 1.0),), "it": (("IT", 1.0),),
}  # fmt: skip
_COUNTRY_TAGS = {
    "GB": "british", "SE": "swedish", "FR": "french", "DE": "german", "JP": "japanese",
    "KR": "korean", "BR": "brazilian", "ES": "spanish", "MX": "mexican", "US": "american",
    "CA": "canadian", "AU": "australian",
}  # fmt: skip

# --- words -----------------------------------------------------------------------------------

_NOUNS = _words(
    "heart night fire rain river light shadow dream city ocean summer winter star moon sun road "
    "home love time world sky gold storm wave garden mirror window island echo ghost angel "
    "diamond thunder paradise horizon memory secret voice wildfire highway satellite signal "
    "planet desert forest mountain harbor lantern compass arrow feather glass silence weekend "
    "morning daylight sunset skyline heartbeat fever magic rhythm honey cherry velvet neon "
    "midnight stranger lover kingdom ember"
)
_ADJECTIVES = _words(
    "golden broken electric silent wild lonely blue red endless sweet little crystal paper "
    "hollow burning frozen bright dark lost secret perfect strange tender distant quiet "
    "restless violet young modern cosmic savage gentle fading shining northern lucky easy "
    "heavy open simple silver"
)
_VERBS = _words("hold stay run fly breathe wait dance shine fall believe remember follow")
_VERBS_ING = _words("running dancing falling chasing waiting burning dreaming drifting holding")
_PLURALS = _words(
    "Wolves Foxes Lanterns Echoes Satellites Ghosts Horses Rivers Strangers Dreamers Pilots "
    "Kings Arrows Shadows Mirrors Giants Owls Sparrows Tigers Comets Hearts Machines Saints "
    "Sailors Ravens Rebels Poets Daggers Mountains Lovers Thieves Wanderers"
)
_FOREIGN_TITLES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    # language -> (heads, complements, joiner): "Noche" + " " + "de Verano"
    "es": (_items("Noche, Luna, Fuego, Corazón, Amor, Cielo, Sueño, Baile, Verano, Mar"),
           _items("de Verano, Sin Ti, Contigo, de Fuego, Azul, de Mi Vida, en la Playa, "
                  "Otra Vez, de Medianoche, Para Siempre"), " "),
    "fr": (_items("Nuit, Amour, Ciel, Rêve, Cœur, Lune, Soleil, Danse, Ville, Mer"),
           _items("d'Été, Sans Toi, de Paris, Pour Toi, d'Hiver, en Rose, de Minuit, "
                  "Pour Toujours, à Deux, du Sud"), " "),
    "de": (_items("Nacht, Liebe, Himmel, Traum, Herz, Mond, Sonne, Stadt, Sommer, Feuer"),
           _items("ohne Dich, in Berlin, für Immer, am Meer, aus Gold, im Regen, der Zeit, "
                  "bei Nacht, aus Glas, im Winter"), " "),
    "pt": (_items("Saudade, Noite, Amor, Coração, Lua, Sol, Mar, Samba, Céu, Vida"),
           _items("de Verão, Sem Você, do Rio, Para Sempre, da Bahia, em Paz, do Mar, "
                  "de Janeiro, Azul, da Manhã"), " "),
    "sv": (_items("Natt, Kärlek, Himmel, Dröm, Hjärta, Måne, Sol, Stad, Sommar, Vinter"),
           _items("utan Dig, i Stockholm, för Alltid, vid Havet, i Natt, av Guld, i Regnet, "
                  "och Dag, på Jorden, i Norr"), " "),
    "it": (_items("Notte, Amore, Cielo, Sogno, Cuore, Luna, Sole, Mare, Estate, Vita"),
           _items("d'Estate, Senza Te, di Roma, Per Sempre, Infinito, del Sud, di Mezzanotte, "
                  "in Due, Blu, di Vetro"), " "),
    "ja": (_words("夜 恋 空 夢 桜 月 花火 星 雨 青春"),
           _words("の歌 の向こう 色 に消えて の約束 物語 の中で のように 日和 のせい"), ""),
    "ko": (_words("밤 사랑 하늘 꿈 별 달 비 봄 여름 너"),
           _words("의_노래 의_끝 _속에서 처럼 _이야기 _아래 의_기억 _한_조각 의_온도 _같은"),
           ""),
}  # fmt: skip
_FIRST_NAMES: Mapping[str, tuple[str, ...]] = {
    "en": _words(
        "James Olivia Liam Emma Noah Ava Lucas Mia Ethan Chloe Jack Grace Owen Ruby Leo Hannah "
        "Caleb Nora Isaac Maya Miles Ella Jonah Iris Theo Zoe Felix Hazel Oscar Clara Eli Ivy "
        "Sam Lily Max Jade Finn Rose Adam Alice"
    ),
    "es": _words("Sofía Mateo Lucía Diego Valentina Javier Camila Alejandro Daniela Pablo"),
    "pt": _words("João Ana Pedro Beatriz Tiago Mariana Rafael Larissa Gustavo Júlia"),
    "fr": _words("Camille Julien Léa Antoine Chloé Mathieu Manon Hugo Élodie Louis"),
    "de": _words("Lukas Anna Jonas Lena Felix Marie Paul Sophie Moritz Clara"),
    "sv": _words("Erik Elsa Oskar Astrid Nils Maja Axel Ebba Lars Freja"),
    "ja": _words("Yui Haruto Sakura Ren Aoi Sota Hina Kaito Mio Yuto"),
    "ko": _words("Jisoo Minho Seoyeon Jiwoo Hana Taeyang Yuna Dongha Sora Jihun"),
    "it": _words("Giulia Marco Chiara Luca Francesca Matteo Elena Andrea"),
}
_LAST_NAMES: Mapping[str, tuple[str, ...]] = {
    "en": _words(
        "Carter Hayes Brooks Reed Morgan Ellis Walker Hart Bennett Fisher Lane Porter Quinn "
        "Shaw Wells Gray Knight Fox Holloway Mercer Sloane Whitaker Harlow Bishop Crane Doyle "
        "Easton Finch Graves Monroe"
    ),
    "es": _words("García Morales Rivera Ortega Castillo Navarro Romero Vega Herrera Luna"),
    "pt": _words("Silva Santos Costa Oliveira Almeida Ribeiro Carvalho Moreira Barros"),
    "fr": _words("Martin Dubois Lefèvre Moreau Laurent Girard Fontaine Mercier Rousseau"),
    "de": _words("Müller Schneider Fischer Weber Wagner Becker Hoffmann Richter Krüger"),
    "sv": _words("Lindqvist Berg Holm Sandberg Ek Nyström Lund Wikström Dahl Falk"),
    "ja": _words("Tanaka Sato Suzuki Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi"),
    "ko": _words("Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim"),
    "it": _words("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci"),
}
_CITIES = _items(
    "Berlin, Vienna, London, Boston, Chicago, Prague, Helsinki, Oslo, Lyon, Leipzig, Budapest, "
    "Montreal, Seattle, Sydney, Madrid, Amsterdam, Dresden"
)
_ENSEMBLES = _items(
    "Philharmonic Orchestra, Symphony Orchestra, String Quartet, Chamber Orchestra, "
    "Chamber Choir, Baroque Ensemble"
)
_COMPOSERS = _items(
    "Bach, Mozart, Beethoven, Brahms, Chopin, Debussy, Ravel, Satie, Vivaldi, Handel, Schubert, "
    "Dvořák, Tchaikovsky, Sibelius, Grieg, Pärt, Glass, Reich, Haydn, Mahler"
)
_FORMS = _items(
    "Symphony, Piano Sonata, String Quartet, Violin Concerto, Piano Concerto, Nocturne, Étude, "
    "Prelude, Suite, Cello Suite, Sonata, Partita"
)
_KEYS = _items("C, C-Sharp, D, E-Flat, E, F, F-Sharp, G, A-Flat, A, B-Flat, B")
_MOVEMENTS = _items(
    "I. Allegro, II. Adagio, III. Scherzo: Presto, IV. Finale: Allegro vivace, I. Andante, "
    "II. Largo, III. Menuetto, I. Allegro ma non troppo, II. Andante cantabile, III. Rondo"
)
_VENUES = _items(
    "the Roundhouse, Red Rocks, Montreux, the Apollo, Budokan, the Fillmore, the Olympia, "
    "the Paradiso, the Troubadour"
)
_COMPILATIONS = _items("Greatest Hits, Essentials, Gold, The Collection, Anthology, The Singles")
_LABEL_SUFFIXES = _items("Records, Recordings, Music, Sound, Audio, Label Group, Editions")
_SHOWS = _items(
    "Liner Notes, The Mixdown, Deep Cuts Radio, B-Side Stories, The Long Play, Off the Record"
)
_EPISODE_TOPICS = _items(
    "The Making of a Classic, Why Vinyl Came Back, Inside the Studio, The Sound of the 90s, "
    "How Playlists Changed Music, A Producer's Toolkit, One-Hit Wonders, Touring on a Budget"
)
_SUFFIXES = ("Radio Edit", "Acoustic", "Live", "Single Version", "Demo", "Bonus Track")
_ELECTRONIC_SUFFIXES = ("Radio Edit", "Extended Mix", "Original Mix", "Remix", "Remix", "Dub")

# playlist name -> the moods it draws from
_MOOD_PLAYLISTS: Mapping[str, tuple[str, ...]] = {
    "Chill Vibes": ("calm", "dreamy"), "Sad Songs 💔": ("sad", "melancholic"),
    "Good Mood": ("happy", "uplifting"), "Party Starters": ("energetic", "happy"),
    "Rainy Day": ("melancholic", "calm"), "Love Songs": ("romantic",),
    "Running": ("energetic", "angry"), "Focus": ("calm", "dreamy"),
    "Dinner Party": ("romantic", "calm"), "Dark Side": ("dark", "angry"),
}  # fmt: skip
_YEAR_PLAYLISTS = ("Gym {}", "Summer {}", "Best of {}", "Road Trip {}", "Favourites {}")
_MISC_PLAYLISTS = _items("Car, Shower Songs, Wedding Playlist, stuff, On Repeat, Kitchen Radio")
_COLLAB_PLAYLISTS = ("Road Trip w/ {}", "Office Jams", "Party at {}'s", "Shared Vibes", "Our Mix")
_DESCRIPTIONS = _items(
    "Songs for late nights., Updated whenever I feel like it., no skips, "
    "For the commute., Loud & proud, Everything I had on repeat"
)


def _cumulative(weights: Mapping[str, float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    return tuple(weights), tuple(accumulate(weights.values()))


# Shared float and tag objects: values rounded like Spotify's, and a third less memory at 100k.
_MILLIS = tuple(step / 1000 for step in range(1001))
_TENTHS_OF_MILLIS = tuple(step / 10_000 for step in range(10_001))
_VOCAL_TAGS = {"female": "female vocalists", "male": "male vocalists"}
_ALBUM_KINDS = _cumulative({"album": 55, "single": 34, "compilation": 6, "live": 5})

_FAMILY_MOODS = {name: _cumulative(family.moods) for name, family in FAMILIES.items()}
_FAMILY_LANGUAGES = {name: _cumulative(family.languages) for name, family in FAMILIES.items()}
_FAMILY_KINDS = {name: _cumulative(family.kinds) for name, family in FAMILIES.items()}
_COUNTRY_CHOICES = {
    language: _cumulative(dict(countries)) for language, countries in _COUNTRIES.items()
}


# --- public helpers --------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many long-lived, cycle-free objects.

    Each collection walks the whole (growing) library; at 100k tracks pausing saves a quarter
    of the generation time and two thirds of the index build.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def library_track_uri(track_id: str) -> str:
    """The Spotify URI of a library track."""
    return f"spotify:track:{track_id}"


_DASH_SUFFIX = re.compile(r"\s+-\s+.*$")
_VERSION_PARENS = re.compile(
    r"\s*[(\[](?:feat\.|ft\.|with |live|remaster|.*version|.*edit|.*mix|demo|mono)[^)\]]*[)\]]",
    re.IGNORECASE,
)


def base_title(title: str) -> str:
    """The title without version decorations: "Hold On - Remastered 2011 (feat. X)" -> "Hold On"."""
    return _VERSION_PARENS.sub("", _DASH_SUFFIX.sub("", title)).strip() or title.strip()


def fold(text: str) -> str:
    """Case-, accent- and space-insensitive form of a name (accents dropped on Latin letters)."""
    if text.isascii():
        return " ".join(text.lower().split())
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char) and kept and kept[-1] < "\u0250":
            continue
        kept.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).casefold().split())


@dataclass(frozen=True)
class LibraryIndex:
    """Lookups the provider emulators need; values are track ids in library order.

    An ISRC or recording MBID can map to several tracks: the same recording on an album and a
    compilation shares both.
    """

    by_isrc: Mapping[str, tuple[str, ...]]
    by_recording_mbid: Mapping[str, tuple[str, ...]]
    by_artist_title: Mapping[tuple[str, str], tuple[str, ...]]  # (fold(artist), fold(title))

    @classmethod
    def of(cls, library: Library) -> LibraryIndex:
        with _gc_paused():
            return cls._build(library)

    @classmethod
    def _build(cls, library: Library) -> LibraryIndex:
        by_isrc: dict[str, list[str]] = {}
        by_mbid: dict[str, list[str]] = {}
        by_name: dict[tuple[str, str], list[str]] = {}
        artists = {artist.id: fold(artist.name) for artist in library.artists.values()}
        for track in library.tracks.values():
            if track.isrc is not None:
                by_isrc.setdefault(track.isrc, []).append(track.id)
            if track.truth.recording_mbid is not None:
                by_mbid.setdefault(track.truth.recording_mbid, []).append(track.id)
            title, base = fold(track.name), fold(base_title(track.name))
            for artist_id in track.artist_ids:
                by_name.setdefault((artists[artist_id], title), []).append(track.id)
                if base != title:
                    by_name.setdefault((artists[artist_id], base), []).append(track.id)
        return cls(
            by_isrc={key: tuple(ids) for key, ids in by_isrc.items()},
            by_recording_mbid={key: tuple(ids) for key, ids in by_mbid.items()},
            by_artist_title={key: tuple(ids) for key, ids in by_name.items()},
        )

    def find(self, artist: str, title: str) -> tuple[str, ...]:
        """Tracks credited to `artist` titled `title`, else matching on the base title."""
        exact = self.by_artist_title.get((fold(artist), fold(title)))
        if exact:
            return exact
        return self.by_artist_title.get((fold(artist), fold(base_title(title))), ())


# --- generation ------------------------------------------------------------------------------


def generate_library(
    seed: int = 0,
    tracks: int = 2000,
    playlists: int = 20,
    *,
    now: datetime | None = None,
    playlist_size: int | None = None,
) -> Library:
    """A deterministic demo library: `tracks` liked songs, `playlists` playlists (see module)."""
    if tracks < 0 or playlists < 0 or (playlist_size is not None and playlist_size < 0):
        raise ValueError("tracks, playlists and playlist_size must not be negative")
    moment = DEFAULT_NOW if now is None else now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year < 2000:
        raise ValueError("now must be in 2000 or later (the catalogue spans 1960 to now)")
    with _gc_paused():
        return _Generator(seed, moment).build(tracks, playlists, playlist_size)


@dataclass(slots=True)
class _ArtistDraft:
    index: int
    id: str
    name: str
    genres: tuple[str, ...]
    family: str
    language: str
    country: str
    vocal: str
    debut: int
    next_year: int
    label: int
    weight: float
    rank: int  # Deezer popularity of the artist's tracks, before per-track jitter
    mbid: str
    open_albums: list[int] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)
    recordings: list[int] = field(default_factory=list)  # tracks a compilation may reuse


@dataclass(slots=True)
class _AlbumDraft:
    index: int
    id: str
    name: str
    artist: int
    kind: str  # album, single, compilation, live, remaster
    year: int
    original_year: int  # remasters: the year of the original release
    release_date: str
    precision: DatePrecision
    released_ts: int
    total: int
    genres: tuple[str, ...]
    label: int
    mbid: str
    deezer_id: int
    free: list[int]
    first_title: str | None = None


class _Theme(NamedTuple):
    name: str
    kind: str  # family, mood, decade, year (liked that year), artist, any
    key: str | int | tuple[str, ...] | None


@dataclass(slots=True)
class _PlaylistPlan:
    kind: str  # owned, collaborative, followed
    owner: User
    size: int
    name: str = ""
    description: str = ""
    created_ts: int = 0
    window: tuple[int, int] = (0, 0)  # when entries were added
    slots: list[int] = field(default_factory=list)  # track indices; -1 = special entry
    specials: dict[int, tuple[EntryKind, LocalFile | str | None]] = field(default_factory=dict)
    plain: list[int] = field(default_factory=list)  # positions still free for special entries


class _Generator:
    def __init__(self, seed: int, now: datetime) -> None:
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - seeded demo data, not secrets
        self.now = now
        self.now_ts = int(now.timestamp())
        self.ids: set[str] = set()
        self.deezer_ids: set[int] = set()
        self.isrcs: set[str] = set()
        self.isrc_next: dict[tuple[str, str, int], int] = {}
        self.artist_names: set[str] = set()
        self.artists: list[_ArtistDraft] = []
        self.albums: list[_AlbumDraft] = []
        self.tracks: list[Track] = []
        self.track_album: list[int] = []
        self.track_family: list[str] = []
        self.episodes: dict[str, Episode] = {}
        self.labels: list[tuple[str, str]] = []  # (name, ISRC registrant)

    # -- small draws ---------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh 22-character base62 id (random bytes mapped onto the alphabet)."""
        randbytes = self.rng.randbytes
        while True:
            candidate = randbytes(22).translate(_BASE62_BYTES).decode("ascii")
            if candidate not in self.ids:
                self.ids.add(candidate)
                return candidate

    def mbid(self) -> str:
        """`str(uuid.UUID(int=rng.getrandbits(128), version=4))`, without the object."""
        value = self.rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def choice(self, options: Sequence[_T]) -> _T:
        return options[int(self.rng.random() * len(options))]

    def below(self, stop: int) -> int:
        return int(self.rng.random() * stop)

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high], both included."""
        return low + int(self.rng.random() * (high - low + 1))

    def pick(self, table: tuple[tuple[str, ...], tuple[float, ...]]) -> str:
        """A weighted choice from a `_cumulative` table."""
        names, cumulative = table
        return names[bisect(cumulative, self.rng.random() * cumulative[-1])]

    def person(self, language: str) -> str:
        firsts = _FIRST_NAMES.get(language, _FIRST_NAMES["en"])
        lasts = _LAST_NAMES.get(language, _LAST_NAMES["en"])
        return f"{self.choice(firsts)} {self.choice(lasts)}"

    def phrase(self) -> str:
        noun, adjective = self.choice(_NOUNS).title(), self.choice(_ADJECTIVES).title()
        pattern = self.below(10)
        if pattern == 0:
            return noun
        if pattern == 1:
            return f"The {noun}"
        if pattern == 2:
            joiner = self.choice(("in the", "Through the", "into the", "with the"))
            return f"{self.choice(_VERBS_ING).title()} {joiner} {noun}"
        if pattern == 3:
            return f"{noun} of the {self.choice(_NOUNS).title()}"
        if pattern == 4:
            start = self.choice(("Don't", "Just", "Let Me", "Always"))
            return f"{start} {self.choice(_VERBS).title()}"
        if pattern == 5:
            return f"{self.choice(_VERBS).title()} with Me"
        if pattern == 6:
            return adjective
        return f"{adjective} {noun}"

    def title(self, language: str, family: str) -> str:
        rng = self.rng
        if family == "classical":
            return (
                f"{self.choice(_FORMS)} No. {self.between(1, 9)} in {self.choice(_KEYS)} "
                f"{self.choice(('Major', 'Minor'))}, Op. {self.between(2, 130)}: "
                f"{self.choice(_MOVEMENTS)}"
            )
        words = _FOREIGN_TITLES.get(language)
        if words is None or rng.random() < 0.15:  # English, instrumental, or an English title
            return self.phrase()
        heads, complements, joiner = words
        head = self.choice(heads)
        if rng.random() < 0.25:
            return head
        return f"{head}{joiner}{self.choice(complements)}".replace("_", " ")

    def artist_name(self, kind: str, language: str) -> str:
        rng = self.rng
        noun, adjective = self.choice(_NOUNS).title(), self.choice(_ADJECTIVES).title()
        if kind == "person" or (kind == "band" and language in ("ja", "ko") and rng.random() < 0.5):
            name = self.person(language)
        elif kind == "band":
            plural = self.choice(_PLURALS)
            name = self.choice(
                (f"The {plural}", f"The {adjective} {plural}", f"{adjective} {plural}",
                 f"{adjective} {noun}", f"{self.choice(_FIRST_NAMES['en'])} & the {plural}",
                 f"{noun} {plural}")
            )  # fmt: skip
            if language in ("ja", "ko"):
                name = name.upper()
        elif kind == "dj":
            name = self.choice(
                (f"DJ {noun}", f"{noun}{self.choice(('wave', 'tronic', 'beat', 'flux'))}",
                 f"{adjective}{noun.lower()}", noun.upper(), self.person(language))
            )  # fmt: skip
        elif kind == "rapper":
            name = self.choice(
                (f"Lil {noun}", f"Young {noun}", f"MC {noun}", f"Big {noun}",
                 f"{noun} {self.choice(_LAST_NAMES['en'])}", self.person(language))
            )  # fmt: skip
        elif kind == "ensemble":
            name = self.choice(
                (f"{self.choice(_CITIES)} {self.choice(_ENSEMBLES)}", f"Ensemble {noun}",
                 f"{self.choice(_LAST_NAMES['en'])} Quartet")
            )  # fmt: skip
        else:  # jazz
            leader = self.person(language)
            name = self.choice(
                (leader, leader, f"{leader} Trio", f"{leader} Quartet", f"{leader} Quintet",
                 f"The {leader.split()[-1]} Big Band")
            )  # fmt: skip
        return name

    def unique_artist_name(self, kind: str, language: str) -> str:
        for _ in range(8):
            name = self.artist_name(kind, language)
            if name not in self.artist_names:
                break
        for extra in ("", " Collective", " Project", " & Friends", " Band"):
            if name + extra not in self.artist_names:
                name += extra
                break
        number = 2
        while name in self.artist_names:
            name = f"{name.rsplit(' #', 1)[0]} #{number}"
            number += 1
        self.artist_names.add(name)
        return name

    # -- catalogue -----------------------------------------------------------------------------

    def make_labels(self, count: int) -> None:
        rng = self.rng
        names: set[str] = set()
        registrants: set[str] = set()
        while len(self.labels) < count:
            word = self.choice((self.choice(_NOUNS), self.choice(_ADJECTIVES))).title()
            name = f"{word} {self.choice(_LABEL_SUFFIXES)}"
            registrant = self.choice(string.ascii_uppercase) + "".join(
                rng.choices(string.ascii_uppercase + string.digits, k=2)
            )
            if name in names or registrant in registrants:
                continue
            names.add(name)
            registrants.add(registrant)
            self.labels.append((name, registrant))

    def make_artists(self, count: int) -> None:
        rng = self.rng
        taste = {
            name: family.weight * rng.lognormvariate(0, 0.6) for name, family in FAMILIES.items()
        }
        family_table = _cumulative(taste)
        label_weights = list(accumulate(rng.paretovariate(1.5) for _ in self.labels))
        for index in range(count):
            family = FAMILIES[self.pick(family_table)]
            primary = self.choice(family.genres)
            genres = [primary]
            roll = rng.random()
            for _ in range(0 if roll < 0.35 else 1 if roll < 0.75 else 2):
                source = family
                if rng.random() < 0.15:
                    source = FAMILIES[self.choice(family.neighbours)]
                candidate = self.choice(source.genres)
                if candidate not in genres:
                    genres.append(candidate)
            language = _GENRE_LANGUAGE.get(primary) or self.pick(_FAMILY_LANGUAGES[family.name])
            kind = self.pick(_FAMILY_KINDS[family.name])
            low, high = _GENRE_ERA.get(primary, family.era)
            high = min(high, self.now.year)
            low = min(max(low, _MIN_YEAR), high)
            debut = int(rng.triangular(low, high, low + 0.7 * (high - low)))
            vocal = (
                "mixed"
                if kind in ("band", "ensemble") and rng.random() < 0.3
                else ("female" if rng.random() < 0.42 else "male")
            )
            weight = min(rng.paretovariate(1.25), 80.0)
            self.artists.append(
                _ArtistDraft(
                    index=index,
                    id=self.new_id(),
                    name=self.unique_artist_name(kind, language),
                    genres=tuple(genres),
                    family=family.name,
                    language=language,
                    country=self.pick(_COUNTRY_CHOICES[language]),
                    vocal=vocal,
                    debut=debut,
                    next_year=debut,
                    label=bisect(label_weights, rng.random() * label_weights[-1]),
                    weight=weight,
                    rank=int(min(max(300_000 + 150_000 * math.log(weight), 1_000), 999_999)),
                    mbid=self.mbid(),
                )
            )

    def release_date(self, year: int) -> tuple[str, DatePrecision, int]:
        rng = self.rng
        roll = rng.random()
        old = 0.3 if year < 1980 else 0.12 if year < 2000 else 0.03
        start = date(year, 1, 1)
        days = (self.now.date() - start).days if year == self.now.year else 365
        day = start + timedelta(days=self.below(max(days, 1)))
        precision: DatePrecision
        if roll < old:
            text, precision, moment = str(year), "year", start
        elif roll < old + 0.04:
            text, precision = f"{year}-{day.month:02d}", "month"
            moment = date(year, day.month, 1)
        else:
            text, precision, moment = day.isoformat(), "day", day
        stamp = int(datetime(moment.year, moment.month, moment.day, tzinfo=UTC).timestamp())
        return text, precision, min(stamp, self.now_ts - 86_400)

    def new_album(self, artist: _ArtistDraft) -> int:
        rng = self.rng
        random_ = rng.random
        this_year = self.now.year
        kind = self.pick(_ALBUM_KINDS)
        year = artist.next_year
        artist.next_year += self.between(0, 1) if kind == "single" else self.between(1, 4)
        if year > this_year:
            year = self.between(artist.debut, this_year)
        original = year
        if kind == "compilation":
            year = original = self.between(min(artist.debut + 6, this_year), this_year)
        elif kind == "album" and year + 12 <= this_year and rng.random() < 0.2:
            kind = "remaster"
            year = self.between(max(original + 10, 1990), this_year)
        text, precision, stamp = self.release_date(year)
        first_title = None
        if kind == "single":
            first_title = self.title(artist.language, artist.family)
            name = first_title
            total = 1 + self.below(4) if random_() < 0.45 else 1
        elif kind == "compilation":
            pick = self.choice(_COMPILATIONS)
            name = f"The Best of {artist.name}" if rng.random() < 0.3 else pick
            total = self.between(14, 30)
        elif kind == "live":
            name = f"Live at {self.choice(_VENUES)}"
            total = self.between(10, 20)
        else:
            if artist.family == "classical":
                name = f"{self.choice(_COMPOSERS)}: {self.choice(_FORMS)}s"
            elif not artist.open_albums and rng.random() < 0.15:
                name = artist.name  # self-titled debut
            else:
                name = self.title(artist.language, artist.family)
            total = self.between(8, 16)
            if rng.random() < 0.08:
                name, total = f"{name} (Deluxe Edition)", self.between(18, 26)
            if kind == "remaster":
                name = f"{name} (Remastered {year})"
        genres = artist.genres
        if rng.random() < 0.25:
            sibling = self.choice(FAMILIES[artist.family].genres)
            if sibling not in genres:
                genres = (*genres, sibling)
        deezer_id = rng.randrange(1_000_000, 800_000_000)
        while deezer_id in self.deezer_ids:
            deezer_id = rng.randrange(1_000_000, 800_000_000)
        self.deezer_ids.add(deezer_id)
        free = list(range(1, total + 1))
        index = len(self.albums)
        self.albums.append(
            _AlbumDraft(
                index=index,
                id=self.new_id(),
                name=name,
                artist=artist.index,
                kind=kind,
                year=year,
                original_year=original,
                release_date=text,
                precision=precision,
                released_ts=stamp,
                total=total,
                genres=genres,
                label=artist.label if rng.random() < 0.8 else self.below(len(self.labels)),
                mbid=self.mbid(),
                deezer_id=deezer_id,
                free=free,
                first_title=first_title,
            )
        )
        artist.open_albums.append(index)
        return index

    def isrc(self, artist: _ArtistDraft, label: int, year: int) -> str:
        registrant = self.labels[label][1]
        key = (artist.country, registrant, year % 100)
        number = self.isrc_next.get(key, self.below(40_000)) + self.between(1, 9)
        self.isrc_next[key] = number
        code = f"{artist.country}{registrant}{year % 100:02d}{number % 100_000:05d}"
        while code in self.isrcs:  # only after a (registrant, year) wrapped around
            code = f"{artist.country}{registrant}{year % 100:02d}{self.below(100_000):05d}"
        self.isrcs.add(code)
        return code

    def make_tracks(self, count: int) -> None:
        rng = self.rng
        random_ = rng.random
        if not self.artists:
            return
        weights = list(accumulate(artist.weight for artist in self.artists))
        by_family: dict[str, list[int]] = {}
        for artist in self.artists:
            by_family.setdefault(artist.family, []).append(artist.index)
        chosen = rng.choices(self.artists, cum_weights=weights, k=count)
        reissued: set[tuple[int, int]] = set()  # (compilation, original track) pairs
        for artist in chosen:
            if artist.open_albums and random_() < 0.8:
                album_index = self.choice(artist.open_albums)
            else:
                album_index = self.new_album(artist)
            album = self.albums[album_index]
            position = album.free.pop(self.below(len(album.free)))
            if not album.free:
                artist.open_albums.remove(album_index)
            copy = None
            if album.kind == "compilation" and artist.recordings and random_() < 0.5:
                source = self.choice(artist.recordings)
                year = self.albums[self.track_album[source]].year  # a remaster's year if any
                if year <= album.year and (album_index, source) not in reissued:
                    reissued.add((album_index, source))
                    copy = self.tracks[source]
            self.add_track(artist, album, position, copy, by_family)

    def add_track(
        self,
        artist: _ArtistDraft,
        album: _AlbumDraft,
        position: int,
        copy: Track | None,
        by_family: Mapping[str, Sequence[int]],
    ) -> None:
        rng = self.rng
        random_ = rng.random
        family = FAMILIES[artist.family]
        if album.total > 20:
            half = (album.total + 1) // 2
            disc, number = (1, position) if position <= half else (2, position - half)
        else:
            disc, number = 1, position
        if copy is not None:
            track = Track(
                id=self.new_id(),
                name=copy.name,
                artist_ids=copy.artist_ids,
                album_id=album.id,
                duration_ms=copy.duration_ms,
                explicit=copy.explicit,
                isrc=copy.isrc,
                track_number=number,
                disc_number=disc,
                truth=copy.truth,
            )
            self.append(track, album, family.name)
            return
        primary = album.genres[0]
        vocal_genre = primary in _VOCAL_GENRES
        instrumental = random_() < (0.05 if vocal_genre else family.instrumental)
        language = "zxx" if instrumental else artist.language
        if language not in ("en", "zxx") and random_() < 0.06:
            language = "en"
        if album.first_title is not None:
            name, album.first_title = album.first_title, None
        else:
            name = self.title(language, family.name)
            for _ in range(3):
                if name not in artist.titles:
                    break
                name = self.title(language, family.name)
        artist.titles.add(name)
        artist_ids = [artist.id]
        live = album.kind == "live"
        acoustic_version = extended = False
        first_year = album.original_year
        version = ""  # Spotify's order: "Title (feat. X) - Remastered 2011"
        if album.kind == "remaster":
            roll = random_()
            if roll < 0.5:
                version = f" - Remastered {album.year}"
            elif roll < 0.75:
                version = f" - {album.year} Remaster"
        elif album.kind == "compilation":
            first_year = self.between(min(artist.debut, album.year), album.year)
        elif live:
            version = " - Live" if random_() < 0.7 else " (Live)"
        elif random_() < 0.08:
            options = _ELECTRONIC_SUFFIXES if family.name == "electronic" else _SUFFIXES
            suffix = self.choice(options)
            if album.year < 1970 and random_() < 0.5:
                suffix = "Mono"
            if suffix == "Remix":
                remixer = self.artists[self.choice(by_family[family.name])]
                if remixer.id != artist.id:
                    suffix = f"{remixer.name} Remix"
                    artist_ids.append(remixer.id)
            live = suffix == "Live"
            acoustic_version = suffix == "Acoustic"
            extended = suffix == "Extended Mix"
            version = f" - {suffix}"
        if family.name != "classical" and random_() < 0.08:
            guest = self.artists[self.choice(by_family[family.name])]
            if guest.id not in artist_ids:
                artist_ids.insert(1, guest.id)
                roll = random_()
                if roll < 0.55:
                    name += f" (feat. {guest.name})"
                elif roll < 0.65:
                    name += f" (with {guest.name})"
        name += version
        median, sigma = family.duration
        seconds = median * math.exp(rng.gauss(0.0, sigma)) * (1.6 if extended else 1.0)
        duration_ms = int(min(max(seconds, 75.0), 720.0) * 1000) + self.below(1000)
        explicit = random_() < family.explicit and language != "zxx"
        isrc_year = album.year if album.kind == "remaster" else first_year  # year of the code
        isrc = None if random_() < 0.05 else self.isrc(artist, album.label, isrc_year)
        truth = self.truth(
            family, album, artist, language, first_year, isrc, live, acoustic_version
        )
        track = Track(
            id=self.new_id(),
            name=name,
            artist_ids=tuple(artist_ids),
            album_id=album.id,
            duration_ms=duration_ms,
            explicit=explicit,
            isrc=isrc,
            track_number=number,
            disc_number=disc,
            truth=truth,
        )
        if album.kind != "compilation":
            artist.recordings.append(len(self.tracks))
        self.append(track, album, family.name)

    def append(self, track: Track, album: _AlbumDraft, family: str) -> None:
        self.tracks.append(track)
        self.track_album.append(album.index)
        self.track_family.append(family)

    def truth(
        self,
        family: _Family,
        album: _AlbumDraft,
        artist: _ArtistDraft,
        language: str,
        first_year: int,
        isrc: str | None,
        live: bool,
        acoustic_version: bool,
    ) -> TrackTruth:
        # The hot path of the generator: plain arithmetic, no helper calls where avoidable.
        random_, gauss = self.rng.random, self.rng.gauss
        genres = album.genres
        mood = self.pick(_FAMILY_MOODS[family.name])
        valence_low, valence_high, energy_shift, dance_shift, minor = _MOODS[mood]
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
        low, high = _GENRE_TEMPO.get(genres[0], family.tempo)
        tempo = None if random_() < 0.05 else round(low + (high - low) * random_(), 3)
        in_deezer = isrc is not None and random_() < 0.94
        tags = [genres[0]]
        if len(genres) > 1 and random_() < 0.6:
            tags.append(genres[1])
        tags.append(_MOOD_TAGS[mood])
        tags.append(_DECADE_TAGS[first_year // 10])
        size = len(family.tags)
        first = int(random_() * size)
        tags.append(family.tags[first])
        tags.append(family.tags[(first + 1 + int(random_() * (size - 1))) % size])
        if instrumental:
            tags.append("instrumental")
        elif artist.vocal != "mixed" and random_() < 0.5:
            tags.append(_VOCAL_TAGS[artist.vocal])
        if random_() < 0.3 and artist.country in _COUNTRY_TAGS:
            tags.append(_COUNTRY_TAGS[artist.country])
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
            recording_mbid=None if random_() < 0.1 else self.mbid(),
            first_release_year=first_year,
            in_reccobeats=random_() < 0.8,
            in_deezer=in_deezer,
            in_lastfm=random_() < 0.85,
        )

    # -- account, history and playlists --------------------------------------------------------

    def build(self, liked_count: int, playlist_count: int, playlist_size: int | None) -> Library:
        rng = self.rng
        user, friends = self.make_users()
        plans = self.plan_playlists(playlist_count, playlist_size, user, friends)
        entries = sum(plan.size for plan in plans)
        largest = max((plan.size for plan in plans), default=0)
        # enough tracks that no playlist has to repeat one (only intentional duplicates)
        total = max(liked_count + liked_count // 20 + (entries * 2) // 5, largest + largest // 5)
        artist_count = max(3, round(total**0.85)) if total else 0
        self.make_labels(min(120, 12 + int(math.sqrt(artist_count))))
        self.make_artists(artist_count)
        self.make_tracks(total)
        liked = rng.sample(range(total), liked_count)
        start_ts = self.now_ts - int(rng.uniform(4.0, 9.0) * 365.25 * 86_400)
        liked_ts = self.liked_times(liked, start_ts)
        self.fill_playlists(plans, liked, liked_ts, start_ts)
        self.add_specials(plans, start_ts, guarantee=playlist_count >= 3)
        return self.assemble(user, friends, plans, liked, liked_ts)

    def make_users(self) -> tuple[User, list[User]]:
        rng = self.rng
        first, last = self.choice(_FIRST_NAMES["en"]), self.choice(_LAST_NAMES["en"])
        user = User(f"{first}.{last}{self.between(1, 99)}".lower(), f"{first} {last}")
        friends: list[User] = []
        taken = {user.id, "spotify"}
        count = self.between(3, 5)
        while len(friends) < count:
            language = self.choice(tuple(_FIRST_NAMES))
            display = self.person(language)
            style = self.below(3)
            if style == 0:  # accounts created since ~2018
                user_id = "31" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=26))
            elif style == 1:  # old Facebook-linked accounts
                user_id = str(rng.randrange(1_000_000_000, 2_000_000_000))
            else:
                user_id = fold(display).replace(" ", "")
            if user_id in taken:
                continue
            taken.add(user_id)
            friends.append(User(user_id, display))
        friends.append(User("spotify", "Spotify"))
        return user, friends

    def plan_playlists(
        self, count: int, size: int | None, user: User, friends: list[User]
    ) -> list[_PlaylistPlan]:
        rng = self.rng
        if count >= 5:
            collaborative, followed = max(1, round(count * 0.1)), max(2, round(count * 0.15))
        elif count >= 3:
            collaborative, followed = 1, 1
        else:
            collaborative, followed = 0, max(count - 1, 0)
        people, spotify = friends[:-1], friends[-1]
        plans: list[_PlaylistPlan] = []
        for index in range(count):
            if index < count - collaborative - followed:
                kind, owner = "owned", user
                drawn = int(min(max(math.exp(rng.gauss(math.log(50), 0.8)), 10), 300))
            elif index < count - followed:
                kind, owner, drawn = "collaborative", self.choice(people), self.between(20, 80)
            else:
                first_followed = index == count - followed
                owner = spotify if first_followed or rng.random() < 0.5 else self.choice(people)
                kind, drawn = "followed", self.between(50, 100)
            plans.append(_PlaylistPlan(kind, owner, drawn if size is None else size))
        return plans

    def liked_times(self, liked: Sequence[int], start_ts: int) -> list[int]:
        """Like times: a background that grows towards the present plus Pareto-weighted bursts."""
        rng = self.rng
        random_, gauss = rng.random, rng.gauss
        span, last = self.now_ts - start_ts, self.now_ts - 60
        bursts = 6 + int(math.sqrt(len(liked)) * 1.2)
        centers = [start_ts + int(span * random_() ** 0.8) for _ in range(bursts)]
        widths = [rng.uniform(0.5, 48.0) * 3600 for _ in range(bursts)]
        weights = list(accumulate(rng.paretovariate(1.3) for _ in range(bursts)))
        picks = rng.choices(range(bursts), cum_weights=weights, k=len(liked))
        times: list[int] = []
        for index, burst in zip(liked, picks, strict=True):
            if random_() < 0.4:
                moment = start_ts + int(span * random_() ** 0.7)
            else:
                moment = centers[burst] + int(gauss(0.0, widths[burst]))
            moment = min(max(moment, start_ts), last)
            times.append(self.after_release(index, moment))
        return times

    def after_release(self, track: int, moment: int) -> int:
        """A time no earlier than the track's release: new releases are liked soon after."""
        released = self.albums[self.track_album[track]].released_ts
        if moment >= released:
            return moment
        return released + int((self.now_ts - 60 - released) * self.rng.random() ** 3)

    def theme(self, plan: _PlaylistPlan, liked_years: Sequence[int]) -> _Theme:
        """A playlist name and the pool of tracks it draws from."""
        rng = self.rng
        roll = rng.random()
        families = self.track_family  # one entry per track: choosing from it weights by size
        if plan.kind == "collaborative":
            friend = plan.owner.display_name.split()[0]
            return _Theme(self.choice(_COLLAB_PLAYLISTS).format(friend), "any", None)
        if plan.owner.id == "spotify":
            if roll < 0.3 and families:
                artist = self.artists[self.albums[self.choice(self.track_album)].artist]
                return _Theme(f"This Is {artist.name}", "artist", artist.index)
            if roll < 0.7 and families:
                family = FAMILIES[self.choice(families)]
                return _Theme(self.choice(family.playlists), "family", family.name)
            name = self.choice(tuple(_MOOD_PLAYLISTS))
            return _Theme(name, "mood", _MOOD_PLAYLISTS[name])
        if plan.kind == "followed":
            owner = plan.owner.display_name.split()[0]
            kind = self.choice(("Favourites", "Mix", "Finds"))
            return _Theme(f"{owner}'s {kind}", "any", None)
        if roll < 0.35 and families:
            family = FAMILIES[self.choice(families)]
            return _Theme(self.choice(family.playlists), "family", family.name)
        if roll < 0.55:
            name = self.choice(tuple(_MOOD_PLAYLISTS))
            return _Theme(name, "mood", _MOOD_PLAYLISTS[name])
        if roll < 0.7 and liked_years:
            year = self.choice(liked_years)
            return _Theme(self.choice(_YEAR_PLAYLISTS).format(year), "year", year)
        if roll < 0.8:
            decade = self.choice((1960, 1970, 1980, 1990, 2000, 2010))
            return _Theme(f"{_decade_tag(decade)} Throwbacks", "decade", decade)
        if roll < 0.9:
            return _Theme(f"My Playlist #{self.between(1, 60)}", "any", None)
        return _Theme(self.choice(_MISC_PLAYLISTS), "any", None)

    def fill_playlists(
        self,
        plans: list[_PlaylistPlan],
        liked: Sequence[int],
        liked_ts: Sequence[int],
        start_ts: int,
    ) -> None:
        """Name each playlist after a theme and draw its tracks from the matching pool."""
        rng = self.rng
        total = len(self.tracks)
        is_liked = bytearray(total)
        for index in liked:
            is_liked[index] = 1
        # (theme kind, key, liked?) -> track indices
        pools: dict[tuple[str, str | int | None, int], list[int]] = {}
        for index in range(total):
            flag = is_liked[index]
            truth = self.tracks[index].truth
            decade = (truth.first_release_year or 0) // 10 * 10
            pools.setdefault(("family", self.track_family[index], flag), []).append(index)
            pools.setdefault(("mood", truth.mood, flag), []).append(index)
            pools.setdefault(("decade", decade, flag), []).append(index)
            pools.setdefault(("any", None, flag), []).append(index)
        by_year: dict[int, list[int]] = {}
        for index, moment in zip(liked, liked_ts, strict=True):
            by_year.setdefault(_utc(moment).year, []).append(index)
        names: set[str] = set()
        years = sorted(by_year)
        for plan in plans:
            for _ in range(4):  # prefer names not taken yet
                theme = self.theme(plan, years)
                if theme.name not in names:
                    break
            unique, number = theme.name, 2
            while unique in names:
                unique, number = f"{theme.name} ({number})", number + 1
            names.add(unique)
            plan.name = unique
            plan.description = self.choice(_DESCRIPTIONS) if rng.random() < 0.3 else ""
            if plan.owner.id == "spotify":
                plan.description = f"The essential {theme.name.removeprefix('This Is ')} tracks."
            self.plan_window(plan, theme, start_ts)
            key = theme.key
            if theme.kind == "artist":
                own = [i for i in range(total) if self.albums[self.track_album[i]].artist == key]
                liked_pool = [i for i in own if is_liked[i]]
                extra_pool = [i for i in own if not is_liked[i]]
            elif isinstance(key, tuple):  # moods
                liked_pool = [i for mood in key for i in pools.get(("mood", mood, 1), [])]
                extra_pool = [i for mood in key for i in pools.get(("mood", mood, 0), [])]
            elif theme.kind == "year":
                liked_pool = by_year.get(int(key or 0), [])
                extra_pool = pools.get(("any", None, 0), [])
            else:
                liked_pool = pools.get((theme.kind, key, 1), [])
                extra_pool = pools.get((theme.kind, key, 0), [])
            share = {"owned": 0.75, "collaborative": 0.5, "followed": 0.2}[plan.kind]
            plan.slots = self.draw(plan.size, liked_pool, extra_pool, share, total)

    def plan_window(self, plan: _PlaylistPlan, theme: _Theme, start_ts: int) -> None:
        """When the playlist was created and over which period its entries were added."""
        now_ts = self.now_ts
        if plan.owner.id == "spotify":  # editorial playlists are refreshed all the time
            plan.created_ts = self.between(start_ts, now_ts - 30 * 86_400)
            plan.window = (now_ts - 60 * 86_400, now_ts - 3600)
        elif theme.kind == "year" and isinstance(theme.key, int):
            year_start = int(datetime(theme.key, 1, 1, tzinfo=UTC).timestamp())
            year_end = min(int(datetime(theme.key + 1, 1, 1, tzinfo=UTC).timestamp()), now_ts)
            created = max(start_ts, year_start + self.below(60 * 86_400))
            plan.created_ts = min(created, year_end - 7200)
            plan.window = (plan.created_ts, year_end - 3600)
        else:
            plan.created_ts = self.between(start_ts, now_ts - 2 * 86_400)
            plan.window = (plan.created_ts, now_ts - 3600)

    def draw(
        self, size: int, liked: Sequence[int], extra: Sequence[int], share: float, total: int
    ) -> list[int]:
        """`size` distinct tracks, `share` of them liked, from the pools then from anything."""
        rng = self.rng
        want_liked = min(round(size * share), len(liked))
        chosen = rng.sample(liked, want_liked) if want_liked else []
        want_extra = min(size - len(chosen), len(extra))
        chosen += rng.sample(extra, want_extra) if want_extra else []
        if len(chosen) < size and total:
            taken = set(chosen)
            while len(chosen) < size:
                candidate = self.below(total)
                if candidate not in taken or len(taken) >= total:  # tiny library: repeat
                    taken.add(candidate)
                    chosen.append(candidate)
        rng.shuffle(chosen)
        return chosen

    def add_specials(self, plans: list[_PlaylistPlan], start_ts: int, *, guarantee: bool) -> None:
        """Local files, unavailable items, episodes and duplicates in readable playlists.

        With `guarantee`, each kind appears at least once wherever a readable playlist has room
        (local files and episodes only in the user's own playlists, as on Spotify).
        """
        rng = self.rng
        readable = [plan for plan in plans if plan.kind != "followed"]
        for plan in readable:
            plan.plain = list(range(len(plan.slots)))
            rng.shuffle(plan.plain)
        owned = [plan for plan in readable if plan.kind == "owned"]
        if guarantee:  # first, so that even tiny playlists get one of each where they fit
            for kind in ("duplicate", "local", "episode", "unavailable"):
                candidates = list(owned if kind in ("local", "episode") else readable)
                rng.shuffle(candidates)
                for plan in candidates:
                    if self.place(plan, kind, start_ts):
                        break
        rates = {"local": 0.3, "unavailable": 0.25, "episode": 0.15, "duplicate": 0.25}
        for plan in readable:
            for kind, rate in rates.items():
                if kind in ("local", "episode") and plan.kind != "owned":
                    continue
                if rng.random() < rate:
                    for _ in range(self.between(1, 3 if kind == "local" else 2)):
                        self.place(plan, kind, start_ts)

    def place(self, plan: _PlaylistPlan, kind: str, start_ts: int) -> int:
        rng = self.rng
        if kind == "duplicate":
            if len(plan.plain) < 2:
                return 0
            source, target = plan.plain.pop(), plan.plain.pop()
            plan.slots[target] = plan.slots[source]
            return 1
        if not plan.plain:
            return 0
        position = plan.plain.pop()
        plan.slots[position] = -1
        if kind == "local":
            artist = (
                self.choice(self.artists).name
                if self.artists and rng.random() < 0.3
                else self.person(self.choice(("en", "en", "fr", "de", "es")))
            )
            seconds = 220 * math.exp(rng.gauss(0.0, 0.25))
            local = LocalFile(self.phrase(), artist, self.phrase(), int(seconds * 1000))
            plan.specials[position] = ("local", local)
        elif kind == "episode":
            plan.specials[position] = ("episode", self.episode(start_ts))
        else:
            plan.specials[position] = ("unavailable", None)
        return 1

    def episode(self, start_ts: int) -> str:
        rng = self.rng
        if self.episodes and rng.random() < 0.3:
            return self.choice(tuple(self.episodes))
        released = self.between(start_ts, self.now_ts - 86_400)
        episode = Episode(
            id=self.new_id(),
            name=f"Ep. {self.between(1, 250)}: {self.choice(_EPISODE_TOPICS)}",
            show_name=self.choice(_SHOWS),
            duration_ms=self.between(20, 90) * 60_000 + self.below(60_000),
            release_date=_utc(released).date().isoformat(),
        )
        self.episodes[episode.id] = episode
        return episode.id

    def entries(
        self, plan: _PlaylistPlan, user: User, people: Sequence[User]
    ) -> list[PlaylistEntry]:
        rng = self.rng
        random_ = rng.random
        size = len(plan.slots)
        low, high = plan.window
        initial = round(size * rng.uniform(0.3, 0.9)) if plan.owner.id != "spotify" else 0
        latest = self.now_ts - 60
        times = sorted(
            min(plan.created_ts + self.below(3 * 3600), latest) if position < initial
            else self.between(low, max(low, high))
            for position in range(size)
        )  # fmt: skip
        adders: tuple[str, ...] = (plan.owner.id,)
        adder_weights: tuple[float, ...] = (1.0,)
        if plan.kind == "collaborative":
            others = tuple(p.id for p in people if p.id != plan.owner.id)[:2]
            adders = (plan.owner.id, user.id, *others)
            adder_weights = tuple(
                accumulate((0.4, 0.35, *(0.25 / max(len(others), 1),) * len(others)))
            )
        rows: list[tuple[int, int, PlaylistEntry]] = []
        for position, moment in enumerate(times):
            slot = plan.slots[position]
            added_by = (
                adders[0] if len(adders) == 1 else rng.choices(adders, cum_weights=adder_weights)[0]
            )
            if slot >= 0:
                moment = min(self.after_release(slot, moment), latest)
                item = PlaylistEntry("track", _utc(moment), added_by, track_id=self.tracks[slot].id)
            else:
                kind, payload = plan.specials[position]
                if kind == "local":
                    assert isinstance(payload, LocalFile)
                    item = PlaylistEntry("local", _utc(moment), plan.owner.id, local=payload)
                elif kind == "episode":
                    assert isinstance(payload, str)
                    released = self.episodes[payload].release_date
                    floor = int(datetime.fromisoformat(released).replace(tzinfo=UTC).timestamp())
                    moment = max(moment, floor + 3600)
                    item = PlaylistEntry("episode", _utc(moment), added_by, episode_id=payload)
                else:
                    item = PlaylistEntry("unavailable", _utc(moment), added_by)
            rows.append((moment, position, item))
        if random_() < 0.85:  # most playlists stay in the order things were added
            rows.sort(key=lambda row: (row[0], row[1]))
        return [row[2] for row in rows]

    def assemble(
        self,
        user: User,
        friends: list[User],
        plans: list[_PlaylistPlan],
        liked: Sequence[int],
        liked_ts: Sequence[int],
    ) -> Library:
        rng = self.rng
        people = friends[:-1]
        playlists: list[tuple[int, Playlist]] = []
        for plan in plans:
            entries = self.entries(plan, user, people)
            public = plan.kind == "followed" or (plan.kind == "owned" and rng.random() < 0.6)
            playlist = Playlist(
                id=self.new_id(),
                name=plan.name,
                description=plan.description,
                owner_id=plan.owner.id,
                collaborative=plan.kind == "collaborative",
                public=public,
                entries=tuple(entries),
            )
            playlists.append((plan.created_ts, playlist))
        playlists.sort(key=lambda pair: -pair[0])  # newest first, like a fresh account lists them
        used: set[str] = set()
        for track in self.tracks:
            used.update(track.artist_ids)
        artists = {
            draft.id: Artist(draft.id, draft.name, draft.genres, draft.mbid)
            for draft in self.artists
            if draft.id in used
        }
        albums = {
            draft.id: Album(
                id=draft.id,
                name=draft.name,
                artist_ids=(self.artists[draft.artist].id,),
                release_date=draft.release_date,
                release_date_precision=draft.precision,
                album_type="single" if draft.kind == "single"
                else "compilation" if draft.kind == "compilation" else "album",
                total_tracks=draft.total,
                label=self.labels[draft.label][0],
                genres=draft.genres,
                mbid=draft.mbid,
                deezer_id=draft.deezer_id,
            )
            for draft in self.albums
        }  # fmt: skip
        saved = sorted(
            zip(liked_ts, (self.tracks[index].id for index in liked), strict=True), reverse=True
        )
        featured = {entry.owner_id for _, entry in playlists} | {
            item.added_by for _, entry in playlists for item in entry.entries
        }
        return Library(
            seed=self.seed,
            user=user,
            other_users=tuple(
                friend for friend in friends if friend.id in featured or friend.id != "spotify"
            ),
            artists=artists,
            albums=albums,
            tracks={track.id: track for track in self.tracks},
            episodes=self.episodes,
            liked=tuple(SavedTrack(track_id, _utc(moment)) for moment, track_id in saved),
            playlists=tuple(playlist for _, playlist in playlists),
            generated_at=datetime.now(UTC),
        )


def _clip(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return low if value < low else high if value > high else value


def _decade_tag(year: int) -> str:
    decade = year // 10 * 10
    return f"{decade % 100:02d}s" if decade < 2010 else f"{decade}s"


_DECADE_TAGS = {decade: _decade_tag(decade * 10) for decade in range(190, 210)}


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
