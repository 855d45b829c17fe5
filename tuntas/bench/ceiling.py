"""The ceiling: a bare five-hop aiokafka relay on the same broker, no database.

``t0 → hop 1 → t1 → … → hop 5 → t5``. Each hop is its own OS process (as each stage is), with
the consumer and producer settings of the pipeline's runtime: the runtime's idempotent
``acks=all`` producer (``services.runtime.kafka.producer``), a read-committed consumer with
auto-commit off, ``getmany`` batches of at most 500 records, offsets committed only after the
batch's sends were acknowledged. Topics have the pipeline's partition count, messages the
pipeline's mean size and are keyed by a fresh id per message, as events are by application id.

The driver produces ``M`` messages into ``t0`` as fast as it can and counts them on ``t5``;
the figure is ``M / (last arrival on t5 − first send)``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import EVENT_PARTITIONS
from services.runtime import kafka

HOPS = 5
MAX_BATCH = 500  # services.runtime.service.run's default batch size
POLL_TIMEOUT_MS = 200  # services.runtime.consumer.ConsumerConfig.poll_timeout_ms


@dataclass(frozen=True)
class CeilingResult:
    messages: int
    received: int  # on the last topic (== messages: nothing lost; more: duplicates)
    message_bytes: int
    hops: int
    partitions: int
    seconds: float
    hop_cpu_seconds: list[float]

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def consumer(bootstrap: str, group_id: str | None, **extra: object) -> AIOKafkaConsumer:
    """The runtime consumer's settings (``services.runtime.consumer.Consumer``)."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=MAX_BATCH,
        isolation_level="read_committed",
        **extra,
    )


async def hop(bootstrap: str, src: str, dst: str, group: str, partitions: int) -> None:
    """Consume → produce → commit, until the process is terminated. Prints ``ready`` once it
    holds every partition of ``src``."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    import signal

    loop.add_signal_handler(signal.SIGTERM, stop.set)
    producer = kafka.producer(bootstrap)
    source = consumer(bootstrap, group, session_timeout_ms=10_000)
    await producer.start()
    await source.start()
    announced = False
    try:
        source.subscribe([src])
        while not stop.is_set():
            batch = await source.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=MAX_BATCH)
            if not announced and len(source.assignment()) == partitions:
                print("ready", flush=True)
                announced = True
            if not batch:
                continue
            futures = [
                await producer.send(dst, value=r.value, key=r.key, headers=list(r.headers))
                for tp in batch
                for r in batch[tp]
            ]
            await asyncio.gather(*futures)
            await source.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    finally:
        await source.stop()
        await producer.stop()


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


async def run(
    bootstrap: str,
    messages: int,
    message_bytes: int,
    *,
    partitions: int = EVENT_PARTITIONS,
    hops: int = HOPS,
    timeout: float = 600.0,
) -> CeilingResult:
    """Relay ``messages`` of ``message_bytes`` through ``hops`` hop processes; time it."""
    tag = uuid.uuid4().hex[:8]
    topics = [f"bench-ceiling-{tag}.t{i}" for i in range(hops + 1)]
    await kafka.ensure_topics(bootstrap, [(t, partitions) for t in topics])
    procs: list[asyncio.subprocess.Process] = []
    try:
        for i in range(hops):
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "tuntas.bench.ceiling",
                    "hop",
                    bootstrap,
                    topics[i],
                    topics[i + 1],
                    f"bench-ceiling-{tag}.hop{i + 1}",
                    str(partitions),
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        for proc in procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            if line.strip() != b"ready":
                raise RuntimeError(f"ceiling hop {proc.pid} failed to start")
        cpu_before = [_cpu_seconds(p.pid) for p in procs]
        sink = consumer(bootstrap, None)
        await sink.start()
        try:
            sink.assign([TopicPartition(topics[-1], p) for p in range(partitions)])
            await sink.seek_to_beginning()
            started, finished, received = await _drive(
                bootstrap, topics[0], sink, messages, message_bytes, timeout
            )
        finally:
            await sink.stop()
        cpu = [_cpu_seconds(p.pid) - b for p, b in zip(procs, cpu_before, strict=True)]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
        await _delete_topics(bootstrap, topics)
    return CeilingResult(
        messages, received, message_bytes, hops, partitions, finished - started, cpu
    )


async def _drive(
    bootstrap: str,
    first: str,
    sink: AIOKafkaConsumer,
    messages: int,
    message_bytes: int,
    timeout: float,
) -> tuple[float, float, int]:
    producer = kafka.producer(bootstrap)
    await producer.start()
    body = os.urandom(message_bytes // 2).hex().encode()[:message_bytes]
    headers = [("type", b"bench.tick"), ("kecamatan", b"350805")]
    received = 0
    last = 0.0

    async def count() -> None:
        nonlocal received, last
        while received < messages:
            batch = await sink.getmany(timeout_ms=200, max_records=5000)
            got = sum(len(records) for records in batch.values())
            if got:
                received += got
                last = time.monotonic()

    counting = asyncio.ensure_future(count())
    try:
        started = time.monotonic()
        futures = [
            await producer.send(first, value=body, key=str(uuid.uuid4()).encode(), headers=headers)
            for _ in range(messages)
        ]
        await asyncio.gather(*futures)
        await asyncio.wait_for(counting, timeout)
    finally:
        counting.cancel()
        await producer.stop()
    # a duplicate would arrive within the sink's next polls: look once more
    extra = await sink.getmany(timeout_ms=500)
    received += sum(len(records) for records in extra.values())
    return started, last, received


async def _delete_topics(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(topics)
    except Exception as error:  # leftover topics are harmless; say so and go on
        print(f"  (could not delete ceiling topics: {error})", file=sys.stderr)
    finally:
        await admin.close()


def _hop_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tuntas.bench.ceiling")
    parser.add_argument("role", choices=["hop"])
    parser.add_argument("bootstrap")
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("group")
    parser.add_argument("partitions", type=int)
    args = parser.parse_args(argv)
    asyncio.run(hop(args.bootstrap, args.src, args.dst, args.group, args.partitions))


if __name__ == "__main__":
    _hop_main(sys.argv[1:])
