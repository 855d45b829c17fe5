"""The send-back loop across two real services: intake's desk and the section head's queue.

intake (HTTP submit) ⇒ application.accepted ⇒ validation work item ⇒ send back ⇒
application.sent_back ⇒ intake's correction queue ⇒ corrected resubmission (revision 2) ⇒
new work item ⇒ approve ⇒ application.validated, seen by intake too.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.events import ApplicationValidated
from schemas.residents import RegistryPerson
from services.intake.main import serve as intake_serve
from services.intake.settings import IntakeSettings
from tests.kit.stage import connections, serving
from tests.kit.tokens import As
from tests.validation.conftest import KECAMATAN, EventReader, Service, import_registry
from tests.waiting import wait_for

Start = Callable[..., AbstractAsyncContextManager[Service]]


@pytest.fixture
async def intake_http(
    kafka_bootstrap: str, pg_dsn: str, topic_prefix: str, oidc_env: str
) -> AsyncIterator[httpx.AsyncClient]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    settings = IntakeSettings(
        connections=connections(kafka_bootstrap, pg_dsn, topic_prefix),
        db_schema=schema,
        http_port=0,
        require_kk_scan=False,
    )
    try:
        async with serving(intake_serve, settings) as served:
            served.http.auth = As(oidc_env, "desk.tempeh")
            yield served.http
    finally:
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


def _file(person: RegistryPerson, **applicant_changes: Any) -> dict[str, Any]:
    applicant = person.applicant(phone="081234567890").model_dump(mode="json")
    return {
        "officer_id": "petugas.tempeh.01",
        "application_type": "new",
        "applicant": {**applicant, **applicant_changes},
        "documents": {"kk_photocopy": {"kk_number": person.kk_number}},
    }


async def test_send_back_loop_through_intake(
    start_service: Start, intake_http: httpx.AsyncClient, adults: list[RegistryPerson]
) -> None:
    person = adults[7]
    async with start_service() as svc:
        await import_registry(svc, adults)
        reader = EventReader(svc.bootstrap, svc.topics.validation_events)
        await reader.start()
        try:
            submitted = await intake_http.post(
                "/applications", json={**_file(person, name="Nama Keliru"), "kecamatan": KECAMATAN}
            )
            assert submitted.status_code == 201, submitted.text
            app_id = uuid.UUID(submitted.json()["application_id"])

            item = await svc.item_of(app_id, 1)
            assert [f["code"] for f in item["findings"]] == ["registry_name_mismatch"]
            response = await svc.http.post(
                f"/items/{app_id}/send-back", json={"staff_id": "kasi.tempeh", "revision": 1}
            )
            assert response.status_code == 200, response.text
            await reader.wait(
                lambda e: e.type == "application.sent_back" and e.application_id == app_id,
                "application.sent_back on Kafka",
            )

            async def in_corrections() -> dict[str, Any] | None:
                got = await intake_http.get("/corrections", params={"kecamatan": KECAMATAN})
                assert got.status_code == 200, got.text
                return next((c for c in got.json() if c["application_id"] == str(app_id)), None)

            correction = await wait_for(in_corrections, what="the file in intake's corrections")
            assert correction["reasons"][0]["code"] == "registry_name_mismatch"

            resubmitted = await intake_http.put(f"/applications/{app_id}", json=_file(person))
            assert resubmitted.status_code == 200, resubmitted.text
            assert resubmitted.json()["revision"] == 2

            item2 = await svc.item_of(app_id, 2)
            assert item2["findings"] == []
            approved = await svc.http.post(
                f"/items/{app_id}/approve", json={"staff_id": "kasi.tempeh", "revision": 2}
            )
            assert approved.status_code == 200, approved.text
            validated = await reader.wait(
                lambda e: e.type == "application.validated" and e.application_id == app_id,
                "application.validated on Kafka",
            )
            assert isinstance(validated.payload, ApplicationValidated)
            assert validated.payload.revision == 2
            assert validated.payload.applicant.name == person.name

            async def intake_state() -> bool:
                got = await intake_http.get(f"/applications/{app_id}")
                return bool(got.json()["state"] == "validated")

            await wait_for(intake_state, what="intake sees the application validated")
        finally:
            await reader.stop()
