"""The inbox: a message id seen once is never applied again."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from services.runtime.db import Conn

_CLAIM = """
INSERT INTO inbox (message_id, topic, partition, "offset")
SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[])
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id
"""


async def claim(conn: Conn, items: Sequence[tuple[UUID, str, int, int]]) -> set[UUID]:
    """Record (message id, topic, partition, offset) rows; return the ids not seen before."""
    if not items:
        return set()
    ids, topics, partitions, offsets = zip(*items, strict=True)
    rows = await conn.fetch(_CLAIM, list(ids), list(topics), list(partitions), list(offsets))
    return {r["message_id"] for r in rows}
