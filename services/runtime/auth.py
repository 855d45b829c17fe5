"""Who is calling: an OIDC access token from the district's identity provider, verified.

The token must be signed (RS256 only) by a key of the issuer's JWKS, be issued by the configured
issuer, for the configured audience (``tuntas-api``), and not be expired. Keycloak serves the
local stack; a district may point ``TUNTAS_OIDC_ISSUER`` at its own IdP (docs/identity.md).

PyJWT does the verification: small, typed (ships ``py.typed``), the most used JWT library in
Python, and its ``PyJWKClient`` caches the JWKS and refetches it when a token names an unknown
``kid`` (key rotation), at most once per cooldown so random ``kid``s cannot flood the IdP.
joserfc would do as well but is less used; authlib is a far larger, untyped OAuth toolkit.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, TypeVar

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

DISTRICT_ADMIN = "district_admin"
ROLES = frozenset({"desk", "kasi", "operator", "card_operator", "caller", "camat", DISTRICT_ADMIN})
ALGORITHMS = ["RS256"]


class OidcSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUNTAS_OIDC_", frozen=True, extra="ignore")

    issuer: str
    audience: str = "tuntas-api"
    jwks_url: str | None = None  # default: the issuer's discovery document says where
    # Where this process reads the discovery document (default: under the issuer). In a cluster
    # the issuer is the IdP's public https address, which the pods' network policies do not
    # reach; the IdP's in-cluster address answers with in-cluster token and JWKS URLs
    # (Keycloak: hostname-backchannel-dynamic), while the tokens still name the public issuer.
    discovery_url: str | None = None
    # Clock skew tolerated between the IdP and this host when checking exp/iat. The demo runs
    # notification under a clock moved days ahead (simulators/clock.py) and widens it to match.
    leeway_s: float = Field(default=30.0, ge=0.0)

    def discovery(self) -> str:
        return self.discovery_url or discovery_of(self.issuer)


def discovery_of(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


@dataclass(frozen=True)
class Identity:
    subject: str
    username: str
    roles: frozenset[str]  # only Tuntas's roles; the IdP's own ones are dropped
    kecamatan: str | None  # the office this identity belongs to; None for district-wide
    is_machine: bool  # a service or card station (client credentials), not a person


class InvalidToken(Exception):
    """The token is missing a claim, forged, expired, or not meant for Tuntas."""


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    """Read an identity from verified claims (Keycloak's shape: ``realm_access.roles``)."""
    realm_access = claims.get("realm_access")
    granted = realm_access.get("roles", []) if isinstance(realm_access, Mapping) else []
    kecamatan = claims.get("kecamatan")
    subject = str(claims["sub"])
    return Identity(
        subject=subject,
        username=str(claims.get("preferred_username") or subject),
        roles=ROLES.intersection(r for r in granted if isinstance(r, str)),
        kecamatan=kecamatan if isinstance(kecamatan, str) and kecamatan else None,
        # Keycloak puts ``client_id`` in service-account (client credentials) tokens only.
        is_machine="client_id" in claims,
    )


def may_see(identity: Identity, kecamatan: str) -> bool:
    """Whether ``identity`` may see a kecamatan's data: its own office's; all for district admin."""
    if DISTRICT_ADMIN in identity.roles:
        return True
    return identity.kecamatan is not None and identity.kecamatan == kecamatan


class TokenVerifier:
    """Verifies access tokens against one issuer; the JWKS is fetched on first use, then cached."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        leeway_s: float = 30.0,
        discovery_url: str | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.leeway_s = leeway_s
        self._jwks_url = jwks_url
        self._discovery_url = discovery_url or discovery_of(self.issuer)

    @classmethod
    def from_settings(cls, settings: OidcSettings) -> TokenVerifier:
        return cls(
            settings.issuer,
            settings.audience,
            settings.jwks_url,
            settings.leeway_s,
            settings.discovery(),
        )

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self._jwks_url or self._discover_jwks_url(), timeout=5)

    def _discover_jwks_url(self) -> str:
        with urllib.request.urlopen(self._discovery_url, timeout=5) as response:
            return str(json.load(response)["jwks_uri"])

    def verify(self, token: str) -> Identity:
        """The caller's identity, or ``InvalidToken``. Blocking on a JWKS (re)fetch."""
        try:
            if jwt.get_unverified_header(token).get("alg") not in ALGORITHMS:
                raise InvalidToken("algorithm not allowed")
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from error
        return identity_from_claims(claims)


_bearer = HTTPBearer(auto_error=False)


def _unauthenticated() -> HTTPException:
    # The same answer whatever was wrong: the reason is logged, never told to the caller.
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, "not authenticated", headers={"WWW-Authenticate": "Bearer"}
    )


def authenticated(verifier: TokenVerifier, *roles: str) -> Callable[..., Identity]:
    """A FastAPI dependency: the caller's ``Identity``; 401 without a valid token, 403 when
    ``roles`` are given and the caller has none of them."""
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    allowed = frozenset(roles)

    # Synchronous on purpose: FastAPI runs it in a thread, so a JWKS fetch blocks no event loop.
    def dependency(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Identity:
        if credentials is None:
            raise _unauthenticated()
        try:
            identity = verifier.verify(credentials.credentials)
        except InvalidToken as error:
            log.info("token refused: %s", error)
            raise _unauthenticated() from None
        if allowed and not allowed & identity.roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for this role")
        return identity

    return dependency


def _station_only(identity: Identity) -> Identity:
    if not identity.is_machine or identity.kecamatan is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "for card stations only")
    return identity


class MissingIdentityProvider(RuntimeError):
    """The staff routes cannot be served without ``TUNTAS_OIDC_ISSUER``."""


def oidc_settings() -> OidcSettings:
    """The identity provider's settings from the environment; a one-line error without it."""
    try:
        return OidcSettings()  # the issuer comes from the environment
    except ValidationError:
        raise MissingIdentityProvider(
            "TUNTAS_OIDC_ISSUER is not set: the APIs verify tokens from the identity provider"
            " (`tuntas stack env` prints it; docs/identity.md)"
        ) from None


class Access:
    """Who may call an app's routes: every staff route takes a ``Depends`` from here.

    A ``district_admin`` passes every staff route (it administers every kecamatan); whether it
    then sees a kecamatan's data is :func:`may_see`'s answer, as for everyone."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    @classmethod
    def from_env(cls) -> Access:
        return cls(TokenVerifier.from_settings(oidc_settings()))

    def staff(self, *roles: str) -> Any:
        """A route for these roles (and the district admin); office staff must have an office."""
        holder = authenticated(self.verifier, *roles, DISTRICT_ADMIN)

        def dependency(request: Request, identity: Identity = Depends(holder)) -> Identity:  # noqa: B008
            if identity.kecamatan is None and DISTRICT_ADMIN not in identity.roles:
                raise HTTPException(status.HTTP_403_FORBIDDEN, "no kecamatan in the token")
            # For an exception handler: a request whose body failed to parse still has a caller.
            request.state.identity = identity
            return identity

        return Depends(dependency)

    def station(self) -> Any:
        """A route for card stations: a machine token bound to a kecamatan."""
        anyone = authenticated(self.verifier)

        def dependency(identity: Identity = Depends(anyone)) -> Identity:  # noqa: B008
            return _station_only(identity)

        return Depends(dependency)


def own_office(identity: Identity, kecamatan: str | None) -> str | None:
    """The kecamatan a list route may show: the one asked for, if the caller may see it (else
    403); none asked for: the caller's own (``None``, every kecamatan, for a district admin)."""
    if kecamatan is None:
        return identity.kecamatan
    if not may_see(identity, kecamatan):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for this kecamatan")
    return kecamatan


Body = TypeVar("Body", bound=BaseModel)


def signed_by(body: Body, identity: Identity, field: str = "officer_id") -> Body:
    """The request body with its officer set to the caller: events and audit rows name the
    token's user, whatever the body said."""
    return body.model_copy(update={field: identity.username})


def token_officer() -> Any:
    """A request body's officer field, kept so older clients still parse: ignored, the officer
    is the caller (:func:`signed_by`)."""
    return Field(default="", description="Ignored: the officer is the caller of the token")
