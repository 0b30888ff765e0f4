"""`SpotifyEmulator`: the accounts service and the Web API over one emulated account.

    emulator = SpotifyEmulator(generate_library(seed=1))
    api = httpx.AsyncClient(transport=emulator_transport(emulator.api_app),
                            base_url="http://spotify.test/v1")
    token = emulator.grant_tokens()["access_token"]      # or run the real PKCE flow
    await api.get("/me/tracks", headers={"Authorization": f"Bearer {token}"})

Tests steer it through `config` (faults, live), `clock` (token expiry) and the helpers below
(changes made "in the Spotify app"), and read `requests` to see what the client did.

With `state_file`, the account's changes (playlists written or created, liked songs) are saved
there after every write and picked up by every other emulator given the same file and library,
in this process or another: each API request first checks the file (one `stat`) and reloads
it when another emulator saved since (see `persistence.py` for the format and the locking).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from app.emulators.common.clock import Clock
from app.emulators.common.gateway import RequestRecord
from app.emulators.common.transport import ASGIApp, Receive, Scope, Send
from app.emulators.library.model import AccountEntry, GeneratedLibrary
from app.emulators.spotify.accounts import AccountsService
from app.emulators.spotify.api import create_api_app
from app.emulators.spotify.config import CLIENT_SCOPES, SpotifyEmulatorConfig
from app.emulators.spotify.context import ApiContext
from app.emulators.spotify.faults import FaultInjector, front_door
from app.emulators.spotify.oauth import TokenServer
from app.emulators.spotify.persistence import StateFile
from app.emulators.spotify.state import AccountState, PlaylistState


class SpotifyEmulator:
    """A Spotify for one user, in memory or (with `state_file`) shared through a file;
    `accounts_app` and `api_app` are ASGI apps."""

    def __init__(
        self,
        library: GeneratedLibrary,
        config: SpotifyEmulatorConfig | None = None,
        clock: Clock | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.library = library
        self.config = config or SpotifyEmulatorConfig()
        self.clock = clock or Clock()
        self.requests: list[RequestRecord] = []
        self.state_file = state_file
        self.state = AccountState(
            library, self.clock, StateFile(state_file) if state_file is not None else None
        )
        self.tokens = TokenServer(self.config, self.clock)
        self.faults = FaultInjector(self.config, self.clock)
        self.context = ApiContext(self.state, self.tokens, self.config)
        accounts = AccountsService(self.tokens, self.config).app()
        api = create_api_app(self.context)
        self.accounts_app: ASGIApp = self._gateway(accounts, "accounts")
        self.api_app: ASGIApp = self._gateway(self._refreshing(api), "api")

    def _refreshing(self, app: ASGIApp) -> ASGIApp:
        """`app`, seeing what other emulators saved to the state file before each request."""
        if self.state.file is None:
            return app

        async def refreshed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                self.state.refresh()
            await app(scope, receive, send)

        return refreshed

    def _gateway(self, app: ASGIApp, service: str) -> ASGIApp:
        def faulty() -> bool:
            return service == "api" or self.config.faults_on_accounts

        return front_door(
            app,
            service=service,
            config=self.config,
            clock=self.clock,
            faults=self.faults,
            log=self.requests,
            faulty=faulty,
        )

    # -- tokens ------------------------------------------------------------------------------

    def grant_tokens(
        self, scopes: Iterable[str] = CLIENT_SCOPES, client_id: str | None = None
    ) -> dict[str, object]:
        """The token response the user would get by authorising `client_id` (default: the
        configured one) for `scopes` now, without the browser round trip."""
        client = client_id or self.config.client_id or "emulator-client"
        return self.tokens.grant_tokens(client, tuple(scopes))

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 "The access token expired" from now."""
        self.tokens.expire_access_tokens()

    def reset_faults(self) -> None:
        """Replay faults from the start of `config.fault_seed`'s sequence; empty the
        rate-limit windows."""
        self.faults.reset()

    # -- the account, as tests see and change it ---------------------------------------------

    def api_requests(self, path: str | None = None) -> list[RequestRecord]:
        """Web API requests logged so far, optionally only those to `path`."""
        return [r for r in self.requests if r.service == "api" and (path is None or r.path == path)]

    def saved_track_ids(self) -> list[str]:
        """Liked songs, newest first."""
        self.state.refresh()
        return [saved.track_id for saved in self.state.liked]

    def save_tracks(self, track_ids: Sequence[str], added_at: datetime | None = None) -> None:
        """Like tracks now (or at `added_at`); they are listed where their date sorts."""
        self.state.save_tracks(track_ids, added_at)

    def remove_saved_tracks(self, track_ids: Iterable[str]) -> None:
        self.state.remove_saved_tracks(track_ids)

    def playlist(self, playlist_id: str) -> PlaylistState:
        """The live state of a playlist (KeyError if unknown)."""
        self.state.refresh()
        return self.state.playlists[playlist_id]

    def playlist_ids(self) -> list[str]:
        """Playlists in /me/playlists order (newly created first)."""
        self.state.refresh()
        return list(self.state.playlist_order)

    def playlist_uris(self, playlist_id: str) -> list[str | None]:
        """The playlist's entries as URIs, in order; `None` for unavailable entries."""
        return self.playlist(playlist_id).uris()

    def playlist_entries(self, playlist_id: str) -> list[AccountEntry]:
        return list(self.playlist(playlist_id).entries)

    def snapshot_id(self, playlist_id: str) -> str:
        return self.playlist(playlist_id).snapshot_id

    def edit_playlist_as_other_user(
        self,
        playlist_id: str,
        *,
        add: Sequence[str] = (),
        remove: Iterable[str] = (),
        name: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """Change a playlist outside our app, as if in the Spotify app: remove every occurrence
        of `remove`, append `add` (added by `user_id`, default another user), maybe rename.
        Returns the new snapshot id."""
        playlist = self.playlist(playlist_id)
        if user_id is None:
            others = [u.id for u in self.library.other_users]
            user_id = others[0] if others else self.library.user.id
        return self.state.edit_in_app(playlist, add=add, remove=remove, name=name, by=user_id)
