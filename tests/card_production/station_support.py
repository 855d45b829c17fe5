"""Running a card station in-process for tests, and feeding it print-ready records."""

from __future__ import annotations

import contextlib
import os
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
from tests.card_production.biometric_stub import BiometricStub
from tests.card_production.hardware_fixtures import ChipSlot, PdfQueue, insert
from tests.kit import topics
from tests.kit.payloads import envelope
from tests.kit.stage import connections, serving
from tests.kit.tokens import As, staff

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
    return envelope(payload, kecamatan=kecamatan)


def record_of(event: Envelope) -> str:
    assert isinstance(event.payload, RecordPrintReady)
    return event.payload.fingerprint_templates.key.rsplit("/", 1)[-1]


async def produce(bootstrap: str, topic: str, *events: Envelope) -> None:
    await kafka.ensure_topics(bootstrap, [(topic, 3)])
    await topics.produce(bootstrap, topic, topics.records(events))


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
        connections=connections(kafka_bootstrap, pg_dsn, topic_prefix),
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
        oidc_client_secret=f"local-only-station-{kecamatan}",  # the local realm's
        **knobs,
    )
    async with serving(serve, settings) as served:
        # The station's card operator; the test module uses ``oidc_env``.
        served.http.auth = As(os.environ["TUNTAS_OIDC_ISSUER"], staff("card_operator", kecamatan))
        yield RunningStation(
            settings,
            served.runtime.extra["station"],
            served.http,
            pg_dsn,
            db_schema,
            Topics(topic_prefix),
        )


__all__ = ["PASRUJAMBE", "TEMPEH", "ChipSlot", "PdfQueue", "insert"]
