"""Access tokens from the real Keycloak: the right ones verify to the right identity, every
wrong one (audience, signature, issuer, expiry) is refused."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from services.runtime.auth import Identity, InvalidToken, TokenVerifier
from services.runtime.oidc_client import OidcLogin
from tests.identity.conftest import machine_token, staff_token
from tests.waiting import wait_for


def test_staff_token_carries_role_and_office(oidc_issuer: str, verifier: TokenVerifier) -> None:
    identity = verifier.verify(staff_token(oidc_issuer, "kasi.tempeh"))
    assert identity.username == "kasi.tempeh"
    assert identity.roles == {"kasi"}
    assert identity.kecamatan == "350805"
    assert not identity.is_machine


def test_each_office_has_its_own_staff(oidc_issuer: str, verifier: TokenVerifier) -> None:
    pasirian = verifier.verify(staff_token(oidc_issuer, "card.pasirian"))
    assert (pasirian.roles, pasirian.kecamatan) == ({"card_operator"}, "350804")
    admin = verifier.verify(staff_token(oidc_issuer, "admin.kabupaten"))
    assert (admin.roles, admin.kecamatan) == ({"district_admin"}, None)


def test_station_token_is_a_machine_of_its_kecamatan(
    oidc_issuer: str, verifier: TokenVerifier
) -> None:
    identity = verifier.verify(machine_token(oidc_issuer, "station-350806"))
    assert identity.is_machine
    assert identity.kecamatan == "350806"
    assert identity.roles == frozenset()


def test_service_token_is_a_machine_of_no_office(oidc_issuer: str, verifier: TokenVerifier) -> None:
    identity = verifier.verify(machine_token(oidc_issuer, "svc-intake"))
    assert (identity.is_machine, identity.kecamatan) == (True, None)


def _refused_because(verifier: TokenVerifier, token: str) -> type[BaseException] | None:
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(token)
    cause = refused.value.__cause__
    return type(cause) if cause else None


def test_token_for_another_audience_is_refused(oidc_issuer: str, verifier: TokenVerifier) -> None:
    token = machine_token(oidc_issuer, "test-other-audience")
    assert _refused_because(verifier, token) is jwt.InvalidAudienceError


def test_token_with_a_changed_signature_byte_is_refused(
    oidc_issuer: str, verifier: TokenVerifier
) -> None:
    header, payload, signature = staff_token(oidc_issuer, "desk.tempeh").split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert _refused_because(verifier, f"{header}.{payload}.{forged}") is (jwt.InvalidSignatureError)


def test_token_from_another_issuer_is_refused(oidc_issuer: str, verifier: TokenVerifier) -> None:
    # Keycloak names itself after the Host it is asked by: the same realm and signing key,
    # another issuer. Only the issuer check can refuse this token.
    other_host = f"tuntas-elsewhere.example:{urlsplit(oidc_issuer).port or 80}"
    token = staff_token(oidc_issuer, "desk.tempeh", host=other_host)
    assert jwt.decode(token, options={"verify_signature": False})["iss"] != oidc_issuer
    assert _refused_because(verifier, token) is jwt.InvalidIssuerError


async def test_expired_token_is_refused(oidc_issuer: str, verifier: TokenVerifier) -> None:
    # The realm's test-short-lived client issues tokens that live 5 s.
    token = machine_token(oidc_issuer, "test-short-lived")
    assert isinstance(verifier.verify(token), Identity)

    def expired() -> bool:
        try:
            verifier.verify(token)
        except InvalidToken as refused:
            return isinstance(refused.__cause__, jwt.ExpiredSignatureError)
        return False

    await wait_for(expired, timeout=30, what="the short-lived token to expire")
    # A host whose clock runs ahead of the IdP's (the demo's moved clock) tolerates it by leeway.
    lenient = TokenVerifier(oidc_issuer, "tuntas-api", leeway_s=3600)
    assert isinstance(lenient.verify(token), Identity)


def test_verifier_for_another_audience_refuses_tuntas_tokens(oidc_issuer: str) -> None:
    token = staff_token(oidc_issuer, "desk.tempeh")
    other = TokenVerifier(oidc_issuer, "another-api")
    assert _refused_because(other, token) is jwt.InvalidAudienceError


def test_keys_and_token_endpoint_are_found_at_the_discovery_url(oidc_issuer: str) -> None:
    # In a cluster the issuer is a public address the pods cannot reach; the discovery URL is
    # where they look up the JWKS and the token endpoint instead (OidcSettings.discovery).
    discovery = f"{oidc_issuer}/.well-known/openid-configuration"
    nowhere = "http://127.0.0.1:9/realms/tuntas/.well-known/openid-configuration"
    token = staff_token(oidc_issuer, "desk.tempeh")

    found = TokenVerifier(oidc_issuer, "tuntas-api", discovery_url=discovery)
    assert found.verify(token).username == "desk.tempeh"
    lost = TokenVerifier(oidc_issuer, "tuntas-api", discovery_url=nowhere)
    with pytest.raises(OSError):
        lost.verify(token)

    unreachable_issuer = "http://127.0.0.1:9/realms/tuntas"
    login = OidcLogin.client_credentials(
        unreachable_issuer, "svc-abis", "local-only-svc-abis", discovery_url=discovery
    )

    async def fetch() -> str:
        async with httpx.AsyncClient(auth=login) as client:
            answer = await client.get(discovery)  # any URL: the login happens first
            return str(answer.request.headers["Authorization"])

    header = asyncio.run(fetch())
    assert found.verify(header.removeprefix("Bearer ")).username == "service-account-svc-abis"
