"""``GET /metrics`` and trace ids of a stage run by ``services.runtime.service.run`` on the real
Kafka and PostgreSQL: the lag and handled counters move with the messages; a handled message's
log lines and an HTTP request's carry their trace id."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from uuid import UUID, uuid4

import httpx
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families

from services.runtime import http, logs, service
from services.runtime.db import Conn
from services.runtime.messages import Emit
from tests.kit.topics import produce
from tests.runtime.stage_kit import MIGRATION, Ping, make_handler
from tests.waiting import wait_for

log = logging.getLogger("tests.metrics")
log.setLevel(logging.INFO)  # the lines asserted on are info lines


class Caused(Ping):
    causation_id: UUID | None = None


def _parse(raw: bytes) -> Caused:
    return Caused.model_validate_json(raw)


class _Lines(logging.Handler):
    """Formats at emit time, as the stage's stderr handler does (the context is live then)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logs.JsonFormatter("test"))
        self.lines: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def _ops() -> APIRouter:
    router = APIRouter()

    @router.get("/ping")
    async def ping() -> str:
        log.info("pinged")
        return "pong"

    return router


@asynccontextmanager
async def _stage(
    kafka_bootstrap: str, pg_dsn: str, schema: str, src: str, gate: asyncio.Event
) -> AsyncIterator[httpx.AsyncClient]:
    pong = make_handler(f"{src}.out")

    async def handle(event: Caused, conn: Conn) -> Sequence[Emit]:
        if event.n == 10:
            await gate.wait()  # holds one batch so the lag behind it can be read
        log.info("handled %d", event.n)
        return await pong(event, conn)

    stop, ready = asyncio.Event(), asyncio.Event()
    ports: list[int] = []

    async def on_ready(runtime: service.Runtime) -> None:
        async with runtime.pool.acquire() as conn:
            await conn.execute(MIGRATION)
        ports.append(runtime.extra["http_port"])
        ready.set()

    task = asyncio.ensure_future(
        service.run(
            service="metered",
            schema=schema,
            dsn=pg_dsn,
            bootstrap=kafka_bootstrap,
            migrations=None,
            topics=[(src, 1), (f"{src}.out", 1)],
            subscriptions=[service.Subscription([src], handle, f"{src}.group")],
            parse=_parse,
            batch_size=5,
            http=lambda rt: http.app("t", "", rt.health, [_ops()]),
            stop=stop,
            on_ready=on_ready,
        )
    )
    try:
        await wait_for(lambda: ready.is_set() or task.done(), what="the stage to start")
        if task.done():
            task.result()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as client:
            yield client
    finally:
        gate.set()
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_metrics_follow_lag_handled_dead_letters_and_logs_carry_the_trace_id(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> None:
    src, gate, lines = f"{topic_prefix}metered", asyncio.Event(), _Lines()
    logging.getLogger().addHandler(lines)
    cause = uuid4()
    try:
        async with _stage(kafka_bootstrap, pg_dsn, db_schema, src, gate) as client:
            await produce(kafka_bootstrap, src, [(b"k", Caused(n=0).to_bytes())])

            async def metric(name: str) -> dict[tuple[tuple[str, str], ...], float]:
                return _samples((await client.get("/metrics")).text, name)

            handled = {("group", f"{src}.group"), ("service", "metered"), ("topic", src)}
            handled_key = tuple(sorted({*handled, ("type", "ping")}))
            first = await wait_for(
                lambda: _at_least(metric("tuntas_messages_handled_total"), handled_key, 1),
                what="the first message counted",
            )
            assert first[handled_key] == 1
            lag_key = tuple(sorted({*handled, ("partition", "0")}))
            assert (await metric("tuntas_consumer_lag"))[lag_key] == 0

            # 20 more on the one partition; the handler holds at n=10: the lag behind it shows
            batch = [Caused(n=i, causation_id=cause) for i in range(1, 21)]
            await produce(kafka_bootstrap, src, [(b"k", p.to_bytes()) for p in batch])
            behind = await wait_for(
                lambda: _at_least(metric("tuntas_consumer_lag"), lag_key, 1),
                what="a lag behind the held batch",
            )
            assert 1 <= behind[lag_key] <= 20
            gate.set()
            await wait_for(
                lambda: _at_least(metric("tuntas_messages_handled_total"), handled_key, 21),
                what="all 21 handled",
            )
            assert (await metric("tuntas_consumer_lag"))[lag_key] == 0

            await produce(kafka_bootstrap, src, [(b"bad", b"{not json")])
            dead_key = tuple(sorted(handled))
            service_label = ("service", "metered")
            await wait_for(
                lambda: _at_least(metric("tuntas_messages_dead_lettered_total"), dead_key, 1),
                what="the dead letter counted",
            )
            await wait_for(  # the 21 pongs published: nothing waits in the outbox
                lambda: _at_least(metric("tuntas_outbox_published_total"), (service_label,), 21),
                what="the pongs published",
            )
            assert (await metric("tuntas_outbox_backlog")) == {(service_label,): 0}
            traced = await client.get("/ping", headers={"X-Trace-Id": "desk-42"})
            latency = await metric("tuntas_http_request_duration_seconds_count")
    finally:
        logging.getLogger().removeHandler(lines)

    assert traced.headers["x-trace-id"] == "desk-42"
    route = (("method", "GET"), ("route", "/ping"), ("service", "metered"), ("status", "200"))
    assert latency[route] == 1
    seven = next(line for line in lines.lines if line["msg"] == "handled 7")
    assert seven["trace_id"] == str(batch[6].correlation_id) == seven["correlation_id"]
    assert seven["causation_id"] == str(cause)
    pinged = next(line for line in lines.lines if line["msg"] == "pinged")
    assert pinged["trace_id"] == "desk-42" and pinged["http"] == "GET /ping"


Samples = dict[tuple[tuple[str, str], ...], float]


async def _at_least(
    pending: Awaitable[Samples], key: tuple[tuple[str, str], ...], least: float
) -> Samples | None:
    samples = await pending
    return samples if samples.get(key, 0) >= least else None
