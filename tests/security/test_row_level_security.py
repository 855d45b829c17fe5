"""Kecamatan isolation in PostgreSQL (issue #17): a service's login role is not a superuser and
does not own its tables; row-level security shows a transaction only the rows of the kecamatan
``services.runtime.db.scoped`` names, every row in the all scope, none without a scope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from schemas.base import Service
from services.intake.store import MIGRATIONS
from services.runtime import db
from tuntas.stack import local, principals

TEMPEH, KUNIR = "350805", "350806"


@pytest.fixture
async def intake_role(secure_stack: local.Endpoints, monkeypatch: pytest.MonkeyPatch) -> str:
    """The intake's schema migrated as the owner; returns the intake login role's DSN."""
    await principals.prepare(secure_stack, "rls.", [TEMPEH])
    env = principals.process_env(secure_stack, Service.INTAKE)
    monkeypatch.setenv("PGPASSFILE", env["PGPASSFILE"])
    monkeypatch.setenv("DATABASE_OWNER_URL", env["DATABASE_OWNER_URL"])
    return env["DATABASE_URL"]


async def test_kunirs_session_reads_none_of_tempehs_rows(intake_role: str) -> None:
    schema = f"rls_{uuid.uuid4().hex[:8]}"
    conn = await db.connect(intake_role, schema)
    try:
        await db.migrate(conn, schema, MIGRATIONS)
        async with conn.transaction():
            await db.scoped(conn, None)  # a consumer, acting for every kecamatan
            for code in (TEMPEH, TEMPEH, KUNIR):
                await conn.execute(
                    "INSERT INTO application_status VALUES ($1, $2, 'received', 'in', $3, $4)",
                    str(uuid.uuid4()), code, uuid.uuid4(), datetime.now(UTC),
                )  # fmt: skip
    finally:
        await conn.close()

    # A hand-written session as the same login role, no help from services.runtime.db.
    raw = await asyncpg.connect(intake_role)
    try:
        table = f"{schema}.application_status"
        assert not await raw.fetchval(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert await raw.fetch(f"SELECT * FROM {table}") == []  # no scope: no rows
        async with raw.transaction():
            await db.scoped(raw, KUNIR)
            rows = await raw.fetch(f"SELECT * FROM {table}")
            assert [r["kecamatan"] for r in rows] == [KUNIR]
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # WITH CHECK
                await raw.execute(
                    f"INSERT INTO {table} VALUES ('x', $1, 'received', 'in', $2, now())",
                    TEMPEH, uuid.uuid4(),
                )  # fmt: skip
        async with raw.transaction():
            await db.scoped(raw, None)
            kecamatan = sorted(r["kecamatan"] for r in await raw.fetch(f"SELECT * FROM {table}"))
            assert kecamatan == [TEMPEH, TEMPEH, KUNIR]
        # Not the owner: it cannot switch the policy off.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await raw.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        owner = await raw.fetchval(
            "SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'applications'",
            schema,
        )
        assert owner == principals.OWNER_ROLE
    finally:
        await raw.close()


async def test_scope_needs_a_transaction_and_a_kecamatan_code(
    secure_stack: local.Endpoints,
) -> None:
    conn = await asyncpg.connect(secure_stack.database_url)
    try:
        with pytest.raises(RuntimeError):
            await db.scoped(conn, KUNIR)
        async with conn.transaction():
            with pytest.raises(ValueError):
                await db.scoped(conn, "35.08.06' OR true --")
    finally:
        await conn.close()
