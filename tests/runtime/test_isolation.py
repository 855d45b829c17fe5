"""Focused consume-loop and relay cases: a message whose own writes fail is set aside alone,
a duplicate across batches and restarts changes nothing, relays keep id order per key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from services.runtime import db, deadletter, kafka
from services.runtime.consumer import Consumer, ConsumerConfig
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.runtime.outbox import Relay
from tests.kit.topics import produce
from tests.runtime.stage_kit import MIGRATION, Ping, make_handler, parse
from tests.waiting import wait_for


async def _prepare(kafka_bootstrap: str, pg_dsn: str, schema: str, topics: Sequence[str]) -> None:
    conn = await db.connect(pg_dsn, schema)
    await db.migrate(conn, schema)
    await conn.execute(MIGRATION)
    await conn.close()
    await kafka.ensure_topics(kafka_bootstrap, [(t, 1) for t in topics])


async def _run_until(consumer: Consumer[Any], relay: Relay | None, done: Any) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(consumer.run(stop))]
    if relay is not None:
        tasks.append(asyncio.ensure_future(relay.run(stop)))
    try:
        await wait_for(done, what="the consumer to catch up", timeout=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_message_whose_outbox_write_fails_is_dead_lettered_alone(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    src, dst = f"{topic_prefix}in", f"{topic_prefix}out"
    await _prepare(kafka_bootstrap, pg_dsn, db_schema, [src, dst, src + ".dlq"])

    async def handle(event: Ping, conn: Conn) -> Sequence[Emit]:
        await conn.execute("INSERT INTO seen VALUES ($1, $2)", str(event.correlation_id), event.n)
        # The emitted id derives from the name: two inputs named alike collide in the outbox.
        out_id = uuid.uuid5(uuid.NAMESPACE_URL, event.name)
        return [Emit(dst, Ping(message_id=out_id, correlation_id=event.correlation_id, n=0))]

    pings = [Ping(name=f"p{i}", n=i) for i in range(10)]
    pings.insert(5, Ping(name="p2", n=99))  # its pong collides with p2's
    await produce(kafka_bootstrap, src, [(b"k", p.to_bytes()) for p in pings])
    pool = await db.create_pool(pg_dsn, db_schema)
    producer = kafka.producer(kafka_bootstrap)
    await producer.start()
    try:
        config = ConsumerConfig("test", f"{src}.g", [src], kafka_bootstrap, max_batch=50)
        consumer = Consumer(config, pool, handle, parse, producer)
        await _run_until(consumer, None, lambda: consumer.stats.dead_letters == 1)
        assert await pool.fetchval("SELECT count(*) FROM seen") == 10
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 10
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 10  # the poison left none
        # Counted once each, even though the batch was applied twice (whole, then one by one).
        assert (consumer.stats.handled, consumer.stats.duplicates) == (10, 0)
    finally:
        await producer.stop()
        await pool.close()
    [letter] = await deadletter.read_all(kafka_bootstrap, src)
    assert letter.source_offset == 5 and "UniqueViolation" in letter.error


async def test_same_message_twice_across_batches_and_a_restart_changes_state_once(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    src, dst = f"{topic_prefix}in", f"{topic_prefix}out"
    await _prepare(kafka_bootstrap, pg_dsn, db_schema, [src, dst, src + ".dlq"])
    ping = Ping(name="once", n=1)
    pool = await db.create_pool(pg_dsn, db_schema)
    producer = kafka.producer(kafka_bootstrap)
    await producer.start()
    config = ConsumerConfig("test", f"{src}.g", [src], kafka_bootstrap, max_batch=50)

    def consumer() -> Consumer[Ping]:
        return Consumer(config, pool, make_handler(dst), parse, producer)

    async def state() -> tuple[int, int, int]:
        return (
            await pool.fetchval("SELECT count(*) FROM seen"),
            await pool.fetchval("SELECT count(*) FROM outbox"),
            await pool.fetchval("SELECT count(*) FROM application_history WHERE direction='in'"),
        )

    try:
        first = consumer()
        stop = asyncio.Event()
        task = asyncio.ensure_future(first.run(stop))
        await produce(kafka_bootstrap, src, [(b"k", ping.to_bytes())])
        await wait_for(lambda: first.stats.handled == 1, what="the first delivery applied")
        await produce(kafka_bootstrap, src, [(b"k", ping.to_bytes())])  # a later batch
        await wait_for(lambda: first.stats.duplicates == 1, what="the second one skipped")
        stop.set()
        await task
        assert await state() == (1, 1, 1)

        await produce(kafka_bootstrap, src, [(b"k", ping.to_bytes())])  # after a restart
        second = consumer()
        await _run_until(second, None, lambda: second.stats.duplicates == 1)
        assert second.stats.handled == 0
        assert await state() == (1, 1, 1)
    finally:
        await producer.stop()
        await pool.close()


class _Recorder:
    """A stand-in producer that records what it is asked to send and lets others run between."""

    def __init__(self, sent: list[tuple[bytes, int]]) -> None:
        self.sent = sent

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        self.sent.append((key, int(value)))
        await asyncio.sleep(0)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_two_relays_with_connections_cut_keep_order_per_key(
    pg_dsn: str, db_schema: str
) -> None:
    conn = await db.connect(pg_dsn, db_schema)
    await db.migrate(conn, db_schema)
    keys = ["a", "b", "c"]
    await conn.execute(
        "INSERT INTO outbox (message_id, topic, key, payload)"
        " SELECT gen_random_uuid(), 't', ($1::text[])[1 + i % 3], convert_to(i::text, 'UTF8')"
        " FROM generate_series(0, 1499) AS i",
        keys,
    )
    sent: list[tuple[bytes, int]] = []
    pool = await db.create_pool(pg_dsn, db_schema)
    relays = [
        Relay(pool, _Recorder(sent), db_schema, batch_size=50, backoff_base=0.01)  # type: ignore[arg-type]
        for _ in range(2)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(r.run(stop)) for r in relays]
    try:
        for _ in range(3):  # cut whichever relay connection holds the relay lock, thrice

            async def cut() -> bool:
                result = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND objsubid = 1"
                    " AND objid::bigint = hashtext($1)::bigint & 4294967295",
                    f"relay:{db_schema}",  # this test's relay lock, nobody else's
                )
                return bool(result)

            await wait_for(cut, what="a relay holding the lock", timeout=30, interval=0.001)
        await wait_for(
            lambda: conn.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL"),
            what="every row published",
        )
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.close()
        await conn.close()
    first_sends: dict[bytes, list[int]] = {}
    seen: set[int] = set()
    for key, seq in sent:
        if seq not in seen:
            seen.add(seq)
            first_sends.setdefault(key, []).append(seq)
    assert seen == set(range(1500))
    for key, order in first_sends.items():
        assert order == sorted(order), f"key {key!r} published out of order"
