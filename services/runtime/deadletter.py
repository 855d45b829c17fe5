"""Dead letters: a message that can never be processed goes to ``<topic>.dlq``, with where it
came from and why, and the partition moves on. Operators list them and re-drive chosen ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

DLQ_SUFFIX = ".dlq"
MAX_ERROR = 2000  # header bytes: enough for a validation message, not a whole trace


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class DeadLetter:
    source_topic: str
    source_partition: int
    source_offset: int
    error: str
    service: str
    key: bytes | None
    value: bytes
    dlq_partition: int = -1
    dlq_offset: int = -1

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("source-topic", self.source_topic.encode()),
            ("source-partition", str(self.source_partition).encode()),
            ("source-offset", str(self.source_offset).encode()),
            ("error", self.error[:MAX_ERROR].encode()),
            ("service", self.service.encode()),
        ]


async def send(producer: AIOKafkaProducer, letters: Sequence[DeadLetter]) -> None:
    """Publish and wait for every acknowledgement (the caller commits offsets only after)."""
    futures = [
        await producer.send(dlq_topic(d.source_topic), d.value, key=d.key, headers=d.headers())
        for d in letters
    ]
    for future in futures:
        await future


def _from_record(record: object) -> DeadLetter:
    headers = {k: v.decode() for k, v in record.headers}  # type: ignore[attr-defined]
    return DeadLetter(
        source_topic=headers.get("source-topic", ""),
        source_partition=int(headers.get("source-partition", "-1")),
        source_offset=int(headers.get("source-offset", "-1")),
        error=headers.get("error", ""),
        service=headers.get("service", ""),
        key=record.key,  # type: ignore[attr-defined]
        value=record.value,  # type: ignore[attr-defined]
        dlq_partition=record.partition,  # type: ignore[attr-defined]
        dlq_offset=record.offset,  # type: ignore[attr-defined]
    )


async def read_all(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Every dead letter of ``topic`` now in its DLQ, oldest first per partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(dlq_topic(topic))
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(dlq_topic(topic)) or set()
        tps = [TopicPartition(dlq_topic(topic), p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        letters: list[DeadLetter] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                letters.extend(_from_record(r) for r in records)
        return letters
    finally:
        await consumer.stop()


async def redrive(producer: AIOKafkaProducer, letters: Sequence[DeadLetter]) -> None:
    """Publish the original bytes back to the source topic (after the cause has been fixed)."""
    futures = [
        await producer.send(
            d.source_topic,
            d.value,
            key=d.key,
            headers=[("redriven-from", f"{d.dlq_partition}:{d.dlq_offset}".encode())],
        )
        for d in letters
    ]
    for future in futures:
        await future
