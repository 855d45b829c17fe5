"""Driving ``stage_proc`` as OS processes, and checking what they left in PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.runtime import crashpoints
from tests.kit.topics import produce
from tests.runtime.stage_kit import Ping, parse
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    """One ``stage_proc`` process."""

    proc: asyncio.subprocess.Process
    log: Path

    async def exited(self, timeout: float = 60.0) -> int:
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"stage did not exit within {timeout}s:\n{self.tail()}") from None

    def signal(self, sig: int) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)

    async def stop(self, timeout: float = 60.0) -> int:
        self.signal(signal.SIGTERM)
        return await self.exited(timeout)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class Topology:
    kafka: str
    dsn: str
    schema: str
    src: str
    dst: str
    logs: Path
    batch_size: int = 20

    @property
    def group(self) -> str:
        return f"{self.src}.stage"

    async def start(
        self, *, crash_at: str | None = None, extra: Sequence[str] = (), dsn: str | None = None
    ) -> Stage:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "DATABASE_URL": dsn or self.dsn,
        }
        env.pop(crashpoints.ENV, None)
        if crash_at:
            env[crashpoints.ENV] = crash_at
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"stage-{len(list(self.logs.iterdir())):03d}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.runtime.stage_proc",
                "--schema",
                self.schema,
                "--src",
                self.src,
                "--dst",
                self.dst,
                "--batch-size",
                str(self.batch_size),
                *extra,
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        return Stage(proc, log)

    async def produce(self, count: int, label: str = "app") -> list[str]:
        """``count`` fresh inputs, one application each; returns their application ids."""
        pings = [Ping(name=f"{label}-{n}", n=n) for n in range(count)]
        keyed = [(str(p.correlation_id).encode(), p.to_bytes()) for p in pings]
        await produce(self.kafka, self.src, keyed)
        return [str(p.correlation_id) for p in pings]

    async def fetchval(self, sql: str) -> object:
        conn = await asyncpg.connect(self.dsn, server_settings={"search_path": self.schema})
        try:
            return await conn.fetchval(sql)
        except asyncpg.UndefinedTableError:
            return None  # not migrated yet
        finally:
            await conn.close()

    async def applied(self) -> collections.Counter[str]:
        conn = await asyncpg.connect(self.dsn, server_settings={"search_path": self.schema})
        try:
            rows = await conn.fetch("SELECT application_id FROM applied")
        finally:
            await conn.close()
        return collections.Counter(r["application_id"] for r in rows)

    async def lag(self) -> int:
        """Messages of ``src`` not yet covered by the group's committed offsets."""
        committed = await committed_offsets(self.kafka, self.group)
        ends = await end_offsets(self.kafka, self.src)
        return sum(end - committed.get(tp, 0) for tp, end in ends.items())

    async def wait_done(self, expected: int, stage: Stage, timeout: float = 60.0) -> None:
        """Until all ``expected`` inputs are applied, published and their offsets committed."""

        async def done() -> bool:
            if stage.proc.returncode is not None:
                raise AssertionError(f"stage exited {stage.proc.returncode}:\n{stage.tail()}")
            return (
                await self.fetchval("SELECT count(DISTINCT application_id) FROM applied")
                == expected
                and await self.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
                and await self.lag() == 0
            )

        await wait_for(done, timeout=timeout, what=f"{expected} inputs through the stage")


async def committed_offsets(kafka: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def end_offsets(kafka: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        return dict(await consumer.end_offsets(tps)) if tps else {}
    finally:
        await consumer.stop()


async def read_all(kafka: str, topic: str) -> list[tuple[bytes, Ping]]:
    """Every record now in ``topic``: read to the end offsets, not to a timeout."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        ends = await end_offsets(kafka, topic)
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        out: list[tuple[bytes, Ping]] = []
        while [tp for tp in ends if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            out += [(r.value, parse(r.value)) for recs in batch.values() for r in recs]
        return out
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class Downstream:
    """What reached the next topic, per application: the distinct events and the re-sends."""

    records: int
    message_ids: dict[str, set[str]]
    resends: int


async def downstream(kafka: str, topic: str) -> Downstream:
    records = await read_all(kafka, topic)
    ids: dict[str, set[str]] = collections.defaultdict(set)
    first: dict[str, bytes] = {}
    for raw, ping in records:
        ids[str(ping.correlation_id)].add(str(ping.message_id))
        # A re-send is the outbox row published again: byte for byte the same record.
        assert first.setdefault(str(ping.message_id), raw) == raw, "same id, different event"
    distinct = sum(len(v) for v in ids.values())
    return Downstream(len(records), dict(ids), len(records) - distinct)


async def group_state(kafka: str, group: str) -> tuple[str, int]:
    """The consumer group's state (``Stable``, ``Empty``, …) and how many members it has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    group_row = response.groups[0]
    return str(group_row[2]), len(group_row[5])


class Proxy:
    """A TCP proxy to PostgreSQL that a test can cut (connections dropped, port refusing)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def open(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


async def assert_exactly_once(topo: Topology, ids: Sequence[str], *, max_resends: int) -> int:
    """Each input applied once, one event each downstream, every offset committed.

    Returns the re-sends seen downstream (the same outbox row published again after a kill
    between Kafka's acknowledgement and the row marked sent; the next inbox drops them).
    """
    applied = await topo.applied()
    assert set(applied) == set(ids), f"{len(set(ids) - set(applied))} inputs never applied"
    twice = {k: n for k, n in applied.items() if n != 1}
    assert not twice, f"applied more than once: {twice}"
    assert await topo.fetchval("SELECT count(*) FROM inbox") == len(ids)
    down = await downstream(topo.kafka, topo.dst)
    assert set(down.message_ids) == set(ids), "downstream events missing or unexpected"
    several = {k: v for k, v in down.message_ids.items() if len(v) != 1}
    assert not several, f"more than one distinct event for: {several}"
    assert await topo.fetchval("SELECT count(*) FROM outbox") == len(ids)
    assert await topo.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert down.resends <= max_resends, f"{down.resends} re-sends > {max_resends}"
    ends = await end_offsets(topo.kafka, topo.src)
    assert await committed_offsets(topo.kafka, topo.group) == ends
    return down.resends
