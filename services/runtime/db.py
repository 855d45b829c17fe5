"""Connections and migrations: every service keeps its state in its own PostgreSQL schema.

Kecamatan isolation (docs/identity.md): the tables holding a kecamatan's rows have row-level
security keyed on the transaction-local setting ``tuntas.kecamatan`` (a code, or ``*`` for
every kecamatan; unset: no rows). :func:`scoped` sets it inside a transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from services.runtime.auth import DISTRICT_ADMIN, Identity
from services.runtime.settings import Connections

# What handlers and repositories take: a plain connection or one borrowed from a pool.
Conn = asyncpg.Connection | PoolConnectionProxy

RUNTIME_MIGRATIONS = Path(__file__).parent / "migrations"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_KECAMATAN = re.compile(r"^[0-9]{6}$")
SCOPE_SETTING = "tuntas.kecamatan"
ALL_KECAMATAN = "*"
NO_KECAMATAN = ""  # matches no row: the scope of a caller without an office


async def scoped(conn: Conn, kecamatan: str | None) -> None:
    """Limit the open transaction to one kecamatan's rows (``None``: every kecamatan, what a
    machine acting for the whole district says). Call it first thing in the transaction, with
    the authenticated caller's office; it ends with the transaction."""
    if kecamatan is not None and not _KECAMATAN.match(kecamatan):
        raise ValueError(f"invalid kecamatan code {kecamatan!r}: six digits")
    if not conn.is_in_transaction():
        raise RuntimeError("scoped() outside a transaction would last for the whole session")
    await conn.execute("SELECT set_config($1, $2, true)", SCOPE_SETTING, kecamatan or ALL_KECAMATAN)


def office_scope(identity: Identity) -> str | None:
    """The rows a caller's transactions may touch: its office's; every kecamatan (``None``)
    for the district admin and district-wide machines (a service, the ABIS); a person
    without an office sees nothing (``Access.staff`` refuses them before this)."""
    if DISTRICT_ADMIN in identity.roles or (identity.is_machine and identity.kecamatan is None):
        return None
    return identity.kecamatan or NO_KECAMATAN


@asynccontextmanager
async def caller_scope(pool: asyncpg.Pool, identity: Identity) -> AsyncIterator[Conn]:
    """A connection in a transaction limited (``SET LOCAL``) to the rows ``identity`` may
    see: PostgreSQL, not the route's Python, keeps another office's rows out of its SQL."""
    async with in_scope(pool, office_scope(identity)) as conn:
        yield conn


@asynccontextmanager
async def in_scope(pool: asyncpg.Pool, kecamatan: str | None) -> AsyncIterator[Conn]:
    """A connection in a transaction limited to ``kecamatan``'s rows (``None``: every
    kecamatan; on the API pool say where it is used why the step needs it)."""
    async with pool.acquire() as conn, conn.transaction():
        await _set_scope(conn, kecamatan)
        yield conn


async def _set_scope(conn: Conn, kecamatan: str | None) -> None:
    if kecamatan == NO_KECAMATAN:
        await conn.execute("SELECT set_config($1, $2, true)", SCOPE_SETTING, NO_KECAMATAN)
    else:
        await scoped(conn, kecamatan)


def check_schema_name(schema: str) -> str:
    # Schema names are interpolated into DDL, so only plain identifiers are allowed.
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}: use lower-case letters, digits, _")
    return schema


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def _session(schema: str, scope: str = ALL_KECAMATAN) -> dict[str, str]:
    # The session's default scope, outside any scoped() transaction: the all-kecamatan scope
    # for a service's Kafka handlers, relays and loops; none (no row) for the HTTP routes' pool.
    return {"search_path": check_schema_name(schema), SCOPE_SETTING: scope}


async def create_pool(
    dsn: str,
    schema: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    scope: str = ALL_KECAMATAN,
) -> asyncpg.Pool:
    """A pool whose connections see ``schema`` first (SQL names tables unqualified) and, by
    default, the rows of ``scope`` (``NO_KECAMATAN``: none until a transaction is scoped)."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=_session(schema, scope),
        init=_init_connection,
    )
    assert pool is not None
    return pool


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, server_settings=_session(schema))
    await _init_connection(conn)
    return conn


async def migrate(conn: asyncpg.Connection, schema: str, *folders: Path) -> list[str]:
    """Apply the runtime's migrations, then each folder's ``NNN_*.sql`` files, once each, in order.

    With ``DATABASE_OWNER_URL`` set, they run as that owner role, which then grants ``conn``'s
    role (the service's login role) the use of the tables and nothing more: it cannot alter
    them nor switch their row-level security off. Without it, ``conn``'s role owns the schema.
    An advisory lock per schema lets several instances start at once without racing.
    Returns the names applied now.
    """
    owner_url = Connections().database_owner_url
    if not owner_url:
        return await _migrate(conn, schema, folders)
    owner = await connect(owner_url, schema)
    try:
        applied = await _migrate(owner, schema, folders)
        grantee = await conn.fetchval("SELECT current_user")
        if grantee != await owner.fetchval("SELECT current_user"):
            await _grant_use(owner, schema, grantee)
        return applied
    finally:
        await owner.close()


async def _grant_use(owner: asyncpg.Connection, schema: str, role: str) -> None:
    """Rows and sequences, every time (tables added by a migration included); no DDL."""
    quoted = f'"{check_schema_name(role)}"'
    await owner.execute(
        f'GRANT USAGE ON SCHEMA "{schema}" TO {quoted};'
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {quoted};'
        f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {quoted};'
        f'REVOKE INSERT, UPDATE, DELETE ON "{schema}".schema_migrations FROM {quoted};'
    )


async def _migrate(conn: asyncpg.Connection, schema: str, folders: tuple[Path, ...]) -> list[str]:
    check_schema_name(schema)
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for folder in (RUNTIME_MIGRATIONS, *folders):
            for path in sorted(folder.glob("[0-9][0-9][0-9]_*.sql")):
                name = f"{folder.parent.name}/{path.name}"
                if name in done:
                    continue
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied_now.append(name)
    return applied_now
