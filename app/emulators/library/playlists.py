"""Playlists: how many of each kind, their themes and names, their tracks and special entries.

A library has the user's own playlists, some collaborative ones (owned by a friend) and some
followed ones (Spotify's editorial playlists and friends'). Each is themed - a genre family, a
mood, a decade, the year its songs were liked, one artist - and draws its tracks from the
matching pool, liked songs first. Readable playlists then get local files, unavailable items,
podcast episodes and duplicates (with `guarantee`, at least one of each wherever one fits), and
entries get the times and people that added them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import NamedTuple

from app.emulators.library.catalogue import Catalogue
from app.emulators.library.draws import Draws, utc
from app.emulators.library.model import AccountEntry, EntryKind, Episode, LocalFile, Playlist, User
from app.emulators.library.vocabulary import (
    COLLAB_PLAYLISTS,
    DESCRIPTIONS,
    EPISODE_TOPICS,
    FAMILIES,
    MISC_PLAYLISTS,
    MOOD_PLAYLISTS,
    SHOWS,
    YEAR_PLAYLISTS,
    decade_tag,
)


class Theme(NamedTuple):
    """A playlist's name and the pool its tracks come from."""

    name: str
    kind: str  # family, mood, decade, year (liked that year), artist, any
    key: str | int | tuple[str, ...] | None


@dataclass(slots=True)
class PlaylistPlan:
    """A playlist being drawn: its owner and size, then its name, times and track slots."""

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


class Playlists:
    """Draws the playlists of an account over a finished `Catalogue`, and their episodes."""

    def __init__(self, draws: Draws, catalogue: Catalogue) -> None:
        self.draws = draws
        self.catalogue = catalogue
        self.episodes: dict[str, Episode] = {}

    def plan(
        self, count: int, size: int | None, user: User, friends: list[User]
    ) -> list[PlaylistPlan]:
        """The playlists' kinds, owners and sizes (`size`, if given, for all of them)."""
        draws = self.draws
        rng = draws.rng
        if count >= 5:
            collaborative, followed = max(1, round(count * 0.1)), max(2, round(count * 0.15))
        elif count >= 3:
            collaborative, followed = 1, 1
        else:
            collaborative, followed = 0, max(count - 1, 0)
        people, spotify = friends[:-1], friends[-1]
        plans: list[PlaylistPlan] = []
        for index in range(count):
            if index < count - collaborative - followed:
                kind, owner = "owned", user
                drawn = int(min(max(math.exp(rng.gauss(math.log(50), 0.8)), 10), 300))
            elif index < count - followed:
                kind, owner, drawn = "collaborative", draws.choice(people), draws.between(20, 80)
            else:
                first_followed = index == count - followed
                owner = spotify if first_followed or rng.random() < 0.5 else draws.choice(people)
                kind, drawn = "followed", draws.between(50, 100)
            plans.append(PlaylistPlan(kind, owner, drawn if size is None else size))
        return plans

    def theme(self, plan: PlaylistPlan, liked_years: Sequence[int]) -> Theme:
        """A playlist name and the pool of tracks it draws from."""
        draws = self.draws
        catalogue = self.catalogue
        rng = draws.rng
        roll = rng.random()
        families = catalogue.track_family  # one entry per track: choosing from it weights by size
        if plan.kind == "collaborative":
            friend = plan.owner.display_name.split()[0]
            return Theme(draws.choice(COLLAB_PLAYLISTS).format(friend), "any", None)
        if plan.owner.id == "spotify":
            if roll < 0.3 and families:
                album = catalogue.albums[draws.choice(catalogue.track_album)]
                artist = catalogue.artists[album.artist]
                return Theme(f"This Is {artist.name}", "artist", artist.index)
            if roll < 0.7 and families:
                family = FAMILIES[draws.choice(families)]
                return Theme(draws.choice(family.playlists), "family", family.name)
            name = draws.choice(tuple(MOOD_PLAYLISTS))
            return Theme(name, "mood", MOOD_PLAYLISTS[name])
        if plan.kind == "followed":
            owner = plan.owner.display_name.split()[0]
            kind = draws.choice(("Favourites", "Mix", "Finds"))
            return Theme(f"{owner}'s {kind}", "any", None)
        if roll < 0.35 and families:
            family = FAMILIES[draws.choice(families)]
            return Theme(draws.choice(family.playlists), "family", family.name)
        if roll < 0.55:
            name = draws.choice(tuple(MOOD_PLAYLISTS))
            return Theme(name, "mood", MOOD_PLAYLISTS[name])
        if roll < 0.7 and liked_years:
            year = draws.choice(liked_years)
            return Theme(draws.choice(YEAR_PLAYLISTS).format(year), "year", year)
        if roll < 0.8:
            decade = draws.choice((1960, 1970, 1980, 1990, 2000, 2010))
            return Theme(f"{decade_tag(decade)} Throwbacks", "decade", decade)
        if roll < 0.9:
            return Theme(f"My Playlist #{draws.between(1, 60)}", "any", None)
        return Theme(draws.choice(MISC_PLAYLISTS), "any", None)

    def fill(
        self,
        plans: list[PlaylistPlan],
        liked: Sequence[int],
        liked_ts: Sequence[int],
        start_ts: int,
    ) -> None:
        """Name each playlist after a theme and draw its tracks from the matching pool."""
        draws = self.draws
        catalogue = self.catalogue
        rng = draws.rng
        total = len(catalogue.tracks)
        is_liked = bytearray(total)
        for index in liked:
            is_liked[index] = 1
        # (theme kind, key, liked?) -> track indices
        pools: dict[tuple[str, str | int | None, int], list[int]] = {}
        for index in range(total):
            flag = is_liked[index]
            truth = catalogue.tracks[index].truth
            decade = (truth.first_release_year or 0) // 10 * 10
            pools.setdefault(("family", catalogue.track_family[index], flag), []).append(index)
            pools.setdefault(("mood", truth.mood, flag), []).append(index)
            pools.setdefault(("decade", decade, flag), []).append(index)
            pools.setdefault(("any", None, flag), []).append(index)
        by_year: dict[int, list[int]] = {}
        for index, moment in zip(liked, liked_ts, strict=True):
            by_year.setdefault(utc(moment).year, []).append(index)
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
            plan.description = draws.choice(DESCRIPTIONS) if rng.random() < 0.3 else ""
            if plan.owner.id == "spotify":
                plan.description = f"The essential {theme.name.removeprefix('This Is ')} tracks."
            self.plan_window(plan, theme, start_ts)
            key = theme.key
            if theme.kind == "artist":
                albums, track_album = catalogue.albums, catalogue.track_album
                own = [i for i in range(total) if albums[track_album[i]].artist == key]
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

    def plan_window(self, plan: PlaylistPlan, theme: Theme, start_ts: int) -> None:
        """When the playlist was created and over which period its entries were added."""
        draws = self.draws
        now_ts = draws.now_ts
        if plan.owner.id == "spotify":  # editorial playlists are refreshed all the time
            plan.created_ts = draws.between(start_ts, now_ts - 30 * 86_400)
            plan.window = (now_ts - 60 * 86_400, now_ts - 3600)
        elif theme.kind == "year" and isinstance(theme.key, int):
            year_start = int(datetime(theme.key, 1, 1, tzinfo=UTC).timestamp())
            year_end = min(int(datetime(theme.key + 1, 1, 1, tzinfo=UTC).timestamp()), now_ts)
            created = max(start_ts, year_start + draws.below(60 * 86_400))
            plan.created_ts = min(created, year_end - 7200)
            plan.window = (plan.created_ts, year_end - 3600)
        else:
            plan.created_ts = draws.between(start_ts, now_ts - 2 * 86_400)
            plan.window = (plan.created_ts, now_ts - 3600)

    def draw(
        self, size: int, liked: Sequence[int], extra: Sequence[int], share: float, total: int
    ) -> list[int]:
        """`size` distinct tracks, `share` of them liked, from the pools then from anything."""
        draws = self.draws
        rng = draws.rng
        want_liked = min(round(size * share), len(liked))
        chosen = rng.sample(liked, want_liked) if want_liked else []
        want_extra = min(size - len(chosen), len(extra))
        chosen += rng.sample(extra, want_extra) if want_extra else []
        if len(chosen) < size and total:
            taken = set(chosen)
            while len(chosen) < size:
                candidate = draws.below(total)
                if candidate not in taken or len(taken) >= total:  # tiny library: repeat
                    taken.add(candidate)
                    chosen.append(candidate)
        rng.shuffle(chosen)
        return chosen

    def add_specials(self, plans: list[PlaylistPlan], start_ts: int, *, guarantee: bool) -> None:
        """Local files, unavailable items, episodes and duplicates in readable playlists.

        With `guarantee`, each kind appears at least once wherever a readable playlist has room
        (local files and episodes only in the user's own playlists, as on Spotify).
        """
        draws = self.draws
        rng = draws.rng
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
                    for _ in range(draws.between(1, 3 if kind == "local" else 2)):
                        self.place(plan, kind, start_ts)

    def place(self, plan: PlaylistPlan, kind: str, start_ts: int) -> int:
        """Put one special entry of `kind` at a plain position: 1 if it fitted, else 0."""
        draws = self.draws
        catalogue = self.catalogue
        rng = draws.rng
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
                draws.choice(catalogue.artists).name
                if catalogue.artists and rng.random() < 0.3
                else draws.person(draws.choice(("en", "en", "fr", "de", "es")))
            )
            seconds = 220 * math.exp(rng.gauss(0.0, 0.25))
            local = LocalFile(draws.phrase(), artist, draws.phrase(), int(seconds * 1000))
            plan.specials[position] = ("local", local)
        elif kind == "episode":
            plan.specials[position] = ("episode", self.episode(start_ts))
        else:
            plan.specials[position] = ("unavailable", None)
        return 1

    def episode(self, start_ts: int) -> str:
        """A podcast episode's id: now and then one already used, else a new one."""
        draws = self.draws
        rng = draws.rng
        if self.episodes and rng.random() < 0.3:
            return draws.choice(tuple(self.episodes))
        released = draws.between(start_ts, draws.now_ts - 86_400)
        episode = Episode(
            id=draws.new_id(),
            name=f"Ep. {draws.between(1, 250)}: {draws.choice(EPISODE_TOPICS)}",
            show_name=draws.choice(SHOWS),
            duration_ms=draws.between(20, 90) * 60_000 + draws.below(60_000),
            release_date=utc(released).date().isoformat(),
        )
        self.episodes[episode.id] = episode
        return episode.id

    def entries(self, plan: PlaylistPlan, user: User, people: Sequence[User]) -> list[AccountEntry]:
        """The plan's entries, with when and by whom each was added."""
        draws = self.draws
        catalogue = self.catalogue
        rng = draws.rng
        random_ = rng.random
        size = len(plan.slots)
        low, high = plan.window
        initial = round(size * rng.uniform(0.3, 0.9)) if plan.owner.id != "spotify" else 0
        latest = draws.now_ts - 60
        times = sorted(
            min(plan.created_ts + draws.below(3 * 3600), latest) if position < initial
            else draws.between(low, max(low, high))
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
        rows: list[tuple[int, int, AccountEntry]] = []
        for position, moment in enumerate(times):
            slot = plan.slots[position]
            added_by = (
                adders[0] if len(adders) == 1 else rng.choices(adders, cum_weights=adder_weights)[0]
            )
            if slot >= 0:
                moment = min(catalogue.after_release(slot, moment), latest)
                item = AccountEntry(
                    "track", utc(moment), added_by, track_id=catalogue.tracks[slot].id
                )
            else:
                kind, payload = plan.specials[position]
                if kind == "local":
                    assert isinstance(payload, LocalFile)
                    item = AccountEntry("local", utc(moment), plan.owner.id, local=payload)
                elif kind == "episode":
                    assert isinstance(payload, str)
                    released = self.episodes[payload].release_date
                    floor = int(datetime.fromisoformat(released).replace(tzinfo=UTC).timestamp())
                    moment = max(moment, floor + 3600)
                    item = AccountEntry("episode", utc(moment), added_by, episode_id=payload)
                else:
                    item = AccountEntry("unavailable", utc(moment), added_by)
            rows.append((moment, position, item))
        if random_() < 0.85:  # most playlists stay in the order things were added
            rows.sort(key=lambda row: (row[0], row[1]))
        return [row[2] for row in rows]

    def finish(
        self, plans: list[PlaylistPlan], user: User, people: Sequence[User]
    ) -> list[Playlist]:
        """The finished playlists, newest first, like a fresh account lists them."""
        draws = self.draws
        rng = draws.rng
        playlists: list[tuple[int, Playlist]] = []
        for plan in plans:
            entries = self.entries(plan, user, people)
            public = plan.kind == "followed" or (plan.kind == "owned" and rng.random() < 0.6)
            playlist = Playlist(
                id=draws.new_id(),
                name=plan.name,
                description=plan.description,
                owner_id=plan.owner.id,
                collaborative=plan.kind == "collaborative",
                public=public,
                entries=tuple(entries),
            )
            playlists.append((plan.created_ts, playlist))
        playlists.sort(key=lambda pair: -pair[0])
        return [playlist for _, playlist in playlists]
