"""Running the intake stage: ``serve(settings)`` composes the runtime pieces."""

from __future__ import annotations

import asyncio

from schemas.envelope import parse_event
from schemas.topics import Topics
from services.intake.api import create_app
from services.intake.handlers import handle
from services.intake.settings import IntakeSettings
from services.intake.store import MIGRATIONS
from services.runtime.service import Hook, Subscription, run

SERVICE = "intake"


async def serve(
    settings: IntakeSettings, *, stop: asyncio.Event | None = None, on_ready: Hook | None = None
) -> None:
    connections = settings.connections
    prefix = connections.tuntas_topic_prefix
    topics = Topics(prefix)
    consumed = [topics.validation_events, topics.biometric_events, topics.card_production_events]
    await run(
        service=SERVICE,
        schema=settings.db_schema or SERVICE,
        dsn=connections.database_url,
        bootstrap=connections.kafka_bootstrap_servers,
        migrations=MIGRATIONS,
        topics=[(t, settings.topic_partitions) for t in (topics.intake_events, *consumed)],
        subscriptions=[
            Subscription(consumed, handle, group_id=f"{prefix}tuntas.intake", name="events")
        ],
        parse=parse_event,
        batch_size=settings.batch_size,
        http=lambda runtime: create_app(runtime, settings),
        http_host=settings.http_host,
        http_port=settings.http_port,
        fail_closed_http=True,
        stop=stop,
        on_ready=on_ready,
    )
