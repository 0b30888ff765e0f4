"""What the emulated model says: the tracks a prompt lists, each described from the truth.

The table of moods and energy levels to occasions, the guess for a track it cannot identify
and the `ChatRecord` of each completion are here; see the package docstring for the rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.emulators.library.index import LibraryIndex, fold
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack

KNOWN_CONFIDENCE = 0.9
GUESS_CONFIDENCE = 0.2
LOW_ENERGY_BELOW = 0.4
HIGH_ENERGY_FROM = 0.7
GUESS = {"mood": "calm", "subgenre": "pop", "energy_level": "medium", "language": "en"}
GUESS_ERA = "2000s"
_BRIGHT = ("relax", "commute", "party")
OCCASIONS: dict[str, tuple[str, str, str]] = {  # mood -> occasion at low, medium, high energy
    "happy": _BRIGHT,
    "uplifting": _BRIGHT,
    "energetic": ("commute", "workout", "workout"),
    "angry": ("reflection", "workout", "workout"),
    "dark": ("reflection", "focus", "workout"),
    "calm": ("sleep", "relax", "relax"),
    "dreamy": ("sleep", "focus", "focus"),
    "romantic": ("romance", "romance", "romance"),
    "sad": ("reflection", "reflection", "reflection"),
    "melancholic": ("reflection", "reflection", "reflection"),
}
OTHER_OCCASION = "relax"
ENERGY_LEVELS = ("low", "medium", "high")


@dataclass
class ChatRecord:
    """One completion served: the request body, the track list found in the prompt, the
    library track each answered key was taken for (`None`: guessed), the injected fault."""

    body: dict[str, Any]
    tracks: list[dict[str, Any]]
    matched: dict[str, str | None]
    fault: str | None = None  # "malformed:truncated", "schema:missing_mood", …
    spoiled: tuple[str, ...] = ()  # keys whose entry the fault broke (every key if malformed)


def energy_level(energy: float | None) -> str:
    """ "low" below 0.4, "high" from 0.7, otherwise (or unknown) "medium"."""
    if energy is None:
        return "medium"
    return (
        "low" if energy < LOW_ENERGY_BELOW else "high" if energy >= HIGH_ENERGY_FROM else "medium"
    )


def occasion(mood: str, level: str) -> str:
    """The occasion of the package docstring's table."""
    row = OCCASIONS.get(mood)
    return OTHER_OCCASION if row is None else row[ENERGY_LEVELS.index(level)]


def era(year: int | None) -> str:
    """1994 -> "1990s"; unknown -> `GUESS_ERA`."""
    return GUESS_ERA if year is None else f"{year // 10 * 10}s"


def year_of(value: Any) -> int | None:
    """The year of "1999-05-17", "1999" or 1999; None for anything else."""
    text = str(value)[:4] if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if len(text) == 4 and text.isdigit() else None


def find_track_list(text: str) -> list[dict[str, Any]]:
    """The first JSON array of objects in `text`, whatever prose or fences surround it."""
    decoder = json.JSONDecoder()
    start = text.find("[")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return value
        start = text.find("[", start + 1)
    return []


class Answerer:
    """The model's knowledge of `library`: which track a prompt entry names, what it says."""

    def __init__(self, library: GeneratedLibrary, index: LibraryIndex) -> None:
        self.library = library
        self.index = index

    def answer(self, item: dict[str, Any], record: ChatRecord) -> dict[str, Any]:
        """The answer entry for one prompt entry; `record.matched` notes who it was taken for."""
        track = self.identify(item)
        record.matched[str(item.get("id"))] = None if track is None else track.id
        if track is not None:
            return {"id": item.get("id"), **self.describe(track)}
        return {
            "id": item.get("id"),
            **GUESS,
            "occasion": occasion(GUESS["mood"], GUESS["energy_level"]),
            "era": era(year_of(item.get("year"))),
            "confidence": GUESS_CONFIDENCE,
        }

    def identify(self, item: dict[str, Any]) -> GeneratedTrack | None:
        """The library track a prompt entry names (folded artist + title; album breaks ties)."""
        title, artists, album = item.get("title"), item.get("artists"), item.get("album")
        names = [artists] if isinstance(artists, str) else artists
        if not isinstance(title, str) or not isinstance(names, list):
            return None
        found = [tid for n in names if isinstance(n, str) for tid in self.index.find(n, title)]
        tracks = [self.library.tracks[track_id] for track_id in dict.fromkeys(found)]
        wanted = fold(album) if isinstance(album, str) else None
        for track in tracks:
            if fold(self.library.albums[track.album_id].name) == wanted:
                return track
        return tracks[0] if tracks else None

    def describe(self, track: GeneratedTrack) -> dict[str, Any]:
        """What the model says about a track it knows (see the package docstring)."""
        truth = track.truth
        level = energy_level(truth.energy)
        year = truth.first_release_year or year_of(self.library.albums[track.album_id].release_date)
        return {
            "mood": truth.mood,
            "subgenre": truth.genres[-1] if truth.genres else GUESS["subgenre"],
            "energy_level": level,
            "language": truth.language,
            "occasion": occasion(truth.mood, level),
            "era": era(year),
            "confidence": KNOWN_CONFIDENCE,
        }
