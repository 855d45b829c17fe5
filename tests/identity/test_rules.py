"""Pure rules, no I/O: reading an identity from claims, who may see which kecamatan."""

from __future__ import annotations

import pytest

from services.runtime.auth import Identity, authenticated, identity_from_claims, may_see


def _person(roles: set[str], kecamatan: str | None) -> Identity:
    return Identity("sub-1", "someone", frozenset(roles), kecamatan, is_machine=False)


def test_staff_sees_only_their_own_kecamatan() -> None:
    camat = _person({"camat"}, "350805")
    assert may_see(camat, "350805")
    assert not may_see(camat, "350804")


def test_district_admin_sees_every_kecamatan() -> None:
    admin = _person({"district_admin"}, None)
    assert may_see(admin, "350805") and may_see(admin, "350804")


def test_no_kecamatan_and_no_admin_role_sees_nothing() -> None:
    service = Identity("sub-2", "service-account-svc-intake", frozenset(), None, is_machine=True)
    assert not may_see(service, "350805")
    assert not may_see(_person({"kasi"}, None), "")


def test_claims_keep_only_tuntas_roles() -> None:
    identity = identity_from_claims(
        {
            "sub": "u-1",
            "preferred_username": "operator.kunir",
            "realm_access": {"roles": ["operator", "offline_access", "uma_authorization", 7]},
            "kecamatan": "350806",
        }
    )
    assert identity == Identity("u-1", "operator.kunir", frozenset({"operator"}), "350806", False)


def test_machine_claims_and_odd_values() -> None:
    identity = identity_from_claims(
        {"sub": "s-1", "client_id": "station-350805", "realm_access": "oops", "kecamatan": 350805}
    )
    assert identity == Identity("s-1", "s-1", frozenset(), None, is_machine=True)


def test_unknown_role_in_a_dependency_fails_at_wiring() -> None:
    with pytest.raises(ValueError, match="kepala"):
        authenticated(object(), "kepala")  # type: ignore[arg-type]
