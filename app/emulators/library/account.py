"""The account: `generate_library`, its users, its liked songs, the final `GeneratedLibrary`.

`generate_library` runs every step on one `Draws`, in the fixed order the seed's output depends
on: users, playlist plans (their sizes decide how many tracks to draw), labels, artists and
tracks, which tracks are liked and when, playlist contents, special entries, then the entries'
times. Liked songs come in bursts (Pareto-weighted) over a background that grows towards the
present, never before a track's release. Last, the drafts are frozen into `model`
records.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import accumulate

from app.emulators.library.catalogue import Catalogue
from app.emulators.library.draws import Draws, utc
from app.emulators.library.index import fold, gc_paused
from app.emulators.library.model import (
    Album,
    Artist,
    Episode,
    GeneratedLibrary,
    LikedSong,
    Playlist,
    User,
)
from app.emulators.library.playlists import Playlists
from app.emulators.library.vocabulary import FIRST_NAMES, LAST_NAMES

DEFAULT_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def generate_library(
    seed: int = 0,
    tracks: int = 2000,
    playlists: int = 20,
    *,
    now: datetime | None = None,
    playlist_size: int | None = None,
) -> GeneratedLibrary:
    """A deterministic demo library: `tracks` liked songs, `playlists` playlists (see package)."""
    if tracks < 0 or playlists < 0 or (playlist_size is not None and playlist_size < 0):
        raise ValueError("tracks, playlists and playlist_size must not be negative")
    moment = DEFAULT_NOW if now is None else now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year < 2000:
        raise ValueError("now must be in 2000 or later (the catalogue spans 1960 to now)")
    with gc_paused():
        return _build(seed, moment, tracks, playlists, playlist_size)


def _build(
    seed: int, now: datetime, liked_count: int, playlist_count: int, playlist_size: int | None
) -> GeneratedLibrary:
    draws = Draws(seed, now)
    rng = draws.rng
    catalogue = Catalogue(draws)
    playlists = Playlists(draws, catalogue)
    user, friends = _make_users(draws)
    plans = playlists.plan(playlist_count, playlist_size, user, friends)
    entries = sum(plan.size for plan in plans)
    largest = max((plan.size for plan in plans), default=0)
    # enough tracks that no playlist has to repeat one (only intentional duplicates)
    total = max(liked_count + liked_count // 20 + (entries * 2) // 5, largest + largest // 5)
    artist_count = max(3, round(total**0.85)) if total else 0
    catalogue.make_labels(min(120, 12 + int(math.sqrt(artist_count))))
    catalogue.make_artists(artist_count)
    catalogue.make_tracks(total)
    liked = rng.sample(range(total), liked_count)
    start_ts = draws.now_ts - int(rng.uniform(4.0, 9.0) * 365.25 * 86_400)
    liked_ts = _liked_times(draws, catalogue, liked, start_ts)
    playlists.fill(plans, liked, liked_ts, start_ts)
    playlists.add_specials(plans, start_ts, guarantee=playlist_count >= 3)
    finished = playlists.finish(plans, user, friends[:-1])
    return _assemble(seed, catalogue, playlists.episodes, user, friends, finished, liked, liked_ts)


def _make_users(draws: Draws) -> tuple[User, list[User]]:
    """The user, then 3-5 friends with ids in Spotify's styles, then Spotify itself."""
    rng = draws.rng
    first, last = draws.choice(FIRST_NAMES["en"]), draws.choice(LAST_NAMES["en"])
    user = User(f"{first}.{last}{draws.between(1, 99)}".lower(), f"{first} {last}")
    friends: list[User] = []
    taken = {user.id, "spotify"}
    count = draws.between(3, 5)
    while len(friends) < count:
        language = draws.choice(tuple(FIRST_NAMES))
        display = draws.person(language)
        style = draws.below(3)
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


def _liked_times(
    draws: Draws, catalogue: Catalogue, liked: Sequence[int], start_ts: int
) -> list[int]:
    """Like times: a background that grows towards the present plus Pareto-weighted bursts."""
    rng = draws.rng
    random_, gauss = rng.random, rng.gauss
    span, last = draws.now_ts - start_ts, draws.now_ts - 60
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
        times.append(catalogue.after_release(index, moment))
    return times


def _assemble(
    seed: int,
    catalogue: Catalogue,
    episodes: dict[str, Episode],
    user: User,
    friends: list[User],
    playlists: list[Playlist],
    liked: Sequence[int],
    liked_ts: Sequence[int],
) -> GeneratedLibrary:
    """The frozen `GeneratedLibrary`: only artists some track credits, liked songs newest first."""
    used: set[str] = set()
    for track in catalogue.tracks:
        used.update(track.artist_ids)
    artists = {
        draft.id: Artist(draft.id, draft.name, draft.genres, draft.mbid)
        for draft in catalogue.artists
        if draft.id in used
    }
    albums = {
        draft.id: Album(
            id=draft.id,
            name=draft.name,
            artist_ids=(catalogue.artists[draft.artist].id,),
            release_date=draft.release_date,
            release_date_precision=draft.precision,
            album_type="single" if draft.kind == "single"
            else "compilation" if draft.kind == "compilation" else "album",
            total_tracks=draft.total,
            label=catalogue.labels[draft.label][0],
            genres=draft.genres,
            mbid=draft.mbid,
            deezer_id=draft.deezer_id,
        )
        for draft in catalogue.albums
    }  # fmt: skip
    saved = sorted(
        zip(liked_ts, (catalogue.tracks[index].id for index in liked), strict=True), reverse=True
    )
    featured = {playlist.owner_id for playlist in playlists} | {
        item.added_by for playlist in playlists for item in playlist.entries
    }
    return GeneratedLibrary(
        seed=seed,
        user=user,
        other_users=tuple(
            friend for friend in friends if friend.id in featured or friend.id != "spotify"
        ),
        artists=artists,
        albums=albums,
        tracks={track.id: track for track in catalogue.tracks},
        episodes=episodes,
        liked=tuple(LikedSong(track_id, utc(moment)) for moment, track_id in saved),
        playlists=tuple(playlists),
        generated_at=datetime.now(UTC),
    )
