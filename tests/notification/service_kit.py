"""Running the notification service in-process against real Kafka, PostgreSQL and the SMSC."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.application import Applicant
from schemas.envelope import Envelope, parse_event
from schemas.events import (
    ApplicationAccepted,
    CardCollected,
    CardReadyForCollection,
    CertificateIssued,
    EventPayload,
)
from schemas.samples import APPLICANT, SAMPLE_PAYLOADS, TEMPEH
from schemas.topics import EVENT_PARTITIONS, Topics
from services.notification.main import serve
from services.notification.settings import NotificationSettings
from services.runtime import kafka
from services.runtime.service import Runtime
from services.runtime.settings import Connections
from tests.notification.conftest import Smsc
from tests.waiting import wait_for

MONDAY_9_WIB = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)  # Monday 6 January 2025, 09:00 WIB


class ManualClock:
    """The service clock, moved only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in January 2025, Jakarta time, as UTC."""
    return datetime(2025, 1, day, hour - 7, minute, tzinfo=UTC)


def phone() -> str:
    return f"+62812{random.randrange(10**7):07d}"


@dataclass
class Running:
    runtime: Runtime
    http: httpx.AsyncClient
    stop: asyncio.Event
    task: asyncio.Future[None]


@dataclass
class Harness:
    settings: NotificationSettings
    clock: ManualClock
    topics: Topics
    bootstrap: str
    smsc: Smsc
    running: Running | None = None

    @property
    def runtime(self) -> Runtime:
        assert self.running is not None
        return self.running.runtime

    @property
    def http(self) -> httpx.AsyncClient:
        assert self.running is not None
        return self.running.http

    async def start(self) -> None:
        stop = asyncio.Event()
        ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

        async def on_ready(runtime: Runtime) -> None:
            ready.set_result(runtime)

        task = asyncio.ensure_future(
            serve(self.settings, stop=stop, on_ready=on_ready, clock=self.clock)
        )
        done, _ = await asyncio.wait([ready, task], timeout=90, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()
        runtime = ready.result()
        port = await wait_for(lambda: runtime.extra.get("http_port"), what="the HTTP port")
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20)
        self.running = Running(runtime, http, stop, task)

    async def stop(self) -> None:
        if self.running is None:
            return
        r, self.running = self.running, None
        await r.http.aclose()
        r.stop.set()
        await asyncio.wait_for(r.task, 60)

    async def publish(self, *events: Envelope) -> None:
        producer = kafka.producer(self.bootstrap)
        await producer.start()
        try:
            futures = [
                await producer.send(
                    self.topics.for_event(e.type, e.kecamatan),
                    e.to_bytes(),
                    key=str(e.application_id).encode(),
                )
                for e in events
            ]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    async def tick(self, at: datetime) -> int:
        self.clock.set(at)
        fired: int = await self.runtime.extra["scheduler"].tick(self.runtime)
        return fired

    async def messages(self, **params: str) -> list[dict[str, Any]]:
        r = await self.http.get("/messages", params=params)
        r.raise_for_status()
        rows: list[dict[str, Any]] = r.json()
        return rows

    async def calls(self) -> list[dict[str, Any]]:
        r = await self.http.get("/calls", params={"kecamatan": TEMPEH})
        r.raise_for_status()
        rows: list[dict[str, Any]] = r.json()
        return rows


def envelope(
    payload: EventPayload, app: UUID, at: datetime, *, message_id: UUID | None = None
) -> Envelope:
    return Envelope.new(
        payload, application_id=app, kecamatan=TEMPEH, occurred_at=at, message_id=message_id
    )


def accepted(app: UUID, number: str | None, at: datetime = MONDAY_9_WIB) -> Envelope:
    base = SAMPLE_PAYLOADS["application.accepted"]
    assert isinstance(base, ApplicationAccepted)
    applicant: Applicant = APPLICANT.model_copy(update={"phone": number})
    payload = base.model_copy(update={"applicant": applicant})
    return envelope(payload, app, at)


def ready(app: UUID, at: datetime, storage: str = "Lemari A, rak 3") -> Envelope:
    return envelope(CardReadyForCollection(storage_place=storage), app, at)


def collected(app: UUID, at: datetime) -> Envelope:
    return envelope(CardCollected(receipt_reference="TT-1", officer_id="petugas.01"), app, at)


def certificate(app: UUID, at: datetime) -> Envelope:
    payload = CertificateIssued(
        certificate_number="470/1/2025",
        issued_on=date(2025, 1, 6),
        valid_until=date(2025, 7, 6),
        officer_id="siak.tempeh",
    )
    return envelope(payload, app, at)


async def read_events(bootstrap: str, topic: str, event_type: str) -> list[Envelope]:
    """Every event of this type on the topic now (reads to the high watermark)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(EVENT_PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[Envelope] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                out += [parse_event(r.value) for r in records]
        return [e for e in out if e.type == event_type]
    finally:
        await consumer.stop()


@contextlib.asynccontextmanager
async def harness(
    *,
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    smsc: Smsc,
    timeline: bool = False,
    **knobs: Any,
) -> AsyncIterator[Harness]:
    settings = NotificationSettings(
        connections=Connections(
            kafka_bootstrap_servers=kafka_bootstrap,
            database_url=pg_dsn,
            tuntas_topic_prefix=topic_prefix,
        ),
        db_schema=db_schema,
        http_port=0,
        smsc_port=smsc.port,
        smsc_rate_per_s=1000.0,
        smsc_backoff_base_s=0.01,
        smsc_backoff_max_s=0.05,
        sender_poll_s=0.1,
        send_retry_base_s=0.05,
        send_retry_max_s=0.2,
        scheduler_poll_s=3600.0,  # tests tick the scheduler themselves
        sla_check_s=0.2,
        timeline_enabled=timeline,
        **knobs,
    )
    h = Harness(settings, ManualClock(MONDAY_9_WIB), Topics(topic_prefix), kafka_bootstrap, smsc)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def texts(smsc: Smsc, number: str) -> list[str]:
    return [r["text"] for r in smsc.records(number)]


def new_app() -> UUID:
    return uuid4()


__all__ = ["Sequence", "replace"]
