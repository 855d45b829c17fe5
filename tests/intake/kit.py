"""Helpers for the intake tests: a valid file, Kafka in and out, the service in-process."""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from schemas.envelope import Envelope
from schemas.samples import APPLICANT, TEMPEH
from schemas.topics import Topics
from services.intake.main import serve
from services.intake.settings import IntakeSettings
from services.runtime.service import Runtime
from tests.kit.stage import connections, serving
from tests.kit.tokens import As, bearer, staff_token
from tests.kit.topics import produce, read_events, records

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
    issuer: str

    def bearer(self, username: str = "desk.tempeh") -> dict[str, str]:
        """The header of a request sent as ``username`` (the client sends as the Tempeh desk)."""
        return bearer(staff_token(self.issuer, username))

    async def produce(self, topic: str, events: Sequence[Envelope]) -> None:
        await produce(self.bootstrap, topic, records(events))

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
        connections=connections(kafka, dsn, prefix),
        **knobs,
    )


@asynccontextmanager
async def running(settings: IntakeSettings, issuer: str) -> AsyncIterator[Desk]:
    """The desk served, its client sending as the Tempeh desk officer."""
    async with serving(serve, settings) as served:
        served.http.auth = As(issuer, "desk.tempeh")
        yield Desk(
            served.http,
            served.runtime,
            settings,
            Topics(settings.connections.tuntas_topic_prefix),
            settings.connections.kafka_bootstrap_servers,
            settings.db_schema,
            issuer,
        )
