"""A stage run as a login role that is neither a superuser nor its tables' owner, on the
session's PostgreSQL: the rest of the suite connects as the superuser, whom row-level security
never holds, so only a stage run like this proves the database does the isolation."""

from __future__ import annotations

import contextlib
import hashlib
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

ROLE = "tuntas_rls_probe"


async def service_role_dsn(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``pg_dsn`` as ``ROLE`` (LOGIN, no superuser, no BYPASSRLS); the stage's migrations run
    as ``pg_dsn``'s role (``DATABASE_OWNER_URL``), which grants ``ROLE`` the use of the tables
    and nothing more, as on a deployment."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        # The server asks roles for a password; one fixed per server, so concurrent test
        # sessions agree on it (a throwaway role on a test server: no secret to keep).
        server = await conn.fetchval("SELECT system_identifier FROM pg_control_system()")
        password = hashlib.sha256(f"{ROLE}:{server}".encode()).hexdigest()
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE):
            with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                await conn.execute(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")
        await conn.execute(f"ALTER ROLE {ROLE} PASSWORD '{password}'")
        # The suite's db_schema fixture creates the schema as this role; its tables are still
        # the owner's, under FORCE ROW LEVEL SECURITY.
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'GRANT CREATE ON DATABASE "{database}" TO {ROLE}')
    finally:
        await conn.close()
    monkeypatch.setenv("DATABASE_OWNER_URL", pg_dsn)
    parts = urlsplit(pg_dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{ROLE}:{quote(password)}@{host}"))
