"""Tokens from the real identity provider (the ``oidc_issuer`` session fixture) and a verifier.

The staff passwords and client secrets are the local realm's (deploy/keycloak/tuntas-realm.json):
demo values for the local stack only.
"""

from __future__ import annotations

import httpx
import pytest

from services.runtime.auth import TokenVerifier


def _token(issuer: str, form: dict[str, str], host: str | None = None) -> str:
    headers = {"Host": host} if host else {}
    response = httpx.post(
        f"{issuer}/protocol/openid-connect/token", data=form, headers=headers, timeout=30
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def staff_token(issuer: str, username: str, host: str | None = None) -> str:
    """A console user's access token (password grant; the demo password is the username)."""
    form = {
        "grant_type": "password",
        "client_id": "tuntas-console",
        "username": username,
        "password": username,
        "scope": "openid",
    }
    return _token(issuer, form, host)


def machine_token(issuer: str, client_id: str) -> str:
    """A service's or station's access token (client credentials)."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": f"local-only-{client_id}",
    }
    return _token(issuer, form)


@pytest.fixture(scope="session")
def verifier(oidc_issuer: str) -> TokenVerifier:
    return TokenVerifier(oidc_issuer, "tuntas-api", leeway_s=0)  # exact expiry checks
