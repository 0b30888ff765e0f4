"""The generator's vocabulary: genre families, per-genre overrides, moods and word lists.

Data only, drawn from by the other modules and never changed by them. `FAMILIES` holds the 13
genre families with their profile (era, audio features, moods, languages, artist-name styles,
Last.fm-style tags, playlist names, neighbouring families); `GENRE_FAMILY` maps each of the 120
genres to its family; the `GENRE_*` tables override tempo, era or language for a few genres.
Then moods, countries, and the words that artist names, titles, albums, labels, podcasts and
playlists are made of. The lists are hand-written (inspired by, never copied from, the shared
datasets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def _items(text: str) -> tuple[str, ...]:
    """A comma-separated word list (entries may contain spaces)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _words(text: str) -> tuple[str, ...]:
    """A space-separated word list."""
    return tuple(text.split())


# --- genre families --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Family:
    """A genre family's profile: what its artists, albums and tracks are drawn from."""

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


_F = Family
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

FAMILIES: Mapping[str, Family] = {family.name: family for family in _FAMILY_LIST}
GENRE_FAMILY: Mapping[str, str] = {
    genre: family.name for family in _FAMILY_LIST for genre in family.genres
}
GENRE_TEMPO = {
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
GENRE_ERA = {
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
GENRE_LANGUAGE = {
    "k-pop": "ko", "j-pop": "ja", "schlager": "de", "chanson": "fr", "mpb": "pt", "samba": "pt",
    "bossa nova": "pt", "britpop": "en", "opera": "it",
}  # fmt: skip
VOCAL_GENRES = frozenset({"opera", "choral", "vocal jazz", "chanson"})

# mood -> (valence low, valence high, energy shift, danceability shift, chance of minor mode)
MOODS: Mapping[str, tuple[float, float, float, float, float]] = {
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
MOOD_TAGS = {
    "happy": "happy", "sad": "sad", "calm": "chill", "energetic": "energetic", "dark": "dark",
    "romantic": "love", "melancholic": "melancholy", "angry": "aggressive", "dreamy": "dreamy",
    "uplifting": "uplifting",
}  # fmt: skip
COUNTRIES = {
    "en": (("US", 0.6), ("GB", 0.3), ("CA", 0.05), ("AU", 0.05)),
    "es": (("ES", 0.3), ("MX", 0.3), ("CO", 0.15), ("AR", 0.15), ("PR", 0.1)),
    "pt": (("BR", 0.8), ("PT", 0.2)), "fr": (("FR", 0.8), ("CA", 0.1), ("BE", 0.1)),
    "de": (("DE", 0.8), ("AT", 0.2)), "sv": (("SE", 1.0),), "ja": (("JP", 1.0),),
    "ko": (("KR", 1.0),), "it": (("IT", 1.0),),
}  # fmt: skip
COUNTRY_TAGS = {
    "GB": "british", "SE": "swedish", "FR": "french", "DE": "german", "JP": "japanese",
    "KR": "korean", "BR": "brazilian", "ES": "spanish", "MX": "mexican", "US": "american",
    "CA": "canadian", "AU": "australian",
}  # fmt: skip

# --- words -----------------------------------------------------------------------------------

NOUNS = _words(
    "heart night fire rain river light shadow dream city ocean summer winter star moon sun road "
    "home love time world sky gold storm wave garden mirror window island echo ghost angel "
    "diamond thunder paradise horizon memory secret voice wildfire highway satellite signal "
    "planet desert forest mountain harbor lantern compass arrow feather glass silence weekend "
    "morning daylight sunset skyline heartbeat fever magic rhythm honey cherry velvet neon "
    "midnight stranger lover kingdom ember"
)
ADJECTIVES = _words(
    "golden broken electric silent wild lonely blue red endless sweet little crystal paper "
    "hollow burning frozen bright dark lost secret perfect strange tender distant quiet "
    "restless violet young modern cosmic savage gentle fading shining northern lucky easy "
    "heavy open simple silver"
)
VERBS = _words("hold stay run fly breathe wait dance shine fall believe remember follow")
VERBS_ING = _words("running dancing falling chasing waiting burning dreaming drifting holding")
PLURALS = _words(
    "Wolves Foxes Lanterns Echoes Satellites Ghosts Horses Rivers Strangers Dreamers Pilots "
    "Kings Arrows Shadows Mirrors Giants Owls Sparrows Tigers Comets Hearts Machines Saints "
    "Sailors Ravens Rebels Poets Daggers Mountains Lovers Thieves Wanderers"
)
FOREIGN_TITLES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
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
FIRST_NAMES: Mapping[str, tuple[str, ...]] = {
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
LAST_NAMES: Mapping[str, tuple[str, ...]] = {
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
CITIES = _items(
    "Berlin, Vienna, London, Boston, Chicago, Prague, Helsinki, Oslo, Lyon, Leipzig, Budapest, "
    "Montreal, Seattle, Sydney, Madrid, Amsterdam, Dresden"
)
ENSEMBLES = _items(
    "Philharmonic Orchestra, Symphony Orchestra, String Quartet, Chamber Orchestra, "
    "Chamber Choir, Baroque Ensemble"
)
COMPOSERS = _items(
    "Bach, Mozart, Beethoven, Brahms, Chopin, Debussy, Ravel, Satie, Vivaldi, Handel, Schubert, "
    "Dvořák, Tchaikovsky, Sibelius, Grieg, Pärt, Glass, Reich, Haydn, Mahler"
)
FORMS = _items(
    "Symphony, Piano Sonata, String Quartet, Violin Concerto, Piano Concerto, Nocturne, Étude, "
    "Prelude, Suite, Cello Suite, Sonata, Partita"
)
KEYS = _items("C, C-Sharp, D, E-Flat, E, F, F-Sharp, G, A-Flat, A, B-Flat, B")
MOVEMENTS = _items(
    "I. Allegro, II. Adagio, III. Scherzo: Presto, IV. Finale: Allegro vivace, I. Andante, "
    "II. Largo, III. Menuetto, I. Allegro ma non troppo, II. Andante cantabile, III. Rondo"
)
VENUES = _items(
    "the Roundhouse, Red Rocks, Montreux, the Apollo, Budokan, the Fillmore, the Olympia, "
    "the Paradiso, the Troubadour"
)
COMPILATIONS = _items("Greatest Hits, Essentials, Gold, The Collection, Anthology, The Singles")
LABEL_SUFFIXES = _items("Records, Recordings, Music, Sound, Audio, Label Group, Editions")
SHOWS = _items(
    "Liner Notes, The Mixdown, Deep Cuts Radio, B-Side Stories, The Long Play, Off the Record"
)
EPISODE_TOPICS = _items(
    "The Making of a Classic, Why Vinyl Came Back, Inside the Studio, The Sound of the 90s, "
    "How Playlists Changed Music, A Producer's Toolkit, One-Hit Wonders, Touring on a Budget"
)
SUFFIXES = ("Radio Edit", "Acoustic", "Live", "Single Version", "Demo", "Bonus Track")
ELECTRONIC_SUFFIXES = ("Radio Edit", "Extended Mix", "Original Mix", "Remix", "Remix", "Dub")

# playlist name -> the moods it draws from
MOOD_PLAYLISTS: Mapping[str, tuple[str, ...]] = {
    "Chill Vibes": ("calm", "dreamy"), "Sad Songs 💔": ("sad", "melancholic"),
    "Good Mood": ("happy", "uplifting"), "Party Starters": ("energetic", "happy"),
    "Rainy Day": ("melancholic", "calm"), "Love Songs": ("romantic",),
    "Running": ("energetic", "angry"), "Focus": ("calm", "dreamy"),
    "Dinner Party": ("romantic", "calm"), "Dark Side": ("dark", "angry"),
}  # fmt: skip
YEAR_PLAYLISTS = ("Gym {}", "Summer {}", "Best of {}", "Road Trip {}", "Favourites {}")
MISC_PLAYLISTS = _items("Car, Shower Songs, Wedding Playlist, stuff, On Repeat, Kitchen Radio")
COLLAB_PLAYLISTS = ("Road Trip w/ {}", "Office Jams", "Party at {}'s", "Shared Vibes", "Our Mix")
DESCRIPTIONS = _items(
    "Songs for late nights., Updated whenever I feel like it., no skips, "
    "For the commute., Loud & proud, Everything I had on repeat"
)


def decade_tag(year: int) -> str:
    """The decade as listeners write it: "90s", "2010s"."""
    decade = year // 10 * 10
    return f"{decade % 100:02d}s" if decade < 2010 else f"{decade}s"


DECADE_TAGS = {decade: decade_tag(decade * 10) for decade in range(190, 210)}  # by year // 10
