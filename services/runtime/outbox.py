"""The outbox: events stored with the state change that caused them, then published by a relay.

Every instance of a service runs a relay, but one batch at a time is published per service
schema (a transaction-level PostgreSQL advisory lock, taken per batch, so it cannot outlive the
batch nor be lost under a running one): rows go out in id order, therefore in order per key.
A row is marked sent only after Kafka acknowledged it (``acks=all``, idempotent producer): a
crash in between re-sends it, and the next stage's inbox drops the duplicate.

Sent rows are kept as long as the topics keep their events (re-drive and audit need them),
then the relay purges them, so the table does not grow with every application ever handled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg
from aiokafka import AIOKafkaProducer

from services.runtime import crashpoints
from services.runtime.db import Conn
from services.runtime.errors import RIDE_THROUGH_RETRIES, retrying
from services.runtime.messages import Emit

log = logging.getLogger("tuntas.outbox")

KEEP_SENT_S = 30 * 24 * 3600.0  # as long as the event topics retain them (EVENT_RETENTION_MS)
PURGE_EVERY_S = 3600.0

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
        max_retries: int = RIDE_THROUGH_RETRIES,
        backoff_base: float = 0.2,
        backoff_max: float = 5.0,
        keep_sent_s: float = KEEP_SENT_S,
        purge_every_s: float = PURGE_EVERY_S,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch_size = batch_size
        self._idle_poll = idle_poll
        self._retries = (max_retries, backoff_base, backoff_max)
        self._wakeup = asyncio.Event()
        self._keep_sent_s = keep_sent_s
        self._purge_every_s = purge_every_s
        self._next_purge = 0.0  # loop time; the first pass purges at once
        self.published = 0
        self.purged = 0

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set, then drain what is committed and return.

        A transient failure is retried with backoff; past the budget, :class:`GiveUp`.
        """
        loop = asyncio.get_running_loop()
        while True:
            self._wakeup.clear()  # a wake() from here on ends the idle wait below at once
            retries, base, most = self._retries
            if loop.time() >= self._next_purge:
                self._next_purge = loop.time() + self._purge_every_s
                self.purged += await retrying(
                    f"purge:{self._schema}",
                    self.purge,
                    max_retries=retries,
                    backoff_base=base,
                    backoff_max=most,
                )
            sent = await retrying(
                f"relay:{self._schema}",
                self.publish_batch,
                max_retries=retries,
                backoff_base=base,
                backoff_max=most,
            )
            if stop.is_set():
                if sent == 0:
                    return
            elif sent < self._batch_size:
                await _wait_any(stop, self._wakeup, self._idle_poll)

    async def publish_batch(self) -> int:
        """Publish up to one batch; return how many rows were sent (0 if another relay is busy)."""
        async with self._pool.acquire() as conn, conn.transaction():
            # One batch at a time per schema, whatever the number of relays: the next batch
            # starts after this one's rows are marked sent, so rows go out in id order.
            if not await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtext($1))", f"relay:{self._schema}"
            ):
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, key, payload, headers FROM outbox WHERE sent_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE",
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
            crashpoints.reach("after_publish")
            await conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        self.published += len(rows)
        return len(rows)

    async def backlog(self) -> int:
        """How many committed rows wait to be published (``/metrics``)."""
        async with self._pool.acquire() as conn:
            waiting: int = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return waiting

    async def purge(self) -> int:
        """Drop rows sent longer ago than the topics keep events; return how many."""
        async with self._pool.acquire() as conn:
            return await purge_sent(conn, self._keep_sent_s)


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
