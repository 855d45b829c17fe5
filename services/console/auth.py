"""Staff log in through the IdP (OIDC authorization code + PKCE), stay in a server-side session,
and leave it (logout at the IdP too).

Authlib's Starlette client does the protocol (state, nonce, PKCE S256, the ID token's
signature, discovery): it is maintained, made for Starlette's sessions and small. The browser
holds only a signed, httponly cookie with a random session id; the tokens stay in this process
(:class:`Sessions`), since Keycloak's three tokens together pass the 4 KB a cookie may hold.
A restart of the console logs staff out; their next click comes back through the IdP's own
session, so it costs a redirect, not a password.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import Request

from services.console.settings import ConsoleSettings
from services.runtime.auth import Identity, InvalidToken, TokenVerifier

log = logging.getLogger("tuntas.console")
REFRESH_MARGIN_S = 30.0  # renew a token this long before it expires


@dataclass
class Staff:
    """A logged-in staff member and their tokens (never sent to the browser)."""

    identity: Identity
    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_at: float


class LoginNeeded(Exception):
    """No session, or one the IdP no longer renews: log in, then come back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None) -> str:
    """A path on this site only (never ``//host`` or a full URL): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class Sessions:
    """Session id → staff, in memory; at most ``limit`` sessions (the oldest go first)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._by_id: dict[str, Staff] = {}
        self._limit = limit

    def open(self, staff: Staff) -> str:
        while len(self._by_id) >= self._limit:
            self._by_id.pop(next(iter(self._by_id)))
        sid = secrets.token_urlsafe(32)
        self._by_id[sid] = staff
        return sid

    def get(self, sid: object) -> Staff | None:
        return self._by_id.get(sid) if isinstance(sid, str) else None

    def put(self, sid: str, staff: Staff) -> None:
        self._by_id[sid] = staff

    def close(self, sid: object) -> Staff | None:
        return self._by_id.pop(sid, None) if isinstance(sid, str) else None


class Login:
    """The console's OIDC client and its sessions."""

    def __init__(self, settings: ConsoleSettings, discovery: str, verifier: TokenVerifier) -> None:
        self.sessions = Sessions()
        self.verifier = verifier
        self.client_id = settings.client_id
        secret = settings.secret_of_client()
        oauth = OAuth()
        self.idp: Any = oauth.register(
            "idp",
            client_id=settings.client_id,
            client_secret=secret or None,
            # The IdP's discovery document (services.runtime.auth.OidcSettings.discovery): the
            # browser's endpoints in it are the public ones, the token endpoint may be in-cluster.
            server_metadata_url=discovery,
            client_kwargs={
                "scope": "openid",
                "code_challenge_method": "S256",
                # A public client proves itself with PKCE only.
                "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            },
        )
        self._refreshing: dict[str, asyncio.Lock] = {}

    async def start(self, request: Request, next_path: str) -> Any:
        request.session["next"] = safe_next(next_path)
        callback = str(request.url_for("auth_callback"))
        return await self.idp.authorize_redirect(request, callback)

    async def finish(self, request: Request) -> str:
        """The IdP's answer: a new session; the path to go back to."""
        token = await self.idp.authorize_access_token(request)
        staff = await self._staff(token)
        old = request.session.get("sid")
        self.sessions.close(old)
        request.session["sid"] = self.sessions.open(staff)
        log.info("logged in: %s", staff.identity.username)
        return safe_next(request.session.pop("next", "/"))

    async def _staff(self, token: dict[str, Any], previous: Staff | None = None) -> Staff:
        access = str(token["access_token"])
        try:
            identity = await asyncio.to_thread(self.verifier.verify, access)
        except InvalidToken as error:
            raise OAuthError(description=f"access token refused: {error}") from error
        expires_at = float(token.get("expires_at") or time.time() + float(token["expires_in"]))
        kept = previous.refresh_token if previous else None, previous.id_token if previous else None
        return Staff(
            identity=identity,
            access_token=access,
            refresh_token=token.get("refresh_token") or kept[0],
            id_token=token.get("id_token") or kept[1],
            expires_at=expires_at,
        )

    async def staff(self, request: Request) -> Staff:
        """The caller's session with a fresh access token, or ``LoginNeeded``."""
        sid = request.session.get("sid")
        staff = self.sessions.get(sid)
        if staff is None:
            raise LoginNeeded(_page_of(request))
        if staff.expires_at - REFRESH_MARGIN_S > time.time():
            return staff
        lock = self._refreshing.setdefault(str(sid), asyncio.Lock())
        async with lock:  # one refresh per session even when htmx fires requests in parallel
            current = self.sessions.get(sid)
            if current is not None and current.expires_at - REFRESH_MARGIN_S > time.time():
                return current
            renewed = await self._refresh(staff)
        self._refreshing.pop(str(sid), None)
        if renewed is None:
            self.sessions.close(sid)
            raise LoginNeeded(_page_of(request))
        self.sessions.put(str(sid), renewed)
        return renewed

    async def _refresh(self, staff: Staff) -> Staff | None:
        if not staff.refresh_token:
            return None
        try:
            token = await self.idp.fetch_access_token(
                grant_type="refresh_token", refresh_token=staff.refresh_token
            )
            return await self._staff(token, staff)
        except OAuthError as error:  # the IdP's session ended (idle, logged out, disabled)
            log.info("session of %s not renewed: %s", staff.identity.username, error)
            return None

    async def logout(self, request: Request, back_to: str) -> str:
        """Close the session here and say where the IdP ends its own."""
        staff = self.sessions.close(request.session.pop("sid", None))
        metadata = await self.idp.load_server_metadata()
        end = metadata.get("end_session_endpoint")
        if not end:
            return back_to
        query = {"client_id": self.client_id, "post_logout_redirect_uri": back_to}
        if staff is not None and staff.id_token:
            query["id_token_hint"] = staff.id_token
        return f"{end}?{urlencode(query)}"


def _page_of(request: Request) -> str:
    """The page the user was on: for an htmx request or a form sent, the page that sent it."""
    current = request.headers.get("HX-Current-URL")
    if current is None and request.method != "GET":
        current = request.headers.get("Referer")
    if current:
        parts = current.split("://", 1)[-1].split("/", 1)
        return "/" + (parts[1] if len(parts) > 1 else "")
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query
