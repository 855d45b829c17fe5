"""Helpers for the intake tests: a valid file, Kafka in and out, the service in-process."""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.envelope import Envelope, parse_event
from schemas.events import EventPayload
from schemas.samples import APPLICANT, TEMPEH
from schemas.topics import Topics
from services.intake.main import serve
from services.intake.settings import IntakeSettings
from services.runtime.service import Runtime
from services.runtime.settings import Connections

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
NIK = APPLICANT.nik
OTHER_NIK = "3508051203900002"  # a man born 12 March 1990


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_card_file(**changes: Any) -> dict[str, Any]:
    """A complete KTP-el baru file for the Tempeh desk (the KK scan inline)."""
    body: dict[str, Any] = {
        "kecamatan": TEMPEH,
        "officer_id": "petugas.tempeh.01",
        "application_type": "new",
        "applicant": APPLICANT.model_dump(mode="json"),
        "documents": {"kk_photocopy": {"kk_number": APPLICANT.kk_number}},
        "kk_scan": {"content_base64": b64(PDF), "content_type": "application/pdf"},
    }
    body.update(copy.deepcopy(changes))
    return body


def man_applicant() -> dict[str, Any]:
    applicant = APPLICANT.model_dump(mode="json")
    applicant.update(nik=OTHER_NIK, name="Budi Santoso", birth_date="1990-03-12", sex="male")
    return applicant


@dataclass
class Desk:
    client: httpx.AsyncClient
    runtime: Runtime
    settings: IntakeSettings
    topics: Topics
    bootstrap: str
    schema: str

    async def produce(self, topic: str, events: Sequence[Envelope]) -> None:
        await produce(self.bootstrap, topic, events)

    async def published(self, expected: int, timeout: float = 30.0) -> list[Envelope]:
        return await read_events(self.bootstrap, self.topics.intake_events, expected, timeout)

    async def scalar(self, sql: str, *args: Any) -> Any:
        async with self.runtime.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)


def settings_for(kafka: str, dsn: str, schema: str, prefix: str, **knobs: Any) -> IntakeSettings:
    return IntakeSettings(
        db_schema=schema,
        http_port=0,
        topic_partitions=2,
        connections=Connections(
            kafka_bootstrap_servers=kafka, database_url=dsn, tuntas_topic_prefix=prefix
        ),
        **knobs,
    )


@asynccontextmanager
async def running(settings: IntakeSettings) -> AsyncIterator[Desk]:
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Runtime) -> None:
        ready.set_result(runtime)

    task = asyncio.ensure_future(serve(settings, stop=stop, on_ready=on_ready))
    try:
        runtime = await asyncio.wait_for(asyncio.shield(ready), 60)
        while "http_port" not in runtime.extra:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        base = f"http://127.0.0.1:{runtime.extra['http_port']}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield Desk(
                client,
                runtime,
                settings,
                Topics(settings.connections.tuntas_topic_prefix),
                settings.connections.kafka_bootstrap_servers,
                settings.db_schema,
            )
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


def envelope(
    payload: EventPayload, application_id: str | UUID, kecamatan: str = TEMPEH
) -> Envelope:
    return Envelope.new(payload, application_id=UUID(str(application_id)), kecamatan=kecamatan)


async def produce(bootstrap: str, topic: str, events: Sequence[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, e.to_bytes(), key=str(e.correlation_id).encode())
            for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_events(
    bootstrap: str, topic: str, expected: int, timeout: float = 30.0
) -> list[Envelope]:
    """Read ``topic`` from the start until ``expected`` events, then one more poll for extras."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    found: list[Envelope] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [parse_event(r.value) for recs in batch.values() for r in recs]
        batch = await consumer.getmany(timeout_ms=1500)
        found += [parse_event(r.value) for recs in batch.values() for r in recs]
    finally:
        await consumer.stop()
    return found
