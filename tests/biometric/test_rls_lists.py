"""The recording queue and the duplicate cases are isolated by PostgreSQL (issue #17): with the
API's office checks switched off, Kunir's staff still read none of Tempeh's applicants and
cannot reach one through the routes' SQL, run as a login role held by row-level security; the
"already recorded" rule still looks across offices (the handler acts for the whole district)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from schemas.application import ApplicationType
from schemas.events import BiometricsSkipped
from services.biometric.api import adjudication, recording
from services.biometric.crypto import parse_keyring
from services.biometric.store import open_case, save_record
from tests.biometric.conftest import enrolled
from tests.biometric.stage_kit import KEC, OTHER_KEC, Stage, running_stage, validated
from tests.kit.payloads import nik
from tests.kit.tokens import as_staff
from tests.security.service_role import service_role_dsn

pytestmark = pytest.mark.usefixtures("oidc_env")  # the service verifies tokens


@pytest.fixture
async def pg_dsn(components: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stage connects as a role under row-level security (not the suite's superuser)."""
    dsn: str = await service_role_dsn(components.pg_dsn, monkeypatch)
    return dsn


@pytest.fixture
async def stage(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    device_url: str,
) -> AsyncIterator[Stage]:
    # The ABIS's schema is created by the role, as db_schema is, so that it may drop it after.
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{db_schema}_abis"')
    finally:
        await conn.close()
    async with running_stage(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=db_schema,
        topic_prefix=topic_prefix,
        home=tmp_path,
        device_url=device_url,
    ) as running:
        yield running


def _python_checks_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (recording, adjudication):
        monkeypatch.setattr(module, "own_kecamatan", lambda caller, value: value)
        monkeypatch.setattr(module, "may_see", lambda caller, kecamatan: True)


async def test_kunirs_staff_reach_no_tempeh_applicant_without_the_python_check(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = await stage.send_validated(validated(nik(31), ApplicationType.NEW))
    await stage.queued(app_id)  # Tempeh's operator lists it
    async with stage.runtime.pool.acquire() as conn:  # the service's all scope
        saved = await save_record(
            conn,
            parse_keyring(stage.keys),
            nik=nik(32),
            kecamatan=KEC,
            enrolment=enrolled("rls-candidate"),
            captured_at=datetime.now(UTC),
        )
        case_id = f"case-{uuid.uuid4().hex[:8]}"
        await open_case(
            conn,
            case_id=case_id,
            application_id=app_id,
            kecamatan=KEC,
            record_id=saved.record_id,
            candidates=[],
        )
    tempeh_cases = await stage.http.get("/adjudication", params={"kecamatan": KEC})
    assert [c["case_id"] for c in tempeh_cases.json()] == [case_id]

    # Kunir's staff, the API's office checks switched off: only SQL stands between.
    _python_checks_off(monkeypatch)
    operator, kasi = as_staff("operator.kunir"), as_staff("kasi.kunir")
    queue = await stage.http.get("/queue", params={"kecamatan": KEC}, headers=operator)
    assert queue.status_code == 200 and queue.json() == []
    capture = await stage.http.post(f"/queue/{app_id}/capture", json={}, headers=operator)
    assert capture.status_code == 404
    cases = await stage.http.get("/adjudication", params={"kecamatan": KEC}, headers=kasi)
    assert cases.status_code == 200 and cases.json() == []
    decided = await stage.http.post(
        f"/adjudication/{case_id}", json={"decision": "confirm"}, headers=kasi
    )
    assert decided.status_code == 404
    assert "biometrics.recorded" not in stage.out.types(app_id)
    still = await stage.http.get("/adjudication", params={"kecamatan": KEC})
    assert [c["case_id"] for c in still.json()] == [case_id]


async def test_a_nik_recorded_at_another_office_is_not_recorded_again(stage: Stage) -> None:
    holder = nik(33)
    async with stage.runtime.pool.acquire() as conn:
        saved = await save_record(
            conn,
            parse_keyring(stage.keys),
            nik=holder,
            kecamatan=OTHER_KEC,  # recorded at Kunir
            enrolment=enrolled("recorded-at-kunir"),
            captured_at=datetime.now(UTC),
        )
    app_id = await stage.send_validated(validated(holder, ApplicationType.LOST))  # at Tempeh
    events = await stage.out.wait_types(app_id, "biometrics.skipped", "record.print_ready")
    skipped = events[0][1].payload
    assert isinstance(skipped, BiometricsSkipped)
    assert skipped.existing_record.key == saved.reference
