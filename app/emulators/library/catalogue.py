"""The catalogue: record labels, artists, their albums and tracks, in that order of drawing.

Each seed draws its own taste (family weights); an artist gets 1-3 genres, mostly from one
family, a Pareto-distributed popularity (a few artists with dozens of tracks, most with one or
two), a language, a country and a label. Albums inherit the artist's genres and come as
albums, singles, compilations (which may reissue the artist's earlier recordings, same ISRC
and truth), live albums and remasters. Tracks carry Spotify's mess: version suffixes,
featured artists, remixes, missing ISRCs. Each new recording's `TrackTruth` comes from
`truth.draw_truth`.
"""

from __future__ import annotations

import math
import string
from bisect import bisect
from collections.abc import Mapping, Sequence
from itertools import accumulate

from app.emulators.library.drafts import AlbumDraft, ArtistDraft
from app.emulators.library.draws import Draws, cumulative
from app.emulators.library.model import GeneratedTrack
from app.emulators.library.truth import draw_truth
from app.emulators.library.vocabulary import (
    ADJECTIVES,
    COMPILATIONS,
    COMPOSERS,
    COUNTRIES,
    ELECTRONIC_SUFFIXES,
    FAMILIES,
    FORMS,
    GENRE_ERA,
    GENRE_LANGUAGE,
    LABEL_SUFFIXES,
    NOUNS,
    SUFFIXES,
    VENUES,
    VOCAL_GENRES,
)

_MIN_YEAR = 1960
_ALBUM_KINDS = cumulative({"album": 55, "single": 34, "compilation": 6, "live": 5})
_FAMILY_LANGUAGES = {name: cumulative(family.languages) for name, family in FAMILIES.items()}
_FAMILY_KINDS = {name: cumulative(family.kinds) for name, family in FAMILIES.items()}
_COUNTRY_CHOICES = {
    language: cumulative(dict(countries)) for language, countries in COUNTRIES.items()
}


class Catalogue:
    """Labels, artists, albums and tracks drawn from one `Draws`; tracks in library order."""

    def __init__(self, draws: Draws) -> None:
        self.draws = draws
        self.labels: list[tuple[str, str]] = []  # (name, ISRC registrant)
        self.artists: list[ArtistDraft] = []
        self.albums: list[AlbumDraft] = []
        self.tracks: list[GeneratedTrack] = []
        self.track_album: list[int] = []  # per track: its album's index
        self.track_family: list[str] = []  # per track: its artist's family
        self.deezer_ids: set[int] = set()
        self.isrcs: set[str] = set()
        self.isrc_next: dict[tuple[str, str, int], int] = {}

    def make_labels(self, count: int) -> None:
        """`count` record labels with distinct names and ISRC registrant codes."""
        draws = self.draws
        rng = draws.rng
        names: set[str] = set()
        registrants: set[str] = set()
        while len(self.labels) < count:
            word = draws.choice((draws.choice(NOUNS), draws.choice(ADJECTIVES))).title()
            name = f"{word} {draws.choice(LABEL_SUFFIXES)}"
            registrant = draws.choice(string.ascii_uppercase) + "".join(
                rng.choices(string.ascii_uppercase + string.digits, k=2)
            )
            if name in names or registrant in registrants:
                continue
            names.add(name)
            registrants.add(registrant)
            self.labels.append((name, registrant))

    def make_artists(self, count: int) -> None:
        """`count` artists, their families weighted by this seed's taste."""
        draws = self.draws
        rng = draws.rng
        taste = {
            name: family.weight * rng.lognormvariate(0, 0.6) for name, family in FAMILIES.items()
        }
        family_table = cumulative(taste)
        label_weights = list(accumulate(rng.paretovariate(1.5) for _ in self.labels))
        for index in range(count):
            family = FAMILIES[draws.pick(family_table)]
            primary = draws.choice(family.genres)
            genres = [primary]
            roll = rng.random()
            for _ in range(0 if roll < 0.35 else 1 if roll < 0.75 else 2):
                source = family
                if rng.random() < 0.15:
                    source = FAMILIES[draws.choice(family.neighbours)]
                candidate = draws.choice(source.genres)
                if candidate not in genres:
                    genres.append(candidate)
            language = GENRE_LANGUAGE.get(primary) or draws.pick(_FAMILY_LANGUAGES[family.name])
            kind = draws.pick(_FAMILY_KINDS[family.name])
            low, high = GENRE_ERA.get(primary, family.era)
            high = min(high, draws.now.year)
            low = min(max(low, _MIN_YEAR), high)
            debut = int(rng.triangular(low, high, low + 0.7 * (high - low)))
            vocal = (
                "mixed"
                if kind in ("band", "ensemble") and rng.random() < 0.3
                else ("female" if rng.random() < 0.42 else "male")
            )
            weight = min(rng.paretovariate(1.25), 80.0)
            self.artists.append(
                ArtistDraft(
                    index=index,
                    id=draws.new_id(),
                    name=draws.unique_artist_name(kind, language),
                    genres=tuple(genres),
                    family=family.name,
                    language=language,
                    country=draws.pick(_COUNTRY_CHOICES[language]),
                    vocal=vocal,
                    debut=debut,
                    next_year=debut,
                    label=bisect(label_weights, rng.random() * label_weights[-1]),
                    weight=weight,
                    rank=int(min(max(300_000 + 150_000 * math.log(weight), 1_000), 999_999)),
                    mbid=draws.mbid(),
                )
            )

    def new_album(self, artist: ArtistDraft) -> int:
        """A new album of `artist` (its next one in time), returned by index."""
        draws = self.draws
        rng = draws.rng
        random_ = rng.random
        this_year = draws.now.year
        kind = draws.pick(_ALBUM_KINDS)
        year = artist.next_year
        artist.next_year += draws.between(0, 1) if kind == "single" else draws.between(1, 4)
        if year > this_year:
            year = draws.between(artist.debut, this_year)
        original = year
        if kind == "compilation":
            year = original = draws.between(min(artist.debut + 6, this_year), this_year)
        elif kind == "album" and year + 12 <= this_year and rng.random() < 0.2:
            kind = "remaster"
            year = draws.between(max(original + 10, 1990), this_year)
        text, precision, stamp = draws.release_date(year)
        first_title = None
        if kind == "single":
            first_title = draws.title(artist.language, artist.family)
            name = first_title
            total = 1 + draws.below(4) if random_() < 0.45 else 1
        elif kind == "compilation":
            pick = draws.choice(COMPILATIONS)
            name = f"The Best of {artist.name}" if rng.random() < 0.3 else pick
            total = draws.between(14, 30)
        elif kind == "live":
            name = f"Live at {draws.choice(VENUES)}"
            total = draws.between(10, 20)
        else:
            if artist.family == "classical":
                name = f"{draws.choice(COMPOSERS)}: {draws.choice(FORMS)}s"
            elif not artist.open_albums and rng.random() < 0.15:
                name = artist.name  # self-titled debut
            else:
                name = draws.title(artist.language, artist.family)
            total = draws.between(8, 16)
            if rng.random() < 0.08:
                name, total = f"{name} (Deluxe Edition)", draws.between(18, 26)
            if kind == "remaster":
                name = f"{name} (Remastered {year})"
        genres = artist.genres
        if rng.random() < 0.25:
            sibling = draws.choice(FAMILIES[artist.family].genres)
            if sibling not in genres:
                genres = (*genres, sibling)
        deezer_id = rng.randrange(1_000_000, 800_000_000)
        while deezer_id in self.deezer_ids:
            deezer_id = rng.randrange(1_000_000, 800_000_000)
        self.deezer_ids.add(deezer_id)
        free = list(range(1, total + 1))
        index = len(self.albums)
        self.albums.append(
            AlbumDraft(
                index=index,
                id=draws.new_id(),
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
                label=artist.label if rng.random() < 0.8 else draws.below(len(self.labels)),
                mbid=draws.mbid(),
                deezer_id=deezer_id,
                free=free,
                first_title=first_title,
            )
        )
        artist.open_albums.append(index)
        return index

    def isrc(self, artist: ArtistDraft, label: int, year: int) -> str:
        """A fresh ISRC: the artist's country, the label's registrant, then a running number."""
        draws = self.draws
        registrant = self.labels[label][1]
        key = (artist.country, registrant, year % 100)
        number = self.isrc_next.get(key, draws.below(40_000)) + draws.between(1, 9)
        self.isrc_next[key] = number
        code = f"{artist.country}{registrant}{year % 100:02d}{number % 100_000:05d}"
        while code in self.isrcs:  # only after a (registrant, year) wrapped around
            code = f"{artist.country}{registrant}{year % 100:02d}{draws.below(100_000):05d}"
        self.isrcs.add(code)
        return code

    def make_tracks(self, count: int) -> None:
        """`count` tracks, by artists drawn by popularity, into open or new albums."""
        draws = self.draws
        rng = draws.rng
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
                album_index = draws.choice(artist.open_albums)
            else:
                album_index = self.new_album(artist)
            album = self.albums[album_index]
            position = album.free.pop(draws.below(len(album.free)))
            if not album.free:
                artist.open_albums.remove(album_index)
            copy = None
            if album.kind == "compilation" and artist.recordings and random_() < 0.5:
                source = draws.choice(artist.recordings)
                year = self.albums[self.track_album[source]].year  # a remaster's year if any
                if year <= album.year and (album_index, source) not in reissued:
                    reissued.add((album_index, source))
                    copy = self.tracks[source]
            self.add_track(artist, album, position, copy, by_family)

    def add_track(
        self,
        artist: ArtistDraft,
        album: AlbumDraft,
        position: int,
        copy: GeneratedTrack | None,
        by_family: Mapping[str, Sequence[int]],
    ) -> None:
        """One track at `position` on `album`: a copy of `copy`'s recording, or a new one."""
        draws = self.draws
        rng = draws.rng
        random_ = rng.random
        family = FAMILIES[artist.family]
        if album.total > 20:
            half = (album.total + 1) // 2
            disc, number = (1, position) if position <= half else (2, position - half)
        else:
            disc, number = 1, position
        if copy is not None:
            track = GeneratedTrack(
                id=draws.new_id(),
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
        vocal_genre = primary in VOCAL_GENRES
        instrumental = random_() < (0.05 if vocal_genre else family.instrumental)
        language = "zxx" if instrumental else artist.language
        if language not in ("en", "zxx") and random_() < 0.06:
            language = "en"
        if album.first_title is not None:
            name, album.first_title = album.first_title, None
        else:
            name = draws.title(language, family.name)
            for _ in range(3):
                if name not in artist.titles:
                    break
                name = draws.title(language, family.name)
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
            first_year = draws.between(min(artist.debut, album.year), album.year)
        elif live:
            version = " - Live" if random_() < 0.7 else " (Live)"
        elif random_() < 0.08:
            options = ELECTRONIC_SUFFIXES if family.name == "electronic" else SUFFIXES
            suffix = draws.choice(options)
            if album.year < 1970 and random_() < 0.5:
                suffix = "Mono"
            if suffix == "Remix":
                remixer = self.artists[draws.choice(by_family[family.name])]
                if remixer.id != artist.id:
                    suffix = f"{remixer.name} Remix"
                    artist_ids.append(remixer.id)
            live = suffix == "Live"
            acoustic_version = suffix == "Acoustic"
            extended = suffix == "Extended Mix"
            version = f" - {suffix}"
        if family.name != "classical" and random_() < 0.08:
            guest = self.artists[draws.choice(by_family[family.name])]
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
        duration_ms = int(min(max(seconds, 75.0), 720.0) * 1000) + draws.below(1000)
        explicit = random_() < family.explicit and language != "zxx"
        isrc_year = album.year if album.kind == "remaster" else first_year  # year of the code
        isrc = None if random_() < 0.05 else self.isrc(artist, album.label, isrc_year)
        truth = draw_truth(
            draws, family, album, artist, language, first_year, isrc, live, acoustic_version
        )
        track = GeneratedTrack(
            id=draws.new_id(),
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

    def append(self, track: GeneratedTrack, album: AlbumDraft, family: str) -> None:
        """Add a finished track, in library order."""
        self.tracks.append(track)
        self.track_album.append(album.index)
        self.track_family.append(family)

    def after_release(self, track: int, moment: int) -> int:
        """A time no earlier than the track's release: new releases are liked soon after."""
        draws = self.draws
        released = self.albums[self.track_album[track]].released_ts
        if moment >= released:
            return moment
        return released + int((draws.now_ts - 60 - released) * draws.rng.random() ** 3)
