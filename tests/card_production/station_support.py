"""Running a card station in-process for tests, and feeding it print-ready records."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from schemas.application import CardFace
from schemas.envelope import Envelope, parse_event
from schemas.events import ClaimCheck, PrintPriority, RecordPrintReady
from schemas.samples import APPLICANT
from schemas.topics import Topics
from services.card_production.main import serve
from services.card_production.settings import CardProductionSettings
from services.card_production.workflow import Station
from services.runtime import kafka
from services.runtime.settings import Connections
from tests.card_production.biometric_stub import BiometricStub
from tests.card_production.hardware_fixtures import ChipSlot, PdfQueue, insert
from tests.waiting import wait_for

TEMPEH = "350805"
PASRUJAMBE = "350806"


def print_ready(
    kecamatan: str = TEMPEH,
    *,
    priority: PrintPriority = PrintPriority.FIRST_CARD,
    nik: str = "3508054107850001",
    name: str = "Siti Nur'aini",
) -> Envelope:
    record = uuid.uuid4()
    application_type = "new" if priority is PrintPriority.FIRST_CARD else "lost"

    def ref(kind: str) -> ClaimCheck:
        return ClaimCheck(
            store="biometric.records", key=f"bio://{kecamatan}/{record}", sha256=kind * 64
        )

    card = CardFace.model_validate({**APPLICANT.card_face().model_dump(), "nik": nik,
                                    "name": name})  # fmt: skip
    payload = RecordPrintReady(
        tracking_number=f"TPH-{uuid.uuid4().hex[:8].upper()}",
        application_type=application_type,
        priority=priority,
        card=card,
        photo=ref("a"),
        signature=ref("b"),
        fingerprint_templates=ref("c"),
    )
    return Envelope.new(payload, application_id=uuid.uuid4(), kecamatan=kecamatan)


def record_of(event: Envelope) -> str:
    assert isinstance(event.payload, RecordPrintReady)
    return event.payload.fingerprint_templates.key.rsplit("/", 1)[-1]


async def produce(bootstrap: str, topic: str, *events: Envelope) -> None:
    await kafka.ensure_topics(bootstrap, [(topic, 3)])
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic, event.to_bytes(), key=str(event.correlation_id).encode()
            )
    finally:
        await producer.stop()


@dataclass
class RunningStation:
    settings: CardProductionSettings
    station: Station
    http: httpx.AsyncClient
    pg_dsn: str
    schema: str
    topics: Topics
    extra: dict[str, Any] = field(default_factory=dict)

    async def job(self, application_id: uuid.UUID) -> dict[str, Any]:
        answer = await self.http.get(f"/jobs/{application_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def state_is(self, application_id: uuid.UUID, state: str) -> bool:
        answer = await self.http.get(f"/jobs/{application_id}")
        return answer.status_code == 200 and answer.json()["state"] == state

    async def events(self, event_type: str | None = None) -> list[Envelope]:
        """What the station wrote to its outbox, in order."""
        conn = await asyncpg.connect(self.pg_dsn, server_settings={"search_path": self.schema})
        try:
            rows = await conn.fetch("SELECT payload FROM outbox ORDER BY id")
        finally:
            await conn.close()
        found = [parse_event(bytes(r["payload"])) for r in rows]
        return [e for e in found if event_type is None or e.type == event_type]


@contextlib.asynccontextmanager
async def station(
    *,
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    slot: ChipSlot,
    queue: PdfQueue,
    biometric: BiometricStub,
    kecamatan: str = TEMPEH,
    **knobs: Any,
) -> AsyncIterator[RunningStation]:
    settings = CardProductionSettings(
        connections=Connections(
            kafka_bootstrap_servers=kafka_bootstrap,
            database_url=pg_dsn,
            tuntas_topic_prefix=topic_prefix,
        ),
        kecamatan=kecamatan,
        db_schema=db_schema,
        http_port=0,
        reader=slot.reader,
        printer_queue=queue.name,
        feeder=f"hopper:{slot.hopper}",
        biometric_url=biometric.url,
        certificate_dir=tmp_path / "certificates",
        printer_poll_s=0.3,
        idle_poll_s=0.5,
        **knobs,
    )
    stop = asyncio.Event()
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Any) -> None:
        ready.set_result(runtime)

    task = asyncio.ensure_future(serve(settings, stop=stop, on_ready=on_ready))
    try:
        runtime = await asyncio.wait_for(asyncio.shield(ready), 60)
        await wait_for(lambda: "http_port" in runtime.extra, what="HTTP port")
        base = f"http://127.0.0.1:{runtime.extra['http_port']}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            yield RunningStation(
                settings, runtime.extra["station"], http, pg_dsn, db_schema,
                Topics(topic_prefix),
            )  # fmt: skip
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


__all__ = ["PASRUJAMBE", "TEMPEH", "ChipSlot", "PdfQueue", "insert"]
