"""Reading whole topics from their beginning while a run goes, as an outside observer does (the
demo's watcher, the bench's reader of the final topic)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def partitions(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` (which must exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    parts: list[TopicPartition] = []
    for topic in described:
        if topic.get("error_code", 0) != 0 or not topic.get("partitions"):
            raise RuntimeError(f"topic {topic.get('topic')} does not exist")
        parts += [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
    return parts


class TopicTail:
    """Hands every committed record of ``topics``, from the beginning, to :meth:`on_record` in
    a background task, from :meth:`start` until :meth:`stop`."""

    def __init__(self, bootstrap: str, topics: Sequence[str], max_records: int = 2000) -> None:
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._max_records = max_records
        self._task: asyncio.Task[None] | None = None

    def on_record(self, record: ConsumerRecord[bytes, bytes]) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await self._consumer.start()
        self._parts = await partitions(self._bootstrap, self._topics)
        self._consumer.assign(self._parts)
        await self._consumer.seek_to_beginning(*self._parts)
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200, max_records=self._max_records)
            for records in batch.values():
                for record in records:
                    self.on_record(record)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()
