"""The emulated account's live, mutable state: liked songs and playlists.

The `GeneratedLibrary` the emulator starts from is frozen; `AccountState` copies what can change
(saved tracks, playlist entries, names, snapshot ids) and applies writes with Spotify's semantics:

* every successful playlist write produces a new `snapshot_id`;
* removing a URI removes *every* occurrence of it (positions are ignored);
* a reorder moves `range_length` entries starting at `range_start` to just before the entry
  that was at `insert_before`.

With a `StateFile` (`persistence.py`: the file's format, its lock, checks and quarantine), the
account outlives the process: every emulator over the same library and file shares one
account, as every device shares a real Spotify account.

Concurrency: a write holds the file lock from reloading (when another process saved since we
last looked) to saving, so no write is lost; `refresh()` reloads when the file's `stat`
changed, so reads see other processes' writes. A file that does not parse or belongs to
another library is moved aside and the account starts afresh.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from app.emulators.common.clock import Clock
from app.emulators.library.model import AccountEntry, GeneratedLibrary, LikedSong, Playlist
from app.emulators.spotify.persistence import (
    UNKNOWN_SIGNATURE,
    Changes,
    PlaylistRecord,
    Signature,
    StateFile,
)

__all__ = ["AccountState", "InvalidUri", "PlaylistState", "entry_uri", "snapshot_for", "spotify_id"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def spotify_id(text: str, length: int = 22) -> str:
    """A stable, Spotify-looking base62 id derived from `text`."""
    number = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def snapshot_for(playlist_id: str, version: int) -> str:
    """A snapshot id shaped like Spotify's: base64 of a version counter and a digest."""
    digest = hashlib.sha256(f"{playlist_id}:{version}".encode()).digest()[:20]
    return base64.b64encode(version.to_bytes(4, "big") + digest).decode("ascii")


def entry_uri(entry: AccountEntry) -> str | None:
    """The URI of a playlist entry; `None` for an unavailable one (Spotify hides it)."""
    if entry.track_id is not None:
        return f"spotify:track:{entry.track_id}"
    if entry.episode_id is not None:
        return f"spotify:episode:{entry.episode_id}"
    if entry.local is not None:
        return entry.local.uri
    return None


class InvalidUri(ValueError):
    """A URI that cannot be added to a playlist; `message` is Spotify's error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PlaylistState:
    """A playlist as it is now; `snapshots` holds every snapshot id it has had."""

    id: str
    name: str
    description: str
    owner_id: str
    collaborative: bool
    public: bool
    entries: list[AccountEntry]
    version: int = 1
    snapshots: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.snapshots.add(self.snapshot_id)

    @property
    def snapshot_id(self) -> str:
        return snapshot_for(self.id, self.version)

    def editable_by(self, user_id: str) -> bool:
        """Owners and, on collaborative playlists, collaborators may read items and write."""
        return self.owner_id == user_id or self.collaborative

    def uris(self) -> list[str | None]:
        return [entry_uri(entry) for entry in self.entries]

    def changed(self) -> str:
        """Record a successful write: a new snapshot id."""
        self.version += 1
        self.snapshots.add(self.snapshot_id)
        return self.snapshot_id


class AccountState:
    """What the emulated user has now; every write goes through here (and into `file`)."""

    def __init__(
        self, library: GeneratedLibrary, clock: Clock, file: StateFile | None = None
    ) -> None:
        self.library = library
        self.clock = clock
        self.user = library.user
        self.file = file
        self.liked: list[LikedSong] = []
        self.playlists: dict[str, PlaylistState] = {}
        self.playlist_order: list[str] = []
        self._created = 0
        self._seen: Signature | None = None  # the file this state mirrors
        self._restore(None)
        if file is not None:
            with file.locked():
                self._reload(file)

    # -- persistence -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Catch up with what other emulators saved to the file (one `stat` when nothing)."""
        file = self.file
        if file is not None and file.signature() != self._seen:
            with file.locked():
                self._reload(file)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Wraps every write: under the file's lock, catch up first, save after."""
        file = self.file
        if file is None:
            yield
            return
        with file.locked():
            if file.signature() != self._seen:
                self._reload(file)
            yield  # a write that raises changed nothing and saves nothing
            self._seen = UNKNOWN_SIGNATURE  # if saving fails, memory went ahead of the file: reload
            self._seen = file.save_changes(self._changes())

    def _reload(self, file: StateFile) -> None:
        """Mirror the file (hold its lock); a bad one is moved aside and the account resets."""
        self._restore(file.read_changes(self.library))
        self._seen = file.signature()

    def _restore(self, changes: Changes | None) -> None:
        """Become the generated account with `changes` (if any) laid over it."""
        records = {record.id: record for record in changes.playlists} if changes else {}
        generated = {playlist.id: playlist for playlist in self.library.playlists}
        order = [*(pid for pid in records if pid not in generated), *generated]
        self.playlists = {
            pid: self._restored(records[pid] if pid in records else generated[pid]) for pid in order
        }
        self.playlist_order = order
        liked = changes.liked if changes is not None else None
        self.liked = list(self.library.liked if liked is None else liked)
        self._created = changes.created if changes is not None else 0

    def _restored(self, source: PlaylistRecord | Playlist) -> PlaylistState:
        """The playlist as `source` has it, in the object we had for it: a route may hold
        that object across an `await` and write to it after a reload."""
        version = source.version if isinstance(source, PlaylistRecord) else 1
        playlist = self.playlists.get(source.id)
        if playlist is None:
            playlist = PlaylistState(source.id, "", "", source.owner_id, False, False, [])
        # Snapshots of versions up to `known` are in the set already; after a reset, none are.
        known = playlist.version if playlist.version <= version else 0
        playlist.name, playlist.description = source.name, source.description
        playlist.owner_id, playlist.collaborative = source.owner_id, source.collaborative
        playlist.public, playlist.entries = source.public, list(source.entries)
        if known == 0:
            playlist.snapshots.clear()
        playlist.version = version
        fresh = range(known + 1, version + 1)
        playlist.snapshots.update(snapshot_for(playlist.id, v) for v in fresh)
        return playlist

    def _changes(self) -> Changes:
        """What the file is to hold: the playlists created here or written since, in order."""
        generated = {playlist.id for playlist in self.library.playlists}
        changed = [
            playlist
            for playlist in (self.playlists[pid] for pid in self.playlist_order)
            if playlist.version > 1 or playlist.id not in generated
        ]
        return Changes.of(self.library, created=self._created, liked=self.liked, playlists=changed)

    # -- liked songs -------------------------------------------------------------------------

    def save_tracks(self, track_ids: Sequence[str], added_at: datetime | None = None) -> None:
        """Like tracks (already liked ones are left alone); they go where `added_at` sorts."""
        unknown = [track_id for track_id in track_ids if track_id not in self.library.tracks]
        if unknown:
            raise KeyError(f"unknown track ids: {unknown}")
        with self._writing():
            saved = {s.track_id for s in self.liked}
            moment = added_at or self.clock.now()
            fresh = [LikedSong(t, moment) for t in dict.fromkeys(track_ids) if t not in saved]
            at = next(
                (i for i, s in enumerate(self.liked) if s.added_at <= moment), len(self.liked)
            )
            self.liked[at:at] = fresh

    def remove_saved_tracks(self, track_ids: Iterable[str]) -> None:
        gone = set(track_ids)
        with self._writing():
            self.liked = [s for s in self.liked if s.track_id not in gone]

    # -- playlists ---------------------------------------------------------------------------

    def create_playlist(
        self, name: str, *, public: bool, collaborative: bool, description: str
    ) -> PlaylistState:
        """A new, empty playlist owned by the user; listed first, as Spotify does."""
        with self._writing():
            self._created += 1
            playlist_id = spotify_id(f"{self.library.seed}:created:{self._created}")
            playlist = PlaylistState(
                playlist_id, name, description, self.user.id, collaborative, public, []
            )
            self.playlists[playlist_id] = playlist
            self.playlist_order.insert(0, playlist_id)
            return playlist

    def entries_for(self, uris: Sequence[str], added_by: str) -> list[AccountEntry]:
        """Entries for URIs being added; `InvalidUri` names the first bad one."""
        now = self.clock.now()
        entries = []
        for uri in uris:
            kind, _, item_id = uri.partition(":")[2].partition(":")
            if not uri.startswith("spotify:") or kind not in {"track", "episode"} or not item_id:
                raise InvalidUri(f"Invalid track uri: {uri}")
            known = self.library.tracks if kind == "track" else self.library.episodes
            if item_id not in known:
                raise InvalidUri("Payload contains a non-existing ID")
            if kind == "track":
                entries.append(AccountEntry("track", now, added_by, track_id=item_id))
            else:
                entries.append(AccountEntry("episode", now, added_by, episode_id=item_id))
        return entries

    # The callers checked positions against the playlist before `_writing` caught up with
    # other processes; slices clamp, so a playlist that shrank meanwhile cannot break a write.

    def add_items(self, playlist: PlaylistState, uris: Sequence[str], position: int | None) -> str:
        entries = self.entries_for(uris, self.user.id)
        with self._writing():
            at = len(playlist.entries) if position is None else position
            playlist.entries[at:at] = entries
            return playlist.changed()

    def replace_items(self, playlist: PlaylistState, uris: Sequence[str]) -> str:
        entries = self.entries_for(uris, self.user.id)
        with self._writing():
            playlist.entries = entries
            return playlist.changed()

    def reorder_items(
        self, playlist: PlaylistState, range_start: int, insert_before: int, range_length: int
    ) -> str:
        """Move entries [range_start, range_start + range_length) before `insert_before`."""
        with self._writing():
            entries = playlist.entries
            block = entries[range_start : range_start + range_length]
            rest = entries[:range_start] + entries[range_start + range_length :]
            if insert_before <= range_start:
                at = insert_before
            elif insert_before >= range_start + len(block):
                at = insert_before - len(block)
            else:  # a point inside the moved range: nothing moves
                at = range_start
            rest[at:at] = block
            playlist.entries = rest
            return playlist.changed()

    def remove_items(self, playlist: PlaylistState, uris: Iterable[str]) -> str:
        """Remove every occurrence of each URI (Spotify ignores positions)."""
        gone = set(uris)
        with self._writing():
            playlist.entries = [e for e in playlist.entries if entry_uri(e) not in gone]
            return playlist.changed()

    def edit_in_app(
        self,
        playlist: PlaylistState,
        *,
        add: Sequence[str] = (),
        remove: Iterable[str] = (),
        name: str | None = None,
        by: str,
    ) -> str:
        """A change made outside our app (e.g. in the Spotify app by `by`)."""
        entries = self.entries_for(add, by)
        gone = set(remove)
        with self._writing():
            if gone:
                playlist.entries = [e for e in playlist.entries if entry_uri(e) not in gone]
            playlist.entries.extend(entries)
            if name is not None:
                playlist.name = name
            return playlist.changed()
