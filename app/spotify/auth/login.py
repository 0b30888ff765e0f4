"""Login flows outside the browser-facing API: headless (emulator) and interactive (CLI)."""

from __future__ import annotations

import asyncio
import webbrowser
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from app.core.errors import BadRequestError, UpstreamError
from app.spotify.access import SpotifyAccess
from app.spotify.auth.callback import CallbackListener
from app.spotify.auth.pkce import LoginSessions, authorize_url
from app.spotify.models import SpotifyUser


async def complete_login(access: SpotifyAccess, code: str, verifier: str) -> SpotifyUser:
    """Exchange the code, then remember who logged in."""
    await access.tokens.exchange_code(code, verifier)
    async with access.client() as client:
        me = await client.get_me()
    access.tokens.record_user(me.id, me.display_name)
    return me


def _code_from(url: str, sessions: LoginSessions) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    state = query.get("state", [""])[0]
    verifier = sessions.finish(state)
    error = query.get("error", [None])[0]
    code = query.get("code", [None])[0]
    if error or not code:
        raise BadRequestError(
            f"Spotify did not grant access ({error or 'no code'})", code="login_denied"
        )
    return code, verifier


async def headless_login(access: SpotifyAccess) -> SpotifyUser:
    """Log in against an authorization server that consents by itself (the emulator)."""
    sessions = LoginSessions()
    state, challenge = sessions.start()
    url = authorize_url(
        access.settings, client_id=access.client_id, state=state, challenge=challenge
    )
    async with access.tokens.accounts() as accounts:  # redirects are not followed
        response = await accounts.request("GET", url)
    location = response.headers.get("location")
    if response.status_code not in {302, 303, 307} or not location:
        raise UpstreamError(
            f"the authorization server answered {response.status_code} instead of redirecting "
            "back; headless login only works against the emulator",
            code="login_failed",
        )
    code, verifier = _code_from(location, sessions)
    return await complete_login(access, code, verifier)


def interactive_login(
    access: SpotifyAccess,
    *,
    timeout: float = 300.0,
    open_browser: bool = True,
    show: Callable[[str], None] = print,
) -> SpotifyUser:
    """Open the consent page in a browser and wait for Spotify to redirect back to us."""
    sessions = LoginSessions(ttl=timeout + 60)
    state, challenge = sessions.start()
    url = authorize_url(
        access.settings, client_id=access.client_id, state=state, challenge=challenge
    )
    with CallbackListener(access.settings.spotify_redirect_uri) as listener:
        show(url)
        if open_browser:
            webbrowser.open(url)
        result = listener.wait(timeout)
    callback = f"?state={result.state or ''}&code={result.code or ''}"
    if result.error:
        callback += f"&error={result.error}"
    code, verifier = _code_from(callback, sessions)
    return asyncio.run(complete_login(access, code, verifier))
