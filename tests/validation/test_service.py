"""The validation service end to end over real Kafka, PostgreSQL and HTTP.

Intake has no runnable service yet, so these tests produce intake's ``application.accepted``
events to intake's topic themselves, as intake would.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from uuid import uuid4

import asyncpg
import pytest

from schemas.events import ApplicationSentBack, ApplicationValidated
from schemas.residents import RegistryPerson
from tests.kit.tokens import as_staff
from tests.validation.conftest import EventReader, Service, accepted, import_registry
from tests.waiting import wait_for

Start = Callable[..., AbstractAsyncContextManager[Service]]
KASI = "kasi.tempeh"


async def test_send_back_loop_round_trip(
    start_service: Start, adults: list[RegistryPerson]
) -> None:
    person = adults[0]
    async with start_service() as svc:
        await import_registry(svc, adults)
        reader = EventReader(svc.bootstrap, svc.topics.validation_events)
        await reader.start()
        try:
            # Revision 1: the desk typed the name wrong.
            first = accepted(person, name="Salah Ketik")
            app_id = first.application_id
            await svc.produce(first)
            item = await svc.item_of(app_id, 1)
            assert item["status"] == "pending"
            assert [f["code"] for f in item["findings"]] == ["registry_name_mismatch"]
            assert item["findings"][0]["message_id"] and item["findings"][0]["message_en"]

            response = await svc.http.post(
                f"/items/{app_id}/send-back",
                json={
                    "staff_id": KASI,
                    "revision": 1,
                    "reasons": [
                        {
                            "code": "name_mismatch",
                            "field": "applicant.name",
                            "note": "Nama tidak sesuai dengan KK",
                        },
                    ],
                },
            )
            assert response.status_code == 200, response.text
            assert response.json()["decision"] == "sent_back"

            sent_back = await reader.wait(
                lambda e: e.type == "application.sent_back" and e.application_id == app_id,
                "application.sent_back on Kafka",
            )
            assert isinstance(sent_back.payload, ApplicationSentBack)
            assert sent_back.payload.revision == 1
            assert sent_back.payload.officer_id == KASI
            assert sent_back.payload.reasons[0].path == "applicant.name"
            assert sent_back.causation_id == first.message_id

            # The corrected file comes back from the desk as revision 2.
            second = accepted(
                person, application_id=app_id, revision=2, causation_id=sent_back.message_id
            )
            await svc.produce(second)
            item2 = await svc.item_of(app_id, 2)
            assert item2["status"] == "pending"
            assert item2["findings"] == []
            pending = [i for i in await svc.queue() if i["application_id"] == str(app_id)]
            assert [i["revision"] for i in pending] == [2]

            response = await svc.http.post(
                f"/items/{app_id}/approve", json={"staff_id": KASI, "revision": 2}
            )
            assert response.status_code == 200, response.text
            validated = await reader.wait(
                lambda e: e.type == "application.validated" and e.application_id == app_id,
                "application.validated on Kafka",
            )
            payload = validated.payload
            assert isinstance(payload, ApplicationValidated)
            assert payload.revision == 2
            assert payload.officer_id == KASI
            assert payload.application_type.value == "new"
            assert payload.applicant.nik == person.nik
            assert payload.applicant.card_face().name == person.name
            assert validated.causation_id == second.message_id
            assert validated.kecamatan == "350805"

            audit = (await svc.http.get(f"/items/{app_id}/audit")).json()
            assert [
                (a["revision"], a["decision"], a["staff_id"], a["automatic"]) for a in audit
            ] == [(1, "sent_back", KASI, False), (2, "approved", KASI, False)]
            assert audit[0]["findings"][0]["code"] == "registry_name_mismatch"
            assert audit[0]["reasons"][0]["code"] == "name_mismatch"
            assert audit[1]["event_message_id"] == str(validated.message_id)
            assert len([e for e in await reader.settle() if e.application_id == app_id]) == 2
        finally:
            await reader.stop()


async def test_duplicate_accepted_yields_one_work_item(
    start_service: Start, adults: list[RegistryPerson]
) -> None:
    async with start_service() as svc:
        await import_registry(svc, adults)
        event = accepted(adults[1])
        # Redelivered (same message id) and re-sent (a new message id, same revision).
        resent = event.model_copy(update={"message_id": uuid4()})
        await svc.produce(event, event, resent)
        await wait_for(lambda: svc.handled() == (2, 1), what="three messages consumed")
        items = (await svc.http.get(f"/items/{event.application_id}")).json()
        assert [(i["revision"], i["status"]) for i in items] == [(1, "pending")]
        assert await svc.sql("SELECT count(*) FROM work_items") == 1


async def test_decision_on_decided_item_is_refused(
    start_service: Start, adults: list[RegistryPerson]
) -> None:
    async with start_service() as svc:
        await import_registry(svc, adults)
        event = accepted(adults[2])
        app_id = event.application_id
        await svc.produce(event)
        await svc.item_of(app_id, 1)

        missing = await svc.http.post(f"/items/{uuid4()}/approve", json={"staff_id": KASI})
        assert missing.status_code == 404
        bad = await svc.http.post(f"/items/{app_id}/reject", json={"staff_id": KASI})
        assert bad.status_code == 422
        assert any(e["loc"][-1] == "reason_code" for e in bad.json()["detail"])
        nothing = await svc.http.post(f"/items/{app_id}/send-back", json={"staff_id": KASI})
        assert nothing.status_code == 422  # no findings and no reasons: nothing to correct
        assert nothing.json()["detail"][0]["loc"] == ["body", "reasons"]
        stale = await svc.http.post(
            f"/items/{app_id}/approve", json={"staff_id": KASI, "revision": 3}
        )
        assert stale.status_code == 409
        assert "not the latest" in stale.json()["detail"]["message"]

        first = await svc.http.post(
            f"/items/{app_id}/reject",
            json={
                "staff_id": KASI,
                "reason_code": "forged_document",
                "reason": "Fotokopi KK tidak sah",
            },
        )
        assert first.status_code == 200, first.text
        for path, body in (
            ("approve", {"staff_id": "kasi.lain"}),
            (
                "send-back",
                {"staff_id": "kasi.lain", "reasons": [{"code": "x", "note": "perbaiki"}]},
            ),
            ("reject", {"staff_id": "kasi.lain", "reason_code": "x", "reason": "tidak"}),
        ):
            again = await svc.http.post(f"/items/{app_id}/{path}", json=body)
            assert again.status_code == 409, again.text
            detail = again.json()["detail"]
            assert detail["error"] == "already_decided"
            assert detail["status"] == "rejected"
            assert detail["decided_by"] == KASI
            assert "already rejected by kasi.tempeh" in detail["message"]
        assert await svc.sql("SELECT count(*) FROM decisions") == 1
        assert await svc.sql("SELECT count(*) FROM outbox") == 1

        # The audit is append-only, whatever the code path.
        async with svc.runtime.pool.acquire() as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute("UPDATE decisions SET staff_id = 'someone.else'")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute("DELETE FROM decisions")


async def test_findings_in_the_queue_and_another_active_application(
    start_service: Start, adults: list[RegistryPerson]
) -> None:
    async with start_service() as svc:
        await import_registry(svc, adults[:3])
        person = adults[3]  # not in the imported registry
        first = accepted(person, tracking="TPH-TEST-0011")
        second = accepted(person, tracking="TPH-TEST-0012")
        await svc.produce(first)
        await svc.item_of(first.application_id, 1)
        await svc.produce(second)
        item = await svc.item_of(second.application_id, 1)
        assert [f["code"] for f in item["findings"]] == [
            "not_in_registry",
            "other_active_application",
        ]
        assert "TPH-TEST-0011" in item["findings"][1]["message_en"]
        # Another kecamatan's queue is not Tempeh's section head's to see (403, nothing in it);
        # the district admin sees it, without Tempeh's items; a bad code is a 422.
        other = await svc.http.get("/queue", params={"kecamatan": "350806"})
        assert other.status_code == 403 and "TPH-TEST" not in other.text
        admin = as_staff("admin.kabupaten")
        kunir = await svc.http.get("/queue", params={"kecamatan": "350806"}, headers=admin)
        assert kunir.status_code == 200 and kunir.json() == []
        bad = await svc.http.get("/queue", params={"kecamatan": "35080"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["query", "kecamatan"]
        # Sending back with the findings themselves as reasons.
        response = await svc.http.post(
            f"/items/{second.application_id}/send-back", json={"staff_id": KASI}
        )
        assert response.status_code == 200, response.text
        audit = (await svc.http.get(f"/items/{second.application_id}/audit")).json()
        assert [r["code"] for r in audit[0]["reasons"]] == [
            "not_in_registry",
            "other_active_application",
        ]


@pytest.mark.parametrize("auto", [True, False])
async def test_auto_approve_policy(
    start_service: Start, adults: list[RegistryPerson], auto: bool
) -> None:
    async with start_service(auto_approve=auto) as svc:
        await import_registry(svc, adults)
        reader = EventReader(svc.bootstrap, svc.topics.validation_events)
        await reader.start()
        try:
            clean = accepted(adults[4], tracking="TPH-TEST-0021")
            flawed = accepted(adults[5], tracking="TPH-TEST-0022", name="Orang Lain")
            await svc.produce(clean, flawed)
            clean_item = await svc.item_of(clean.application_id, 1)
            flawed_item = await svc.item_of(flawed.application_id, 1)
            # An item with findings always waits for the section head.
            assert flawed_item["status"] == "pending"
            if auto:
                assert clean_item["status"] == "approved"
                assert clean_item["automatic"] is True
                assert clean_item["decided_by"] == "auto.validation"
                validated = await reader.wait(
                    lambda e: (
                        e.type == "application.validated"
                        and e.application_id == clean.application_id
                    ),
                    "automatic application.validated",
                )
                assert isinstance(validated.payload, ApplicationValidated)
                assert validated.payload.officer_id == "auto.validation"
                audit = (await svc.http.get(f"/items/{clean.application_id}/audit")).json()
                assert [(a["decision"], a["automatic"]) for a in audit] == [("approved", True)]
                again = await svc.http.post(
                    f"/items/{clean.application_id}/approve", json={"staff_id": KASI}
                )
                assert again.status_code == 409
                assert "(automatically)" in again.json()["detail"]["message"]
            else:
                assert clean_item["status"] == "pending"
                assert clean_item["automatic"] is False
                assert await svc.sql("SELECT count(*) FROM outbox") == 0
                assert await svc.sql("SELECT count(*) FROM decisions") == 0
            assert not [
                e for e in await reader.settle() if e.application_id == flawed.application_id
            ]
        finally:
            await reader.stop()


async def test_cancelled_application_leaves_the_queue(
    start_service: Start, adults: list[RegistryPerson]
) -> None:
    from schemas.events import ApplicationCancelled

    async with start_service() as svc:
        await import_registry(svc, adults)
        event = accepted(adults[6])
        await svc.produce(event)
        await svc.item_of(event.application_id, 1)
        cancel = event.caused(
            ApplicationCancelled(reason="Pemohon membatalkan", officer_id="petugas.tempeh.01")
        )
        await svc.produce(cancel)
        await wait_for(lambda: svc.handled() == (2, 0), what="cancellation consumed")
        assert await svc.queue() == []
        assert await svc.sql("SELECT active FROM applications") is False
        response = await svc.http.post(
            f"/items/{event.application_id}/approve", json={"staff_id": KASI}
        )
        assert response.status_code == 409
