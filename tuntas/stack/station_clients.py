"""Card station clients in the local Keycloak for every kecamatan a run serves.

The realm file has stations for the demo's three offices; a bench over 5 or 21 kecamatan needs
one machine client per station, bound to its kecamatan like those. They are copied from
``station-350805`` through the dev server's admin API (the local bootstrap admin, loopback only).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import httpx

from tuntas.stack.keycloak import LOCAL_ADMIN, REALM

TEMPLATE = "station-350805"


def station_secret(kecamatan: str) -> str:
    """The local realm's secret of a station client (local stack only, like the realm file's)."""
    return f"local-only-station-{kecamatan}"


def _copy(template: dict[str, Any], kecamatan: str) -> dict[str, Any]:
    client = copy.deepcopy(template)
    for key in ("id", "serviceAccountsEnabled"):
        client.pop(key, None)
    client.update(
        clientId=f"station-{kecamatan}",
        secret=station_secret(kecamatan),
        serviceAccountsEnabled=True,
    )
    for mapper in client.get("protocolMappers", []):
        mapper.pop("id", None)
        if mapper.get("config", {}).get("claim.value") == "350805":
            mapper["config"]["claim.value"] = kecamatan
    return client


@contextlib.contextmanager
def admin_client(issuer: str) -> Iterator[httpx.Client]:
    """An HTTP client on the dev server's admin API, logged in as the local bootstrap admin."""
    base = issuer.split("/realms/", maxsplit=1)[0]
    with httpx.Client(base_url=base, timeout=30) as http:
        login = http.post(
            "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": LOCAL_ADMIN,
                "password": LOCAL_ADMIN,
            },
        )
        login.raise_for_status()
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield http


def ensure(issuer: str, kecamatan: tuple[str, ...]) -> list[str]:
    """Create the missing ``station-<kecamatan>`` clients; returns the ones created."""
    with admin_client(issuer) as http:
        clients = f"/admin/realms/{REALM}/clients"
        existing = {c["clientId"]: c for c in http.get(clients).raise_for_status().json()}
        created = []
        for code in kecamatan:
            if f"station-{code}" not in existing:
                http.post(clients, json=_copy(existing[TEMPLATE], code)).raise_for_status()
                created.append(code)
        return created
