"""Issue #23: ``biometrics.duplicate_confirmed`` (the applicant is already recorded under
another identity) ends the application at validation too, over real Kafka and PostgreSQL.

Before the fix validation never consumed it: the application stayed active, so every later
application for the same NIK was flagged ``other_active_application``, and the audit kept
no trace of why the approved file ended.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from schemas.envelope import Envelope
from schemas.events import BiometricsDuplicateConfirmed
from schemas.residents import RegistryPerson
from tests.validation.conftest import Service, accepted, import_registry
from tests.waiting import wait_for

Start = Callable[..., AbstractAsyncContextManager[Service]]
ADJUDICATOR = "adjudikator.dukcapil"


def confirmed(cause: Envelope, case_id: str = "DUP-2025-0001") -> Envelope:
    """What the biometric stage publishes once adjudication confirms the duplicate."""
    return cause.caused(BiometricsDuplicateConfirmed(case_id=case_id, officer_id=ADJUDICATOR))


async def audit_of(svc: Service, app_id: UUID, decisions: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        response = await svc.http.get(f"/items/{app_id}/audit")
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        return rows if len(rows) >= decisions else None

    found: list[dict[str, Any]] = await wait_for(probe, what=f"{decisions} audit rows")
    return found


async def test_confirmed_duplicate_closes_the_application(
    start_service: Start, adults: list[RegistryPerson]
) -> None:
    person = adults[0]
    async with start_service(auto_approve=True) as svc:
        await import_registry(svc, adults)
        first = accepted(person, tracking="TPH-TEST-0001")
        app_id = first.application_id
        await svc.produce(first)
        assert (await svc.item_of(app_id, 1))["findings"] == []
        await audit_of(svc, app_id, 1)  # auto-approved: application.validated

        duplicate = confirmed(first)
        await svc.produce(duplicate)
        audit = await audit_of(svc, app_id, 2)
        closure = audit[1]
        assert (closure["decision"], closure["staff_id"], closure["automatic"]) == (
            "duplicate_confirmed",
            ADJUDICATOR,
            False,
        )
        assert closure["event_message_id"] == str(duplicate.message_id)
        assert closure["reasons"][0]["code"] == "duplicate_confirmed"
        assert "DUP-2025-0001" in closure["note"]
        assert (
            await svc.sql(
                "SELECT state || ':' || active FROM applications WHERE application_id = $1", app_id
            )
            == "rejected:false"
        )
        # The section head's approval stays on the item, as it was decided.
        assert (await svc.item_of(app_id, 1))["status"] == "approved"

        # The NIK is no longer held by an active application: a new one is not flagged.
        again = accepted(person, tracking="TPH-TEST-0002")
        await svc.produce(again)
        assert (await svc.item_of(again.application_id, 1))["findings"] == []

        # A second confirmation (another message) adds nothing; a late revision makes no item.
        handled = svc.handled()[0]
        await svc.produce(
            confirmed(first, case_id="DUP-2025-0002"),
            accepted(person, application_id=app_id, revision=2, tracking="TPH-TEST-0001"),
        )
        await wait_for(lambda: svc.handled()[0] == handled + 2, what="both messages consumed")
        assert len(await audit_of(svc, app_id, 2)) == 2
        items = "SELECT count(*) FROM work_items WHERE application_id = $1"
        assert await svc.sql(items, app_id) == 1

        # The audit stays append-only with the closure in it.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await svc.sql("UPDATE decisions SET note = 'x' WHERE decision = 'duplicate_confirmed'")


async def test_confirmed_duplicate_leaves_no_item_in_the_queue(
    start_service: Start, adults: list[RegistryPerson]
) -> None:
    """Events crossed: the confirmation finds an item still waiting for the section head."""
    async with start_service() as svc:
        await import_registry(svc, adults)
        first = accepted(adults[1])
        app_id = first.application_id
        await svc.produce(first)
        assert (await svc.item_of(app_id, 1))["status"] == "pending"

        await svc.produce(confirmed(first))
        audit = await audit_of(svc, app_id, 1)
        assert [a["decision"] for a in audit] == ["duplicate_confirmed"]
        assert (await svc.item_of(app_id, 1))["status"] == "rejected"
        for status in ("pending", "all"):
            listed = [i for i in await svc.queue(status=status) if i["status"] == "pending"]
            assert listed == [], status
        response = await svc.http.post(f"/items/{app_id}/approve", json={"staff_id": "kasi.x"})
        assert response.status_code == 409, response.text
