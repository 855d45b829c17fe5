"""All SQL of the ABIS: the sealed gallery."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from services.runtime.db import Conn

MIGRATIONS = Path(__file__).parent / "migrations"


async def put(conn: Conn, reference_id: uuid.UUID, nonce: bytes, ciphertext: bytes) -> None:
    await conn.execute(
        "INSERT INTO gallery (reference_id, nonce, ciphertext) VALUES ($1, $2, $3)"
        " ON CONFLICT (reference_id) DO UPDATE SET nonce = EXCLUDED.nonce,"
        " ciphertext = EXCLUDED.ciphertext, inserted_at = now()",
        reference_id,
        nonce,
        ciphertext,
    )


async def get(conn: Conn, reference_id: uuid.UUID) -> tuple[bytes, bytes] | None:
    row = await conn.fetchrow(
        "SELECT nonce, ciphertext FROM gallery WHERE reference_id = $1", reference_id
    )
    return None if row is None else (row["nonce"], row["ciphertext"])


async def delete(conn: Conn, reference_id: uuid.UUID) -> bool:
    return (
        await conn.fetchval(
            "DELETE FROM gallery WHERE reference_id = $1 RETURNING true", reference_id
        )
        is not None
    )


async def pages(
    conn: Conn, page: int = 20_000
) -> AsyncIterator[list[tuple[uuid.UUID, bytes, bytes]]]:
    """The whole gallery in reference-id order, a page at a time (keyset pagination)."""
    after: uuid.UUID | None = None
    while True:
        rows = await conn.fetch(
            "SELECT reference_id, nonce, ciphertext FROM gallery"
            " WHERE $1::uuid IS NULL OR reference_id > $1 ORDER BY reference_id LIMIT $2",
            after,
            page,
        )
        if not rows:
            return
        yield [(r["reference_id"], r["nonce"], r["ciphertext"]) for r in rows]
        after = rows[-1]["reference_id"]


async def put_many(conn: Conn, rows: Sequence[tuple[uuid.UUID, bytes, bytes]]) -> None:
    """Seal a page of references at once: COPY into a staging table, then one upsert."""
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE gallery_page (reference_id uuid, nonce bytea, ciphertext bytea)"
            " ON COMMIT DROP"
        )
        await conn.copy_records_to_table("gallery_page", records=rows)
        await conn.execute(
            "INSERT INTO gallery (reference_id, nonce, ciphertext)"
            " SELECT reference_id, nonce, ciphertext FROM gallery_page"
            " ON CONFLICT (reference_id) DO UPDATE SET nonce = EXCLUDED.nonce,"
            " ciphertext = EXCLUDED.ciphertext, inserted_at = now()"
        )


async def add_batch_job(conn: Conn, request_id: str, request: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO batch_jobs (request_id, request) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        request_id,
        request,
    )


async def pending_batch_jobs(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM batch_jobs WHERE done_at IS NULL"))


async def next_batch_job(conn: Conn) -> dict[str, Any] | None:
    """The oldest unanswered batch request (its envelope), locked for this worker."""
    found = await conn.fetchval(
        "SELECT request FROM batch_jobs WHERE done_at IS NULL"
        " ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    return None if found is None else dict(found)


async def finish_batch_job(conn: Conn, request_id: str) -> None:
    await conn.execute("UPDATE batch_jobs SET done_at = now() WHERE request_id = $1", request_id)
