"""Settings of the Spotify emulator. Mutable on purpose: tests switch faults on and off live."""

from __future__ import annotations

from dataclasses import dataclass

# Every scope Spotify's authorization server knows (from the OpenAPI security scheme).
KNOWN_SCOPES = frozenset(
    {
        "app-remote-control",
        "playlist-read-private",
        "playlist-read-collaborative",
        "playlist-modify-public",
        "playlist-modify-private",
        "user-library-read",
        "user-library-modify",
        "user-read-private",
        "user-read-email",
        "user-follow-read",
        "user-follow-modify",
        "user-top-read",
        "user-read-playback-position",
        "user-read-playback-state",
        "user-read-recently-played",
        "user-read-currently-playing",
        "user-modify-playback-state",
        "ugc-image-upload",
        "streaming",
    }
)

# What our own client asks for (see design/spotify-api.md); handy for tests.
CLIENT_SCOPES = (
    "user-library-read",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-public",
    "playlist-modify-private",
    "user-read-private",
)


@dataclass
class SpotifyEmulatorConfig:
    """How the emulated Spotify behaves; every fault is off by default.

    Faults hit the Web API only, unless `faults_on_accounts` is set. They are drawn from one
    RNG seeded with `fault_seed`, so the same requests in the same order meet the same faults.
    """

    client_id: str | None = None  # None: any non-empty client id is accepted
    redirect_uris: tuple[str, ...] | None = None  # None: any well-formed redirect URI
    latency_ms: float = 0  # real delay added to every request
    fail_rate: float = 0.0  # share of requests answered 500/502/503
    drop_rate: float = 0.0  # share of requests whose connection is dropped
    rate_limit: int | None = None  # max requests per rolling 30 s per access token
    throttle_rate: float = 0.0  # share of requests answered 429 at random
    throttle_retry_after: int = 1  # Retry-After (seconds) of those random 429s
    garble_rate: float = 0.0  # share of requests answered 200 with a cut-off JSON body
    access_token_ttl: int = 3600  # seconds
    refresh_token_lifetime_days: int = 183  # counted from the user's authorisation
    authorization_code_ttl: int = 600  # seconds
    fault_seed: int = 0
    auto_consent: bool = True  # False: /authorize shows an Agree/Cancel page
    faults_on_accounts: bool = False  # also inject faults into /authorize and /api/token
    rate_limit_window: float = 30.0  # seconds; Spotify's window is a rolling 30 s
    token_secret: str | None = None  # set: signed tokens any emulator with it accepts (demo)
    request_log_size: int = 100_000  # the log keeps at least this many recent requests
    # Catalogue tracks the user cannot play in their market: `GET /tracks/{id}?market=…` says
    # `is_playable: false` with `restrictions.reason` "market"; adding them still works, as on
    # Spotify (they show greyed out).
    unplayable_tracks: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise `ValueError` for impossible settings (call again after changing fields)."""
        rates = ("fail_rate", "drop_rate", "throttle_rate", "garble_rate")
        for name in rates:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if sum(getattr(self, name) for name in rates) > 1.0:
            raise ValueError(f"{' + '.join(rates)} must not exceed 1")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 (or None for no limit)")
