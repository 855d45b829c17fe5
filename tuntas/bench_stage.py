"""``tuntas bench-stage``: messages per second through one stage, per batch size.

One stage as a service runs it (``services.runtime.service.run``): consume → one PostgreSQL
transaction per batch (inbox, a state row, outbox, status and history) → offsets → relay →
the next topic. N messages are produced first; the clock runs from the first message handled
to the last one published downstream. Uses ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL``
(default: the local stack); every run gets its own schema and topics, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID, uuid4

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import BaseModel, ConfigDict, Field

from services.runtime import db, kafka
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.runtime.service import Runtime, Subscription, run
from services.runtime.settings import Connections

_STATE = "CREATE TABLE bench_state (application_id text PRIMARY KEY, n integer NOT NULL)"


class Tick(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: UUID = Field(default_factory=uuid4)
    type: str = "tick"
    correlation_id: UUID = Field(default_factory=uuid4)
    kecamatan: str = "350805"
    n: int

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def _parse(raw: bytes) -> Tick:
    return Tick.model_validate_json(raw)


def _handler(dst: str):  # type: ignore[no-untyped-def]
    async def handle(event: Tick, conn: Conn) -> Sequence[Emit]:
        await conn.execute(
            "INSERT INTO bench_state VALUES ($1, $2)", str(event.correlation_id), event.n
        )
        return [Emit(dst, Tick(correlation_id=event.correlation_id, n=event.n, type="tock"))]

    return handle


@dataclass(frozen=True)
class Result:
    batch_size: int
    messages: int
    seconds: float
    db_seconds: float
    batches: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def db_ms_per_message(self) -> float:
        return 1000 * self.db_seconds / self.messages


async def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = kafka.producer(bootstrap, linger_ms=20)
    await producer.start()
    try:
        futures = []
        for n in range(count):
            tick = Tick(n=n)
            key = str(tick.correlation_id).encode()
            futures.append(await producer.send(topic, tick.to_bytes(), key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def bench_one(
    bootstrap: str, dsn: str, batch_size: int, count: int, partitions: int
) -> Result:
    tag = uuid.uuid4().hex[:8]
    schema, src, dst = f"bench_{tag}", f"bench.{tag}.in", f"bench.{tag}.out"
    conn = await db.connect(dsn, schema)
    try:
        await db.migrate(conn, schema)
        await conn.execute(_STATE)
    finally:
        await conn.close()
    topics = [(src, partitions), (dst, partitions)]
    await kafka.ensure_topics(bootstrap, topics)
    await _produce(bootstrap, src, count)

    stop = asyncio.Event()
    measured: dict[str, float] = {}

    async def watch(rt: Runtime) -> None:
        consumer = rt.health.consumers[0]
        while consumer.stats.handled == 0:  # noqa: ASYNC110 (sampling counters, no events)
            await asyncio.sleep(0.001)
        measured["start"] = time.perf_counter() - consumer.stats.apply_seconds
        while rt.relay.published < count:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        measured["end"] = time.perf_counter()
        measured["db"] = consumer.stats.apply_seconds
        measured["batches"] = consumer.stats.batches
        stop.set()

    try:
        await run(
            service="bench",
            schema=schema,
            dsn=dsn,
            bootstrap=bootstrap,
            migrations=None,
            topics=topics,
            subscriptions=[Subscription([src], _handler(dst), f"{src}.bench")],
            parse=_parse,
            batch_size=batch_size,
            background=[watch],
            stop=stop,
        )
    finally:
        await _drop(bootstrap, dsn, schema, [src, dst, f"{src}.dlq", f"{dst}.dlq"])
    return Result(
        batch_size,
        count,
        measured["end"] - measured["start"],
        measured["db"],
        int(measured["batches"]),
    )


async def _drop(bootstrap: str, dsn: str, schema: str, topics: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{db.check_schema_name(schema)}" CASCADE')
    finally:
        await conn.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(topics)
    except Exception as error:  # leftover topics are harmless; say so and go on
        print(f"  (could not delete topics: {error})")
    finally:
        await admin.close()


async def bench(
    bootstrap: str, dsn: str, batch_sizes: Sequence[int], count: int, partitions: int
) -> list[Result]:
    results: list[Result] = []
    print(f"{count} messages through one stage, {partitions} partitions, {bootstrap}")
    print(f"{'batch':>6} {'msgs/s':>9} {'x batch 1':>10} {'DB ms/msg':>10} {'batches':>8} {'s':>7}")
    for size in batch_sizes:
        result = await bench_one(bootstrap, dsn, size, count, partitions)
        results.append(result)
        base = results[0].per_second if results[0].batch_size == 1 else None
        ratio = f"{result.per_second / base:9.1f}x" if base else f"{'':>10}"
        print(
            f"{size:>6} {result.per_second:>9.0f} {ratio} {result.db_ms_per_message:>10.3f}"
            f" {result.batches:>8} {result.seconds:>7.1f}",
            flush=True,
        )
    return results


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench-stage", help="messages/s through one stage at several batch sizes")
    p.add_argument("-n", "--messages", type=int, default=20_000)
    p.add_argument(
        "--batch-sizes",
        default="1,10,100,500",
        type=lambda s: [int(x) for x in s.split(",")],
        help="comma-separated (default 1,10,100,500)",
    )
    p.add_argument("--partitions", type=int, default=3)
    p.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    env = Connections()
    asyncio.run(
        bench(
            env.kafka_bootstrap_servers,
            env.database_url,
            args.batch_sizes,
            args.messages,
            args.partitions,
        )
    )
    return 0
