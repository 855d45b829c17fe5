"""Following the gallery on real PostgreSQL when numbers commit out of order: a change whose
transaction is still open while a later number is already visible is read once it commits."""

from __future__ import annotations

import os
import uuid

from services.abis import store
from services.abis.follow import Follower
from services.abis.index import GalleryIndex, fields
from services.abis.sealing import GalleryKey
from services.runtime import db
from tests.abis.kit import templates_of


async def test_a_change_committed_after_a_later_one_is_not_skipped(
    pg_dsn: str, db_schema: str
) -> None:
    key = GalleryKey(os.urandom(32))
    early, late = uuid.uuid4(), uuid.uuid4()
    slow, quick, reader = [await db.connect(pg_dsn, db_schema) for _ in range(3)]
    try:
        await db.migrate(reader, db_schema, store.MIGRATIONS)
        follower = Follower(key, GalleryIndex())

        def sealed(ref: uuid.UUID, person: str) -> tuple[uuid.UUID, bytes, bytes]:
            return (ref, *key.seal(ref, fields(templates_of(person, 1)).tobytes()))

        writing = slow.transaction()
        await writing.start()
        first = await store.put(slow, *sealed(early, "person-a"))  # drawn first, not committed
        second = await store.put(quick, *sealed(late, "person-b"))  # committed
        assert first < second

        await follower.catch_up(reader)
        assert late in follower.index and early not in follower.index
        assert follower.position.high == second and first in follower.position.gaps

        await writing.commit()
        await follower.catch_up(reader)
        assert early in follower.index and len(follower.index) == 2
        assert follower.position.gaps == {}

        await store.delete(quick, late)  # a tombstone, read as a change
        await follower.catch_up(reader)
        assert late not in follower.index and len(follower.index) == 1
    finally:
        for conn in (slow, quick, reader):
            await conn.close()
