"""Local 1:N deduplication over stored templates, against real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from services.biometric.crypto import MasterKeyring
from services.biometric.dedupe import DuplicateSuspected, LocalDedupe, NoDuplicate
from services.biometric.enrolment import enrol
from services.biometric.items import Finger
from services.biometric.quality import ExceptionReason, QualityPolicy
from services.biometric.store import save_record
from services.runtime.db import create_pool
from tests.biometric.conftest import devices_take, enrolled

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
async def pool(
    pg_dsn: str, db_schema: str, conn: asyncpg.Connection
) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(pg_dsn, db_schema, max_size=2)  # `conn` migrated the schema
    try:
        yield created
    finally:
        await created.close()


async def test_same_person_enrolling_again_elsewhere_is_suspected(
    conn: asyncpg.Connection, pool: asyncpg.Pool, keyring: MasterKeyring
) -> None:
    siti = await save_record(
        conn,
        keyring,
        nik="3508054107850001",
        kecamatan="350805",
        enrolment=enrolled("siti"),
        captured_at=NOW,
    )
    await save_record(
        conn,
        keyring,
        nik="3508061203900002",
        kecamatan="350806",
        enrolment=enrolled("tono"),
        captured_at=NOW,
    )
    await save_record(
        conn,
        keyring,
        nik="3508071203900003",
        kecamatan="350807",
        enrolment=enrolled("wati"),
        captured_at=NOW,
    )
    # Siti again, in a third kecamatan under another NIK: new impressions of the same fingers
    take = devices_take("siti")
    await enrol(take, QualityPolicy())
    probe = (await enrol(take, QualityPolicy())).templates

    for page_records in (500, 1):  # one page, and paging record by record
        result = await LocalDedupe(pool, keyring, page_records=page_records).check(probe)
        assert isinstance(result, DuplicateSuspected)
        assert [c.record_id for c in result.candidates] == [siti.record_id]
        best = result.candidates[0]
        assert best.kecamatan == "350805"
        assert best.score >= 80
        assert set(best.finger_scores) == {
            Finger.RIGHT_THUMB,
            Finger.RIGHT_INDEX,
            Finger.LEFT_THUMB,
            Finger.LEFT_INDEX,
        }

    # the applicant's own stored record is not a duplicate of itself
    own = await LocalDedupe(pool, keyring).check(probe, exclude=siti.record_id)
    assert own == NoDuplicate(records_compared=2)


async def test_new_person_is_not_a_duplicate(
    conn: asyncpg.Connection, pool: asyncpg.Pool, keyring: MasterKeyring
) -> None:
    for n, seed in enumerate(("siti", "tono", "wati")):
        await save_record(
            conn,
            keyring,
            nik=f"350805410785000{n + 1}",
            kecamatan="350805",
            enrolment=enrolled(seed),
            captured_at=NOW,
        )
    result = await LocalDedupe(pool, keyring).check(enrolled("yanti").templates)
    assert result == NoDuplicate(records_compared=3)


async def test_probe_without_comparable_fingers_compares_nothing(
    pool: asyncpg.Pool, keyring: MasterKeyring
) -> None:
    declared = {
        f: ExceptionReason.BANDAGED
        for f in (Finger.RIGHT_THUMB, Finger.RIGHT_INDEX, Finger.LEFT_THUMB, Finger.LEFT_INDEX)
    }
    probe = (await enrol(devices_take("hands"), QualityPolicy(), declared=declared)).templates
    assert await LocalDedupe(pool, keyring).check(probe) == NoDuplicate(0)
