"""The validation service run in-process against real Kafka and PostgreSQL, and helpers."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from schemas.envelope import Envelope, parse_event
from schemas.residents import RegistryPerson
from schemas.topics import EVENT_PARTITIONS, Topics
from schemas.values import age_on
from services.runtime import kafka
from services.runtime.service import Runtime
from services.validation import registry
from services.validation.main import serve
from services.validation.settings import ValidationSettings
from simulators import registry as simulated
from tests.kit import payloads
from tests.kit.stage import connections, serving
from tests.kit.tokens import As
from tests.kit.topics import publish
from tests.waiting import wait_for

KECAMATAN = "350805"


@dataclass
class Service:
    runtime: Runtime
    http: httpx.AsyncClient
    settings: ValidationSettings
    topics: Topics
    bootstrap: str
    dsn: str
    schema: str

    async def sql(self, query: str, *args: Any) -> Any:
        async with self.runtime.pool.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def produce(self, *events: Envelope) -> None:
        """Publish as their producing stage would, on its topic (intake's, biometric's)."""
        await publish(self.bootstrap, self.topics, *events)

    async def queue(self, **params: str) -> list[dict[str, Any]]:
        response = await self.http.get("/queue", params={"kecamatan": KECAMATAN, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()
        return items

    async def item_of(self, application_id: UUID, revision: int) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            for item in await self.queue(status="all"):
                if item["application_id"] == str(application_id) and item["revision"] == revision:
                    return item
            return None

        found: dict[str, Any] = await wait_for(
            probe, what=f"work item for revision {revision} of {application_id}"
        )
        return found

    def handled(self) -> tuple[int, int]:
        stats = self.runtime.health.consumers[0].stats
        return stats.handled, stats.duplicates


class EventReader:
    """Reads a topic from the start and keeps every event seen."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.seen: list[Envelope] = []

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def _poll(self) -> None:
        batch = await self._consumer.getmany(timeout_ms=200)
        self.seen += [parse_event(r.value) for recs in batch.values() for r in recs]

    async def wait(self, match: Callable[[Envelope], bool], what: str) -> Envelope:
        async def probe() -> Envelope | None:
            await self._poll()
            return next((e for e in self.seen if match(e)), None)

        found: Envelope = await wait_for(probe, what=what)
        return found

    async def settle(self) -> list[Envelope]:
        """Everything published so far (one more poll for stragglers)."""
        await self._poll()
        return list(self.seen)


async def _topics_ready(bootstrap: str, names: list[str]) -> None:
    """Create the topics and wait until every partition has a leader.

    Works around a start-up race in ``services.runtime``: ``kafka.ensure_topics`` returns
    before a new topic's metadata has spread, so a consumer subscribing at once can be given
    no partitions until its next metadata refresh (minutes).
    """
    await kafka.ensure_topics(bootstrap, [(n, EVENT_PARTITIONS) for n in names])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def led() -> bool:
            described = await admin.describe_topics(names)
            return all(
                t.get("error_code") == 0
                and len(t["partitions"]) == EVENT_PARTITIONS
                and all(p["leader"] >= 0 for p in t["partitions"])
                for t in described
            )

        await wait_for(led, what="topic partitions with leaders")
    finally:
        await admin.close()


@pytest.fixture
def start_service(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, oidc_env: str
) -> Callable[..., contextlib.AbstractAsyncContextManager[Service]]:
    @contextlib.asynccontextmanager
    async def start(**knobs: Any) -> AsyncIterator[Service]:
        settings = ValidationSettings(
            connections=connections(kafka_bootstrap, pg_dsn, topic_prefix),
            db_schema=db_schema,
            http_port=0,
            **knobs,
        )
        topics = Topics(topic_prefix)
        await _topics_ready(
            kafka_bootstrap,
            [topics.intake_events, topics.biometric_events, topics.validation_events],
        )
        async with serving(serve, settings) as served:
            served.http.auth = As(oidc_env, "kasi.tempeh")  # the section head at Tempeh
            yield Service(
                served.runtime,
                served.http,
                settings,
                topics,
                kafka_bootstrap,
                pg_dsn,
                db_schema,
            )

    return start


@pytest.fixture(scope="session")
def residents() -> list[RegistryPerson]:
    return simulated.generate_registry(KECAMATAN, 40, seed=11)


@pytest.fixture
def adults(residents: list[RegistryPerson]) -> list[RegistryPerson]:
    """Residents of 18 or older (each test has its own schema, so they may apply in each)."""
    today = datetime.now(UTC).date()
    return [p for p in residents if age_on(p.birth_date, today) >= 18]


async def import_registry(service: Service, persons: list[RegistryPerson]) -> None:
    """Through the extract file, with the district's import tool (as an operator would)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "residents.csv"
        simulated.write_file(persons, path)
        assert await registry.import_file(path, service.settings) == len(persons)


def accepted(
    person: RegistryPerson,
    *,
    application_id: UUID | None = None,
    revision: int = 1,
    tracking: str = "TPH-TEST-0001",
    causation_id: UUID | None = None,
    **applicant_changes: Any,
) -> Envelope:
    """The ``application.accepted`` event intake would publish for this resident."""
    applicant = person.applicant(phone="081234567890")
    if applicant_changes:
        applicant = applicant.model_validate({**applicant.model_dump(), **applicant_changes})
    return payloads.accepted(
        applicant,
        application_id,
        revision=revision,
        tracking=tracking,
        kecamatan=KECAMATAN,
        causation_id=causation_id,
    )
