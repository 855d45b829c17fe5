"""The FastAPI dependency against real tokens: 401 without a valid one, 403 for a wrong role."""

# No `from __future__ import annotations`: FastAPI must resolve the routes' `Depends(...)` on
# local names.
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from services.runtime.auth import Identity, TokenVerifier, authenticated
from tests.identity.conftest import staff_token


def _app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    kasi_only = authenticated(verifier, "kasi", "district_admin")
    anyone = authenticated(verifier)

    @app.get("/referrals")
    def referrals(identity: Annotated[Identity, Depends(kasi_only)]) -> dict[str, str | None]:
        return {"username": identity.username, "kecamatan": identity.kecamatan}

    @app.get("/me")
    def me(identity: Annotated[Identity, Depends(anyone)]) -> dict[str, str]:
        return {"username": identity.username}

    return app


def test_no_token_is_401_with_bearer_challenge(verifier: TokenVerifier) -> None:
    response = TestClient(_app(verifier)).get("/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_invalid_token_is_401_saying_nothing_more(
    oidc_issuer: str, verifier: TokenVerifier
) -> None:
    token = staff_token(oidc_issuer, "desk.tempeh")
    response = TestClient(_app(verifier)).get(
        "/me", headers={"Authorization": f"Bearer {token[:-4]}AAAA"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_role_is_403(oidc_issuer: str, verifier: TokenVerifier) -> None:
    token = staff_token(oidc_issuer, "desk.tempeh")
    client = TestClient(_app(verifier))
    assert client.get("/referrals", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_right_role_is_200_with_the_identity(oidc_issuer: str, verifier: TokenVerifier) -> None:
    client = TestClient(_app(verifier))
    kasi = staff_token(oidc_issuer, "kasi.kunir")
    response = client.get("/referrals", headers={"Authorization": f"Bearer {kasi}"})
    assert response.status_code == 200
    assert response.json() == {"username": "kasi.kunir", "kecamatan": "350806"}
    admin = staff_token(oidc_issuer, "admin.kabupaten")
    response = client.get("/referrals", headers={"Authorization": f"Bearer {admin}"})
    assert response.json() == {"username": "admin.kabupaten", "kecamatan": None}
