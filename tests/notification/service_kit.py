"""Running the notification service in-process against real Kafka, PostgreSQL and the SMSC."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.application import Applicant
from schemas.envelope import Envelope, parse_event
from schemas.events import (
    ApplicationAccepted,
    CardCollected,
    CardReadyForCollection,
    CardStoredUncollected,
    CertificateIssued,
    EventPayload,
)
from schemas.samples import APPLICANT, SAMPLE_PAYLOADS, TEMPEH
from schemas.topics import EVENT_PARTITIONS, Topics
from services.notification.main import serve
from services.notification.settings import NotificationSettings
from services.runtime.service import Runtime
from tests.kit import payloads
from tests.kit.stage import Served, connections, serving
from tests.kit.tokens import As, staff
from tests.kit.topics import publish

if TYPE_CHECKING:  # conftest serves the kit's fixtures: import its type only
    from tests.notification.conftest import Smsc

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


def _user(request: httpx.Request) -> str:
    """Tempeh's staff: the desk finds applicants, the camat reads the SLA, the caller the rest.
    (The test module uses ``oidc_env``.)"""
    path = request.url.path
    if path.startswith(("/desk-", "/contacts/")):
        return staff("desk")
    return staff("camat" if path == "/sla" else "caller")


@dataclass
class Harness:
    settings: NotificationSettings
    clock: ManualClock
    topics: Topics
    bootstrap: str
    smsc: Smsc
    served: Served | None = None
    _serving: contextlib.AsyncExitStack | None = None

    @property
    def runtime(self) -> Runtime:
        assert self.served is not None
        return self.served.runtime

    @property
    def http(self) -> httpx.AsyncClient:
        assert self.served is not None
        return self.served.http

    async def start(self) -> None:
        self._serving = contextlib.AsyncExitStack()
        self.served = await self._serving.enter_async_context(
            serving(serve, self.settings, clock=self.clock)
        )
        self.served.http.auth = As(os.environ["TUNTAS_OIDC_ISSUER"], _user)

    async def stop(self) -> None:
        if self._serving is not None:
            serving_, self._serving, self.served = self._serving, None, None
            await serving_.aclose()

    async def publish(self, *events: Envelope) -> None:
        await publish(self.bootstrap, self.topics, *events)

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
    return payloads.envelope(payload, app, TEMPEH, occurred_at=at, message_id=message_id)


def accepted(app: UUID, number: str | None, at: datetime = MONDAY_9_WIB) -> Envelope:
    base = SAMPLE_PAYLOADS["application.accepted"]
    assert isinstance(base, ApplicationAccepted)
    applicant: Applicant = APPLICANT.model_copy(update={"phone": number})
    payload = base.model_copy(update={"applicant": applicant})
    return envelope(payload, app, at)


def ready(app: UUID, at: datetime, storage: str = "Lemari A, rak 3") -> Envelope:
    return envelope(CardReadyForCollection(storage_place=storage), app, at)


def stored(app: UUID, at: datetime, storage: str) -> Envelope:
    return envelope(CardStoredUncollected(storage_place=storage), app, at)


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
        connections=connections(kafka_bootstrap, pg_dsn, topic_prefix),
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
