"""The pods reach the identity provider inside the cluster: their discovery document comes from
the chart's Keycloak Service (the network policies let them into its pods, and Keycloak answers
with in-cluster token and JWKS URLs), while the issuer they check in tokens stays the public
https address; an outside IdP is read under its own issuer."""

from __future__ import annotations

from typing import Any

import pytest

from services.runtime.auth import OidcSettings

pytestmark = pytest.mark.timeout(900)
PODS = ("intake", "validation", "biometric", "abis", "notification", "service-quality", "console")


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def _oidc(deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> OidcSettings:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for e in container["env"]:
        if e["name"].startswith("TUNTAS_OIDC_"):
            monkeypatch.setenv(e["name"], e["value"])
    return OidcSettings()


def test_pods_read_the_discovery_document_from_the_idp_service(
    render: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render()
    idp = _one(docs, "Deployment", "tuntas-idp")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in idp["env"]}
    assert env["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"] == "true"
    service = _one(docs, "Service", "tuntas-idp")["spec"]
    (port,) = service["ports"]
    assert port["port"] == 80  # the discovery URL names no port
    for name in PODS:
        oidc = _oidc(_one(docs, "Deployment", name), monkeypatch)
        assert oidc.issuer == "https://sso.tuntas.example.go.id/realms/tuntas", name
        assert oidc.discovery() == (
            "http://tuntas-idp/realms/tuntas/.well-known/openid-configuration"
        ), name
        egress = [
            (to["podSelector"]["matchLabels"].get("app.kubernetes.io/name"), rule.get("ports"))
            for rule in _one(docs, "NetworkPolicy", name)["spec"]["egress"]
            for to in rule.get("to", [])
            if "podSelector" in to
        ]
        assert ("idp", [{"port": 8080, "protocol": "TCP"}]) in egress, name


def test_an_outside_idp_is_read_under_its_issuer(
    render: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = "https://login.lumajangkab.go.id/realms/pegawai"
    docs = render(f"oidc.issuer={issuer}")
    oidc = _oidc(_one(docs, "Deployment", "intake"), monkeypatch)
    assert (oidc.issuer, oidc.discovery()) == (
        issuer,
        f"{issuer}/.well-known/openid-configuration",
    )
