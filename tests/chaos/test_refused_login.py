"""The demo's staff ride through a refused login (found by the chaos day: Keycloak's
brute-force guard briefly disabled ``operator.tempeh``, logged in by several clients at once,
and the whole day aborted with ``LoginRefused``): they log in again after a while."""

from __future__ import annotations

import asyncio
import uuid

from tuntas.demo.autopilot import Journal, staff_client
from tuntas.stack import station_clients
from tuntas.stack.keycloak import REALM


def _set_enabled(issuer: str, user_id: str, enabled: bool) -> None:
    with station_clients.admin_client(issuer) as http:
        path = f"/admin/realms/{REALM}/users/{user_id}"
        http.put(path, json={"enabled": enabled}).raise_for_status()


async def test_a_refused_login_is_tried_again(oidc_env: str) -> None:
    name = f"chaos.login.{uuid.uuid4().hex[:8]}"
    with station_clients.admin_client(oidc_env) as http:
        users = f"/admin/realms/{REALM}/users"
        credential = {"type": "password", "value": name, "temporary": False}
        account = {"username": name, "enabled": False, "credentials": [credential]}
        account |= {"email": f"{name}@tuntas.local", "emailVerified": True}
        account |= {"firstName": "Chaos", "lastName": "Login"}  # else "not fully set up"
        http.post(users, json=account).raise_for_status()
        user_id = http.get(users, params={"username": name, "exact": "true"}).json()[0]["id"]
    try:

        async def enabled_later() -> None:  # refused until then
            await asyncio.sleep(3.0)
            await asyncio.to_thread(_set_enabled, oidc_env, user_id, True)

        enabling = asyncio.ensure_future(enabled_later())
        anything = f"{oidc_env}/.well-known/openid-configuration"
        async with staff_client(Journal(), oidc_env) as client:
            answer = await client.get(anything, extensions={"staff": name})
        await enabling
        assert answer.status_code == 200, answer.text
        assert answer.request.headers["Authorization"].startswith("Bearer ")  # logged in
    finally:
        with station_clients.admin_client(oidc_env) as http:
            http.delete(f"/admin/realms/{REALM}/users/{user_id}")
