"""All SQL of the ABIS: the sealed gallery."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

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
