"""The demo staff the autopilot and the bench log in as (the local realm's users, whose demo
password is their username: local stack only, docs/identity.md)."""

from __future__ import annotations

from schemas.regions import lumajang
from schemas.values import RegionLevel
from services.runtime.oidc_client import OidcLogin

DISTRICT_ADMIN = "admin.kabupaten"


def username(role: str, kecamatan: str) -> str:
    """``kasi`` at 350805 → ``kasi.tempeh`` (card operators are ``card.<office>``)."""
    region = lumajang().get(kecamatan, RegionLevel.KECAMATAN)
    office = region.name.lower().replace(" ", "") if region else kecamatan
    return f"{'card' if role == 'card_operator' else role}.{office}"


def login(issuer: str, user: str) -> OidcLogin:
    """An ``httpx.Auth`` that logs ``user`` in (password grant on the console client)."""
    return OidcLogin.password(issuer, user, user)
