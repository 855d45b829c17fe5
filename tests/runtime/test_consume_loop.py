"""The consume loop against real Kafka and PostgreSQL: applied once, emitted once, poison aside."""

from __future__ import annotations

import asyncio

from services.runtime import db, deadletter, kafka
from services.runtime.consumer import Consumer, ConsumerConfig
from services.runtime.outbox import Relay
from tests.kit.topics import produce, read_topic
from tests.runtime.stage_kit import MIGRATION, Ping, make_handler, parse


async def _stage(kafka_bootstrap: str, pg_dsn: str, schema: str, src: str, dst: str):  # type: ignore[no-untyped-def]
    conn = await db.connect(pg_dsn, schema)
    await db.migrate(conn, schema)
    await conn.execute(MIGRATION)
    await conn.close()
    await kafka.ensure_topics(kafka_bootstrap, [(src, 3), (dst, 3), (src + ".dlq", 1)])
    pool = await db.create_pool(pg_dsn, schema)
    producer = kafka.producer(kafka_bootstrap)
    await producer.start()
    relay = Relay(pool, producer, schema)
    config = ConsumerConfig("test", f"{src}.group", [src], kafka_bootstrap, max_batch=50)
    consumer = Consumer(config, pool, make_handler(dst), parse, producer, relay)
    return pool, producer, relay, consumer


async def test_each_message_applied_and_emitted_once_and_poison_dead_lettered(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    src, dst = f"{topic_prefix}in", f"{topic_prefix}out"
    pool, producer, relay, consumer = await _stage(kafka_bootstrap, pg_dsn, db_schema, src, dst)
    pings = [Ping(name=f"app-{i}", n=i) for i in range(120)]
    values = [(str(p.correlation_id).encode(), p.to_bytes()) for p in pings]
    values.insert(30, (b"app-5", pings[5].to_bytes()))  # the same message delivered twice
    values.insert(60, (b"bad", b"{not json"))  # malformed
    values.insert(90, (b"neg", Ping(name="neg", n=-1).to_bytes()))  # handler refuses
    await produce(kafka_bootstrap, src, values)

    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(consumer.run(stop)), asyncio.ensure_future(relay.run(stop))]
    try:
        out = await read_topic(kafka_bootstrap, dst, expected=len(pings))
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    pongs = [parse(v) for v in out]
    assert sorted(p.correlation_id for p in pongs) == sorted(p.correlation_id for p in pings)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM seen") == len(pings)
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    letters = await deadletter.read_all(kafka_bootstrap, src)
    assert sorted(d.key for d in letters if d.key) == [b"bad", b"neg"]
    by_key = {d.key: d for d in letters}
    assert by_key[b"neg"].error.startswith("PoisonMessage: n must be >= 0")
    assert by_key[b"bad"].source_topic == src and by_key[b"bad"].service == "test"
    assert consumer.stats.duplicates == 1
    await producer.stop()
    await pool.close()
