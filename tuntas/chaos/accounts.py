"""Staff and card station accounts for every office of a chaos day in the local Keycloak.

The realm file has staff and stations for the demo's three offices only; a day at five
kecamatan needs the same accounts at the other two. The staff are copied from Tempeh's (role,
``kecamatan`` attribute, demo password = username, :mod:`tuntas.staff`) through the dev
server's admin API (the local bootstrap admin: local stack only), the stations by
:mod:`tuntas.stack.station_clients`.
"""

from __future__ import annotations

from tuntas import staff
from tuntas.bench import TEMPEH
from tuntas.stack import station_clients
from tuntas.stack.keycloak import REALM

ROLES = ("desk", "kasi", "operator", "card_operator", "caller", "camat")


def ensure(issuer: str, kecamatan: tuple[str, ...]) -> list[str]:
    """Create the missing staff users and station clients; returns the users created."""
    station_clients.ensure(issuer, kecamatan)
    created = []
    with station_clients.admin_client(issuer) as http:
        users = f"/admin/realms/{REALM}/users"
        for role in ROLES:
            template = staff.username(role, TEMPEH)
            found = http.get(users, params={"username": template, "exact": "true"}).json()
            realm_role = http.get(f"{users}/{found[0]['id']}/role-mappings/realm").json()
            for code in kecamatan:
                name = staff.username(role, code)
                if http.get(users, params={"username": name, "exact": "true"}).json():
                    continue
                http.post(
                    users,
                    json={
                        "username": name,
                        "enabled": True,
                        "emailVerified": True,
                        "firstName": found[0].get("firstName", role),
                        "lastName": name.split(".", 1)[1].title(),
                        "email": f"{name}@tuntas.local",
                        "attributes": {"kecamatan": [code]},
                        "credentials": [{"type": "password", "value": name, "temporary": False}],
                    },
                ).raise_for_status()
                user = http.get(users, params={"username": name, "exact": "true"}).json()[0]
                roles = [r for r in realm_role if r["name"] not in ("offline_access",)]
                http.post(
                    f"{users}/{user['id']}/role-mappings/realm", json=roles
                ).raise_for_status()
                created.append(name)
    return created
