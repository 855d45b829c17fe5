"""All SQL of the ABIS: the sealed gallery, its changes, and the batch jobs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.runtime.db import Conn

MIGRATIONS = Path(__file__).parent / "migrations"


# a re-insert takes the number its proposed row drew (EXCLUDED.seq): one number per change
_REPLACE = (
    "nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, inserted_at = now(),"
    " seq = EXCLUDED.seq"
)


async def put(conn: Conn, reference_id: uuid.UUID, nonce: bytes, ciphertext: bytes) -> int:
    """Seal one reference (a re-insert replaces it); returns the change's ``seq``."""
    return int(
        await conn.fetchval(
            "INSERT INTO gallery (reference_id, nonce, ciphertext) VALUES ($1, $2, $3)"
            f" ON CONFLICT (reference_id) DO UPDATE SET {_REPLACE} RETURNING seq",
            reference_id,
            nonce,
            ciphertext,
        )
    )


async def get(conn: Conn, reference_id: uuid.UUID) -> tuple[bytes, bytes] | None:
    row = await conn.fetchrow(
        "SELECT nonce, ciphertext FROM gallery WHERE reference_id = $1 AND ciphertext IS NOT NULL",
        reference_id,
    )
    return None if row is None else (row["nonce"], row["ciphertext"])


async def delete(conn: Conn, reference_id: uuid.UUID) -> int | None:
    """Leave a tombstone (the other instances read it as a change); its ``seq``, or None if
    the reference is not in the gallery."""
    found = await conn.fetchval(
        "UPDATE gallery SET nonce = NULL, ciphertext = NULL, inserted_at = now(),"
        " seq = gallery_next_seq() WHERE reference_id = $1 AND ciphertext IS NOT NULL"
        " RETURNING seq",
        reference_id,
    )
    return None if found is None else int(found)


@dataclass(frozen=True)
class Change:
    seq: int
    reference_id: uuid.UUID
    sealed: tuple[bytes, bytes] | None  # (nonce, ciphertext); None: deleted


@dataclass(frozen=True)
class Changes:
    rows: list[Change]  # ascending seq
    xmin: int  # the read's snapshot: transactions below xmin had ended,
    xmax: int  # and every one that had started was below xmax


async def changes(conn: Conn, after: int, gaps: Sequence[int], limit: int) -> Changes:
    """The changes numbered above ``after`` or among ``gaps``, the first ``limit`` of them, and
    the snapshot they were read in (one statement: one snapshot)."""
    rows = await conn.fetch(
        "WITH snapshot AS (SELECT pg_current_snapshot() AS s)"
        " SELECT pg_snapshot_xmin(s)::text::bigint AS xmin,"
        " pg_snapshot_xmax(s)::text::bigint AS xmax, g.*"
        " FROM snapshot LEFT JOIN LATERAL ("
        "  SELECT seq, reference_id, nonce, ciphertext FROM gallery"
        "  WHERE seq > $1 OR seq = ANY($2::bigint[]) ORDER BY seq LIMIT $3"
        " ) g ON true ORDER BY g.seq",
        after,
        list(gaps),
        limit,
    )
    return Changes(
        rows=[
            Change(
                r["seq"],
                r["reference_id"],
                None if r["ciphertext"] is None else (r["nonce"], r["ciphertext"]),
            )
            for r in rows
            if r["seq"] is not None
        ],
        xmin=rows[0]["xmin"],
        xmax=rows[0]["xmax"],
    )


async def put_many(
    conn: Conn, rows: Sequence[tuple[uuid.UUID, bytes, bytes]]
) -> dict[uuid.UUID, int]:
    """Seal a page of references at once: COPY into a staging table, then one upsert; returns
    each reference's ``seq``."""
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE gallery_page (reference_id uuid, nonce bytea, ciphertext bytea)"
            " ON COMMIT DROP"
        )
        await conn.copy_records_to_table("gallery_page", records=rows)
        written = await conn.fetch(
            "INSERT INTO gallery (reference_id, nonce, ciphertext)"
            " SELECT reference_id, nonce, ciphertext FROM gallery_page"
            f" ON CONFLICT (reference_id) DO UPDATE SET {_REPLACE} RETURNING reference_id, seq"
        )
    return {r["reference_id"]: r["seq"] for r in written}


async def add_batch_job(conn: Conn, request_id: str, request: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO batch_jobs (request_id, request) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        request_id,
        request,
    )


async def pending_batch_jobs(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM batch_jobs WHERE done_at IS NULL"))


async def take_batch_job(conn: Conn, lease_s: float) -> dict[str, Any] | None:
    """The oldest unanswered batch request that no instance holds (its envelope), now held by
    this one for ``lease_s`` seconds."""
    found = await conn.fetchval(
        "UPDATE batch_jobs SET taken_until = now() + make_interval(secs => $1)"
        " WHERE request_id = (SELECT request_id FROM batch_jobs WHERE done_at IS NULL"
        "  AND (taken_until IS NULL OR taken_until < now())"
        "  ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " RETURNING request",
        lease_s,
    )
    return None if found is None else dict(found)


async def hold_batch_job(conn: Conn, request_id: str, lease_s: float) -> None:
    await conn.execute(
        "UPDATE batch_jobs SET taken_until = now() + make_interval(secs => $2)"
        " WHERE request_id = $1",
        request_id,
        lease_s,
    )


async def finish_batch_job(conn: Conn, request_id: str) -> None:
    await conn.execute("UPDATE batch_jobs SET done_at = now() WHERE request_id = $1", request_id)
