"""Calling a Tuntas API with an access token: an ``httpx.Auth`` that logs in to the identity
provider and adds ``Authorization: Bearer …`` to every request.

Machines (services, card stations) use the client credentials grant; the demo's autopilot and
the tests log staff in with the password grant on the console client. The token endpoint comes
from the issuer's discovery document, so any OIDC provider will do. A token is reused until
shortly before it expires; a 401 fetches a fresh one and sends the request once more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from pathlib import Path

import httpx

# Renew this long before expiry, so a token never lapses between sending and checking.
MARGIN_S = 30.0
# Fresh logins one request may take when each 401 came for a token that had gone stale.
MAX_LOGINS = 5


def secret_from(value: str, file: str) -> str:
    """A client secret: from its file when one is named (never kept in the repository)."""
    return Path(file).read_text().strip() if file else value


class LoginRefused(httpx.HTTPError):
    """The identity provider refused the credentials (or is not answering properly)."""


class OidcLogin(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        issuer: str,
        form: Mapping[str, str],
        discovery_url: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        # Where the token endpoint is looked up (services.runtime.auth.OidcSettings.discovery).
        self._discovery_url = discovery_url or f"{self.issuer}/.well-known/openid-configuration"
        self._form = dict(form)
        self._token_url: str | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self._clock = clock

    @classmethod
    def client_credentials(
        cls, issuer: str, client_id: str, secret: str, discovery_url: str | None = None
    ) -> OidcLogin:
        form = {"grant_type": "client_credentials", "client_id": client_id}
        return cls(issuer, {**form, "client_secret": secret}, discovery_url)

    @classmethod
    def password(
        cls,
        issuer: str,
        username: str,
        password: str,
        client_id: str = "tuntas-console",
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> OidcLogin:
        form = {"grant_type": "password", "client_id": client_id, "scope": "openid"}
        return cls(issuer, {**form, "username": username, "password": password}, clock=clock)

    def _login(self) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token_url is None:
            found = yield httpx.Request("GET", self._discovery_url)
            found.raise_for_status()
            self._token_url = str(found.json()["token_endpoint"])
        answer = yield httpx.Request("POST", self._token_url, data=self._form)
        if answer.is_error:
            who = self._form.get("username") or self._form["client_id"]
            raise LoginRefused(
                f"{who} could not log in at {self.issuer}: HTTP {answer.status_code}"
                f" {answer.text[:200]}"
            )
        body = answer.json()
        self._token = str(body["access_token"])
        self._expires = self._clock() + float(body.get("expires_in", 60)) - MARGIN_S

    def _stale(self) -> bool:
        return self._token is None or self._clock() >= self._expires

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # One login at a time: Keycloak refuses concurrent password logins of one user.
        fresh_login = False
        for _ in range(MAX_LOGINS + 1):
            async with self._lock:
                if fresh_login or self._stale():
                    login = self._login()
                    sent = next(login)
                    try:
                        while True:
                            answer = yield sent
                            await answer.aread()
                            sent = login.send(answer)
                    except StopIteration:
                        pass
            used = self._token
            request.headers["Authorization"] = f"Bearer {used}"
            response = yield request
            if response.status_code != 401:
                return
            # Revoked or rotated keys: one fresh login. A token that went stale (or was
            # replaced) while the request was retried below: a fresh login each time.
            if fresh_login and used == self._token and not self._stale():
                return
            fresh_login = True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._stale():
            yield from self._login()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:  # revoked or rotated keys: one fresh login, once
            yield from self._login()
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request
