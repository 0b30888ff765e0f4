"""The authorization server's bookkeeping: codes, access tokens and rotating refresh tokens.

No HTTP here (see `accounts.py`); every rule is a method that either returns or raises
`OAuthError(error, description)`, which the accounts app renders as Spotify does:
``400 {"error": "invalid_grant", "error_description": "Invalid refresh token"}``.

One user authorisation is a *grant*. Its refresh token rotates on every use (the previous one
dies at once) and the whole grant ends `refresh_token_lifetime_days` after the user consented,
however often it was refreshed.

With `config.token_secret` set, tokens are also *portable*: they carry their grant, signed, so
another emulator with the same secret (another process of the demo) accepts them too. Rotation
is then enforced per emulator: a refresh token used here cannot be used here again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.emulators.common.clock import Clock
from app.emulators.spotify.config import SpotifyEmulatorConfig

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class OAuthError(Exception):
    """An OAuth error response: `error` code and human-readable description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    issued_at: datetime
    used: bool = False


@dataclass
class Grant:
    """One user authorisation; ends `refresh_token_lifetime_days` after `authorized_at`."""

    client_id: str
    scopes: tuple[str, ...]
    authorized_at: datetime
    refresh_token: str = ""


@dataclass
class AccessToken:
    grant: Grant
    expires_at: datetime


@dataclass
class TokenServer:
    """Issues and checks tokens for the single emulated user."""

    config: SpotifyEmulatorConfig
    clock: Clock
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    used_refresh_tokens: set[str] = field(default_factory=set)

    def client_allowed(self, client_id: str | None) -> bool:
        """Whether `client_id` names the registered app (any non-empty id if none is set)."""
        if not client_id:
            return False
        return self.config.client_id is None or client_id == self.config.client_id

    def issue_code(
        self, client_id: str, redirect_uri: str, scopes: tuple[str, ...], code_challenge: str
    ) -> str:
        """Record a consented authorisation request and return its one-time code."""
        code = "AQ" + secrets.token_urlsafe(96)
        self.codes[code] = AuthorizationCode(
            client_id, redirect_uri, scopes, code_challenge, self.clock.now()
        )
        return code

    def exchange_code(
        self, code: str, redirect_uri: str, client_id: str, code_verifier: str
    ) -> dict[str, object]:
        """`grant_type=authorization_code`: check code, redirect URI, client and PKCE."""
        if not self.client_allowed(client_id):
            raise OAuthError("invalid_client", "Invalid client")
        if not code_verifier:
            raise OAuthError("invalid_request", "code_verifier required")
        issued = self.codes.get(code)
        if issued is None or issued.used or issued.client_id != client_id:
            raise OAuthError("invalid_grant", "Invalid authorization code")
        issued.used = True  # one attempt per code, whatever its outcome
        age = self.clock.now() - issued.issued_at
        if age > timedelta(seconds=self.config.authorization_code_ttl):
            raise OAuthError("invalid_grant", "Authorization code expired")
        if redirect_uri != issued.redirect_uri:
            raise OAuthError("invalid_grant", "Invalid redirect URI")
        if not _VERIFIER.fullmatch(code_verifier) or pkce_challenge(code_verifier) != (
            issued.code_challenge
        ):
            raise OAuthError("invalid_grant", "code_verifier was incorrect")
        grant = Grant(client_id, issued.scopes, self.clock.now())
        return self._token_response(grant)

    def refresh(self, refresh_token: str, client_id: str) -> dict[str, object]:
        """`grant_type=refresh_token`: rotate the refresh token; the old one dies now."""
        if not self.client_allowed(client_id):
            raise OAuthError("invalid_client", "Invalid client")
        grant = self.refresh_tokens.pop(refresh_token, None)
        if grant is None and refresh_token not in self.used_refresh_tokens:
            grant = self._portable_grant(refresh_token, "r")
        self.used_refresh_tokens.add(refresh_token)
        if grant is None or grant.client_id != client_id:
            raise OAuthError("invalid_grant", "Invalid refresh token")
        lifetime = timedelta(days=self.config.refresh_token_lifetime_days)
        if self.clock.now() >= grant.authorized_at + lifetime:
            raise OAuthError("invalid_grant", "Refresh token revoked")
        return self._token_response(grant)

    def grant_tokens(self, client_id: str, scopes: tuple[str, ...]) -> dict[str, object]:
        """Skip the browser: authorise `scopes` now and return a token response."""
        return self._token_response(Grant(client_id, scopes, self.clock.now()))

    def check_access_token(self, token: str) -> AccessToken:
        """The live access token `token`, or `OAuthError` saying why it cannot be used."""
        issued = self.access_tokens.get(token)
        if issued is None:
            issued = self._portable_access_token(token)
        if issued is None:
            raise OAuthError("invalid_token", "Invalid access token")
        if self.clock.now() >= issued.expires_at:
            raise OAuthError("invalid_token", "The access token expired")
        return issued

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired (refresh tokens stay valid)."""
        now = self.clock.now()
        for issued in self.access_tokens.values():
            issued.expires_at = min(issued.expires_at, now)

    def _token_response(self, grant: Grant) -> dict[str, object]:
        ttl = self.config.access_token_ttl
        expires_at = self.clock.now() + timedelta(seconds=ttl)
        access = "BQ" + self._token_body(grant, "a", expires_at)
        self.access_tokens[access] = AccessToken(grant, expires_at)
        grant.refresh_token = "AQ" + self._token_body(grant, "r", None)
        self.refresh_tokens[grant.refresh_token] = grant
        return {
            "access_token": access,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
            "expires_in": ttl,
            "refresh_token": grant.refresh_token,
        }

    # --- portable tokens (config.token_secret) ------------------------------------------

    def _token_body(self, grant: Grant, kind: str, expires_at: datetime | None) -> str:
        secret = self.config.token_secret
        if secret is None:
            return secrets.token_urlsafe(128 if kind == "a" else 96)
        claims = {
            "k": kind,
            "c": grant.client_id,
            "s": list(grant.scopes),
            "aa": grant.authorized_at.timestamp(),
            "x": expires_at.timestamp() if expires_at else None,
            "n": secrets.token_urlsafe(12),
        }
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{body}.{_sign(secret, body)}"

    def _claims(self, token: str, kind: str) -> dict[str, Any] | None:
        secret = self.config.token_secret
        if secret is None or len(token) < 3 or "." not in token:
            return None
        body, _, signature = token[2:].rpartition(".")
        if not hmac.compare_digest(signature, _sign(secret, body)):
            return None
        try:
            claims: dict[str, Any] = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
        except ValueError:
            return None
        return claims if claims.get("k") == kind else None

    def _portable_grant(self, token: str, kind: str) -> Grant | None:
        claims = self._claims(token, kind)
        if claims is None:
            return None
        authorized = datetime.fromtimestamp(float(claims["aa"]), UTC)
        return Grant(str(claims["c"]), tuple(claims["s"]), authorized, token)

    def _portable_access_token(self, token: str) -> AccessToken | None:
        grant = self._portable_grant(token, "a")
        claims = self._claims(token, "a")
        if grant is None or claims is None or claims.get("x") is None:
            return None
        issued = AccessToken(grant, datetime.fromtimestamp(float(claims["x"]), UTC))
        self.access_tokens[token] = issued  # from now on it behaves like one issued here
        return issued


def _sign(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pkce_challenge(verifier: str) -> str:
    """`base64url(sha256(verifier))` without padding (RFC 7636, method S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
