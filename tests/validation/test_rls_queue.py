"""The section head's queue is isolated by PostgreSQL (issue #17): with the API's office checks
switched off, Tempeh's section head still reads none of Kunir's work items through the routes'
SQL, which runs as a login role held by row-level security, in the caller's scope."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from schemas.residents import RegistryPerson
from services.validation.api import queue
from tests.kit import payloads
from tests.kit.tokens import KUNIR, as_staff
from tests.security.service_role import service_role_dsn
from tests.validation.conftest import Service
from tests.waiting import wait_for

Start = Callable[..., AbstractAsyncContextManager[Service]]


@pytest.fixture
async def pg_dsn(components: object, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stage connects as a role under row-level security (not the suite's superuser)."""
    return await service_role_dsn(components.pg_dsn, monkeypatch)  # type: ignore[attr-defined]


async def test_tempehs_section_head_reads_no_kunir_item_without_the_python_check(
    start_service: Start, adults: list[RegistryPerson], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_service() as svc:
        kunir = payloads.accepted(
            adults[0].applicant(phone="081234567890"), tracking="KNR-TEST-0001", kecamatan=KUNIR
        )
        await svc.produce(kunir)
        kasi_kunir = as_staff("kasi.kunir")

        async def kunirs_queue() -> list[str]:
            got = await svc.http.get("/queue", params={"kecamatan": KUNIR}, headers=kasi_kunir)
            return [i["tracking_number"] for i in got.json()]

        assert await wait_for(kunirs_queue, what="Kunir's item") == ["KNR-TEST-0001"]

        # Tempeh's section head, the API's office checks switched off: only SQL stands between.
        monkeypatch.setattr(queue, "own_office", lambda caller, kecamatan: kecamatan)
        monkeypatch.setattr(queue, "may_see", lambda caller, kecamatan: True)
        listed = await svc.http.get("/queue", params={"kecamatan": KUNIR, "status": "all"})
        assert listed.status_code == 200 and listed.json() == []
        one = await svc.http.get(f"/items/{kunir.application_id}")
        assert one.status_code == 404 and "KNR-TEST" not in one.text
        decided = await svc.http.post(f"/items/{kunir.application_id}/approve", json={})
        assert decided.status_code == 404
        still = await svc.http.get(f"/items/{kunir.application_id}", headers=kasi_kunir)
        assert [i["status"] for i in still.json()] == ["pending"]
