"""A batch is applied in steps short enough to finish between database restarts.

The large chaos day's validation stage applied batches of up to 500 messages in one
transaction; on a loaded machine that took minutes, and every PostgreSQL stop in those minutes
rolled all of it back, so the same ~300 messages were applied, and lost, again and again."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from services.runtime import db, kafka
from services.runtime.consumer import Consumer, ConsumerConfig, StepSize
from services.runtime.db import Conn
from services.runtime.messages import Emit
from tests.kit.topics import produce
from tests.runtime.stage_kit import MIGRATION, Ping, parse
from tests.waiting import wait_for

CUT_AFTER = 10  # the database goes away once a transaction has applied this many messages


def test_the_step_halves_when_cut_or_slow_and_grows_back_when_quick() -> None:
    step = StepSize(ceiling=500, budget_s=2.0)
    assert step.size == 500
    step.cut()
    assert step.size == 250
    step.took(3.0)  # over the budget
    assert step.size == 125
    step.took(1.0)  # within it, not well within: unchanged
    assert step.size == 125
    step.took(0.1)
    assert step.size == 250
    for _ in range(20):
        step.cut()
    assert step.size == 1  # never none
    for _ in range(20):
        step.took(0.0)
    assert step.size == 500  # never over the batch


async def test_a_batch_longer_than_the_time_between_cuts_still_commits(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    src, dst = f"{topic_prefix}in", f"{topic_prefix}out"
    conn = await db.connect(pg_dsn, db_schema)
    await db.migrate(conn, db_schema)
    await conn.execute(MIGRATION)
    await conn.close()
    await kafka.ensure_topics(kafka_bootstrap, [(src, 1), (dst, 1), (src + ".dlq", 1)])
    pool = await db.create_pool(pg_dsn, db_schema)
    producer = kafka.producer(kafka_bootstrap)
    await producer.start()
    applied_in: Counter[int] = Counter()  # messages applied so far, by transaction

    async def handle(event: Ping, conn: Conn) -> Sequence[Emit]:
        txid = int(await conn.fetchval("SELECT txid_current()"))
        if applied_in[txid] == CUT_AFTER:  # as PostgreSQL stopped hard would
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        applied_in[txid] += 1
        await conn.execute("INSERT INTO seen VALUES ($1, $2)", str(event.correlation_id), event.n)
        return []

    pings = [Ping(name=f"app-{i}", n=i) for i in range(40)]
    await produce(kafka_bootstrap, src, [(p.name.encode(), p.to_bytes()) for p in pings])
    config = ConsumerConfig(
        "test", f"{src}.group", [src], kafka_bootstrap, max_batch=100,
        max_retries=6, backoff_base=0.01, backoff_max=0.05,
    )  # fmt: skip
    consumer = Consumer(config, pool, handle, parse, producer)
    stop = asyncio.Event()
    task = asyncio.ensure_future(consumer.run(stop))

    async def all_seen() -> bool:
        if task.done():  # gave up: the same cut transaction retried until the budget ran out
            task.result()
        async with pool.acquire() as c:
            return int(await c.fetchval("SELECT count(*) FROM seen")) == len(pings)

    try:
        await wait_for(all_seen, what="every message applied")
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
    async with pool.acquire() as c:
        steps = await c.fetchval("SELECT count(DISTINCT xmin::text) FROM seen")
        assert await c.fetchval("SELECT count(*) FROM inbox") == len(pings)
    assert steps >= len(pings) // CUT_AFTER  # no transaction applied more than it could
    await producer.stop()
    await pool.close()
