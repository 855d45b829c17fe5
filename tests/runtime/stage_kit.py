"""A minimal stage for runtime tests: a test event type, a handler with real state, helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel, ConfigDict, Field

from services.runtime.db import Conn
from services.runtime.messages import Emit, PoisonMessage

MIGRATION = """
CREATE TABLE IF NOT EXISTS seen (application_id text PRIMARY KEY, n int NOT NULL);
"""


class Ping(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: UUID = Field(default_factory=uuid4)
    type: str = "ping"
    correlation_id: UUID = Field(default_factory=uuid4)
    name: str = ""
    kecamatan: str = "350805"
    n: int

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def parse(raw: bytes) -> Ping:
    return Ping.model_validate_json(raw)


def make_handler(out_topic: str):  # type: ignore[no-untyped-def]
    async def handle(event: Ping, conn: Conn) -> Sequence[Emit]:
        if event.n < 0:
            raise PoisonMessage(f"n must be >= 0, got {event.n}")
        await conn.execute("INSERT INTO seen VALUES ($1, $2)", str(event.correlation_id), event.n)
        pong = Ping(correlation_id=event.correlation_id, name=event.name, n=event.n, type="pong")
        return [Emit(out_topic, pong)]

    return handle


async def produce(bootstrap: str, topic: str, values: Sequence[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=k) for k, v in values]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout: float = 60.0
) -> list[bytes]:
    """Read ``topic`` from the start until ``expected`` records, then a little more for extras."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(values) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            values += [r.value for recs in batch.values() for r in recs]
        # Duplicates would arrive with the rest: one more empty poll shows there are none.
        batch = await consumer.getmany(timeout_ms=1000)
        values += [r.value for recs in batch.values() for r in recs]
    finally:
        await consumer.stop()
    return values
