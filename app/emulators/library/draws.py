"""The seeded random source and the small draws built on it: ids, MBIDs, names, titles, dates.

`Draws` owns the generation's one `random.Random(seed)` and its clock (`now`); every draw of a
generation goes through it, so the order of the calls alone decides the library. It also keeps
the ids and artist names already taken, so that both stay unique. `cumulative` builds the
weighted-choice tables `Draws.pick` draws from; `utc` turns a timestamp into an aware datetime.
"""

from __future__ import annotations

import random
import string
from bisect import bisect
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import TypeVar

from app.emulators.library.model import DatePrecision
from app.emulators.library.vocabulary import (
    ADJECTIVES,
    CITIES,
    ENSEMBLES,
    FIRST_NAMES,
    FOREIGN_TITLES,
    FORMS,
    KEYS,
    LAST_NAMES,
    MOVEMENTS,
    NOUNS,
    PLURALS,
    VERBS,
    VERBS_ING,
)

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BASE62_BYTES = bytes(ord(_BASE62[byte % 62]) for byte in range(256))  # bytes.translate table
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # what uuid.UUID(version=4) does to the bits
_UUID_SET = (0x8000 << 48) | (4 << 76)
_T = TypeVar("_T")


def cumulative(weights: Mapping[str, float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """A weighted-choice table for `Draws.pick`: the names and their running weight totals."""
    return tuple(weights), tuple(accumulate(weights.values()))


def utc(timestamp: int) -> datetime:
    """The aware UTC datetime of a POSIX timestamp."""
    return datetime.fromtimestamp(timestamp, UTC)


class Draws:
    """The seeded RNG of one generation, its clock, and the draws everything else is made of."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - seeded demo data, not secrets
        self.now = now
        self.now_ts = int(now.timestamp())
        self.ids: set[str] = set()
        self.artist_names: set[str] = set()

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
        """One of `options`, from a single `random()` draw."""
        return options[int(self.rng.random() * len(options))]

    def below(self, stop: int) -> int:
        """An integer in [0, stop)."""
        return int(self.rng.random() * stop)

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high], both included."""
        return low + int(self.rng.random() * (high - low + 1))

    def pick(self, table: tuple[tuple[str, ...], tuple[float, ...]]) -> str:
        """A weighted choice from a `cumulative` table."""
        names, totals = table
        return names[bisect(totals, self.rng.random() * totals[-1])]

    def person(self, language: str) -> str:
        """A first and last name from `language`'s lists (English ones for the others)."""
        firsts = FIRST_NAMES.get(language, FIRST_NAMES["en"])
        lasts = LAST_NAMES.get(language, LAST_NAMES["en"])
        return f"{self.choice(firsts)} {self.choice(lasts)}"

    def phrase(self) -> str:
        """A short English phrase: a song title, a local file's artist or album."""
        noun, adjective = self.choice(NOUNS).title(), self.choice(ADJECTIVES).title()
        pattern = self.below(10)
        if pattern == 0:
            return noun
        if pattern == 1:
            return f"The {noun}"
        if pattern == 2:
            joiner = self.choice(("in the", "Through the", "into the", "with the"))
            return f"{self.choice(VERBS_ING).title()} {joiner} {noun}"
        if pattern == 3:
            return f"{noun} of the {self.choice(NOUNS).title()}"
        if pattern == 4:
            start = self.choice(("Don't", "Just", "Let Me", "Always"))
            return f"{start} {self.choice(VERBS).title()}"
        if pattern == 5:
            return f"{self.choice(VERBS).title()} with Me"
        if pattern == 6:
            return adjective
        return f"{adjective} {noun}"

    def title(self, language: str, family: str) -> str:
        """A track or album title in `language` (classical: form, key, opus, movement)."""
        rng = self.rng
        if family == "classical":
            return (
                f"{self.choice(FORMS)} No. {self.between(1, 9)} in {self.choice(KEYS)} "
                f"{self.choice(('Major', 'Minor'))}, Op. {self.between(2, 130)}: "
                f"{self.choice(MOVEMENTS)}"
            )
        words = FOREIGN_TITLES.get(language)
        if words is None or rng.random() < 0.15:  # English, instrumental, or an English title
            return self.phrase()
        heads, complements, joiner = words
        head = self.choice(heads)
        if rng.random() < 0.25:
            return head
        return f"{head}{joiner}{self.choice(complements)}".replace("_", " ")

    def artist_name(self, kind: str, language: str) -> str:
        """An artist name in the style `kind`: person, band, dj, rapper, ensemble or jazz."""
        rng = self.rng
        noun, adjective = self.choice(NOUNS).title(), self.choice(ADJECTIVES).title()
        if kind == "person" or (kind == "band" and language in ("ja", "ko") and rng.random() < 0.5):
            name = self.person(language)
        elif kind == "band":
            plural = self.choice(PLURALS)
            name = self.choice(
                (f"The {plural}", f"The {adjective} {plural}", f"{adjective} {plural}",
                 f"{adjective} {noun}", f"{self.choice(FIRST_NAMES['en'])} & the {plural}",
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
                 f"{noun} {self.choice(LAST_NAMES['en'])}", self.person(language))
            )  # fmt: skip
        elif kind == "ensemble":
            name = self.choice(
                (f"{self.choice(CITIES)} {self.choice(ENSEMBLES)}", f"Ensemble {noun}",
                 f"{self.choice(LAST_NAMES['en'])} Quartet")
            )  # fmt: skip
        else:  # jazz
            leader = self.person(language)
            name = self.choice(
                (leader, leader, f"{leader} Trio", f"{leader} Quartet", f"{leader} Quintet",
                 f"The {leader.split()[-1]} Big Band")
            )  # fmt: skip
        return name

    def unique_artist_name(self, kind: str, language: str) -> str:
        """An artist name no other artist of this generation has."""
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

    def release_date(self, year: int) -> tuple[str, DatePrecision, int]:
        """A date in `year` as Spotify gives it (older: coarser), with its timestamp."""
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
