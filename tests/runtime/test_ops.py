"""The operator's commands, run as `python -m tuntas ...`: dead letters listed and re-driven,
stuck applications listed and re-driven."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from uuid import uuid4

from services.runtime import db, deadletter, kafka
from services.runtime.consumer import Consumer, ConsumerConfig
from services.runtime.db import Conn
from services.runtime.messages import Emit, PoisonMessage
from services.runtime.outbox import Relay
from tests.kit.topics import produce
from tests.runtime.proc_kit import REPO, read_all
from tests.runtime.stage_kit import MIGRATION, Ping, parse
from tests.waiting import wait_for


async def tuntas(kafka_bootstrap: str, pg_dsn: str, *args: str) -> str:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": pg_dsn}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tuntas",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    return out.decode()


class Stage:
    """The test stage in this process; ``refuse`` holds the names its handler rejects."""

    def __init__(self, kafka_bootstrap: str, pg_dsn: str, schema: str, src: str, dst: str) -> None:
        self.args = (kafka_bootstrap, pg_dsn, schema, src, dst)
        self.refuse = {"broken"}
        self.hold = {"hold"}  # messages that emit nothing: the application waits here

    async def handle(self, event: Ping, conn: Conn) -> Sequence[Emit]:
        if event.name in self.refuse:
            raise PoisonMessage(f"cannot handle {event.name}")
        await conn.execute(
            "INSERT INTO seen VALUES ($1, $2) ON CONFLICT (application_id) DO UPDATE SET n = $2",
            str(event.correlation_id),
            event.n,
        )
        if event.name in self.hold:
            return []
        pong = Ping(correlation_id=event.correlation_id, name=event.name, n=event.n, type="pong")
        return [Emit(self.args[4], pong)]

    async def setup(self) -> None:
        bootstrap, dsn, schema, src, dst = self.args
        conn = await db.connect(dsn, schema)
        await db.migrate(conn, schema)
        await conn.execute(MIGRATION)
        await conn.close()
        await kafka.ensure_topics(bootstrap, [(src, 1), (dst, 1), (src + ".dlq", 1)])

    async def run_until(self, done) -> None:  # type: ignore[no-untyped-def]
        bootstrap, dsn, schema, src, _ = self.args
        pool = await db.create_pool(dsn, schema)
        producer = kafka.producer(bootstrap)
        await producer.start()
        relay = Relay(pool, producer, schema, idle_poll=0.05)
        config = ConsumerConfig("test", f"{src}.group", [src], bootstrap, max_batch=50)
        consumer = Consumer(config, pool, self.handle, parse, producer, relay)
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(consumer.run(stop)), asyncio.ensure_future(relay.run(stop))]
        try:
            await wait_for(lambda: done(pool), what="the stage to catch up", timeout=60)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            await producer.stop()
            await pool.close()


async def test_dead_letter_listed_then_fixed_and_redriven_flows_through(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    src, dst = f"{topic_prefix}in", f"{topic_prefix}out"
    stage = Stage(kafka_bootstrap, pg_dsn, db_schema, src, dst)
    await stage.setup()
    good = [Ping(name=f"ok-{i}", n=i) for i in range(5)]
    broken = Ping(name="broken", n=99)
    pings = [*good[:2], broken, *good[2:]]
    await produce(
        kafka_bootstrap, src, [(str(p.correlation_id).encode(), p.to_bytes()) for p in pings]
    )

    async def seen(pool, n: int) -> bool:  # type: ignore[no-untyped-def]
        return (
            await pool.fetchval("SELECT count(*) FROM seen") == n
            and await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
        )

    await stage.run_until(lambda pool: seen(pool, len(good)))  # the partition kept flowing
    letters = await deadletter.read_all(kafka_bootstrap, src)
    assert [parse(d.value).name for d in letters] == ["broken"]
    listing = await tuntas(kafka_bootstrap, pg_dsn, "dlq", "list", src)
    assert "1 dead letter(s)" in listing and "PoisonMessage: cannot handle broken" in listing
    assert f"0:{letters[0].dlq_offset}  from {src}[0]@2" in listing

    stage.refuse.clear()  # the cause is fixed
    out = await tuntas(
        kafka_bootstrap, pg_dsn, "dlq", "redrive", src, "--offset", f"0:{letters[0].dlq_offset}"
    )
    assert "1 dead letter(s) re-driven" in out
    await stage.run_until(lambda pool: seen(pool, len(pings)))
    names = sorted(p.name for _, p in await read_all(kafka_bootstrap, dst))
    assert names == sorted(p.name for p in pings)  # each once, the re-driven one included


async def test_stuck_application_listed_and_redriven_republishes_its_events(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    src, dst = f"{topic_prefix}in", f"{topic_prefix}out"
    stage = Stage(kafka_bootstrap, pg_dsn, db_schema, src, dst)
    await stage.setup()
    waiting, moving = uuid4(), uuid4()
    pings = [
        Ping(correlation_id=waiting, name="first", n=1),  # emits: handed on …
        Ping(correlation_id=waiting, name="hold", n=2),  # … then waits here
        Ping(correlation_id=moving, name="other", n=3),
    ]
    await produce(
        kafka_bootstrap, src, [(str(p.correlation_id).encode(), p.to_bytes()) for p in pings]
    )

    async def caught_up(pool) -> bool:  # type: ignore[no-untyped-def]
        return await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == 2

    await stage.run_until(caught_up)
    conn = await db.connect(pg_dsn, db_schema)
    try:
        # Let the waiting application's last move be an hour old.
        await conn.execute(
            "UPDATE application_status SET updated_at = now() - interval '1 hour'"
            " WHERE application_id = $1",
            str(waiting),
        )
        listing = await tuntas(kafka_bootstrap, pg_dsn, "stuck", db_schema, "--older-than", "30m")
        assert "1 application(s)" in listing and str(waiting) in listing
        assert str(moving) not in listing
        assert "0 application(s)" in await tuntas(
            kafka_bootstrap, pg_dsn, "stuck", db_schema, "--older-than", "2h"
        )
        assert "0 application(s)" in await tuntas(
            kafka_bootstrap, pg_dsn, "stuck", db_schema, "--older-than", "30m", "--kecamatan", "1"
        )

        out = await tuntas(kafka_bootstrap, pg_dsn, "redrive", db_schema, str(waiting))
        assert "1 outbound event(s)" in out
        assert (
            await conn.fetchval(
                "SELECT redrive_count FROM application_status WHERE application_id = $1",
                str(waiting),
            )
        ) == 1
    finally:
        await conn.close()
    await stage.run_until(caught_up)  # the relay publishes the re-driven row again
    events = [p for _, p in await read_all(kafka_bootstrap, dst)]
    again = [p for p in events if p.correlation_id == waiting]
    assert len(again) == 2 and len({p.message_id for p in again}) == 1  # the same event, again
    assert [p.correlation_id for p in events].count(moving) == 1
