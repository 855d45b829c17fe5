"""A request retried below the login (the demo's patient staff riding through a stage's
restart) can outlive more than one access token: each 401 for a token that went stale
meanwhile gets a fresh login; a 401 for a token still fresh is final. The identity provider
and the API here are an in-process stand-in (the real Keycloak's tokens: test_tokens.py)."""

from __future__ import annotations

import itertools

import httpx
import pytest

from services.runtime.oidc_client import MAX_LOGINS, OidcLogin
from tuntas.demo.autopilot import Journal, PatientTransport

ISSUER = "http://idp.test/realms/tuntas"
LIFESPAN_S = 300.0
RESTART_S = 200.0  # each 503 of the restarting stage: this much later on the test's clock


class Stage:
    """Discovery, a token endpoint issuing ``LIFESPAN_S`` tokens, and an API that answers 503
    ``restarts[i]`` times in a row before the i-th token's turn, and 401 to expired tokens."""

    def __init__(self, *restarts: int, refuse_all: bool = False) -> None:
        self.now = 0.0
        self.issued: dict[str, float] = {}
        self.logins = 0
        self._restarts = list(restarts)
        self._refuse_all = refuse_all
        self._numbers = itertools.count(1)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"token_endpoint": f"{ISSUER}/token"})
        if request.url.path.endswith("/token"):
            self.logins += 1
            token = f"t{next(self._numbers)}"
            self.issued[token] = self.now
            return httpx.Response(200, json={"access_token": token, "expires_in": LIFESPAN_S})
        token = request.headers["Authorization"].removeprefix("Bearer ")
        turn = len(self.issued) - 1
        if turn < len(self._restarts) and self._restarts[turn] > 0:
            self._restarts[turn] -= 1
            self.now += RESTART_S
            return httpx.Response(503, headers={"Retry-After": "1"})
        if self._refuse_all or self.now - self.issued[token] >= LIFESPAN_S:
            return httpx.Response(401, json={"detail": "not authenticated"})
        return httpx.Response(200, json={"ok": token})


async def _get(stage: Stage) -> httpx.Response:
    login = OidcLogin.password(ISSUER, "petugas.tempeh.02", "x", clock=lambda: stage.now)
    patient = PatientTransport(
        Journal(), httpx.MockTransport(stage.handle), give_up_s=10_000, backoff_max_s=0.01
    )
    async with httpx.AsyncClient(transport=patient, auth=login) as client:
        return await client.post("http://station.test/cards/x/activate", json={})


async def test_a_request_outliving_two_tokens_logs_in_again_each_time() -> None:
    # The station restarts for 600 s with the first token (stale: 401, log in again), then
    # for 400 s with the second, which goes stale too: the small chaos day's lost activation.
    stage = Stage(3, 2)
    answer = await _get(stage)
    assert answer.status_code == 200
    assert answer.json() == {"ok": "t3"}
    assert stage.logins == 3


async def test_a_fresh_token_refused_is_final_after_one_more_login() -> None:
    stage = Stage(refuse_all=True)
    answer = await _get(stage)
    assert answer.status_code == 401
    assert stage.logins == 2  # the first, and one more in case the keys were rotated


@pytest.mark.parametrize("restarts", [MAX_LOGINS + 2])
async def test_logins_per_request_are_bounded(restarts: int) -> None:
    stage = Stage(*([3] * restarts))  # every token goes stale before its turn comes
    answer = await _get(stage)
    assert answer.status_code == 401
    assert stage.logins == MAX_LOGINS + 1
