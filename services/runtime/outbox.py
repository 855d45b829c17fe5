"""The outbox: events stored with the state change that caused them, then published by a relay.

One relay per service schema is active at a time (a PostgreSQL advisory lock elects it), so
rows go out in id order and therefore in order per key; ``FOR UPDATE SKIP LOCKED`` keeps a
second relay that slips in from sending the same rows. A row is marked sent only after Kafka
acknowledged it (``acks=all``, idempotent producer): a crash in between re-sends it, and the
next stage's inbox drops the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import asyncpg
from aiokafka import AIOKafkaProducer

from services.runtime.db import Conn
from services.runtime.messages import Emit

log = logging.getLogger("tuntas.outbox")

_INSERT = """
INSERT INTO outbox (message_id, topic, key, payload, headers)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::jsonb[])
"""


async def enqueue(conn: Conn, emits: Sequence[Emit]) -> None:
    """Write ``emits`` to the outbox; call inside the transaction that changes the state."""
    if not emits:
        return
    await conn.execute(
        _INSERT,
        [e.event.message_id for e in emits],
        [e.topic for e in emits],
        [e.kafka_key for e in emits],
        [e.event.to_bytes() for e in emits],
        [_headers(e) for e in emits],
    )


def _headers(emit: Emit) -> dict[str, str]:
    return {"type": emit.event.type, "kecamatan": emit.event.kecamatan, **emit.headers}


class Relay:
    """Publishes unsent outbox rows. ``wake()`` after a commit makes it look at once."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        schema: str,
        *,
        batch_size: int = 500,
        idle_poll: float = 0.5,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch_size = batch_size
        self._idle_poll = idle_poll
        self._wakeup = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        async with self._pool.acquire() as leader:
            # Session-level lock: held while this relay lives, released if its process dies.
            while not await leader.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))", f"relay:{self._schema}"
            ):
                if await _wait(stop, self._idle_poll * 4):
                    return
            try:
                while not stop.is_set():
                    sent = await self.publish_batch()
                    if sent < self._batch_size:
                        self._wakeup.clear()
                        if sent == 0 and await _wait_any(stop, self._wakeup, self._idle_poll):
                            break
                # Drain what the last batches left before leaving.
                while await self.publish_batch():
                    pass
            finally:
                await leader.execute(
                    "SELECT pg_advisory_unlock(hashtext($1))", f"relay:{self._schema}"
                )

    async def publish_batch(self) -> int:
        """Publish up to one batch; return how many rows were sent."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, payload, headers FROM outbox WHERE sent_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
            )
            if not rows:
                return 0
            futures = [
                await self._producer.send(
                    row["topic"],
                    value=row["payload"],
                    key=row["key"].encode(),
                    headers=[(k, str(v).encode()) for k, v in row["headers"].items()],
                )
                for row in rows
            ]
            await asyncio.gather(*futures)
            await conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        self.published += len(rows)
        return len(rows)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True if ``stop`` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> bool:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return stop.is_set()


async def purge_sent(conn: Conn, older_than_seconds: float) -> int:
    """Drop rows published long ago (kept meanwhile for re-drive and audit)."""
    result = await conn.execute(
        "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)",
        older_than_seconds,
    )
    return int(result.split()[-1])
