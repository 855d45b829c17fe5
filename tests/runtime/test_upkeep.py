"""What the runtime keeps in order besides delivery: topic configs, the outbox's size, and a
health answer that says which loop ended and why."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI

from schemas.topics import DLQ_RETENTION_MS, EVENT_RETENTION_MS, topic_config
from services.runtime import db, health, kafka
from services.runtime.outbox import Relay
from services.runtime.service import Runtime, run
from tests.runtime.stage_kit import parse
from tests.waiting import wait_for
from tuntas.chaos.proxy import DelayProxy
from tuntas.stack.prereq import free_port


async def _configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await kafka.topic_configs(admin, names)
    finally:
        await admin.close()


async def test_ensure_topics_creates_with_the_catalogs_configs_and_realigns_existing_ones(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    drifted, fresh = f"{topic_prefix}drifted", f"{topic_prefix}fresh"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:  # an existing topic made by hand: one hour of retention, compacted
        await admin.create_topics(
            [
                NewTopic(
                    drifted,
                    num_partitions=1,
                    replication_factor=1,
                    topic_configs={"retention.ms": "3600000", "cleanup.policy": "compact"},
                )
            ]
        )
    finally:
        await admin.close()

    await kafka.ensure_topics(kafka_bootstrap, [(drifted, 1), (fresh, 1), (f"{fresh}.dlq", 1)])

    configs = await _configs(kafka_bootstrap, [drifted, fresh, f"{fresh}.dlq"])
    assert configs[drifted] == topic_config(drifted)
    assert configs[fresh] == {"retention.ms": str(EVENT_RETENTION_MS), "cleanup.policy": "delete"}
    assert configs[f"{fresh}.dlq"]["retention.ms"] == str(DLQ_RETENTION_MS)


async def test_the_relay_purges_rows_sent_longer_ago_than_the_topics_keep_them(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str
) -> None:
    conn = await db.connect(pg_dsn, db_schema)
    pool = await db.create_pool(pg_dsn, db_schema)
    producer = kafka.producer(kafka_bootstrap)
    await producer.start()
    try:
        await db.migrate(conn, db_schema)
        await conn.execute(
            "INSERT INTO outbox (message_id, topic, key, payload, sent_at) VALUES"
            " (gen_random_uuid(), 't', 'old', '', now() - interval '31 days'),"
            " (gen_random_uuid(), 't', 'recent', '', now() - interval '1 day')"
        )
        stop = asyncio.Event()
        relay = Relay(pool, producer, db_schema, keep_sent_s=30 * 86400)
        running = asyncio.ensure_future(relay.run(stop))

        await wait_for(lambda: relay.purged == 1, what="the relay's first purge")
        stop.set()
        await running
        keys = [r["key"] for r in await conn.fetch("SELECT key FROM outbox")]
        assert keys == ["recent"]
    finally:
        await producer.stop()
        await pool.close()
        await conn.close()


def _health_only_stage(
    name: str,
    schema: str,
    dsn: str,
    bootstrap: str,
    stop: asyncio.Event,
    background: Sequence[Callable[[Runtime], Awaitable[None]]] = (),
) -> tuple[asyncio.Future[None], list[int]]:
    """A stage with no topics whose HTTP app answers /health only; the list gets its port."""
    ports: list[int] = []

    async def ready(runtime: Runtime) -> None:
        ports.append(runtime.extra["http_port"])

    def app(runtime: Runtime) -> FastAPI:
        api = FastAPI()
        api.include_router(health.endpoint(runtime.health))
        return api

    service = asyncio.ensure_future(
        run(
            service=name,
            schema=schema,
            dsn=dsn,
            bootstrap=bootstrap,
            migrations=None,
            topics=[],
            subscriptions=[],
            parse=parse,
            background=list(background),
            http=app,
            stop=stop,
            on_ready=ready,
        )
    )
    return service, ports


async def test_a_background_loop_that_returns_makes_health_503_and_says_which(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    finished = asyncio.Event()

    async def reminder_loop(runtime: Runtime) -> None:
        finished.set()  # a loop meant to run until shutdown, returning early by a bug

    stop = asyncio.Event()
    service, ports = _health_only_stage(
        "upkeep", db_schema, pg_dsn, kafka_bootstrap, stop, [reminder_loop]
    )
    try:
        await wait_for(lambda: bool(ports) and finished.is_set(), what="service up")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as client:

            async def unhealthy() -> bool:
                return (await client.get("/health")).status_code == 503

            await wait_for(unhealthy, what="/health 503")
            body = (await client.get("/health")).json()
        assert body["status"] == "down"
        assert body["stopped"] == {"reminder_loop": "returned while the service runs"}
    finally:
        stop.set()
        await service


@dataclass(frozen=True)
class _Proxied:
    """The test database reached through a loopback proxy's port (not listening until
    :meth:`proxy` is entered), so a test can take the database away and give it back."""

    dsn: str
    port: int
    upstream_port: int
    host: str

    def proxy(self) -> DelayProxy:
        return DelayProxy(self.port, self.upstream_port, host=self.host)


def _behind_a_proxy(pg_dsn: str) -> _Proxied:
    upstream = urlsplit(pg_dsn)
    assert upstream.port is not None
    port = free_port()
    netloc = upstream.netloc.replace(f":{upstream.port}", f":{port}")
    dsn = urlunsplit(upstream._replace(netloc=netloc))
    return _Proxied(dsn, port, upstream.port, upstream.hostname or "127.0.0.1")


async def test_a_stage_starting_before_its_database_waits_for_it_instead_of_exiting(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The database is reached through a proxy that is not listening yet: refused, as a
    # PostgreSQL still starting after a hard stop refuses.
    via = _behind_a_proxy(pg_dsn)
    caplog.set_level(logging.WARNING, logger="tuntas.retry")
    stop = asyncio.Event()
    service, ports = _health_only_stage("late-db", db_schema, via.dsn, kafka_bootstrap, stop)
    try:
        await wait_for(
            lambda: service.done() or f"start:{db_schema}" in caplog.text,
            what="a refused connection at start",
        )
        assert not service.done(), "the stage exited instead of waiting for its database"
        async with via.proxy():
            await wait_for(lambda: bool(ports) or service.done(), timeout=60, what="stage up")
            assert ports, f"the stage ended: {service.exception()!r}"
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as client:
                assert (await client.get("/health")).status_code == 200
            stop.set()
            await service
    finally:
        stop.set()
        if not service.done():
            service.cancel()


async def test_a_running_stage_rides_through_a_database_outage_longer_than_a_few_retries(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A PostgreSQL restarted after `-m immediate` on a loaded host is away for tens of
    # seconds; the relay used to give up after 6 retries (~12 s) and the process exited.
    via = _behind_a_proxy(pg_dsn)
    caplog.set_level(logging.WARNING, logger="tuntas.retry")
    stop = asyncio.Event()
    proxy = via.proxy()
    await proxy.__aenter__()
    service, ports = _health_only_stage("outage", db_schema, via.dsn, kafka_bootstrap, stop)
    try:
        await wait_for(lambda: bool(ports) or service.done(), timeout=60, what="stage up")
        assert ports, f"the stage ended: {service.exception()!r}"
        await proxy.__aexit__(None, None, None)  # the database goes away, connections cut
        await wait_for(
            lambda: (
                service.done()
                or any(
                    f"relay:{db_schema}" in r.getMessage() and "retry 8 in" in r.getMessage()
                    for r in caplog.records
                )
            ),
            timeout=120,
            what="the relay's 8th retry",
        )
        assert not service.done(), f"the stage exited in the outage: {service.exception()!r}"
        async with via.proxy():
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as client:

                async def healthy() -> bool:
                    return (await client.get("/health")).status_code == 200

                await wait_for(healthy, timeout=60, what="/health 200 after the outage")
            stop.set()
            await service
    finally:
        stop.set()
        if not service.done():
            service.cancel()


async def test_a_background_job_meeting_the_database_away_starts_again_not_the_process(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str
) -> None:
    # An SMS sender or mail poller whose connection is cut by a PostgreSQL restart: the job
    # starts again after a backoff; the process (and its other loops) goes on.
    starts: list[float] = []

    async def sms_sender(runtime: Runtime) -> None:
        starts.append(asyncio.get_running_loop().time())
        if len(starts) <= 2:
            raise ConnectionError("unexpected connection_lost() call")
        await runtime.stop.wait()

    stop = asyncio.Event()
    service, ports = _health_only_stage(
        "sender", db_schema, pg_dsn, kafka_bootstrap, stop, [sms_sender]
    )
    try:
        await wait_for(lambda: len(starts) == 3 or service.done(), what="the job's third start")
        assert not service.done(), f"the stage stopped: {service.exception()!r}"
        await wait_for(lambda: bool(ports), what="stage up")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as client:
            assert (await client.get("/health")).status_code == 200
        stop.set()
        await service
    finally:
        stop.set()
        if not service.done():
            service.cancel()
