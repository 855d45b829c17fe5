"""Access tokens from the session's real identity provider (the ``oidc_issuer`` fixture), cached
per user until shortly before they expire, and the settings a served stage needs to verify them.

The passwords and client secrets are the local realm's (deploy/keycloak/tuntas-realm.json): the
demo password of every staff user is its username, a client's secret ``local-only-<client>``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator

import httpx
import pytest

_MARGIN_S = 30.0
_cache: dict[tuple[str, str], tuple[str, float]] = {}

TEMPEH, PASIRIAN, KUNIR = "350805", "350804", "350806"
OFFICES = {TEMPEH: "tempeh", PASIRIAN: "pasirian", KUNIR: "kunir"}
DISTRICT_ADMIN = "admin.kabupaten"


def staff(role: str, kecamatan: str = TEMPEH) -> str:
    """The demo user holding ``role`` at that office, e.g. ``staff("kasi")`` → ``kasi.tempeh``
    (``card_operator`` users are ``card.<office>``)."""
    prefix = "card" if role == "card_operator" else role
    return f"{prefix}.{OFFICES[kecamatan]}"


def _token(issuer: str, who: str, form: dict[str, str]) -> str:
    cached = _cache.get((issuer, who))
    if cached and cached[1] > time.monotonic():
        return cached[0]
    answer = httpx.post(f"{issuer}/protocol/openid-connect/token", data=form, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    token = str(body["access_token"])
    _cache[(issuer, who)] = (token, time.monotonic() + float(body["expires_in"]) - _MARGIN_S)
    return token


def staff_token(issuer: str, username: str) -> str:
    """A console user's access token (password grant)."""
    form = {"grant_type": "password", "client_id": "tuntas-console", "scope": "openid"}
    return _token(issuer, username, {**form, "username": username, "password": username})


def machine_token(issuer: str, client_id: str) -> str:
    """A service's or card station's access token (client credentials)."""
    form = {"grant_type": "client_credentials", "client_id": client_id}
    return _token(issuer, client_id, {**form, "client_secret": f"local-only-{client_id}"})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_staff(username: str) -> dict[str, str]:
    """The header of one request sent as ``username``, in a test using ``oidc_env``."""
    return bearer(staff_token(os.environ["TUNTAS_OIDC_ISSUER"], username))


class As(httpx.Auth):
    """Sends each request as a staff user (or a card station, ``station-<kecamatan>``): one
    name, or one chosen per request (a stage whose routes serve several roles). A request that
    carries its own token keeps it."""

    def __init__(self, issuer: str, user: str | Callable[[httpx.Request], str]) -> None:
        self.issuer = issuer
        self.user = user

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:  # a request's own token wins
            name = self.user if isinstance(self.user, str) else self.user(request)
            token = (machine_token if name.startswith("station-") else staff_token)(
                self.issuer, name
            )
            request.headers.update(bearer(token))
        yield request


@pytest.fixture
def oidc_env(oidc_issuer: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``TUNTAS_OIDC_ISSUER`` for a stage served in this test (its staff routes verify tokens)."""
    monkeypatch.setenv("TUNTAS_OIDC_ISSUER", oidc_issuer)
    monkeypatch.setenv("TUNTAS_OIDC_LEEWAY_S", "0")  # expiry checked to the second in tests
    yield oidc_issuer
