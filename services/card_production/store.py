"""All SQL of the station. Every query filters by the station's kecamatan."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from schemas.events import RecordPrintReady
from services.card_production.rules import PRIORITY_RANK
from services.runtime import sql
from services.runtime.db import Conn

QUEUED = "queued_for_printing"
WAITING = "waiting_for_stock"
CERTIFICATE = "temporary_certificate_issued"
ENCODED = "encoded"
PRINTED = "printed"
READY = "ready_for_collection"
ACTIVATED = "activated"
STATES = (QUEUED, WAITING, CERTIFICATE, ENCODED, PRINTED, READY, ACTIVATED)

_ORDER = "priority_rank, seq"
MIGRATIONS = Path(__file__).parent / "migrations"


async def notify(conn: Conn, channel: str) -> None:
    """Wake the production loop; delivered at commit, so it never looks before the row."""
    await conn.execute("SELECT pg_notify($1, '')", channel)


async def insert_job(
    conn: Conn, kecamatan: str, application_id: UUID, ready: RecordPrintReady, message_id: UUID
) -> bool:
    """Record a print job (state queued); False if this application already has one."""
    result = await conn.execute(
        "INSERT INTO jobs (application_id, kecamatan, tracking_number, application_type,"
        " priority, priority_rank, state, print_ready, source_message)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (application_id) DO NOTHING",
        application_id,
        kecamatan,
        ready.tracking_number,
        ready.application_type.value,
        ready.priority.value,
        PRIORITY_RANK[ready.priority],
        QUEUED,
        ready.model_dump(mode="json"),
        message_id,
    )
    return result.endswith(" 1")


async def next_job(conn: Conn, kecamatan: str) -> asyncpg.Record | None:
    """The next job to work on (lock held to the end of the transaction): a card printed but
    not yet shelved (a station cut between those steps) or already encoded first, then queued
    ones new-before-replacement, each FIFO."""
    return await conn.fetchrow(
        "SELECT * FROM jobs WHERE kecamatan = $1 AND NOT held AND state = ANY($2::text[])"
        f" ORDER BY (state = ANY($3::text[])) DESC, {_ORDER} LIMIT 1 FOR UPDATE SKIP LOCKED",
        kecamatan,
        [QUEUED, ENCODED, PRINTED],
        [ENCODED, PRINTED],
    )


async def get_job(
    conn: Conn, kecamatan: str, application_id: UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM jobs WHERE kecamatan = $1 AND application_id = $2"
        + (" FOR UPDATE" if lock else ""),
        kecamatan,
        application_id,
    )


async def list_jobs(conn: Conn, kecamatan: str, state: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM jobs WHERE kecamatan = $1 AND ($2::text IS NULL OR state = $2)"
        f" ORDER BY {_ORDER}",
        kecamatan,
        state,
    )


async def update_job(conn: Conn, kecamatan: str, application_id: UUID, **fields: Any) -> None:
    sets = sql.assignments(fields, first=3)
    await conn.execute(
        f"UPDATE jobs SET {sets}, updated_at = now() WHERE kecamatan = $1 AND application_id = $2",
        kecamatan,
        application_id,
        *fields.values(),
    )


async def reserve_blank(conn: Conn, kecamatan: str, application_id: UUID) -> str | None:
    serial: str | None = await conn.fetchval(
        "UPDATE blanks SET state = 'reserved', application_id = $2, updated_at = now()"
        " WHERE serial = (SELECT serial FROM blanks WHERE kecamatan = $1"
        " AND state = 'available' ORDER BY serial LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " RETURNING serial",
        kecamatan,
        application_id,
    )
    if serial is not None:
        await update_job(conn, kecamatan, application_id, blank_serial=serial)
    return serial


async def mark_blank(
    conn: Conn, kecamatan: str, serial: str, state: str, reason: str | None = None,
    note: str | None = None,
) -> None:  # fmt: skip
    await conn.execute(
        "UPDATE blanks SET state = $3, spoil_reason = $4, spoil_note = $5, updated_at = now()"
        " WHERE kecamatan = $1 AND serial = $2",
        kecamatan,
        serial,
        state,
        reason,
        note,
    )


async def available(conn: Conn, kecamatan: str) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM blanks WHERE kecamatan = $1 AND state = 'available'", kecamatan
    )
    return n


async def stock_counts(conn: Conn, kecamatan: str) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT state, count(*) AS n FROM blanks WHERE kecamatan = $1 GROUP BY state", kecamatan
    )
    counts = {"available": 0, "reserved": 0, "used": 0, "spoiled": 0}
    counts.update({r["state"]: r["n"] for r in rows})
    return counts


async def job_counts(conn: Conn, kecamatan: str) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT state, count(*) AS n FROM jobs WHERE kecamatan = $1 GROUP BY state", kecamatan
    )
    counts = dict.fromkeys(STATES, 0)
    counts.update({r["state"]: r["n"] for r in rows})
    held: int = await conn.fetchval(
        "SELECT count(*) FROM jobs WHERE kecamatan = $1 AND held", kecamatan
    )
    counts["held"] = held
    return counts


async def queued_without_blank(conn: Conn, kecamatan: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM jobs WHERE kecamatan = $1 AND state = $2 AND blank_serial IS NULL"
        f" AND NOT held ORDER BY {_ORDER} FOR UPDATE",
        kecamatan,
        QUEUED,
    )


async def waiting_jobs(conn: Conn, kecamatan: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM jobs WHERE kecamatan = $1 AND state = ANY($2::text[]) AND NOT held"
        f" ORDER BY {_ORDER} LIMIT $3 FOR UPDATE",
        kecamatan,
        [WAITING, CERTIFICATE],
        limit,
    )


async def escalate(
    conn: Conn, kecamatan: str, application_id: UUID, reason: str, detail: str | None
) -> None:
    await conn.execute(
        "INSERT INTO escalations (kecamatan, application_id, reason, detail)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (application_id, reason) DO NOTHING",
        kecamatan,
        application_id,
        reason,
        detail,
    )
    await update_job(conn, kecamatan, application_id, held=True, last_error=detail)


async def escalations(conn: Conn, kecamatan: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, application_id, reason, detail, created_at FROM escalations"
        " WHERE kecamatan = $1 ORDER BY id",
        kecamatan,
    )


async def count_error(conn: Conn, kecamatan: str, application_id: UUID, error: str) -> int:
    """One more failed try of the job (not a spoiled blank); returns the count so far."""
    n: int = await conn.fetchval(
        "UPDATE jobs SET errors = errors + 1, last_error = $3, updated_at = now()"
        " WHERE kecamatan = $1 AND application_id = $2 RETURNING errors",
        kecamatan,
        application_id,
        error,
    )
    return n


# ---------------------------------------------------------------- stock


async def lock_stock(conn: Conn, kecamatan: str) -> None:
    """Serialise a station's deliveries, and a job's "out of stock" with them (to the end of
    the transaction)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"stock:{kecamatan}")


async def batch(conn: Conn, kecamatan: str, batch_ref: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM blank_batches WHERE kecamatan = $1 AND batch_ref = $2",
        kecamatan,
        batch_ref,
    )


async def received_serial(conn: Conn, serials: list[str]) -> str | None:
    """One of ``serials`` that was already received, if any."""
    found: str | None = await conn.fetchval(
        "SELECT serial FROM blanks WHERE serial = ANY($1::text[]) LIMIT 1", serials
    )
    return found


async def insert_batch(
    conn: Conn, kecamatan: str, batch_ref: str, serials: list[str], received_by: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO blank_batches (kecamatan, batch_ref, first_serial, last_serial,"
        " count, received_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        kecamatan,
        batch_ref,
        serials[0],
        serials[-1],
        len(serials),
        received_by,
    )
    assert row is not None
    await conn.execute(
        "INSERT INTO blanks (serial, kecamatan, batch_id)"
        " SELECT s, $2, $3 FROM unnest($1::text[]) AS s",
        serials,
        kecamatan,
        row["id"],
    )
    return row


async def blank_state(conn: Conn, kecamatan: str, serial: str) -> str | None:
    """The blank's state, row locked to the end of the transaction; None if unknown."""
    state: str | None = await conn.fetchval(
        "SELECT state FROM blanks WHERE kecamatan = $1 AND serial = $2 FOR UPDATE",
        kecamatan,
        serial,
    )
    return state


async def batches(conn: Conn, kecamatan: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM blank_batches WHERE kecamatan = $1 ORDER BY id", kecamatan
    )


async def spoiled_blanks(conn: Conn, kecamatan: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT serial, application_id, spoil_reason, spoil_note, updated_at FROM blanks"
        " WHERE kecamatan = $1 AND state = 'spoiled' ORDER BY updated_at",
        kecamatan,
    )


async def next_storage_number(conn: Conn) -> int:
    n: int = await conn.fetchval("SELECT nextval('storage_seq')")
    return n


async def next_certificate_number(conn: Conn) -> int:
    n: int = await conn.fetchval("SELECT nextval('certificate_seq')")
    return n
