"""Kecamatan isolation of the stage's tables (issue #17, docs/identity.md): as a role that is
neither superuser nor owner, a transaction sees and writes only the rows of the kecamatan
``services.runtime.db.scoped`` names, every row in the all scope, none without a scope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.runtime import db
from services.service_quality.store import MIGRATIONS

TEMPEH, KUNIR = "350805", "350806"
ROLE = "tuntas_sq_rls_probe"  # a plain role, as the stage's login role is
SCOPED = ("facts", "complaints", "survey_invitations", "survey_responses", "monthly_reports")


async def _complaint(conn: asyncpg.Connection, kecamatan: str) -> None:
    now = datetime.now(UTC)
    await conn.execute(
        "INSERT INTO complaints (id, ticket, kecamatan, channel, category, subject, body,"
        " received_at, ack_due, follow_up_due)"
        " VALUES ($1, $2, $3, 'website', 'time', 's', 'b', $4, $4, $5)",
        uuid.uuid4(), f"ADU-{kecamatan}-{uuid.uuid4().hex[:8]}", kecamatan, now,
        now + timedelta(days=7),
    )  # fmt: skip


async def test_a_kecamatan_scope_sees_only_its_own_complaints(pg_dsn: str, db_schema: str) -> None:
    conn = await db.connect(pg_dsn, db_schema)
    try:
        await db.migrate(conn, db_schema, MIGRATIONS)
        forced = await conn.fetch(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = $1 AND c.relrowsecurity AND c.relforcerowsecurity",
            db_schema,
        )
        assert {r["relname"] for r in forced} >= set(SCOPED)
        async with conn.transaction():
            await db.scoped(conn, None)
            for code in (TEMPEH, TEMPEH, KUNIR):
                await _complaint(conn, code)
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE):
            await conn.execute(f"CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS")
        await conn.execute(
            f'GRANT USAGE ON SCHEMA "{db_schema}" TO {ROLE};'
            f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "{db_schema}" TO {ROLE}'
        )
        async with conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {ROLE}")
            await conn.execute("SELECT set_config($1, '', true)", db.SCOPE_SETTING)
            assert await conn.fetch("SELECT * FROM complaints") == []  # no scope: no rows
        async with conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {ROLE}")
            await db.scoped(conn, KUNIR)
            rows = await conn.fetch("SELECT kecamatan FROM complaints")
            assert [r["kecamatan"] for r in rows] == [KUNIR]
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # WITH CHECK
                await _complaint(conn, TEMPEH)
        async with conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {ROLE}")
            await db.scoped(conn, None)
            rows = await conn.fetch("SELECT kecamatan FROM complaints ORDER BY kecamatan")
            assert [r["kecamatan"] for r in rows] == [TEMPEH, TEMPEH, KUNIR]
    finally:
        await conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{db_schema}" FROM {ROLE}')
        await conn.execute(f'REVOKE ALL ON SCHEMA "{db_schema}" FROM {ROLE}')
        await conn.close()
