"""Kafka in and out for the tests: events published as their producing stage would, a topic
read from its start."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.envelope import Envelope, parse_event
from schemas.topics import Topics


async def _send(bootstrap: str, sends: Sequence[tuple[str, bytes, bytes]]) -> None:
    """(topic, key, value) records in order, acknowledged by every replica."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=k) for topic, k, v in sends]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def produce(bootstrap: str, topic: str, values: Sequence[tuple[bytes, bytes]]) -> None:
    """(key, value) records to ``topic``."""
    await _send(bootstrap, [(topic, k, v) for k, v in values])


def records(events: Sequence[Envelope]) -> list[tuple[bytes, bytes]]:
    """Events as a stage's outbox publishes them: (key, value), keyed by application."""
    return [(str(e.correlation_id).encode(), e.to_bytes()) for e in events]


async def publish(bootstrap: str, topics: Topics, *events: Envelope) -> None:
    """Each event on the topic its producing stage publishes it to."""
    topic_of = [topics.for_event(e.type, e.kecamatan) for e in events]
    await _send(bootstrap, [(t, k, v) for t, (k, v) in zip(topic_of, records(events), strict=True)])


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout: float = 60.0
) -> list[bytes]:
    """Read ``topic`` from the start until ``expected`` records, then a little more for extras."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(values) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            values += [r.value for recs in batch.values() for r in recs]
        # Duplicates would arrive with the rest: one more poll shows there are none.
        batch = await consumer.getmany(timeout_ms=1500)
        values += [r.value for recs in batch.values() for r in recs]
    finally:
        await consumer.stop()
    return values


async def read_events(
    bootstrap: str, topic: str, expected: int, timeout: float = 30.0
) -> list[Envelope]:
    return [parse_event(v) for v in await read_topic(bootstrap, topic, expected, timeout)]
