"""The real Kafka and PostgreSQL answer: a record goes through Kafka, a row through PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def test_kafka_round_trip(kafka_bootstrap: str, topic_prefix: str) -> None:
    topic = f"{topic_prefix}smoke"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()

    payloads = {f"app-{i}".encode(): uuid.uuid4().bytes for i in range(10)}
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for key, value in payloads.items():
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topic_prefix}g",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: dict[bytes, bytes] = {}
    try:
        while len(received) < len(payloads):
            batch = await consumer.getmany(timeout_ms=10_000)
            assert batch, "no records within 10 s"
            for records in batch.values():
                received.update({r.key: r.value for r in records if r.key and r.value})
    finally:
        await consumer.stop()
    assert received == payloads


async def test_postgres_round_trip(pg_dsn: str, db_schema: str) -> None:
    conn = await asyncpg.connect(pg_dsn, server_settings={"search_path": db_schema})
    try:
        await conn.execute("CREATE TABLE note (id int PRIMARY KEY, body text NOT NULL)")
        await conn.executemany("INSERT INTO note VALUES ($1, $2)", [(1, "satu"), (2, "dua")])
        rows = await conn.fetch("SELECT id, body FROM note ORDER BY id")
        table_schema = await conn.fetchval(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'note'"
        )
    finally:
        await conn.close()
    assert [(r["id"], r["body"]) for r in rows] == [(1, "satu"), (2, "dua")]
    assert table_schema == db_schema
